//! Training and evaluation on several threads (`parallel::Threads`): the
//! same steps as one thread up to rounding, bit-identical from run to run
//! for a fixed thread count, bit-identical to `train_epoch` on one thread,
//! all or nothing on divergence, evaluations equal to one thread's, and no
//! thread started for a network too small to pay for it.

use constnet::fit::{Control, EpochMetrics, Fit};
use constnet::parallel::{Sharing, Threads, TrainOn};
use constnet::prelude::*;

network! {
    /// 5-12-3 with tanh, in `f32` (the SIMD kernels).
    struct Net<f32> { 5 => Dense<12>, Tanh, Dense<3> }
}

network! {
    /// The same in `f64` (the portable loops).
    struct Net64<f64> { 5 => Dense<12>, Tanh, Dense<3> }
}

network! {
    /// 2-8-1, the smallest network the benchmarks train.
    struct Tiny<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

/// Every scalar of every tensor, as bits.
fn bits<G: Tensors<f32>>(value: &G) -> Vec<u32> {
    let mut out = Vec::new();
    value.for_each_tensor(&mut |_, t| out.extend(t.iter().map(|x| x.to_bits())));
    out
}

/// 37 samples in three classes by their first input: batches of 8 leave
/// a last batch of 5.
fn data<T: From<f32> + Copy>() -> Vec<([T; 5], usize)> {
    (0..37)
        .map(|i| {
            let x = i as f32 / 18.0 - 1.0;
            let input = [x, x * x, 0.5 - x, (3.0 * x).sin(), 0.1].map(T::from);
            (input, i * 3 / 37)
        })
        .collect()
}

/// `epochs` epochs of batches of 8 on `threads`, from the same start and
/// seed every time: the network, the optimiser's velocity and the losses.
fn train_on(threads: &mut Threads<Net>, epochs: usize) -> (Net, Vec<u32>, Vec<u32>) {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut data = data::<f32>();
    let losses = (0..epochs)
        .map(|_| {
            net.train_epoch_on::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng, threads)
                .unwrap()
                .to_bits()
        })
        .collect();
    let mut velocity = opt.clone();
    // The velocity is the step the optimiser takes from a zero gradient.
    let before = net.clone();
    let mut probe = before.clone();
    velocity.step(&mut probe, &Zeroed::ZERO).unwrap();
    let moved: Vec<u32> = bits(probe.layers())
        .iter()
        .zip(bits(before.layers()))
        .map(|(a, b)| a ^ b)
        .collect();
    (net, losses, moved)
}

/// The same epochs with `Train::train_epoch`.
fn train_alone(epochs: usize) -> (Net, Vec<u32>) {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut data = data::<f32>();
    let losses = (0..epochs)
        .map(|_| {
            net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)
                .unwrap()
                .to_bits()
        })
        .collect();
    (net, losses)
}

#[test]
fn one_thread_is_train_epoch_bit_for_bit() {
    let (alone, alone_losses) = train_alone(4);
    let (shared, losses, _) = train_on(&mut Threads::exactly(1).unwrap(), 4);
    assert_eq!(losses, alone_losses);
    assert_eq!(bits(shared.layers()), bits(alone.layers()));
}

#[test]
fn threads_take_the_same_steps_up_to_rounding() {
    let (alone, alone_losses) = train_alone(4);
    for count in [2, 3, 4, 8] {
        let mut threads = Threads::exactly(count).unwrap();
        let (shared, losses, _) = train_on(&mut threads, 4);
        // A batch of 8 on 8 threads is one sample each; the last batch of
        // 5 leaves three threads without a share.
        assert_eq!(threads.last_used(), count.min(5), "{count} threads");
        for (a, b) in losses.iter().zip(&alone_losses) {
            let (a, b) = (f32::from_bits(*a), f32::from_bits(*b));
            assert!((a - b).abs() <= 1e-5 * b.abs(), "loss {a} vs {b}");
        }
        let largest = bits(shared.layers())
            .iter()
            .zip(bits(alone.layers()))
            .map(|(x, y)| {
                let (x, y) = (f32::from_bits(*x), f32::from_bits(y));
                (x - y).abs() / (1.0 + y.abs())
            })
            .fold(0.0f32, f32::max);
        assert!(largest < 1e-5, "{count} threads: {largest}");
    }
}

#[test]
fn a_fixed_thread_count_is_bit_identical_from_run_to_run() {
    for count in [2, 3] {
        let first = train_on(&mut Threads::exactly(count).unwrap(), 3);
        for _ in 0..3 {
            // A new pool each time, and one reused.
            let again = train_on(&mut Threads::exactly(count).unwrap(), 3);
            assert_eq!(bits(again.0.layers()), bits(first.0.layers()));
            assert_eq!((&again.1, &again.2), (&first.1, &first.2));
        }
        let mut reused = Threads::exactly(count).unwrap();
        train_on(&mut reused, 1);
        let again = train_on(&mut reused, 3);
        assert_eq!(bits(again.0.layers()), bits(first.0.layers()));
    }
}

#[test]
fn a_batch_that_diverges_changes_nothing_and_leaves_the_buffers_zero() {
    let mut threads = Threads::exactly(2).unwrap();
    let mut rng = SmallRng::seed_from_u64(4);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let good: [([f32; 5], [f32; 3]); 6] = core::array::from_fn(|i| {
        let (x, class) = data::<f32>()[i * 6];
        (
            x,
            core::array::from_fn(|k| if k == class { 1.0 } else { 0.0 }),
        )
    });
    net.train_batch_on::<6>(&good, &Mse, &mut opt, &mut threads)
        .unwrap();

    // A NaN target in the second thread's share: the loss is NaN.
    let mut bad = good;
    bad[5].1[2] = f32::NAN;
    let (net_before, opt_before) = (net.clone(), opt.clone());
    let err = net
        .train_batch_on::<6>(&bad, &Mse, &mut opt, &mut threads)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Diverged {
                batch: 0,
                tensor: None,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bits(net.layers()), bits(net_before.layers()));

    // Targets so far off that the step overflows: the optimiser refuses it.
    let far = good.map(|(x, t)| (x, t.map(|t| 1e4 * (t + 1.0))));
    let mut wild = Sgd::<Net>::new(f32::MAX).unwrap();
    let err = net
        .train_batch_on::<6>(&far, &Mse, &mut wild, &mut threads)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Diverged {
                tensor: Some(_),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bits(net.layers()), bits(net_before.layers()));

    // The next step is the one a fresh `Threads` takes from the same
    // network and optimiser: nothing of the failed ones was left behind.
    let mut fresh = (net.clone(), opt_before);
    net.train_batch_on::<6>(&good, &Mse, &mut opt, &mut threads)
        .unwrap();
    let mut other = Threads::exactly(2).unwrap();
    (fresh.0)
        .train_batch_on::<6>(&good, &Mse, &mut fresh.1, &mut other)
        .unwrap();
    assert_eq!(bits(net.layers()), bits(fresh.0.layers()));
}

#[test]
fn evaluations_equal_one_threads() {
    let mut rng = SmallRng::seed_from_u64(6);
    let net = Net::random(&mut rng);
    let net64 = Net64::random(&mut rng);
    // 600 samples: two full blocks of 256 and a partial one.
    let inputs: Vec<[f32; 5]> = (0..600)
        .map(|_| core::array::from_fn(|_| rng.random_range(-2.0..2.0)))
        .collect();
    let labelled: Vec<([f32; 5], usize)> = inputs
        .iter()
        .map(|x| (*x, rng.random_range(0..3)))
        .collect();
    let labelled64: Vec<([f64; 5], usize)> = labelled
        .iter()
        .map(|(x, c)| (x.map(f64::from), *c))
        .collect();

    let mut losses = Vec::new();
    for count in [1, 2, 3] {
        let mut threads = Threads::exactly(count).unwrap();
        assert_eq!(threads.accuracy(&net, &labelled), net.accuracy(&labelled));
        assert_eq!(threads.last_used(), count);
        let predicted = threads.predict(&net, &inputs);
        assert_eq!(predicted.len(), inputs.len());
        for (x, y) in inputs.iter().zip(&predicted) {
            assert_eq!(y.map(f32::to_bits), net.predict(x).map(f32::to_bits));
        }
        let mean = threads
            .mean_loss(&net, &labelled, &SoftmaxCrossEntropy)
            .unwrap();
        let alone = net.mean_loss(&labelled, &SoftmaxCrossEntropy).unwrap();
        assert!((mean - alone).abs() <= 1e-6 * alone, "{mean} vs {alone}");
        losses.push(mean.to_bits());

        let mut threads64 = Threads::exactly(count).unwrap();
        let predicted =
            threads64.predict(&net64, &labelled64.iter().map(|s| s.0).collect::<Vec<_>>());
        for ((x, _), y) in labelled64.iter().zip(&predicted) {
            assert_eq!(y.map(f64::to_bits), net64.predict(x).map(f64::to_bits));
        }
        assert_eq!(
            threads64.accuracy(&net64, &labelled64),
            net64.accuracy(&labelled64)
        );
    }
    // The same mean on any number of threads.
    assert!(losses.iter().all(|l| *l == losses[0]), "{losses:?}");

    let empty: [([f32; 5], usize); 0] = [];
    let mut threads = Threads::exactly(2).unwrap();
    assert_eq!(
        threads.mean_loss(&net, &empty, &SoftmaxCrossEntropy),
        Err(TrainError::EmptyData)
    );
    assert_eq!(threads.accuracy(&net, &empty), 0.0);
    assert!(threads.predict(&net, &[]).is_empty());
}

#[test]
fn no_thread_for_a_tiny_network() {
    let mut rng = SmallRng::seed_from_u64(8);
    let mut net = Tiny::random(&mut rng);
    let mut opt = Sgd::new(0.5).unwrap();
    let mut data: Vec<([f32; 2], [f32; 1])> = (0..64)
        .map(|i| {
            let (a, b) = ((i & 1) as f32, ((i >> 1) & 1) as f32);
            ([a, b], [(a + b) % 2.0])
        })
        .collect();
    let mut threads = Threads::all();
    // One sample per batch: never a thread.
    net.train_epoch_on::<1>(&mut data, &Mse, &mut opt, &mut rng, &mut threads)
        .unwrap();
    assert_eq!((threads.chosen::<1>(), threads.last_used()), (Some(1), 1));
    // Batches of 4: measured, and one thread is faster by far.
    net.train_epoch_on::<4>(&mut data, &Mse, &mut opt, &mut rng, &mut threads)
        .unwrap();
    assert_eq!((threads.chosen::<4>(), threads.last_used()), (Some(1), 1));
    // Evaluating 64 samples of it is not worth waking a thread either.
    threads.accuracy(&net, &data);
    assert_eq!(threads.last_used(), 1);
    let shown = format!("{threads:?}");
    assert!(
        shown.contains("chosen: [(4, Some(1))]") || shown.contains("count: 1"),
        "{shown}"
    );
}

#[test]
fn fit_on_one_thread_is_fit_bit_for_bit_and_on_two_learns() {
    let run = |threads: Option<usize>| {
        let mut rng = SmallRng::seed_from_u64(9);
        let mut net = Net::random(&mut rng);
        let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
        let mut train = data::<f32>();
        let validation = data::<f32>();
        let mut seen = Vec::new();
        let mut observe = |_: &Net, m: &EpochMetrics| {
            seen.push((
                m.train_loss.to_bits(),
                m.validation_loss.map(f64::to_bits),
                m.validation_accuracy,
            ));
            Control::Continue
        };
        let report = match threads {
            None => net.fit::<8>(
                &mut train,
                &validation,
                &SoftmaxCrossEntropy,
                &mut opt,
                &mut rng,
                30,
                &mut observe,
            ),
            Some(count) => net.fit_on::<8>(
                &mut train,
                &validation,
                &SoftmaxCrossEntropy,
                &mut opt,
                &mut rng,
                30,
                &mut observe,
                &mut Threads::exactly(count).unwrap(),
            ),
        }
        .unwrap();
        (bits(net.layers()), seen, report)
    };
    let alone = run(None);
    assert_eq!(run(Some(1)), alone);
    let (_, seen, report) = run(Some(2));
    assert_eq!(report.epochs, 30);
    assert!(seen.last().unwrap().2.unwrap() > 0.9, "{seen:?}");
}

#[test]
fn zero_threads_is_an_error() {
    let err = Threads::<Net>::exactly(0).err().unwrap();
    assert_eq!(
        err.to_string(),
        "threads = 0 is out of range: it must be at least 1"
    );
    assert!(Threads::<Net>::up_to(0).is_err());
    assert_eq!(Threads::<Net>::up_to(3).unwrap().count(), 3);
}

network! {
    /// A layer of 20,480 weights: large enough for the optimiser's passes
    /// to be shared out over the threads of a step.
    struct Wide<f32> { 64 => Dense<320>, Tanh, Dense<3> }
}

/// Three epochs of `Wide` with `opt` on `threads` threads (or on the
/// caller's, with `None`): its parameters.
fn wide_epochs<O: Optimizer<Wide> + Clone + Send>(
    opt: &O,
    threads: Option<(usize, Sharing)>,
) -> Vec<u32> {
    let mut rng = SmallRng::seed_from_u64(12);
    let mut net = Wide::random(&mut rng);
    let mut opt = opt.clone();
    let mut data: Vec<([f32; 64], [f32; 3])> = (0..40)
        .map(|i| {
            let x: [f32; 64] =
                core::array::from_fn(|j| ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5);
            (x, [x[0], x[1] * x[2], 0.3])
        })
        .collect();
    for _ in 0..3 {
        match threads {
            None => net.train_epoch::<8>(&mut data, &Mse, &mut opt, &mut rng),
            Some((count, sharing)) => net.train_epoch_on::<8>(
                &mut data,
                &Mse,
                &mut opt,
                &mut rng,
                &mut Threads::exactly(count).unwrap().sharing(sharing),
            ),
        }
        .unwrap();
    }
    bits(net.layers())
}

#[test]
fn every_optimiser_steps_a_wide_network_on_threads_as_on_one() {
    fn close(a: &[u32], b: &[u32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let (x, y) = (f32::from_bits(*x), f32::from_bits(*y));
                (x - y).abs() / (1.0 + y.abs())
            })
            .fold(0.0, f32::max)
    }
    let sgd = Sgd::<Wide>::new(0.05).unwrap();
    let momentum = Sgd::<Wide>::new(0.05).unwrap().momentum(0.9).unwrap();
    let adam = Adam::<Wide>::new(0.001).unwrap();
    let rmsprop = RmsProp::<Wide>::new(0.001).unwrap();
    let start = wide_epochs(&Sgd::<Wide>::new(1e-30).unwrap(), None);
    let check = |name: &str, opt: &dyn Fn(Option<(usize, Sharing)>) -> Vec<u32>| {
        let one = opt(None);
        assert!(close(&one, &start) > 1e-3, "{name}: it trained");
        for count in [2, 3] {
            let batch = opt(Some((count, Sharing::Batch)));
            assert!(
                close(&batch, &one) < 1e-4,
                "{name}, {count} threads sharing the batch: {}",
                close(&batch, &one)
            );
            // The products cut by rows of the wide layer have the same
            // sums; no input gradient is cut (the layer is the first).
            let layers = opt(Some((count, Sharing::Layers)));
            assert_eq!(layers, one, "{name}, {count} threads sharing the layers");
        }
    };
    check("sgd", &|t| wide_epochs(&sgd, t));
    check("momentum", &|t| wide_epochs(&momentum, t));
    check("adam", &|t| wide_epochs(&adam, t));
    check("rmsprop", &|t| wide_epochs(&rmsprop, t));
}

network! {
    /// Two wide layers: the second's input gradient is cut too.
    struct Deep<f32> { 24 => Dense<96>, Relu, Dense<80>, Tanh, Dense<3> }
}

/// Four epochs of `Deep` with SGD and momentum, on `threads` (or on the
/// caller's, with `None`): its parameters and losses.
fn deep_epochs(threads: Option<&mut Threads<Deep>>) -> (Vec<u32>, Vec<u32>) {
    let mut rng = SmallRng::seed_from_u64(14);
    let mut net = Deep::random(&mut rng);
    let mut opt = Sgd::<Deep>::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut data: Vec<([f32; 24], usize)> = (0..48)
        .map(|i| {
            let x: [f32; 24] =
                core::array::from_fn(|j| ((i * 13 + j * 7) % 19) as f32 / 19.0 - 0.5);
            (x, i % 3)
        })
        .collect();
    let mut threads = threads;
    let losses = (0..4)
        .map(|_| {
            match threads.as_deref_mut() {
                None => net.train_epoch::<16>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng),
                Some(threads) => net.train_epoch_on::<16>(
                    &mut data,
                    &SoftmaxCrossEntropy,
                    &mut opt,
                    &mut rng,
                    threads,
                ),
            }
            .unwrap()
            .to_bits()
        })
        .collect();
    (bits(net.layers()), losses)
}

#[test]
fn sharing_the_layers_takes_the_same_steps_up_to_rounding_and_is_reproducible() {
    let (one, one_losses) = deep_epochs(None);
    for count in [2, 3] {
        let layers = || Threads::exactly(count).unwrap().sharing(Sharing::Layers);
        let (params, losses) = deep_epochs(Some(&mut layers()));
        for (a, b) in losses.iter().zip(&one_losses) {
            let (a, b) = (f32::from_bits(*a), f32::from_bits(*b));
            assert!(
                (a - b).abs() <= 1e-5 * b.abs(),
                "{count} threads: loss {a} vs {b}"
            );
        }
        let largest = params
            .iter()
            .zip(&one)
            .map(|(x, y)| {
                let (x, y) = (f32::from_bits(*x), f32::from_bits(*y));
                (x - y).abs() / (1.0 + y.abs())
            })
            .fold(0.0f32, f32::max);
        assert!(largest < 1e-5, "{count} threads: {largest}");
        // The input gradient's sums are added in another order: not the
        // same bits as one thread, but the same from run to run.
        assert_ne!(params, one, "{count} threads: the input gradient was cut");
        let mut reused = layers();
        for _ in 0..2 {
            assert_eq!(
                deep_epochs(Some(&mut reused)),
                (params.clone(), losses.clone())
            );
        }
    }
}

#[test]
fn a_refused_step_of_a_wide_network_on_threads_changes_nothing() {
    refused_step_changes_nothing(Sharing::Batch);
    refused_step_changes_nothing(Sharing::Layers);
}

fn refused_step_changes_nothing(sharing: Sharing) {
    let mut rng = SmallRng::seed_from_u64(13);
    let mut threads = Threads::exactly(2).unwrap().sharing(sharing);
    let batch: [([f32; 64], [f32; 3]); 8] =
        core::array::from_fn(|i| (core::array::from_fn(|j| ((i + j) % 5) as f32), [1e4; 3]));
    for momentum in [false, true] {
        let mut net = Wide::random(&mut rng);
        let before = bits(net.layers());
        let mut opt = Sgd::<Wide>::new(f32::MAX).unwrap();
        if momentum {
            opt = opt.momentum(0.5).unwrap();
        }
        let err = net
            .train_batch_on::<8>(&batch, &Mse, &mut opt, &mut threads)
            .unwrap_err();
        assert!(
            matches!(
                err,
                TrainError::Diverged {
                    tensor: Some(_),
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(bits(net.layers()), before, "momentum {momentum}");
        // And the next, sensible step is taken from zero buffers.
        let mut sensible = Sgd::<Wide>::new(0.01).unwrap();
        let mut alone = net.clone();
        net.train_batch_on::<8>(
            &batch.map(|(x, _)| (x, [0.1; 3])),
            &Mse,
            &mut sensible.clone(),
            &mut threads,
        )
        .unwrap();
        alone
            .train_batch_on::<8>(
                &batch.map(|(x, _)| (x, [0.1; 3])),
                &Mse,
                &mut sensible,
                &mut Threads::exactly(2).unwrap().sharing(sharing),
            )
            .unwrap();
        assert_eq!(bits(net.layers()), bits(alone.layers()));
    }
}

/// Softmax cross-entropy that panics on class 99, as a user's loss might.
struct PanicsOn99;

impl Loss<[f32; 3], usize> for PanicsOn99 {
    const ON_LOGITS: bool = true;
    fn loss_grad(&self, y: &[f32; 3], target: &usize, grad: &mut [f32; 3]) -> f32 {
        assert_ne!(*target, 99, "class 99 is refused");
        SoftmaxCrossEntropy.loss_grad(y, target, grad)
    }
}

#[test]
fn a_panic_on_any_thread_reaches_the_caller_and_the_threads_stay_usable() {
    a_panic_reaches_the_caller(Sharing::Batch);
    a_panic_reaches_the_caller(Sharing::Layers);
}

fn a_panic_reaches_the_caller(sharing: Sharing) {
    let good: [([f32; 5], usize); 8] = data::<f32>()[..8].try_into().unwrap();
    let start = Net::random(&mut SmallRng::seed_from_u64(5));
    let opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    // What a step on `good` gives with threads that never saw a panic.
    let (mut expected, mut expected_opt) = (start.clone(), opt.clone());
    let expected_loss = expected
        .train_batch_on::<8>(
            &good,
            &PanicsOn99,
            &mut expected_opt,
            &mut Threads::exactly(2).unwrap().sharing(sharing),
        )
        .unwrap();

    // Sample 0 is in the calling thread's share, sample 7 in the other's.
    for position in [0, 7] {
        let mut threads = Threads::exactly(2).unwrap().sharing(sharing);
        let (mut net, mut opt) = (start.clone(), opt.clone());
        let mut bad = good;
        bad[position].1 = 99;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            net.train_batch_on::<8>(&bad, &PanicsOn99, &mut opt, &mut threads)
        }));
        assert!(
            outcome.is_err(),
            "sample {position}: the panic reaches the caller"
        );
        assert_eq!(
            bits(net.layers()),
            bits(start.layers()),
            "sample {position}: no step taken"
        );

        // The same threads, the same network and optimiser: the next step
        // is the one fresh threads take.
        let loss = net
            .train_batch_on::<8>(&good, &PanicsOn99, &mut opt, &mut threads)
            .unwrap();
        assert_eq!(loss.to_bits(), expected_loss.to_bits(), "sample {position}");
        assert_eq!(
            bits(net.layers()),
            bits(expected.layers()),
            "sample {position}"
        );
        assert_eq!(threads.last_used(), 2);
    }
}

#[test]
fn a_measured_choice_is_measured_again_after_256_batches() {
    let mut rng = SmallRng::seed_from_u64(9);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap();
    // 120 samples: 15 batches of 8 per epoch.
    let mut data: Vec<([f32; 5], usize)> = data::<f32>().into_iter().cycle().take(120).collect();
    let mut threads = Threads::up_to(2).unwrap();
    let mut epoch = |threads: &mut Threads<Net>| {
        net.train_epoch_on::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng, threads)
            .unwrap()
    };
    // The first epoch: five batches on one thread (one to warm up, four
    // timed), five on two sharing the batch, five on two sharing the
    // layers, then the choice.
    epoch(&mut threads);
    let chosen = threads.chosen::<8>();
    assert!(matches!(chosen, Some(1 | 2)), "{chosen:?}");
    assert_eq!(threads.chosen_sharing::<8>().is_some(), chosen == Some(2));
    // It lasts 256 batches: 17 more epochs of 15 make 255, the next epoch
    // passes 256, and the epoch after that measures again.
    for _ in 0..17 {
        epoch(&mut threads);
        assert_eq!(threads.chosen::<8>(), chosen);
    }
    epoch(&mut threads);
    assert_eq!(threads.chosen::<8>(), None, "{threads:?}");
    // That measurement ends in a choice too.
    epoch(&mut threads);
    assert!(threads.chosen::<8>().is_some(), "{threads:?}");
}
