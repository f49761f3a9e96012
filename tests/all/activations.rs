//! The `f32` activations against the `f64` ones (the standard library's
//! functions), through the `Layer` API, for a lone value, a few values and
//! whole vectors of them: `f32`'s `tanh` is constnet's own polynomial,
//! which the compiler may or may not vectorise depending on the width.

use constnet::prelude::*;

/// The distance from `approx` to `exact` in units of the last place of the
/// `f32` nearest `exact`.
fn ulps(approx: f32, exact: f64) -> f64 {
    let nearest = exact as f32;
    let ulp = if nearest == 0.0 || !nearest.is_normal() {
        f64::from(f32::from_bits(1))
    } else {
        let bits = nearest.abs().to_bits();
        f64::from(f32::from_bits(bits + 1)) - f64::from(f32::from_bits(bits))
    };
    (f64::from(approx) - exact).abs() / ulp
}

/// Inputs over the whole useful range of both functions, and beyond.
fn inputs(rng: &mut SmallRng) -> f32 {
    let magnitude = 10f32.powf(rng.random_range(-8.0..2.2));
    if rng.random() { magnitude } else { -magnitude }
}

/// The worst error of the `f32` layer against the `f64` layer, for `B`
/// rows of `N` values.
fn worst<L, const B: usize, const N: usize>(layer: L, rng: &mut SmallRng) -> f64
where
    L: Layer<[f32; N], Output = [f32; N]> + Layer<[f64; N], Output = [f64; N]>,
{
    let mut worst: f64 = 0.0;
    for _ in 0..2000 {
        let x: [[f32; N]; B] = core::array::from_fn(|_| core::array::from_fn(|_| inputs(rng)));
        let x64 = x.map(|row| row.map(f64::from));
        let (mut y, mut y64) = ([[0.0f32; N]; B], [[0.0f64; N]; B]);
        let mut trace: <L as Layer<[f32; N]>>::Trace<B> = Zeroed::ZERO;
        Layer::<[f32; N]>::forward_train(&layer, &x, &mut y, &mut trace);
        let mut trace: <L as Layer<[f64; N]>>::Trace<B> = Zeroed::ZERO;
        Layer::<[f64; N]>::forward_train(&layer, &x64, &mut y64, &mut trace);
        for (row, row64) in y.iter().zip(&y64) {
            for (&v, &exact) in row.iter().zip(row64) {
                worst = worst.max(ulps(v, exact));
            }
        }
    }
    worst
}

#[test]
fn f32_tanh_and_sigmoid_are_within_two_ulp_at_every_width() {
    let mut rng = SmallRng::seed_from_u64(5);
    let tanh = [
        worst::<_, 1, 1>(Tanh, &mut rng),
        worst::<_, 1, 3>(Tanh, &mut rng),
        worst::<_, 1, 8>(Tanh, &mut rng),
        worst::<_, 32, 1>(Tanh, &mut rng),
        worst::<_, 4, 19>(Tanh, &mut rng),
    ];
    let sigmoid = [
        worst::<_, 1, 1>(Sigmoid, &mut rng),
        worst::<_, 1, 3>(Sigmoid, &mut rng),
        worst::<_, 1, 8>(Sigmoid, &mut rng),
        worst::<_, 32, 1>(Sigmoid, &mut rng),
        worst::<_, 4, 19>(Sigmoid, &mut rng),
    ];
    assert!(
        tanh.iter().all(|&e| e <= 2.0),
        "tanh errors in ulp: {tanh:?}"
    );
    assert!(
        sigmoid.iter().all(|&e| e <= 2.5),
        "sigmoid errors in ulp: {sigmoid:?}"
    );
}

#[test]
fn special_values_pass_through_at_every_width() {
    fn run<L: Layer<[f32; N], Output = [f32; N]>, const B: usize, const N: usize>(
        layer: L,
        x: f32,
    ) -> f32 {
        let mut y = [[0.0; N]; B];
        let mut trace: L::Trace<B> = Zeroed::ZERO;
        layer.forward_train(&[[x; N]; B], &mut y, &mut trace);
        y[B - 1][N - 1]
    }
    for value in [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        1e-30,
        -1e-30,
        1e30,
    ] {
        let (lone, vector) = (run::<_, 1, 1>(Tanh, value), run::<_, 4, 8>(Tanh, value));
        let expected = value.tanh();
        for t in [lone, vector] {
            assert!(
                t.to_bits() == expected.to_bits() || (t.is_nan() && expected.is_nan()),
                "tanh({value}) = {t}, expected {expected}"
            );
        }
        let (lone, vector) = (
            run::<_, 1, 1>(Sigmoid, value),
            run::<_, 4, 8>(Sigmoid, value),
        );
        let expected = 1.0 / (1.0 + (-f64::from(value)).exp());
        for s in [lone, vector] {
            assert!(
                (s.is_nan() && expected.is_nan()) || s == expected as f32,
                "sigmoid({value}) = {s}, expected {expected}"
            );
        }
    }
}
