//! NaN in, NaN out: a NaN in a layer's input comes out as NaN in every
//! output that depends on it, for every layer, in `f32` and `f64`, alone
//! and in a batch, on the portable loops (narrow dense layers) and on the
//! vector kernels (dense layers of at least 16 inputs and 256 weights), as
//! in PyTorch. A faulty sensor reading must not become a confident answer.

use constnet::prelude::*;

/// Runs `layer` on a batch of `B` samples of `N` values in `[-1, 1]`, with
/// NaN at position `at` of sample `b`, and gives the outputs.
fn outputs<T, L, const N: usize, const M: usize, const B: usize>(
    layer: &L,
    b: usize,
    at: usize,
) -> [[T; M]; B]
where
    T: Scalar,
    L: Layer<[T; N], Output = [T; M]>,
{
    let mut x = [[T::ZERO; N]; B];
    for (k, v) in x.as_flattened_mut().iter_mut().enumerate() {
        *v = T::from_f64((k % 7) as f64 / 3.5 - 1.0);
    }
    x[b][at] = T::nan();
    let mut y = [[T::ZERO; M]; B];
    layer.forward(&x, &mut y);
    y
}

/// An element-wise layer: exactly the NaN's own output is NaN.
fn elementwise<T: Scalar, L: Layer<[T; 8], Output = [T; 8]>>(name: &str, layer: L) {
    let lone: [[T; 8]; 1] = outputs(&layer, 0, 3);
    let batch: [[T; 8]; 4] = outputs(&layer, 2, 5);
    for (y, b, at) in [(&lone[..], 0, 3), (&batch[..], 2, 5)] {
        for (i, row) in y.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert_eq!(
                    v.is_nan(),
                    (i, j) == (b, at),
                    "{name}: output [{i}][{j}] = {v}"
                );
            }
        }
    }
}

/// A layer that mixes its inputs: the NaN's whole sample is NaN, the other
/// samples of the batch are not.
fn mixing<T, L, const N: usize, const M: usize>(name: &str, layer: L)
where
    T: Scalar,
    L: Layer<[T; N], Output = [T; M]>,
{
    let lone: [[T; M]; 1] = outputs(&layer, 0, N - 1);
    let batch: [[T; M]; 4] = outputs(&layer, 1, 0);
    assert!(lone[0].iter().all(|v| v.is_nan()), "{name}: alone");
    for (i, row) in batch.iter().enumerate() {
        assert!(
            row.iter().all(|v| v.is_nan() == (i == 1)),
            "{name}: sample {i} of the batch"
        );
    }
}

fn every_layer<T: Scalar>() {
    elementwise::<T, _>("Identity", Identity);
    elementwise::<T, _>("Relu", Relu);
    elementwise::<T, _>("LeakyRelu", LeakyRelu::new(0.2));
    elementwise::<T, _>("Sigmoid", Sigmoid);
    elementwise::<T, _>("Tanh", Tanh);
    mixing::<T, _, 8, 8>("Softmax", Softmax);
    let mut rng = SmallRng::seed_from_u64(1);
    // Portable loops.
    mixing::<T, _, 3, 2>("Dense<3, 2>", Dense::<T, 3, 2>::random(&mut rng, Init::He));
    // Vector kernels for f32 (16 inputs or more, 256 weights or more).
    mixing::<T, _, 64, 32>(
        "Dense<64, 32>",
        Dense::<T, 64, 32>::random(&mut rng, Init::He),
    );
}

#[test]
fn nan_in_nan_out_for_every_layer() {
    every_layer::<f32>();
    every_layer::<f64>();
}

network! {
    /// A classifier behind ReLUs, as a sensor pipeline might be.
    struct Sensor<f32> { 64 => Dense<32>, Relu, Dense<16>, Relu, Dense<3> }
}

#[test]
fn a_network_predicts_nan_for_a_nan_reading() {
    let net = Sensor::random(&mut SmallRng::seed_from_u64(2));
    let mut x = [0.25f32; 64];
    x[17] = f32::NAN;
    assert!(net.predict(&x).iter().all(|v| v.is_nan()));
    x[17] = 0.25;
    assert!(net.predict(&x).iter().all(|v| v.is_finite()));
}
