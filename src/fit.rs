//! Training for many epochs with an observer: progress lines, validation,
//! early stopping.
//!
//! [`Fit::fit`] runs [`Train::train_epoch`] once per epoch, measures the
//! loss and accuracy on a validation set, and hands them to an
//! [`Observer`], with the network, and the observer may stop training. A
//! closure `|net: &N, metrics: &EpochMetrics| -> Control` is an observer;
//! [`EarlyStopping`] is one that stops when the validation loss has not
//! improved for a number of epochs.
//!
//! ```
//! use constnet::fit::{EarlyStopping, EpochMetrics, Fit};
//! use constnet::prelude::*;
//!
//! network! {
//!     /// A 1-8-1 regressor.
//!     struct Line<f64> { 1 => Dense<8>, Tanh, Dense<1> }
//! }
//!
//! let mut rng = SmallRng::seed_from_u64(1);
//! let mut data: Vec<([f64; 1], [f64; 1])> =
//!     (0..64).map(|i| { let x = i as f64 / 32.0 - 1.0; ([x], [0.5 * x]) }).collect();
//! let (train, validation) = constnet::fit::split(&mut data, 0.25, &mut rng);
//! let mut net = Line::random(&mut rng);
//! let mut opt = Sgd::new(0.1)?.momentum(0.9)?;
//! let mut stop = EarlyStopping::new(5);
//! let mut progress = |_: &Line, m: &EpochMetrics| {
//!     // A progress line could go here: m.epoch, m.train_loss, m.validation_loss.
//!     stop.observe(m)
//! };
//! let report = net.fit::<8>(train, validation, &Mse, &mut opt, &mut rng, 200, &mut progress)?;
//! assert!(report.epochs <= 200);
//! assert!(report.validation_loss.unwrap() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use rand::Rng;
use rand::seq::SliceRandom;

use crate::loss::Loss;
use crate::network::{Label, Network};
use crate::optim::Optimizer;
use crate::scalar::Scalar;
use crate::settings::SettingError;
use crate::train::{Train, TrainError};

/// What an observer sees after each epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochMetrics {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// The mean training loss over the epoch.
    pub train_loss: f64,
    /// The mean loss on the validation set, if there is one.
    pub validation_loss: Option<f64>,
    /// The fraction of the validation set classified correctly, if there
    /// is one (meaningful for classification).
    pub validation_accuracy: Option<f64>,
}

/// Whether training goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Train another epoch.
    Continue,
    /// Stop now.
    Stop,
}

/// Told about every epoch of training a network `N`; may stop training.
pub trait Observer<N> {
    /// Called after each epoch with the network as it is now and the
    /// epoch's metrics.
    fn epoch(&mut self, net: &N, metrics: &EpochMetrics) -> Control;
}

impl<N, F: FnMut(&N, &EpochMetrics) -> Control> Observer<N> for F {
    fn epoch(&mut self, net: &N, metrics: &EpochMetrics) -> Control {
        self(net, metrics)
    }
}

/// Stops training when the validation loss has not improved by more than
/// `min_delta` for `patience` epochs in a row. Without a validation set it
/// watches the training loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    best: f64,
    best_epoch: usize,
    last_epoch: usize,
}

impl EarlyStopping {
    /// Early stopping with the given patience and no minimum improvement.
    pub const fn new(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            best: f64::INFINITY,
            best_epoch: 0,
            last_epoch: 0,
        }
    }

    /// Forgets the losses seen, as before the first epoch. A new run is
    /// noticed by itself (its epochs count from 1 again), so reusing one
    /// `EarlyStopping` for several `fit`s needs no call to this.
    pub fn reset(&mut self) {
        *self = EarlyStopping {
            min_delta: self.min_delta,
            ..EarlyStopping::new(self.patience)
        };
    }

    /// Sets the smallest decrease that counts as an improvement.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `min_delta` is finite and at least 0.
    pub fn min_delta(mut self, min_delta: f64) -> Result<Self, SettingError> {
        self.min_delta = crate::settings::non_negative("min_delta", min_delta)?;
        Ok(self)
    }

    /// The best loss seen, and the epoch it was seen in (`0` before any).
    pub const fn best(&self) -> (f64, usize) {
        (self.best, self.best_epoch)
    }

    /// Takes one epoch's metrics and says whether to go on. An epoch that
    /// is not after the last one seen starts a new run: the losses of the
    /// previous one are forgotten.
    pub fn observe(&mut self, metrics: &EpochMetrics) -> Control {
        if metrics.epoch <= self.last_epoch {
            self.reset();
        }
        self.last_epoch = metrics.epoch;
        let loss = metrics.validation_loss.unwrap_or(metrics.train_loss);
        if loss < self.best - self.min_delta {
            self.best = loss;
            self.best_epoch = metrics.epoch;
        }
        if metrics.epoch.saturating_sub(self.best_epoch) >= self.patience {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

impl<N> Observer<N> for EarlyStopping {
    fn epoch(&mut self, _: &N, metrics: &EpochMetrics) -> Control {
        self.observe(metrics)
    }
}

/// How a [`Fit::fit`] ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitReport {
    /// How many epochs ran.
    pub epochs: usize,
    /// Whether the observer stopped training before the last epoch.
    pub stopped_early: bool,
    /// The last epoch's training loss.
    pub train_loss: f64,
    /// The last epoch's validation loss, if there is a validation set.
    pub validation_loss: Option<f64>,
}

/// A training error, with the epoch it happened in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitError {
    /// The epoch, from 1.
    pub epoch: usize,
    /// What went wrong; for [`TrainError::Diverged`], the batch within the
    /// epoch. The update of that batch was not applied.
    pub error: TrainError,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "epoch {}: {}", self.epoch, self.error)
    }
}

impl core::error::Error for FitError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Training for many epochs with validation and an observer; implemented
/// for every network and target type that [`Train`] is.
pub trait Fit<Target: Label<Self::Output>>: Train<Target> {
    /// Trains for up to `epochs` epochs of mini-batches of `B` from
    /// `train` (shuffled in place each epoch), measuring `validation` (if
    /// not empty) after each, and stops early when `observer` says so.
    ///
    /// # Errors
    ///
    /// The first [`TrainError`] with its epoch: on divergence the batch's
    /// update is not applied, and the epochs and batches before it have
    /// been.
    #[allow(clippy::too_many_arguments)]
    fn fit<const B: usize>(
        &mut self,
        train: &mut [(Self::Input, Target)],
        validation: &[(Self::Input, Target)],
        loss: &impl Loss<Self::Output, Target>,
        opt: &mut impl Optimizer<Self>,
        rng: &mut (impl Rng + ?Sized),
        epochs: usize,
        observer: &mut impl Observer<Self>,
    ) -> Result<FitReport, FitError> {
        fit_with::<B, Self, Target, _, _, _>(
            &mut OneThread,
            self,
            train,
            validation,
            loss,
            opt,
            rng,
            epochs,
            observer,
        )
    }
}

impl<N: Train<Target>, Target: Label<N::Output>> Fit<Target> for N {}

/// How [`fit_with`] trains and measures: on the caller's thread
/// ([`OneThread`]), or on [`Threads`](crate::parallel::Threads).
pub(crate) trait Engine<N: Network, Target, L: Loss<N::Output, Target>, O: Optimizer<N>> {
    /// One epoch, as [`Train::train_epoch`].
    fn epoch<const B: usize>(
        &mut self,
        net: &mut N,
        train: &mut [(N::Input, Target)],
        loss: &L,
        opt: &mut O,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<N::Scalar, TrainError>;
    /// The mean loss, as [`Train::mean_loss`].
    fn mean_loss(
        &mut self,
        net: &N,
        data: &[(N::Input, Target)],
        loss: &L,
    ) -> Result<N::Scalar, TrainError>;
    /// The accuracy, as [`Network::accuracy`].
    fn accuracy(&mut self, net: &N, data: &[(N::Input, Target)]) -> f64;
}

/// The caller's thread, with [`Train`]'s methods.
struct OneThread;

impl<N, Target, L, O> Engine<N, Target, L, O> for OneThread
where
    N: Train<Target>,
    Target: Label<N::Output>,
    L: Loss<N::Output, Target>,
    O: Optimizer<N>,
{
    fn epoch<const B: usize>(
        &mut self,
        net: &mut N,
        train: &mut [(N::Input, Target)],
        loss: &L,
        opt: &mut O,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<N::Scalar, TrainError> {
        net.train_epoch::<B>(train, loss, opt, rng)
    }
    fn mean_loss(
        &mut self,
        net: &N,
        data: &[(N::Input, Target)],
        loss: &L,
    ) -> Result<N::Scalar, TrainError> {
        net.mean_loss(data, loss)
    }
    fn accuracy(&mut self, net: &N, data: &[(N::Input, Target)]) -> f64 {
        net.accuracy(data)
    }
}

/// [`Fit::fit`], with epochs and measures run by `engine`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_with<const B: usize, N, Target, L, O, R>(
    engine: &mut impl Engine<N, Target, L, O>,
    net: &mut N,
    train: &mut [(N::Input, Target)],
    validation: &[(N::Input, Target)],
    loss: &L,
    opt: &mut O,
    rng: &mut R,
    epochs: usize,
    observer: &mut impl Observer<N>,
) -> Result<FitReport, FitError>
where
    N: Network,
    L: Loss<N::Output, Target>,
    O: Optimizer<N>,
    R: Rng + ?Sized,
{
    let mut report = FitReport {
        epochs: 0,
        stopped_early: false,
        train_loss: f64::NAN,
        validation_loss: None,
    };
    for epoch in 1..=epochs {
        let fail = |error| FitError { epoch, error };
        let train_loss = engine
            .epoch::<B>(net, train, loss, opt, rng)
            .map_err(fail)?;
        let validated = !validation.is_empty();
        let validation_loss = if validated {
            Some(
                engine
                    .mean_loss(net, validation, loss)
                    .map_err(fail)?
                    .as_f64(),
            )
        } else {
            None
        };
        let metrics = EpochMetrics {
            epoch,
            train_loss: train_loss.as_f64(),
            validation_loss,
            validation_accuracy: validated.then(|| engine.accuracy(net, validation)),
        };
        report = FitReport {
            epochs: epoch,
            stopped_early: false,
            train_loss: metrics.train_loss,
            validation_loss,
        };
        if observer.epoch(net, &metrics) == Control::Stop {
            report.stopped_early = epoch < epochs;
            break;
        }
    }
    Ok(report)
}

/// Shuffles `data` with `rng` and splits it into a training part and a
/// validation part holding `fraction` of the samples (rounded down, and
/// clamped to `[0, 1]`).
pub fn split<'a, S>(
    data: &'a mut [S],
    fraction: f64,
    rng: &mut (impl Rng + ?Sized),
) -> (&'a mut [S], &'a mut [S]) {
    data.shuffle(rng);
    let held = (data.len() as f64 * fraction.clamp(0.0, 1.0)) as usize;
    let at = data.len() - held.min(data.len());
    data.split_at_mut(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(epoch: usize, validation_loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 1.0,
            validation_loss: Some(validation_loss),
            validation_accuracy: None,
        }
    }

    #[test]
    fn early_stopping_waits_patience_epochs_after_the_best() {
        let mut stop = EarlyStopping::new(2).min_delta(0.01).unwrap();
        let losses = [1.0, 0.5, 0.495, 0.6, 0.4, 0.45, 0.41];
        let decisions: [Control; 7] =
            core::array::from_fn(|i| stop.observe(&metrics(i + 1, losses[i])));
        use Control::*;
        // Best at epoch 2 (0.495 is not 0.01 better), then 5; stop two after.
        assert_eq!(
            decisions,
            [Continue, Continue, Continue, Stop, Continue, Continue, Stop]
        );
        assert_eq!(stop.best(), (0.4, 5));
    }

    #[test]
    fn split_keeps_every_sample_once() {
        let mut data: [u32; 10] = core::array::from_fn(|i| i as u32);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let (train, validation) = split(&mut data, 0.3, &mut rng);
        assert_eq!((train.len(), validation.len()), (7, 3));
        let mut all: [u32; 10] = [0; 10];
        for (a, &b) in all.iter_mut().zip(train.iter().chain(validation.iter())) {
            *a = b;
        }
        all.sort_unstable();
        assert_eq!(all, core::array::from_fn(|i| i as u32));
    }

    use rand::SeedableRng;
}
