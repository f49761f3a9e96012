//! Finite-difference checks of every analytic gradient, in `f64`.
//!
//! Each analytic gradient (a layer's `dx` and parameter gradient, a loss's
//! `loss_grad`, a whole network's `loss_and_gradients` and input gradient)
//! is compared with the central difference
//!
//! ```text
//! ∂f/∂θᵢ ≈ (f(θ + h eᵢ) − f(θ − h eᵢ)) / (2h)
//! ```
//!
//! of a scalar function `f` computed only through forward passes.
//!
//! # Step and tolerance
//!
//! The central difference has two errors:
//!
//! - truncation, `h² f‴ / 6`: with `h = 1e-6` it is about `1e-13 · |f‴|`,
//!   and `|f‴|` stays below about `1e4` for the inputs used here (the worst
//!   is `CrossEntropy`'s `2/p³` with `p ≥ 0.05`), so below `1e-9`;
//! - rounding, about `ε |f| / h` with `ε ≈ 2.2e-16`, where `|f|` is the
//!   size of the terms `f` is summed from: a few units for most checks
//!   (`≈ 1e-9`), up to about 20 for the large-logit softmax check
//!   (`≈ 4e-9`).
//!
//! A smaller `h` grows the rounding term as `1/h`, a larger one the
//! truncation term as `h²`; `1e-6` is close to the optimum `ε^{1/3}` for a
//! central difference. The step actually taken is `(θ + h) − (θ − h)`
//! computed in floating point, not `2h`, which removes the rounding of the
//! step itself.
//!
//! So the error of the numerical derivative is at most a few `1e-9` in
//! absolute terms. The check is
//!
//! ```text
//! |analytic − numeric| ≤ RTOL · max(|analytic|, |numeric|, FLOOR)
//! ```
//!
//! with `RTOL = 1e-6` and `FLOOR = 1e-2`: a relative error of `1e-6` for
//! derivatives above `0.01`, and an absolute error of `1e-8` (a few times
//! the worst numerical error above) for smaller ones, including derivatives
//! that are exactly zero. The largest scaled error actually observed over
//! all checks is about `2.4e-8`, forty times below the tolerance (each check
//! prints its worst with `--nocapture`). A wrong derivative (a missing factor, a wrong
//! sign, a term of the chain rule left out, a transposed matrix) is off by
//! a relative error of order one, a million times the tolerance; every test
//! also checks that the gradient it compares is not all (nearly) zero, so
//! that no test passes because both sides vanish.
//!
//! Inputs are kept away from the places where the functions are not smooth
//! (ReLU's kink at 0, the `−100` clamp of the logarithms, the `1e-12` floor
//! of the binary cross-entropy's denominator), where a central difference
//! does not measure the derivative.

use constnet::prelude::*;

/// The finite-difference step.
const H: f64 = 1e-6;
/// The relative tolerance.
const RTOL: f64 = 1e-6;
/// Below this magnitude, the tolerance is absolute: `RTOL · FLOOR = 1e-8`.
const FLOOR: f64 = 1e-2;
/// A compared gradient must have an entry at least this large, ten
/// thousand times the absolute tolerance, or the check would be vacuous.
const NONTRIVIAL: f64 = 1e-4;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// A uniform `f64` in `[lo, hi)` from 53 random bits.
fn uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    let unit = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    lo + (hi - lo) * unit
}

/// A uniform value in `±[lo, hi)` with a random sign: never closer than
/// `lo` to zero (for ReLU's kink).
fn away_from_zero(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    let v = uniform(rng, lo, hi);
    if rng.next_u64() & 1 == 0 { v } else { -v }
}

/// A `B × N` batch of uniform values in `[lo, hi)`.
fn batch<const N: usize, const B: usize>(rng: &mut SmallRng, lo: f64, hi: f64) -> [[f64; N]; B] {
    let mut x = [[0.0; N]; B];
    x.as_flattened_mut()
        .iter_mut()
        .for_each(|v| *v = uniform(rng, lo, hi));
    x
}

/// A random probability vector (positive, summing to 1) with every entry at
/// least `min / N`-ish: softmax of uniform logits in `[-1, 1)`.
fn probabilities<const N: usize>(rng: &mut SmallRng) -> [f64; N] {
    let mut p = [0.0; N];
    p.iter_mut()
        .for_each(|v| *v = uniform(rng, -1.0, 1.0).exp());
    let sum: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= sum);
    p
}

/// The central-difference gradient of `f` at `x`, one coordinate at a time.
/// `f` is given the whole perturbed vector.
fn numeric_grad(x: &[f64], mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    let mut work = x.to_vec();
    (0..x.len())
        .map(|i| {
            let (plus, minus) = (x[i] + H, x[i] - H);
            work[i] = plus;
            let fp = f(&work);
            work[i] = minus;
            let fm = f(&work);
            work[i] = x[i];
            // The step actually taken, which is not exactly 2h in floating point.
            (fp - fm) / (plus - minus)
        })
        .collect()
}

/// Asserts that an analytic gradient matches a numerical one within the
/// tolerance described at the top of the file, and that it is not all
/// (nearly) zero. Returns the largest scaled error, for the log.
#[track_caller]
fn assert_grad_close(what: &str, analytic: &[f64], numeric: &[f64]) -> f64 {
    assert_eq!(analytic.len(), numeric.len(), "{what}: lengths differ");
    assert!(!analytic.is_empty(), "{what}: nothing to compare");
    let mut worst = 0.0f64;
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let scale = a.abs().max(n.abs()).max(FLOOR);
        let err = (a - n).abs() / scale;
        assert!(
            err <= RTOL && a.is_finite(),
            "{what}[{i}]: analytic {a:e}, numeric {n:e}, scaled error {err:e} > {RTOL:e}\n\
             analytic: {analytic:?}\nnumeric:  {numeric:?}"
        );
        worst = worst.max(err);
    }
    let largest = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        largest >= NONTRIVIAL,
        "{what}: the gradient is (nearly) zero everywhere ({largest:e}); the check is vacuous"
    );
    eprintln!(
        "{what}: {} entries, worst scaled error {worst:.2e}",
        analytic.len()
    );
    worst
}

/// All tensors of a parameter-shaped value, concatenated.
fn flat<T: Tensors<f64>>(t: &T) -> Vec<f64> {
    (0..T::COUNT).flat_map(|i| t.tensor(i).to_vec()).collect()
}

/// Writes a concatenation made by [`flat`] back into the tensors.
fn set_flat<T: Tensors<f64>>(t: &mut T, values: &[f64]) {
    assert_eq!(values.len(), T::LEN);
    let mut rest = values;
    for i in 0..T::COUNT {
        let dst = t.tensor_mut(i);
        let (head, tail) = rest.split_at(dst.len());
        dst.copy_from_slice(head);
        rest = tail;
    }
    assert!(rest.is_empty());
}

/// `Σ_b Σ_i a[b][i] · c[b][i]`.
fn dot_batch<const N: usize, const B: usize>(a: &[[f64; N]; B], c: &[[f64; N]; B]) -> f64 {
    a.as_flattened()
        .iter()
        .zip(c.as_flattened())
        .map(|(x, y)| x * y)
        .sum()
}

/// A batch from its flat form.
fn unflatten<const N: usize, const B: usize>(v: &[f64]) -> [[f64; N]; B] {
    let mut x = [[0.0; N]; B];
    x.as_flattened_mut().copy_from_slice(v);
    x
}

// ---------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------

/// The batch size of the layer checks: more than one, so that rows are not
/// mixed up.
const BATCH: usize = 3;
/// The width of the activation checks.
const WIDTH: usize = 5;

/// Checks `dx` from `backward` against `∂(dy · f(x))/∂x` for a random
/// upstream gradient `dy`, on the batch `x`.
fn check_activation<L>(name: &str, layer: &L, x: [[f64; WIDTH]; BATCH], rng: &mut SmallRng)
where
    L: Layer<[f64; WIDTH], Output = [f64; WIDTH]>,
{
    let dy: [[f64; WIDTH]; BATCH] = batch(rng, -1.0, 1.0);

    let mut y = [[0.0; WIDTH]; BATCH];
    let mut trace = Zeroed::ZERO;
    layer.forward_train(&x, &mut y, &mut trace);
    // NaN in dx: backward must overwrite every entry, not add to it.
    let mut dx = [[f64::NAN; WIDTH]; BATCH];
    let mut grad = L::ZERO;
    layer.backward(&x, &y, &dy, &trace, &mut grad, Some(&mut dx));

    // The inference pass agrees with the training pass.
    let mut y2 = [[0.0; WIDTH]; BATCH];
    layer.forward(&x, &mut y2);
    assert_eq!(y, y2, "{name}: forward and forward_train differ");

    let numeric = numeric_grad(x.as_flattened(), |v| {
        let mut out = [[0.0; WIDTH]; BATCH];
        layer.forward(&unflatten(v), &mut out);
        dot_batch(&dy, &out)
    });
    assert_grad_close(&format!("{name} dx"), dx.as_flattened(), &numeric);

    // Without dx, nothing is written and nothing panics.
    layer.backward(&x, &y, &dy, &trace, &mut grad, None);
}

#[test]
fn identity_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(101);
    let x = batch(&mut rng, -3.0, 3.0);
    check_activation("Identity", &Identity, x, &mut rng);
}

/// A batch for ReLU-like layers: every entry at least 0.1 from the kink,
/// with both signs present in every row.
fn relu_batch(rng: &mut SmallRng) -> [[f64; WIDTH]; BATCH] {
    let mut x = [[0.0; WIDTH]; BATCH];
    for row in &mut x {
        for v in row.iter_mut() {
            *v = away_from_zero(rng, 0.1, 2.0);
        }
        row[0] = row[0].abs();
        row[1] = -row[1].abs();
    }
    x
}

#[test]
fn relu_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(102);
    let x = relu_batch(&mut rng);
    check_activation("Relu", &Relu, x, &mut rng);
}

#[test]
fn leaky_relu_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(103);
    for (name, layer) in [
        ("LeakyRelu(default 0.01)", LeakyRelu::default()),
        ("LeakyRelu(0.3)", LeakyRelu::new(0.3)),
        ("LeakyRelu(2.5)", LeakyRelu::new(2.5)),
        ("LeakyRelu(-0.5)", LeakyRelu::new(-0.5)),
    ] {
        let x = relu_batch(&mut rng);
        check_activation(name, &layer, x, &mut rng);
    }
}

#[test]
fn sigmoid_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(104);
    // Both branches of the overflow-free sigmoid (x ≥ 0 and x < 0).
    let x = batch(&mut rng, -6.0, 6.0);
    assert!(x.as_flattened().iter().any(|&v| v < 0.0));
    assert!(x.as_flattened().iter().any(|&v| v > 0.0));
    check_activation("Sigmoid", &Sigmoid, x, &mut rng);
}

#[test]
fn tanh_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(105);
    let x = batch(&mut rng, -2.5, 2.5);
    check_activation("Tanh", &Tanh, x, &mut rng);
}

#[test]
fn softmax_input_gradient() {
    let mut rng = SmallRng::seed_from_u64(106);
    let mut x = batch(&mut rng, -3.0, 3.0);
    // A shifted row: softmax is shift-invariant, the gradient must be too.
    x[2].iter_mut().for_each(|v| *v += 40.0);
    check_activation("Softmax", &Softmax, x, &mut rng);
}

// ---------------------------------------------------------------------------
// Dense
// ---------------------------------------------------------------------------

const DENSE_IN: usize = 4;
const DENSE_OUT: usize = 3;
type TestDense = Dense<f64, DENSE_IN, DENSE_OUT>;

/// A dense layer with random weights and (non-zero) biases.
fn random_dense(rng: &mut SmallRng) -> TestDense {
    let mut layer = TestDense::random(rng, Init::Xavier);
    layer
        .bias
        .iter_mut()
        .for_each(|b| *b = uniform(rng, -1.0, 1.0));
    layer
}

/// The scalar `dy · layer(x)` whose gradients the dense checks compare.
fn dense_objective(
    layer: &TestDense,
    x: &[[f64; DENSE_IN]; BATCH],
    dy: &[[f64; DENSE_OUT]; BATCH],
) -> f64 {
    let mut y = [[0.0; DENSE_OUT]; BATCH];
    layer.forward(x, &mut y);
    dot_batch(dy, &y)
}

#[test]
fn dense_input_and_parameter_gradients() {
    let mut rng = SmallRng::seed_from_u64(201);
    let layer = random_dense(&mut rng);
    let x: [[f64; DENSE_IN]; BATCH] = batch(&mut rng, -2.0, 2.0);
    let dy: [[f64; DENSE_OUT]; BATCH] = batch(&mut rng, -1.0, 1.0);

    let mut y = [[0.0; DENSE_OUT]; BATCH];
    layer.forward_train(&x, &mut y, &mut ());
    let mut grad = TestDense::ZERO;
    let mut dx = [[f64::NAN; DENSE_IN]; BATCH];
    layer.backward(&x, &y, &dy, &(), &mut grad, Some(&mut dx));

    // Input gradient.
    let numeric = numeric_grad(x.as_flattened(), |v| {
        dense_objective(&layer, &unflatten(v), &dy)
    });
    assert_grad_close("Dense dx", dx.as_flattened(), &numeric);

    // Weight gradient (tensor 0) and bias gradient (tensor 1), separately.
    for (i, name) in [(0, "Dense dW"), (1, "Dense db")] {
        let numeric = numeric_grad(layer.tensor(i), |v| {
            let mut perturbed = layer;
            perturbed.tensor_mut(i).copy_from_slice(v);
            dense_objective(&perturbed, &x, &dy)
        });
        assert_grad_close(name, grad.tensor(i), &numeric);
    }
}

#[test]
fn dense_backward_accumulates_parameter_gradient_and_overwrites_dx() {
    let mut rng = SmallRng::seed_from_u64(202);
    let layer = random_dense(&mut rng);
    let x: [[f64; DENSE_IN]; BATCH] = batch(&mut rng, -2.0, 2.0);
    let dy: [[f64; DENSE_OUT]; BATCH] = batch(&mut rng, -1.0, 1.0);
    let mut y = [[0.0; DENSE_OUT]; BATCH];
    layer.forward_train(&x, &mut y, &mut ());

    // The gradient of one call, from zero.
    let mut once = TestDense::ZERO;
    let mut dx_once = [[0.0; DENSE_IN]; BATCH];
    layer.backward(&x, &y, &dy, &(), &mut once, Some(&mut dx_once));
    assert!(flat(&once).iter().any(|&g| g.abs() > 1e-3));

    // Two calls from zero give twice the gradient; dx, pre-filled with
    // garbage, holds the gradient of one call, not a sum.
    let mut twice = TestDense::ZERO;
    let mut dx = [[1e3; DENSE_IN]; BATCH];
    layer.backward(&x, &y, &dy, &(), &mut twice, Some(&mut dx));
    assert_eq!(dx, dx_once, "dx must be overwritten");
    layer.backward(&x, &y, &dy, &(), &mut twice, Some(&mut dx));
    assert_eq!(dx, dx_once, "dx must be overwritten on the second call too");
    for (t, o) in flat(&twice).iter().zip(flat(&once)) {
        assert!(
            (t - 2.0 * o).abs() <= 1e-14 * o.abs().max(1.0),
            "{t} != 2 × {o}"
        );
    }

    // From a non-zero start G₀, one call gives G₀ + g (with dx = None: the
    // parameter gradient does not depend on whether dx is asked for).
    let start = random_dense(&mut rng);
    let mut acc = start;
    layer.backward(&x, &y, &dy, &(), &mut acc, None);
    let expected: Vec<f64> = flat(&start)
        .iter()
        .zip(flat(&once))
        .map(|(s, g)| s + g)
        .collect();
    for (a, e) in flat(&acc).iter().zip(&expected) {
        assert!((a - e).abs() <= 1e-14 * e.abs().max(1.0), "{a} != {e}");
    }
}

// ---------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------

/// Checks `loss_grad` against the numerical derivative of `loss`, and that
/// both return the same loss.
fn check_loss<const N: usize, Target, L: Loss<[f64; N], Target>>(
    what: &str,
    loss: &L,
    y: [f64; N],
    target: &Target,
) {
    let mut grad = [f64::NAN; N];
    let value = loss.loss_grad(&y, target, &mut grad);
    assert!(value.is_finite(), "{what}: loss {value}");
    assert_eq!(
        value,
        loss.loss(&y, target),
        "{what}: loss and loss_grad disagree"
    );
    let numeric = numeric_grad(&y, |v| loss.loss(v.try_into().unwrap(), target));
    assert_grad_close(what, &grad, &numeric);
}

#[test]
fn mse_gradient() {
    let mut rng = SmallRng::seed_from_u64(301);
    for _ in 0..3 {
        let [y, t]: [[f64; 4]; 2] = batch(&mut rng, -2.0, 2.0);
        check_loss("Mse", &Mse, y, &t);
    }
}

#[test]
fn cross_entropy_gradient_one_hot_and_class_index() {
    let mut rng = SmallRng::seed_from_u64(302);
    for class in 0..4 {
        let p: [f64; 4] = probabilities(&mut rng);
        let mut one_hot = [0.0; 4];
        one_hot[class] = 1.0;
        check_loss("CrossEntropy one-hot", &CrossEntropy, p, &one_hot);
        check_loss("CrossEntropy class", &CrossEntropy, p, &class);
        // The two target kinds are the same loss.
        let (mut g1, mut g2) = ([0.0; 4], [0.0; 4]);
        let l1 = CrossEntropy.loss_grad(&p, &one_hot, &mut g1);
        let l2 = CrossEntropy.loss_grad(&p, &class, &mut g2);
        assert!((l1 - l2).abs() <= 1e-15 * l1.abs());
        assert_eq!(g1, g2);
    }
    // A soft (probability) target, too.
    let p: [f64; 4] = probabilities(&mut rng);
    let t: [f64; 4] = probabilities(&mut rng);
    check_loss("CrossEntropy soft", &CrossEntropy, p, &t);
}

#[test]
fn softmax_cross_entropy_gradient_all_target_kinds() {
    let mut rng = SmallRng::seed_from_u64(303);
    for class in 0..4 {
        let z: [f64; 4] = batch::<4, 1>(&mut rng, -3.0, 3.0)[0];
        let mut one_hot = [0.0; 4];
        one_hot[class] = 1.0;
        check_loss(
            "SoftmaxCrossEntropy one-hot",
            &SoftmaxCrossEntropy,
            z,
            &one_hot,
        );
        check_loss("SoftmaxCrossEntropy class", &SoftmaxCrossEntropy, z, &class);
    }
    // A probability target that is not one-hot.
    let z: [f64; 4] = batch::<4, 1>(&mut rng, -3.0, 3.0)[0];
    let t: [f64; 4] = probabilities(&mut rng);
    check_loss("SoftmaxCrossEntropy soft", &SoftmaxCrossEntropy, z, &t);
    // Its value is −Σ tᵢ ln softmax(z)ᵢ.
    let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
    let expected: f64 = -t.iter().zip(&z).map(|(t, z)| t * (z - lse)).sum::<f64>();
    let value = SoftmaxCrossEntropy.loss(&z, &t);
    assert!(
        (value - expected).abs() <= 1e-14 * expected.abs(),
        "{value} != {expected}"
    );
    // Large logits (the log-sum-exp path) and a target that does not sum
    // to 1 (the gradient is then mass · softmax − t).
    let z = [20.0, 18.5, 21.2, 19.0];
    check_loss(
        "SoftmaxCrossEntropy large logits",
        &SoftmaxCrossEntropy,
        z,
        &2usize,
    );
    check_loss(
        "SoftmaxCrossEntropy unnormalised",
        &SoftmaxCrossEntropy,
        z,
        &[0.2, 0.5, 0.1, 0.0],
    );
}

#[test]
fn binary_cross_entropy_gradient() {
    let mut rng = SmallRng::seed_from_u64(304);
    for _ in 0..3 {
        let p: [f64; 3] = batch::<3, 1>(&mut rng, 0.05, 0.95)[0];
        // Hard labels and a soft one.
        let t = [0.0, 1.0, uniform(&mut rng, 0.0, 1.0)];
        check_loss("BinaryCrossEntropy", &BinaryCrossEntropy, p, &t);
    }
}

// ---------------------------------------------------------------------------
// Whole networks
// ---------------------------------------------------------------------------

network! {
    /// Two dense layers, a probability output for `CrossEntropy`.
    struct TwoSoftmax<f64> { 3 => Dense<4>, Tanh, Dense<3>, Softmax }
}

network! {
    /// Three dense layers, logits for `SoftmaxCrossEntropy`.
    struct ThreeLogits<f64> { 4 => Dense<5>, Relu, Dense<4>, Sigmoid, Dense<3> }
}

network! {
    /// Four dense layers, a regression output for `Mse`.
    struct FourRegression<f64> {
        3 => Dense<6>, LeakyRelu, Dense<5>, Tanh, Dense<4>, Softmax, Dense<4>, Relu, Dense<2>, Identity
    }
}

network! {
    /// Three dense layers, sigmoid outputs for `BinaryCrossEntropy`.
    struct ThreeBinary<f64> { 4 => Dense<6>, Tanh, Dense<4>, LeakyRelu, Dense<2>, Sigmoid }
}

/// The number of samples in a network check.
pub const SAMPLES: usize = 5;

/// A seeded random network whose biases are non-zero too.
fn random_network<N: Network<Scalar = f64>>(rng: &mut SmallRng) -> N {
    let mut net = N::random(rng);
    let mut params = flat(net.layers());
    // Perturb every parameter (biases start at zero) by a little.
    params
        .iter_mut()
        .for_each(|p| *p += uniform(rng, -0.3, 0.3));
    set_flat(net.layers_mut(), &params);
    net
}

/// A batch of random inputs, with the given targets.
pub fn samples<N: Network<Scalar = f64>, Target: Clone>(
    rng: &mut SmallRng,
    targets: [Target; SAMPLES],
) -> [(N::Input, Target); SAMPLES] {
    targets.map(|t| {
        let mut x = <N::Input as Zeroed>::ZERO;
        x.as_mut_slice()
            .iter_mut()
            .for_each(|v| *v = uniform(rng, -1.5, 1.5));
        (x, t)
    })
}

/// The mean loss of `batch` computed one sample at a time through
/// `predict`, independently of the batched training pass.
fn mean_loss_by_predict<N: Network<Scalar = f64>, Target>(
    net: &N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
) -> f64 {
    let total: f64 = batch
        .iter()
        .map(|(x, t)| loss.loss(&net.predict(x), t))
        .sum();
    total / batch.len() as f64
}

/// Checks a network's parameter gradients (from `loss_and_gradients`) and
/// input gradients (from the layers' `backward` with `dx`) against finite
/// differences of the mean batch loss.
pub fn check_network<N, Target, L>(
    name: &str,
    net: &N,
    batch: &[(N::Input, Target); SAMPLES],
    loss: &L,
) where
    N: Network<Scalar = f64> + Train<Target> + Clone,
    Target: Clone,
    L: Loss<N::Output, Target>,
{
    // --- parameter gradients ---
    let mut grads = Gradients::<N>::ZERO;
    // Garbage in the gradients: loss_and_gradients must overwrite, not add.
    for i in 0..<Gradients<N> as Tensors<f64>>::COUNT {
        grads.tensor_mut(i).fill(7.0);
    }
    let mean = net.loss_and_gradients(batch, loss, &mut grads);
    let reference = net.mean_loss(batch, loss).unwrap();
    assert!(
        (mean - reference).abs() <= 1e-12 * reference.abs(),
        "{name}: batched loss {mean} != mean_loss {reference}"
    );
    let by_predict = mean_loss_by_predict(net, batch, loss);
    assert!((by_predict - reference).abs() <= 1e-12 * reference.abs());

    // Same tensor list, same order, same sizes.
    assert_eq!(
        <Gradients<N> as Tensors<f64>>::COUNT,
        <N::Layers as Tensors<f64>>::COUNT
    );
    for i in 0..<Gradients<N> as Tensors<f64>>::COUNT {
        assert_eq!(grads.tensor(i).len(), net.layers().tensor(i).len());
    }

    let params = flat(net.layers());
    assert_eq!(params.len(), N::PARAMETERS);
    let numeric = numeric_grad(&params, |theta| {
        let mut perturbed = net.clone();
        set_flat(perturbed.layers_mut(), theta);
        perturbed.mean_loss(batch, loss).unwrap()
    });
    assert_grad_close(&format!("{name} parameters"), &flat(&grads), &numeric);
    // Every tensor separately too, so that a tensor of zeros cannot hide
    // behind a large one.
    let mut start = 0;
    for i in 0..<Gradients<N> as Tensors<f64>>::COUNT {
        let g = grads.tensor(i);
        let what = format!("{name} tensor {i}");
        assert_grad_close(&what, g, &numeric[start..start + g.len()]);
        start += g.len();
    }

    // --- input gradient, through the layers' backward pass with dx ---
    let layers = net.layers();
    let x: [N::Input; SAMPLES] = core::array::from_fn(|b| batch[b].0);
    let mut y = [<N::Output as Zeroed>::ZERO; SAMPLES];
    let mut trace = Zeroed::ZERO;
    layers.forward_train(&x, &mut y, &mut trace);
    let mut dy = [<N::Output as Zeroed>::ZERO; SAMPLES];
    for ((yb, dyb), (_, target)) in y.iter().zip(dy.iter_mut()).zip(batch) {
        loss.loss_grad(yb, target, dyb);
        dyb.as_mut_slice()
            .iter_mut()
            .for_each(|g| *g /= SAMPLES as f64);
    }
    let mut direct = Gradients::<N>::ZERO;
    let mut dx = [<N::Input as Zeroed>::ZERO; SAMPLES];
    dx.iter_mut()
        .for_each(|row| row.as_mut_slice().fill(f64::NAN));
    layers.backward(&x, &y, &dy, &trace, &mut direct.0, Some(&mut dx));

    // The parameter gradient does not depend on whether dx is asked for.
    for (d, g) in flat(&direct).iter().zip(flat(&grads)) {
        assert!(
            (d - g).abs() <= 1e-14 * g.abs().max(1e-3),
            "{name}: {d} != {g}"
        );
    }

    let flat_x: Vec<f64> = x.iter().flat_map(|r| r.as_slice().to_vec()).collect();
    let flat_dx: Vec<f64> = dx.iter().flat_map(|r| r.as_slice().to_vec()).collect();
    let numeric = numeric_grad(&flat_x, |v| {
        let mut perturbed = batch.clone();
        for ((input, _), row) in perturbed.iter_mut().zip(v.chunks(flat_x.len() / SAMPLES)) {
            input.as_mut_slice().copy_from_slice(row);
        }
        net.mean_loss(&perturbed, loss).unwrap()
    });
    assert_grad_close(&format!("{name} input"), &flat_dx, &numeric);
}

#[test]
fn two_layer_softmax_cross_entropy_network() {
    let mut rng = SmallRng::seed_from_u64(401);
    let net: TwoSoftmax = random_network(&mut rng);
    let classes = samples::<TwoSoftmax, usize>(&mut rng, [0, 2, 1, 1, 0]);
    check_network(
        "TwoSoftmax/CrossEntropy class",
        &net,
        &classes,
        &CrossEntropy,
    );
    let one_hot = classes.map(|(x, c)| {
        let mut t = [0.0; 3];
        t[c] = 1.0;
        (x, t)
    });
    check_network(
        "TwoSoftmax/CrossEntropy one-hot",
        &net,
        &one_hot,
        &CrossEntropy,
    );
}

#[test]
fn three_layer_logits_softmax_cross_entropy_network() {
    let mut rng = SmallRng::seed_from_u64(402);
    let net: ThreeLogits = random_network(&mut rng);
    let classes = samples::<ThreeLogits, usize>(&mut rng, [2, 0, 1, 2, 1]);
    check_network(
        "ThreeLogits/SoftmaxCrossEntropy class",
        &net,
        &classes,
        &SoftmaxCrossEntropy,
    );
    let targets: [[f64; 3]; SAMPLES] = core::array::from_fn(|_| probabilities(&mut rng));
    let soft = samples::<ThreeLogits, [f64; 3]>(&mut rng, targets);
    check_network(
        "ThreeLogits/SoftmaxCrossEntropy soft",
        &net,
        &soft,
        &SoftmaxCrossEntropy,
    );
}

#[test]
fn four_layer_regression_network() {
    let mut rng = SmallRng::seed_from_u64(403);
    let net: FourRegression = random_network(&mut rng);
    let targets: [[f64; 2]; SAMPLES] = batch(&mut rng, -1.0, 1.0);
    let data = samples::<FourRegression, [f64; 2]>(&mut rng, targets);
    check_network("FourRegression/Mse", &net, &data, &Mse);
}

#[test]
fn three_layer_sigmoid_binary_cross_entropy_network() {
    let mut rng = SmallRng::seed_from_u64(404);
    let net: ThreeBinary = random_network(&mut rng);
    let targets = [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.25, 0.8]];
    let data = samples::<ThreeBinary, [f64; 2]>(&mut rng, targets);
    check_network(
        "ThreeBinary/BinaryCrossEntropy",
        &net,
        &data,
        &BinaryCrossEntropy,
    );
}
