//! Learning: networks trained end to end reach a stated quality, training
//! is reproducible from a seed, and a step that would break the network is
//! refused with the state left as it was.
//!
//! Sizes and epoch counts are chosen so that each test takes well under a
//! second in the test profile (opt-level 2).

use std::f32::consts::{PI, TAU};

use constnet::prelude::*;
use constnet::rand::seq::SliceRandom;

network! {
    /// 2-8-1 XOR classifier.
    struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// 1-16-16-1 regressor with a linear output.
    struct Sine<f32> { 1 => Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
}

network! {
    /// 2-32-32-3 classifier on logits.
    struct Spiral<f32> { 2 => Dense<32>, Relu, Dense<32>, Relu, Dense<3> }
}

network! {
    /// The same classifier ending in a softmax layer: outputs are
    /// probabilities. In `f64`: see `cross_entropy_on_one_hot_targets_...`
    /// for why `f32` stops with a false divergence.
    struct SpiralProb<f64> { 2 => Dense<32>, Relu, Dense<32>, Relu, Dense<3>, Softmax }
}

network! {
    /// A one-layer softmax classifier, for the `f32` cross-entropy bug.
    struct Tiny<f32> { 1 => Dense<2>, Softmax }
}

type Data<X, T> = Vec<(X, T)>;

fn xor_data() -> [([f32; 2], [f32; 1]); 4] {
    [
        ([0.0, 0.0], [0.0]),
        ([0.0, 1.0], [1.0]),
        ([1.0, 0.0], [1.0]),
        ([1.0, 1.0], [0.0]),
    ]
}

/// `n` samples `(x, sin x)`, `x` uniform in `[−π, π]`.
fn sine_samples(rng: &mut impl Rng, n: usize) -> Data<[f32; 1], [f32; 1]> {
    (0..n)
        .map(|_| {
            let x = rng.random_range(-PI..=PI);
            ([x], [x.sin()])
        })
        .collect()
}

/// `n` evenly spaced points `(x, sin x)` from `−π` to `π`.
fn sine_grid(n: usize) -> Data<[f32; 1], [f32; 1]> {
    (0..n)
        .map(|i| {
            let x = -PI + TAU * i as f32 / (n - 1) as f32;
            ([x], [x.sin()])
        })
        .collect()
}

/// Three spiral arms, `n` points each: radius `r` uniform in `(0, 1]`,
/// angle `2πk/3 + 2πr` for arm `k` plus up to ±0.15 rad of noise.
fn spiral(seed: u64, n: usize) -> Data<[f32; 2], usize> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut data = Vec::with_capacity(3 * n);
    for class in 0..3 {
        for _ in 0..n {
            let r = 1.0 - rng.random::<f32>();
            let angle = TAU * class as f32 / 3.0 + TAU * r + rng.random_range(-0.15..0.15);
            data.push(([r * angle.cos(), r * angle.sin()], class));
        }
    }
    data
}

/// The same data in `f64`, with one-hot targets.
fn one_hot(data: &[([f32; 2], usize)]) -> Data<[f64; 2], [f64; 3]> {
    data.iter()
        .map(|&([x, y], class)| {
            let mut t = [0.0; 3];
            t[class] = 1.0;
            ([x.into(), y.into()], t)
        })
        .collect()
}

/// Every scalar of a parameter-shaped value, as bits.
fn bits<V: Tensors<f32>>(v: &V) -> Vec<u32> {
    (0..V::COUNT)
        .flat_map(|i| v.tensor(i).iter().map(|x| x.to_bits()))
        .collect()
}

/// Trains XOR with batches of `B` from seed `seed` for `epochs` epochs.
fn train_xor<const B: usize>(seed: u64, lr: f32, epochs: usize) -> Result<Xor, TrainError> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(lr).unwrap().momentum(0.9).unwrap();
    let mut data = xor_data();
    for _ in 0..epochs {
        net.train_epoch::<B>(&mut data, &Mse, &mut opt, &mut rng)?;
    }
    Ok(net)
}

/// Asserts that `net` gets every XOR row right with a margin.
fn assert_solves_xor(net: &Xor) {
    let data = xor_data();
    assert_eq!(net.accuracy(&data), 1.0);
    for (x, [t]) in data {
        let [y] = net.predict(&x);
        assert!((y - t).abs() < 0.2, "XOR{x:?} = {y}, want {t}");
    }
}

#[test]
fn xor_reaches_full_accuracy() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(0.5).unwrap().momentum(0.9).unwrap();
    let mut data = xor_data();
    let before = net.mean_loss(&data, &Mse)?;
    for _ in 0..500 {
        net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)?;
    }
    let after = net.mean_loss(&data, &Mse)?;
    assert!(
        after < 0.01 && after < before / 10.0,
        "loss {before} -> {after}"
    );
    assert_solves_xor(&net);
    Ok(())
}

#[test]
fn xor_with_binary_cross_entropy() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(0.2).unwrap().momentum(0.9).unwrap();
    let mut data = xor_data();
    for _ in 0..500 {
        net.train_epoch::<4>(&mut data, &BinaryCrossEntropy, &mut opt, &mut rng)?;
    }
    assert!(net.mean_loss(&data, &BinaryCrossEntropy)? < 0.05);
    assert_solves_xor(&net);
    Ok(())
}

#[test]
fn sine_regression_on_a_grid() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Sine::random(&mut rng);
    let mut opt = Sgd::new(0.02).unwrap().momentum(0.9).unwrap();
    // 250 = 15 × 16 + 10: every epoch ends with a partial batch.
    let mut data = sine_samples(&mut rng, 250);
    let grid = sine_grid(1001);
    let before = net.mean_loss(&grid, &Mse)?;
    let epochs = 800;
    for epoch in 0..epochs {
        if epoch == epochs * 4 / 5 {
            opt.set_learning_rate(0.002).unwrap();
        }
        net.train_epoch::<16>(&mut data, &Mse, &mut opt, &mut rng)?;
    }
    let mse = net.mean_loss(&grid, &Mse)?;
    assert!(
        before > 0.1,
        "the untrained network is already good: {before}"
    );
    assert!(mse < 1e-3, "MSE on the grid: {mse}");
    Ok(())
}

#[test]
fn spiral_with_softmax_cross_entropy_on_class_indices() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Spiral::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut train = spiral(100, 100);
    let test = spiral(200, 300);
    assert!(net.accuracy(&test) < 0.6);
    for epoch in 0..300 {
        if epoch == 240 {
            opt.set_learning_rate(0.005).unwrap();
        }
        net.train_epoch::<16>(&mut train, &SoftmaxCrossEntropy, &mut opt, &mut rng)?;
    }
    let (train_acc, test_acc) = (net.accuracy(&train), net.accuracy(&test));
    assert!(train_acc >= 0.95, "train accuracy {train_acc}");
    assert!(test_acc >= 0.95, "test accuracy {test_acc}");
    Ok(())
}

#[test]
fn spiral_with_softmax_layer_and_cross_entropy_on_one_hot() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = SpiralProb::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut train = one_hot(&spiral(100, 100));
    let test = one_hot(&spiral(200, 300));
    assert!(net.accuracy(&test) < 0.6);
    for epoch in 0..300 {
        if epoch == 240 {
            opt.set_learning_rate(0.005).unwrap();
        }
        net.train_epoch::<16>(&mut train, &CrossEntropy, &mut opt, &mut rng)?;
    }
    let (train_acc, test_acc) = (net.accuracy(&train), net.accuracy(&test));
    assert!(train_acc >= 0.95, "train accuracy {train_acc}");
    assert!(test_acc >= 0.95, "test accuracy {test_acc}");
    // The outputs are probabilities.
    for (x, _) in &test[..10] {
        let p = net.predict(x);
        assert!(p.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{p:?}");
    }
    Ok(())
}

#[test]
fn xor_learns_with_one_sample_per_batch() -> Result<(), TrainError> {
    assert_solves_xor(&train_xor::<1>(7, 0.1, 500)?);
    Ok(())
}

#[test]
fn xor_learns_with_the_full_batch() -> Result<(), TrainError> {
    assert_solves_xor(&train_xor::<4>(7, 0.5, 500)?);
    Ok(())
}

#[test]
fn xor_learns_with_a_partial_last_batch() -> Result<(), TrainError> {
    // 4 rows in batches of 3: a batch of 3, then a batch of 1.
    assert_solves_xor(&train_xor::<3>(7, 0.3, 500)?);
    Ok(())
}

/// An epoch over 5 samples in batches of 4 is a step on the first 4
/// (shuffled) samples, then a step on the last one alone, with that
/// sample's own gradient (not a quarter of it).
#[test]
fn a_partial_last_batch_is_the_mean_over_the_samples_it_has() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(5);
    let net = Sine::random(&mut rng);
    let data = sine_samples(&mut rng, 5);
    let opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();

    let (mut a, mut opt_a, mut data_a) = (net.clone(), opt.clone(), data.clone());
    let (mut b, mut opt_b, mut data_b) = (net.clone(), opt.clone(), data.clone());
    let (mut rng_a, mut rng_b) = (SmallRng::seed_from_u64(9), SmallRng::seed_from_u64(9));
    for _ in 0..3 {
        let epoch = a.train_epoch::<4>(&mut data_a, &Mse, &mut opt_a, &mut rng_a)?;

        data_b.shuffle(&mut rng_b); // what `train_epoch` does first
        let first: &[_; 4] = data_b[..4].try_into().unwrap();
        let last: &[_; 1] = data_b[4..].try_into().unwrap();
        let l1 = b.train_batch(first, &Mse, &mut opt_b)?;
        let l2 = b.train_batch(last, &Mse, &mut opt_b)?;

        assert_eq!(data_a, data_b);
        let by_hand = (4.0 * l1 + l2) / 5.0;
        assert!(
            (epoch - by_hand).abs() <= 1e-6 * by_hand,
            "{epoch} vs {by_hand}"
        );
        for (p, q) in bits(&a).iter().zip(bits(&b)) {
            let (p, q) = (f32::from_bits(*p), f32::from_bits(q));
            assert!((p - q).abs() <= 1e-6 * p.abs().max(1.0), "{p} vs {q}");
        }
    }
    assert_ne!(a, net, "training did not move the parameters");
    Ok(())
}

/// Trains a small spiral problem: initialisation and shuffling from
/// `seed`, the data fixed.
fn train_spiral(seed: u64) -> Result<(Spiral, Sgd<Spiral>, f32), TrainError> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut net = Spiral::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut data = spiral(100, 20);
    let mut loss = 0.0;
    for _ in 0..20 {
        loss = net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)?;
    }
    Ok((net, opt, loss))
}

#[test]
fn the_same_seed_gives_bit_identical_training() -> Result<(), TrainError> {
    let (a, opt_a, loss_a) = train_spiral(11)?;
    let (b, opt_b, loss_b) = train_spiral(11)?;
    assert!(a == b);
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(opt_a.velocity()), bits(opt_b.velocity()));
    assert_eq!(loss_a.to_bits(), loss_b.to_bits());

    let (c, opt_c, _) = train_spiral(12)?;
    assert!(a != c);
    assert_ne!(bits(&a), bits(&c));
    assert_ne!(bits(opt_a.velocity()), bits(opt_c.velocity()));
    Ok(())
}

#[test]
fn only_the_shuffling_seed_differs() -> Result<(), TrainError> {
    let net = Xor::random(&mut SmallRng::seed_from_u64(1));
    let run = |seed| -> Result<Xor, TrainError> {
        let (mut net, mut rng) = (net.clone(), SmallRng::seed_from_u64(seed));
        let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
        let mut data = xor_data();
        for _ in 0..10 {
            net.train_epoch::<2>(&mut data, &Mse, &mut opt, &mut rng)?;
        }
        Ok(net)
    };
    assert_eq!(bits(&run(2)?), bits(&run(2)?));
    assert_ne!(bits(&run(2)?), bits(&run(3)?));
    Ok(())
}

#[test]
fn an_absurd_learning_rate_diverges_and_leaves_the_state_as_it_was() {
    let mut rng = SmallRng::seed_from_u64(4);
    let mut net = Sine::random(&mut rng);
    let mut opt = Sgd::new(1e30).unwrap().momentum(0.9).unwrap();
    let mut data = sine_samples(&mut rng, 8); // one batch of 8
    for call in 0..10 {
        let (net_before, opt_before) = (net.clone(), opt.clone());
        match net.train_epoch::<8>(&mut data, &Mse, &mut opt, &mut rng) {
            Ok(_) => continue,
            Err(err) => {
                assert!(
                    call > 0,
                    "the first step cannot diverge: the start is finite"
                );
                // Caught at the gradient, before any parameter overflowed.
                assert!(net_before.all_finite());
                assert!(
                    matches!(err, TrainError::Diverged { batch: 0, .. }),
                    "{err:?}"
                );
                assert!(net == net_before);
                assert_eq!(bits(&net), bits(&net_before));
                assert!(opt.velocity() == opt_before.velocity());
                assert_eq!(bits(opt.velocity()), bits(opt_before.velocity()));
                assert!(bits(opt.velocity()).iter().any(|&v| v != 0));
                return;
            }
        }
    }
    panic!("a learning rate of 1e30 did not diverge in 10 epochs");
}

#[test]
fn a_nan_in_the_data_diverges_and_leaves_the_state_as_it_was() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(0.5).unwrap().momentum(0.9).unwrap();
    let mut data = xor_data();
    for _ in 0..20 {
        net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)?;
    }
    data[2].0[1] = f32::NAN;
    let (net_before, opt_before) = (net.clone(), opt.clone());
    let err = net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng);
    assert!(
        matches!(err, Err(TrainError::Diverged { batch: 0, .. })),
        "{err:?}"
    );
    assert!(net == net_before);
    assert_eq!(bits(&net), bits(&net_before));
    assert!(opt.velocity() == opt_before.velocity());
    assert_eq!(bits(opt.velocity()), bits(opt_before.velocity()));
    assert!(bits(opt.velocity()).iter().any(|&v| v != 0));

    // A NaN target is caught the same way.
    let mut data = xor_data();
    data[0].1 = [f32::NAN];
    let err = net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng);
    assert!(
        matches!(err, Err(TrainError::Diverged { batch: 0, .. })),
        "{err:?}"
    );
    assert!(net == net_before);

    // An infinite input: tanh saturates, so the loss is finite, but the
    // first layer's gradient (0 · ∞) is not: the step that would have
    // written it is refused, naming that layer's weight.
    let mut data = xor_data();
    data[1].0[0] = f32::INFINITY;
    let err = net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng);
    assert!(
        matches!(
            err,
            Err(TrainError::Diverged { batch: 0, loss, tensor: Some(tensor) })
                if loss.is_finite() && (tensor.layer, tensor.name) == (0, "weight")
        ),
        "{err:?}"
    );
    assert!(net == net_before);
    assert!(opt.velocity() == opt_before.velocity());
    Ok(())
}

/// Regression: `CrossEntropy` against a one-hot `[f32; N]` target wrote
/// `-t / max(p, e^-100)` for every class, and in `f32` `1 / e^-100`
/// overflows to infinity, so a class with `t = 0` and a probability that
/// underflowed (a confident, correct prediction) got `-0 · ∞ = NaN` and
/// training stopped with `Diverged` at loss 0.
#[test]
fn cross_entropy_on_one_hot_targets_accepts_a_confident_right_answer() {
    // Logits 100 and -100: the probabilities are [1, 0] in f32.
    let mut net = Tiny::new(Chain(Dense::new([[100.0], [-100.0]], [0.0; 2]), Softmax));
    assert_eq!(net.predict(&[1.0]), [1.0, 0.0]);
    let mut opt = Sgd::new(0.1).unwrap();
    let mut grad = [0.0f32; 2];
    let loss = CrossEntropy.loss_grad(&[1.0, 0.0], &[1.0, 0.0], &mut grad);
    assert_eq!(loss, 0.0);
    assert!(grad.iter().all(|g| g.is_finite()), "gradient {grad:?}");
    assert_eq!(
        net.train_batch(&[([1.0], [1.0, 0.0])], &CrossEntropy, &mut opt),
        Ok(0.0)
    );
}

/// With several batches, the error names the batch that holds the bad
/// sample, and the batches before it have been applied.
#[test]
fn a_nan_in_a_later_batch_is_reported_with_its_index() {
    let mut rng = SmallRng::seed_from_u64(8);
    let net = Sine::random(&mut rng);
    let mut seen = [false; 2];
    for seed in 0..20 {
        let mut data = sine_samples(&mut rng, 8);
        data[3].0[0] = f32::NAN;
        let mut trained = net.clone();
        let mut opt = Sgd::new(0.1).unwrap();
        let err = trained.train_epoch::<2>(
            &mut data,
            &Mse,
            &mut opt,
            &mut SmallRng::seed_from_u64(seed),
        );
        let at = data.iter().position(|(x, _)| x[0].is_nan()).unwrap();
        assert!(
            matches!(err, Err(TrainError::Diverged { batch, .. }) if batch == at / 2),
            "NaN at sample {at}: {err:?}"
        );
        assert_eq!(trained == net, at < 2, "NaN at sample {at}");
        seen[usize::from(at >= 2)] = true;
    }
    assert_eq!(
        seen,
        [true, true],
        "the shuffles never put the NaN in both places"
    );
}

#[test]
fn an_out_of_range_class_diverges() -> Result<(), TrainError> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Spiral::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut data = spiral(1, 4);
    net.train_epoch::<12>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)?;
    data[5].1 = 3;
    let (net_before, opt_before) = (net.clone(), opt.clone());
    let err = net.train_epoch::<12>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng);
    assert!(
        matches!(err, Err(TrainError::Diverged { batch: 0, .. })),
        "{err:?}"
    );
    assert!(net == net_before);
    assert!(opt.velocity() == opt_before.velocity());

    // And through a softmax layer with `CrossEntropy` (on a class index).
    let mut data: Data<[f64; 2], usize> = data
        .iter()
        .map(|&([x, y], class)| ([x.into(), y.into()], class))
        .collect();
    let mut net = SpiralProb::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap();
    let before = net.clone();
    let err = net.train_epoch::<12>(&mut data, &CrossEntropy, &mut opt, &mut rng);
    assert!(
        matches!(err, Err(TrainError::Diverged { batch: 0, .. })),
        "{err:?}"
    );
    assert!(net == before);
    Ok(())
}

#[test]
fn empty_data_is_an_error() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Xor::random(&mut rng);
    let before = net.clone();
    let mut opt = Sgd::new(0.1).unwrap();
    let mut empty: [([f32; 2], [f32; 1]); 0] = [];
    assert_eq!(
        net.train_epoch::<4>(&mut empty, &Mse, &mut opt, &mut rng),
        Err(TrainError::EmptyData)
    );
    assert_eq!(net.mean_loss(&empty, &Mse), Err(TrainError::EmptyData));
    // A batch size of 0 does not compile
    // (tests/ui/fail/batch_of_zero_samples.rs).
    assert!(net == before);
}
