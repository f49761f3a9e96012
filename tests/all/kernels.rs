//! The vector kernels (AVX-512 or AVX2, picked at run time) against the
//! portable loops, in `f32`, on seeded random data.
//!
//! [`Matrix`]'s methods send `f32` matrices of at least 16 columns and 256
//! scalars to the vector kernels when the processor has them, and
//! everything else to `constnet::matrix::portable`, which these tests call
//! directly as the reference. On a processor without vector kernels both
//! sides are the portable loops and the tests pass trivially.
//!
//! The two sides add the same products in different orders (and the
//! vector side fuses multiply and add), so they differ by rounding. The
//! bound is relative to the size of the vector the value belongs to: for
//! every output row, `max |simd − portable| ≤ 1e-5 · max |portable|`. A
//! single element of a row can be much smaller than its row (a sum whose
//! terms cancel); its own relative difference says nothing about the
//! kernel, so it is printed (`--nocapture`) but not bounded.
//!
//! Sizes include widths that are not multiples of either vector width (8
//! and 16 lanes), below one vector, and batches of 1, 3 and 32.

use constnet::Matrix;
use constnet::matrix::portable;
use constnet::prelude::*;

/// The bound on `max |difference| / max |reference|` per row.
const RTOL: f64 = 1e-5;

/// Uniform values in `[-1, 1)`.
fn fill<const C: usize>(rng: &mut SmallRng, rows: &mut [[f32; C]]) {
    for v in rows.as_flattened_mut() {
        *v = rng.random::<f32>() * 2.0 - 1.0;
    }
}

/// Asserts the row-wise bound; returns the worst row ratio and the worst
/// single-element relative difference, for the log.
#[track_caller]
fn assert_rows_close<const W: usize>(
    what: &str,
    simd: &[[f32; W]],
    reference: &[[f32; W]],
) -> (f64, f64) {
    let (mut worst_row, mut worst_elem) = (0.0f64, 0.0f64);
    for (r, (a, b)) in simd.iter().zip(reference).enumerate() {
        let scale = b.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
        let diff = a.iter().zip(b).fold(0.0f64, |m, (&x, &y)| {
            m.max((f64::from(x) - f64::from(y)).abs())
        });
        assert!(
            diff <= RTOL * scale && a.iter().all(|v| v.is_finite()),
            "{what}, row {r}: max difference {diff:e} against max magnitude {scale:e}\nsimd:     {a:?}\nportable: {b:?}"
        );
        if scale > 0.0 {
            worst_row = worst_row.max(diff / scale);
        }
        for (&x, &y) in a.iter().zip(b) {
            if y != 0.0 {
                worst_elem = worst_elem.max(((f64::from(x) - f64::from(y)) / f64::from(y)).abs());
            }
        }
    }
    (worst_row, worst_elem)
}

/// All three kernels (and, for `B = 1`, their per-sample forms) for one
/// `R × C` matrix and batch `B`.
fn check<const R: usize, const C: usize, const B: usize>(seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut w = Box::new(Matrix::<f32, R, C>::ZERO);
    fill(&mut rng, &mut w.0);
    let mut x = [[0.0f32; C]; B];
    fill(&mut rng, &mut x);
    let mut dy = [[0.0f32; R]; B];
    fill(&mut rng, &mut dy);
    let what = |kernel: &str| format!("{kernel} {R}×{C}, B = {B}");
    let mut worst = (0.0f64, 0.0f64);
    let mut note = |(row, elem): (f64, f64)| worst = (worst.0.max(row), worst.1.max(elem));

    let (mut y, mut y_ref) = ([[f32::NAN; R]; B], [[0.0f32; R]; B]);
    w.matmul_bt(&x, &mut y);
    portable::matmul_bt(&w, &x, &mut y_ref);
    note(assert_rows_close(&what("matmul_bt"), &y, &y_ref));
    // Each sample alone (a one-row tile) gives the bits of its row in the
    // batch: the same sums in the same order.
    for (xb, yb) in x.iter().zip(&y) {
        let mut alone = [[f32::NAN; R]];
        w.matmul_bt(core::array::from_ref(xb), &mut alone);
        assert_eq!(
            alone[0].map(f32::to_bits),
            yb.map(f32::to_bits),
            "{}",
            what("matmul_bt, one sample")
        );
    }

    let (mut dx, mut dx_ref) = ([[f32::NAN; C]; B], [[0.0f32; C]; B]);
    w.matmul(&dy, &mut dx);
    portable::matmul(&w, &dy, &mut dx_ref);
    note(assert_rows_close(&what("matmul"), &dx, &dx_ref));

    // From zero (a fresh gradient) and from random values (accumulating).
    for from_zero in [true, false] {
        let start = if from_zero {
            Box::new(Matrix::<f32, R, C>::ZERO)
        } else {
            w.clone()
        };
        let (mut acc, mut acc_ref) = (start.clone(), start);
        acc.add_at_b(&dy, &x);
        portable::add_at_b(&mut acc_ref, &dy, &x);
        note(assert_rows_close(&what("add_at_b"), &acc.0, &acc_ref.0));
    }
    // Written over values it must not read: the bits of adding to zero.
    let mut from_zero = Box::new(Matrix::<f32, R, C>::ZERO);
    from_zero.add_at_b(&dy, &x);
    let mut written = Box::new(Matrix::<f32, R, C>::new([[f32::NAN; C]; R]));
    written.set_at_b(&dy, &x);
    let bits = |m: &Matrix<f32, R, C>| {
        m.0.as_flattened()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&written), bits(&from_zero), "{}", what("set_at_b"));

    if B == 1 {
        let (mut y1, mut dx1) = ([f32::NAN; R], [f32::NAN; C]);
        w.matvec(&x[0], &mut y1);
        note(assert_rows_close(&what("matvec"), &[y1], &y_ref[..1]));
        w.matvec_t(&dy[0], &mut dx1);
        note(assert_rows_close(&what("matvec_t"), &[dx1], &dx_ref[..1]));
        let mut acc = w.clone();
        acc.add_outer(&dy[0], &x[0]);
        let mut acc_ref = w.clone();
        portable::add_at_b(&mut acc_ref, &dy, &x);
        note(assert_rows_close(&what("add_outer"), &acc.0, &acc_ref.0));
    }
    eprintln!(
        "{R}×{C}, B = {B}: worst row ratio {:.1e}, worst single-element relative difference {:.1e}",
        worst.0, worst.1
    );
}

macro_rules! sizes {
    ($($r:literal x $c:literal),* $(,)?) => {{
        let mut seed = 0;
        $(
            seed += 1;
            check::<$r, $c, 1>(seed);
            check::<$r, $c, 3>(seed);
            check::<$r, $c, 32>(seed);
        )*
    }};
}

#[test]
fn vector_kernels_match_the_portable_loops() {
    sizes!(
        // The workloads' layers.
        32 x 64, 10 x 32, 128 x 784, 256 x 256, 10 x 256,
        // Widths off the vector widths, below and just past one vector.
        17 x 33, 9 x 129, 33 x 100, 1 x 257, 40 x 17, 16 x 16, 3 x 1000,
        // Below the size the vector kernels take: the portable loops on
        // both sides.
        3 x 5, 8 x 2,
    );
}

network! {
    /// W2's shape.
    struct Small<f32> { 64 => Dense<32>, Relu, Dense<10> }
}

network! {
    /// W3's shape.
    struct Mnist<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

network! {
    /// W3's shape in `f64`, which always runs the portable loops.
    struct Mnist64<f64> { 784 => Dense<128>, Relu, Dense<10> }
}

/// `y = relu(W₁ x + b₁)`, then `W₂ y + b₂`, with the portable loops.
fn portable_predict<const I: usize, const H: usize, const O: usize, const B: usize>(
    first: &Dense<f32, I, H>,
    second: &Dense<f32, H, O>,
    x: &[[f32; I]; B],
) -> [[f32; O]; B] {
    let mut h = [[0.0; H]; B];
    portable::matmul_bt(&first.weight, x, &mut h);
    for row in &mut h {
        for (v, b) in row.iter_mut().zip(&first.bias) {
            *v = (*v + b).max(0.0);
        }
    }
    let mut y = [[0.0; O]; B];
    portable::matmul_bt(&second.weight, &h, &mut y);
    for row in &mut y {
        for (v, b) in row.iter_mut().zip(&second.bias) {
            *v += b;
        }
    }
    y
}

/// Predictions of a network one at a time and in batches of 32, against
/// the same network computed with the portable loops.
fn check_predictions<N, const I: usize, const H: usize, const O: usize>(net: &N, seed: u64)
where
    N: Network<
            Scalar = f32,
            Input = [f32; I],
            Output = [f32; O],
            Layers = Chain<Dense<f32, I, H>, Chain<Relu, Dense<f32, H, O>>>,
        >,
{
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut x = [[0.0f32; I]; 32];
    fill(&mut rng, &mut x);
    let layers = net.layers();
    let reference = portable_predict(&layers.0, &layers.1.1, &x);
    let batch = net.predict_batch(&x);
    let one_by_one: Vec<[f32; O]> = x.iter().map(|x| net.predict(x)).collect();
    let (row, elem) = assert_rows_close("predict_batch", &batch, &reference);
    assert_rows_close("predict", &one_by_one, &reference);
    eprintln!("{I}-{H}-{O} predictions: worst row ratio {row:.1e}, worst element {elem:.1e}");
    // A sample's prediction does not depend on the batch it is in.
    assert_eq!(one_by_one, batch, "a batch of one and a batch of 32 differ");
}

#[test]
fn predictions_match_the_portable_loops() {
    let mut rng = SmallRng::seed_from_u64(20);
    check_predictions::<_, 64, 32, 10>(&Small::random(&mut rng), 21);
    let mnist: Box<Mnist> = Box::new(Mnist::random(&mut rng));
    check_predictions::<_, 784, 128, 10>(&*mnist, 22);
}

/// The gradient of a batch of 32, computed in `f32` through the vector
/// kernels, against the same network's gradient in `f64` (portable
/// loops): they differ by `f32` rounding, within `1e-5` of each tensor's
/// largest entry (about `2e-7` is observed).
#[test]
fn f32_gradients_match_f64() {
    let mut rng = SmallRng::seed_from_u64(30);
    let net: Box<Mnist> = Box::new(Mnist::random(&mut rng));
    let mut wide: Box<Mnist64> = Box::new(Mnist64::random(&mut rng));
    for i in 0..4 {
        for (w, &n) in wide
            .layers_mut()
            .tensor_mut(i)
            .iter_mut()
            .zip(net.layers().tensor(i))
        {
            *w = f64::from(n);
        }
    }
    let mut batch = [([0.0f32; 784], 0usize); 32];
    for (x, class) in &mut batch {
        fill(&mut rng, core::array::from_mut(x));
        *class = rng.random_range(0..10);
    }
    let batch64 = batch.map(|(x, c)| (x.map(f64::from), c));
    let mut grads: Box<Gradients<Mnist>> = Box::new(Zeroed::ZERO);
    let mut grads64: Box<Gradients<Mnist64>> = Box::new(Zeroed::ZERO);
    let loss = net.loss_and_gradients(&batch, &SoftmaxCrossEntropy, &mut grads);
    let loss64 = wide.loss_and_gradients(&batch64, &SoftmaxCrossEntropy, &mut grads64);
    assert!((f64::from(loss) - loss64).abs() <= 1e-5 * loss64.abs());
    for i in 0..4 {
        let (g, g64) = (grads.tensor(i), grads64.tensor(i));
        let scale = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = g
            .iter()
            .zip(g64)
            .fold(0.0f64, |m, (&a, &b)| m.max((f64::from(a) - b).abs()));
        eprintln!(
            "gradient tensor {i}: max difference / max magnitude {:.1e}",
            diff / scale
        );
        assert!(
            scale > 0.0 && diff <= 1e-5 * scale,
            "tensor {i}: {diff:e} against {scale:e}"
        );
    }
}

network! {
    /// Two dense layers whose widths are not multiples of 16.
    struct Lines<f32> { 20 => Dense<24>, Relu, Dense<3> }
}

/// On x86-64 the kernels read whole cache lines where they can: each dense
/// layer's weights, and the activations a step passes between layers,
/// start on a 64-byte line (a 512-bit load across two lines costs two).
#[test]
#[cfg(target_arch = "x86_64")]
fn weights_and_activations_start_on_cache_lines() {
    use constnet::layer::{ChainTrace, Layer};
    let line = |p: *const f32| p as usize % 64;
    let on_stack = Lines::random(&mut SmallRng::seed_from_u64(1));
    let boxed = Lines::random_boxed(&mut SmallRng::seed_from_u64(1));
    for net in [&on_stack, &*boxed] {
        assert_eq!(line(net.layer::<0>().weight.as_flat().as_ptr()), 0);
        assert_eq!(line(net.layer::<2>().weight.as_flat().as_ptr()), 0);
    }
    assert_eq!(core::mem::align_of::<Dense<f32, 3, 5>>(), 64);
    type Trace = <<Lines as Network>::Layers as Layer<[f32; 20]>>::Trace<32>;
    let trace: Box<Trace> = Box::new(constnet::Zeroed::ZERO);
    let ChainTrace { mid, b, .. } = &*trace;
    assert_eq!(line(mid.as_flattened().as_ptr()), 0);
    assert_eq!(line(b.mid.as_flattened().as_ptr()), 0);
}
