//! `Fit::fit`: the observer sees every epoch, can stop training, early
//! stopping works on a validation split, and errors name their epoch.

use constnet::fit::{Control, EarlyStopping, EpochMetrics, Fit, FitError, split};
use constnet::prelude::*;

network! {
    /// 2-8-3 classifier.
    struct Blobs<f64> { 2 => Dense<8>, Tanh, Dense<3> }
}

/// Three well-separated blobs of `n` points each.
fn blobs(rng: &mut SmallRng, n: usize) -> Vec<([f64; 2], usize)> {
    let centres = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]];
    (0..3 * n)
        .map(|i| {
            let c = centres[i % 3];
            let jitter = |rng: &mut SmallRng| rng.random_range(-0.5..0.5);
            ([c[0] + jitter(rng), c[1] + jitter(rng)], i % 3)
        })
        .collect()
}

#[test]
fn the_observer_sees_every_epoch_with_validation_metrics() -> Result<(), FitError> {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut data = blobs(&mut rng, 40);
    let (train, validation) = split(&mut data, 0.25, &mut rng);
    assert_eq!(validation.len(), 30);
    let mut net = Blobs::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut seen = Vec::new();
    let report = net.fit::<8>(
        train,
        validation,
        &SoftmaxCrossEntropy,
        &mut opt,
        &mut rng,
        12,
        &mut |n: &Blobs, m: &EpochMetrics| {
            // The observer gets the network as it is after the epoch.
            assert_eq!(m.validation_accuracy, Some(n.accuracy(validation)));
            seen.push(*m);
            Control::Continue
        },
    )?;
    assert_eq!(report.epochs, 12);
    assert!(!report.stopped_early);
    assert_eq!(
        seen.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    let last = seen.last().unwrap();
    assert_eq!(report.validation_loss, last.validation_loss);
    // The metrics are the network's own, measured after the last epoch.
    let expected = net.mean_loss(validation, &SoftmaxCrossEntropy).unwrap();
    assert_eq!(last.validation_loss, Some(expected));
    assert_eq!(last.validation_accuracy, Some(net.accuracy(validation)));
    assert!(last.validation_accuracy.unwrap() > 0.95);
    assert!(last.train_loss < seen[0].train_loss);
    Ok(())
}

#[test]
fn the_observer_can_stop_training() -> Result<(), FitError> {
    let mut rng = SmallRng::seed_from_u64(2);
    let mut data = blobs(&mut rng, 10);
    let mut net = Blobs::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap();
    let report = net.fit::<4>(
        &mut data,
        &[],
        &SoftmaxCrossEntropy,
        &mut opt,
        &mut rng,
        50,
        &mut |_: &Blobs, m: &EpochMetrics| {
            assert_eq!(m.validation_loss, None);
            if m.epoch == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        },
    )?;
    assert_eq!((report.epochs, report.stopped_early), (3, true));
    Ok(())
}

#[test]
fn early_stopping_ends_a_run_whose_validation_loss_stalls() -> Result<(), FitError> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut data = blobs(&mut rng, 40);
    let (train, validation) = split(&mut data, 0.25, &mut rng);
    let mut net = Blobs::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    // A large min_delta: improvement soon becomes too small to count.
    let mut stop = EarlyStopping::new(3).min_delta(0.05).unwrap();
    let report = net.fit::<8>(
        train,
        validation,
        &SoftmaxCrossEntropy,
        &mut opt,
        &mut rng,
        1000,
        &mut stop,
    )?;
    assert!(report.stopped_early);
    let (_, best_epoch) = stop.best();
    assert_eq!(report.epochs, best_epoch + 3);
    Ok(())
}

/// One `EarlyStopping` used for two runs: the second starts afresh (before,
/// it panicked with an overflow in debug builds and stopped after one
/// epoch in release builds).
#[test]
fn early_stopping_can_be_reused_for_another_run() -> Result<(), FitError> {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut data = blobs(&mut rng, 40);
    let (train, validation) = split(&mut data, 0.25, &mut rng);
    let mut stop = EarlyStopping::new(3).min_delta(0.05).unwrap();
    let mut reports = Vec::new();
    for _ in 0..2 {
        let mut net = Blobs::random(&mut SmallRng::seed_from_u64(5));
        let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
        let mut rng = SmallRng::seed_from_u64(6);
        let report = net.fit::<8>(
            train,
            validation,
            &SoftmaxCrossEntropy,
            &mut opt,
            &mut rng,
            1000,
            &mut stop,
        )?;
        reports.push((report, stop.best()));
    }
    // The same seeds give the same kind of run (the data, shuffled in
    // place by the first, is in another order): the second is not cut
    // short after its first epoch.
    let [(first, (_, first_best)), (second, (_, second_best))] = reports[..] else {
        unreachable!()
    };
    assert!(first.stopped_early && second.stopped_early);
    assert_eq!((second.epochs, second_best), (first.epochs, first_best));
    assert!(second.epochs > 3);
    // Epochs seen out of order also start afresh, never underflow.
    let epoch = |epoch, loss| EpochMetrics {
        epoch,
        train_loss: loss,
        validation_loss: None,
        validation_accuracy: None,
    };
    let mut stop = EarlyStopping::new(2);
    assert_eq!(stop.observe(&epoch(50, 1.0)), Control::Continue);
    assert_eq!(stop.observe(&epoch(1, 2.0)), Control::Continue);
    assert_eq!(stop.best(), (2.0, 1));
    stop.reset();
    assert_eq!(stop.best(), (f64::INFINITY, 0));
    Ok(())
}

#[test]
fn divergence_names_its_epoch_and_batch() {
    let mut rng = SmallRng::seed_from_u64(4);
    // Regression on one-hot targets with an absurd learning rate: the
    // weights grow by orders of magnitude each step until they overflow.
    let mut data: Vec<([f64; 2], [f64; 3])> = blobs(&mut rng, 10)
        .into_iter()
        .map(|(x, c)| (x, core::array::from_fn(|k| f64::from(u8::from(k == c)))))
        .collect();
    let mut net = Blobs::random(&mut rng);
    let mut opt = Sgd::new(1e30).unwrap();
    let err = net
        .fit::<30>(
            &mut data,
            &[],
            &Mse,
            &mut opt,
            &mut rng,
            100,
            &mut EarlyStopping::new(100),
        )
        .unwrap_err();
    assert!(
        err.epoch >= 2,
        "the first step is finite; it diverges after: {err}"
    );
    assert!(
        matches!(err.error, TrainError::Diverged { batch: 0, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "epoch {}: training diverged at batch 0",
            err.epoch
        )),
        "{text}"
    );
}
