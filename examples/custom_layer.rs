//! Layers of your own, as first-class as constnet's: a `Softplus`
//! activation, a learned per-input `Scale`, and `Take<K>`, which keeps the
//! first `K` inputs (a layer that changes the width). The three take 36
//! lines; with them a network trains, saves and loads, exports as Rust
//! source and is refused in the place of another.
//!
//! Run with `cargo run --release --example custom_layer`.

use constnet::prelude::*;

// --- the three layers ---------------------------------------------------

constnet::elementwise! {
    /// softplus(x) = ln(1 + eˣ); its derivative, the sigmoid, is 1 − e^(−y).
    pub struct Softplus = "Softplus";
    f(x) = (T::ONE + x.exp()).ln();
    df(_x, y) = T::ONE - (-y).exp();
}

/// y = s ⊙ x, with a scale `s` per input, learned, starting at one.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct Scale<T, const N: usize>(pub [T; N]);
impl<T: Scalar, const N: usize> Tensors<T> for Scale<T, N> {
    const TENSORS: &'static [Tensor<Self, T>] = &[Tensor::ones("s", &[N], |l| &l.0, |l| &mut l.0)];
}
impl<T: Scalar, const N: usize> Layer<[T; N]> for Scale<T, N> {
    const KIND: LayerKind = LayerKind::named("Scale");
    type Output = [T; N];
    type Trace<const B: usize> = ();
    fn map(&self, x: &[T; N]) -> [T; N] {
        std::array::from_fn(|i| self.0[i] * x[i])
    }
    fn grad(&self, x: &[T; N], _: &[T; N], dy: &[T; N], g: &mut Self) -> [T; N] {
        (0..N).for_each(|i| g.0[i] += dy[i] * x[i]);
        std::array::from_fn(|i| dy[i] * self.0[i])
    }
}

/// The first `K` of `N` inputs (`K ≤ N`); the gradient of the others is 0.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct Take<const K: usize>;
impl<T: Scalar, const K: usize> Tensors<T> for Take<K> {}
impl<T: Scalar, const N: usize, const K: usize> Layer<[T; N]> for Take<K> {
    const KIND: LayerKind = LayerKind::named("Take");
    type Output = [T; K];
    type Trace<const B: usize> = ();
    fn map(&self, x: &[T; N]) -> [T; K] {
        std::array::from_fn(|i| x[i])
    }
    fn grad(&self, _: &[T; N], _: &[T; K], dy: &[T; K], _: &mut Self) -> [T; N] {
        std::array::from_fn(|i| if i < K { dy[i] } else { T::ZERO })
    }
}

// --- using them ---------------------------------------------------------

network! {
    /// A regressor through all three: 2 → 8 → Softplus → Scale → first 4 → 1.
    pub struct Custom<f32> { 2 => Dense<8>, Softplus, Scale<f32, 8>, Take<4>, Dense<1> }
}

network! {
    /// The same shapes with `Tanh` where `Custom` has `Softplus`.
    pub struct WithTanh<f32> { 2 => Dense<8>, Tanh, Scale<f32, 8>, Take<4>, Dense<1> }
}

/// `y = x₀ · x₁` on a 6 × 6 grid in [−1, 1]².
pub fn data() -> Vec<([f32; 2], [f32; 1])> {
    let grid = (0..6).map(|i| i as f32 / 2.5 - 1.0);
    grid.clone()
        .flat_map(|a| grid.clone().map(move |b| ([a, b], [a * b])))
        .collect()
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Custom::random(&mut rng);
    println!("{net:?}");
    let mut opt = Sgd::new(0.05)?.momentum(0.9)?;
    let mut data = data();
    let first = net.mean_loss(&data, &Mse)?;
    for _ in 0..500 {
        net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)?;
    }
    let last = net.mean_loss(&data, &Mse)?;
    println!("mean squared error: {first:.4} before training, {last:.5} after");
    assert!(last < first / 10.0, "the network did not learn");

    // Saved and loaded in constnet's format: the same bits.
    let bytes = net.encode_to_vec()?;
    let copy = Custom::decode(&bytes)?;
    assert!(copy == net);
    println!("saved in {} bytes and loaded back unchanged", bytes.len());

    // A file of this network is refused where `Tanh` stands for `Softplus`.
    let err = WithTanh::decode(&bytes).unwrap_err();
    println!("refused by WithTanh: {err}");

    // As Rust source, to compile into a program or firmware.
    let mut source = String::new();
    constnet::export::rust_source(&net, "Trained", "TRAINED", &mut source)?;
    println!("exported as {} bytes of Rust source", source.len());
    if std::env::args().any(|a| a == "--print-source") {
        println!("{source}");
    }
    Ok(())
}
