//! constnet against two independent implementations of the same networks:
//! FANN's per-sample back-propagation step by step, and candle's inference.

use constnet::prelude::*;
use constnet_compare::{Candle, Fann};

network! {
    /// 2-8-1, tanh hidden, sigmoid output.
    struct W1<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// 784-128-10, ReLU.
    struct W3<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

/// 200 SGD steps of one sample each agree with FANN's incremental
/// training, parameter by parameter, after every step. FANN steps along
/// `(target − y)`, half the gradient of constnet's `Mse`
/// (`(y − target)²`), so it gets twice the rate.
#[test]
fn w1_training_follows_fann_step_by_step() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = W1::random(&mut rng);
    let l = net.layers();
    let mut fann = Fann::tanh_sigmoid(l.tensor(0), l.tensor(1), l.tensor(2), l.tensor(3)[0], 0.2);
    let mut opt = Sgd::<W1>::new(0.1).unwrap();
    let mut moved = 0.0f32;
    for step in 0..200 {
        let x = [
            rng.random::<f32>() * 2.0 - 1.0,
            rng.random::<f32>() * 2.0 - 1.0,
        ];
        let target = f32::from(x[0] * x[1] > 0.0);
        let before = net.layers().tensor(0)[0];
        net.train_batch::<1>(&[(x, [target])], &Mse, &mut opt)
            .unwrap();
        fann.train(&x, target);
        moved += (net.layers().tensor(0)[0] - before).abs();
        for (i, theirs) in fann.parameters().iter().enumerate() {
            for (j, (a, b)) in net.layers().tensor(i).iter().zip(theirs).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 * (1.0 + a.abs()),
                    "step {step}, tensor {i}, value {j}: constnet {a}, FANN {b}"
                );
            }
        }
    }
    // The weights did move: the comparison is of training, not of two
    // networks left alone.
    assert!(moved > 1e-2, "the first weight moved only {moved}");
}

/// W1's outputs equal FANN's for the same weights.
#[test]
fn w1_inference_equals_fann() {
    let mut rng = SmallRng::seed_from_u64(8);
    let net = W1::random(&mut rng);
    let l = net.layers();
    let fann = Fann::tanh_sigmoid(l.tensor(0), l.tensor(1), l.tensor(2), l.tensor(3)[0], 0.1);
    for _ in 0..1000 {
        let x = [
            rng.random::<f32>() * 8.0 - 4.0,
            rng.random::<f32>() * 8.0 - 4.0,
        ];
        let (ours, theirs) = (net.predict(&x)[0], fann.run(&x));
        assert!(
            (ours - theirs).abs() <= 2e-6,
            "at {x:?}: constnet {ours}, FANN {theirs}"
        );
    }
}

/// W3's outputs equal candle's, one sample at a time and in a batch of 32.
#[test]
fn w3_inference_equals_candle() {
    let mut rng = SmallRng::seed_from_u64(9);
    let net = W3::random(&mut rng);
    let l = net.layers();
    let candle = Candle::relu(784, l.tensor(0), l.tensor(1), l.tensor(2), l.tensor(3));
    let xs: [[f32; 784]; 32] =
        core::array::from_fn(|_| core::array::from_fn(|_| rng.random::<f32>()));
    let batch = net.predict_batch(&xs);
    let theirs = candle.predict(xs.as_flattened());
    for (k, x) in xs.iter().enumerate() {
        let one = net.predict(x);
        for j in 0..10 {
            let (a, b, c) = (one[j], batch[k][j], theirs[k][j]);
            assert!(
                (a - c).abs() <= 1e-4 * (1.0 + a.abs()),
                "sample {k}, output {j}: constnet {a}, candle {c}"
            );
            assert!(
                (b - c).abs() <= 1e-4 * (1.0 + b.abs()),
                "sample {k}, output {j}: batch {b}, candle {c}"
            );
        }
    }
}
