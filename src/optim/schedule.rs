//! Learning-rate schedules, and [`Scheduled`], which drives an optimiser's
//! learning rate with one.

use core::f64::consts::PI;

use num_traits::Float;

use super::{LearningRate, Optimizer, StepBounds, StepError};
use crate::network::{Gradients, Network};
use crate::scalar::Scalar;
use crate::settings::{self, SettingError};

/// A learning rate as a function of time `t` (counted in steps or epochs,
/// from 0) and the initial rate `base`.
pub trait Schedule {
    /// The learning rate at time `t`.
    fn at(&self, base: f64, t: u32) -> f64;

    /// Checks the schedule's settings for an initial rate `base`; called by
    /// [`Scheduled::new`]. Nothing is checked by default.
    ///
    /// # Errors
    ///
    /// [`SettingError`] for a setting out of its range.
    fn check(&self, base: f64) -> Result<(), SettingError> {
        let _ = base;
        Ok(())
    }
}

/// A decay factor: in `(0, 1]`, so that a schedule lowers the rate and
/// never makes it 0 or infinite by itself.
fn decay_factor(gamma: f64) -> Result<(), SettingError> {
    if gamma > 0.0 && gamma <= 1.0 {
        Ok(())
    } else {
        Err(SettingError {
            setting: "gamma",
            value: gamma,
            range: "in (0, 1]",
        })
    }
}

/// Multiplies the rate by `gamma` every `every` units of time: `η₀ γ^⌊t/every⌋`
/// (PyTorch's `StepLR(step_size=every, gamma)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay {
    /// How often the rate drops.
    pub every: u32,
    /// The factor it drops by.
    pub gamma: f64,
}

impl Schedule for StepDecay {
    fn at(&self, base: f64, t: u32) -> f64 {
        let drops = t.checked_div(self.every).unwrap_or(0);
        base * Float::powi(self.gamma, i32::try_from(drops).unwrap_or(i32::MAX))
    }

    /// `every` at least 1, `gamma` in `(0, 1]`.
    fn check(&self, _: f64) -> Result<(), SettingError> {
        settings::at_least_one("every", self.every)?;
        decay_factor(self.gamma)
    }
}

/// Multiplies the rate by `gamma` every unit of time: `η₀ γ^t` (PyTorch's
/// `ExponentialLR(gamma)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential {
    /// The factor per unit of time.
    pub gamma: f64,
}

impl Schedule for Exponential {
    fn at(&self, base: f64, t: u32) -> f64 {
        base * Float::powi(self.gamma, i32::try_from(t).unwrap_or(i32::MAX))
    }

    /// `gamma` in `(0, 1]`.
    fn check(&self, _: f64) -> Result<(), SettingError> {
        decay_factor(self.gamma)
    }
}

/// Cosine annealing from `η₀` down to `min` over `period` units of time:
/// `min + (η₀ − min)(1 + cos(π t / period)) / 2` (PyTorch's
/// `CosineAnnealingLR(T_max=period, eta_min=min)`, whose closed form this
/// is; past `period` it rises again, as PyTorch's does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cosine {
    /// The time it takes to reach `min`.
    pub period: u32,
    /// The lowest rate.
    pub min: f64,
}

impl Schedule for Cosine {
    fn at(&self, base: f64, t: u32) -> f64 {
        let phase = f64::from(t) / f64::from(self.period.max(1));
        self.min + (base - self.min) * (1.0 + Float::cos(PI * phase)) / 2.0
    }

    /// `period` at least 1, `min` in `[0, base]`.
    fn check(&self, base: f64) -> Result<(), SettingError> {
        settings::at_least_one("period", self.period)?;
        if self.min >= 0.0 && self.min <= base {
            Ok(())
        } else {
            Err(SettingError {
                setting: "min",
                value: self.min,
                range: "in [0, the initial rate]",
            })
        }
    }
}

/// An optimiser whose learning rate follows a [`Schedule`]: before each step
/// it sets the rate to `schedule.at(η₀, t)`, where `η₀` is the optimiser's
/// rate when it was wrapped and `t` counts completed units of `every`
/// steps (1 by default: time is counted in steps; set it to the number of
/// batches per epoch to count epochs).
///
/// A step that is not taken (a diverged batch) does not advance `t`.
///
/// With [`Sgd`](super::Sgd)'s momentum, the rate that changes is the one
/// that scales each new gradient; see [`Sgd::pytorch_form`](super::Sgd::pytorch_form)
/// for the other convention.
///
/// ```
/// use constnet::optim::{Cosine, Scheduled};
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-4-1 regressor.
///     struct Net<f64> { 2 => Dense<4>, Tanh, Dense<1> }
/// }
/// let opt: Scheduled<Sgd<Net>, Cosine> =
///     Scheduled::new(Sgd::new(0.1)?.momentum(0.9)?, Cosine { period: 100, min: 0.0 })?;
/// # let _ = opt;
/// # Ok::<(), constnet::SettingError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Scheduled<O, S> {
    inner: O,
    schedule: S,
    base: f64,
    every: u32,
    steps: u32,
}

impl<O: LearningRate, S: Schedule> Scheduled<O, S> {
    /// Wraps `inner`, whose current learning rate becomes `η₀`.
    ///
    /// # Errors
    ///
    /// [`SettingError`] if the schedule's settings are out of range for
    /// that rate ([`Schedule::check`]).
    pub fn new(inner: O, schedule: S) -> Result<Self, SettingError> {
        let base = inner.learning_rate().as_f64();
        schedule.check(base)?;
        Ok(Scheduled {
            base,
            inner,
            schedule,
            every: 1,
            steps: 0,
        })
    }

    /// Advances time once every `steps` optimiser steps (e.g. once per
    /// epoch of that many batches).
    ///
    /// # Errors
    ///
    /// [`SettingError`] if `steps` is 0.
    pub fn every(mut self, steps: u32) -> Result<Self, SettingError> {
        self.every = settings::at_least_one("every", steps)?;
        Ok(self)
    }

    /// The time the next step will use.
    pub fn time(&self) -> u32 {
        self.steps / self.every
    }

    /// The wrapped optimiser.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// Runs `step` on the wrapped optimiser at the rate the schedule gives
    /// now, and advances time if it was taken. All or nothing: a refused
    /// step leaves the rate and the time as they were.
    fn scheduled(
        &mut self,
        step: impl FnOnce(&mut O) -> Result<(), StepError>,
    ) -> Result<(), StepError> {
        let before = self.inner.learning_rate();
        let lr = self.schedule.at(self.base, self.time());
        // The schedules here give rates in [0, η₀]; a rate another
        // schedule gives that the optimiser refuses (NaN) leaves the
        // previous one in place.
        let _ = self.inner.set_learning_rate(O::Scalar::from_f64(lr));
        if let Err(refused) = step(&mut self.inner) {
            // `before` was accepted once, so it is accepted again.
            let _ = self.inner.set_learning_rate(before);
            return Err(refused);
        }
        self.steps = self.steps.saturating_add(1);
        Ok(())
    }
}

impl<N, O, S> Optimizer<N> for Scheduled<O, S>
where
    N: Network,
    O: Optimizer<N> + LearningRate<Scalar = N::Scalar>,
    S: Schedule,
{
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), StepError> {
        self.scheduled(|inner| inner.step(net, grads))
    }

    fn step_and_discard(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.scheduled(|inner| inner.step_and_discard(net, grads))
    }

    fn step_and_discard_within(
        &mut self,
        net: &mut N,
        grads: &mut Gradients<N>,
        bounds: &mut StepBounds,
    ) -> Result<(), StepError> {
        self.scheduled(|inner| inner.step_and_discard_within(net, grads, bounds))
    }

    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R {
        O::scratch(f)
    }
}

impl<O: LearningRate, S> LearningRate for Scheduled<O, S> {
    type Scalar = O::Scalar;
    fn learning_rate(&self) -> O::Scalar {
        self.inner.learning_rate()
    }
    /// Sets the initial rate `η₀` the schedule scales from.
    fn set_learning_rate(&mut self, lr: O::Scalar) -> Result<(), SettingError> {
        self.base = settings::non_negative("learning rate", lr)?.as_f64();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // By hand: η₀ = 0.1.
    #[test]
    fn schedules_by_hand() {
        let step = StepDecay {
            every: 3,
            gamma: 0.5,
        };
        let at: [f64; 7] = core::array::from_fn(|t| step.at(0.1, t as u32));
        assert_eq!(at, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);

        let exp = Exponential { gamma: 0.9 };
        assert!((exp.at(0.1, 2) - 0.081).abs() < 1e-15);

        let cos = Cosine {
            period: 4,
            min: 0.01,
        };
        assert_eq!(cos.at(0.1, 0), 0.1);
        assert!((cos.at(0.1, 2) - 0.055).abs() < 1e-15); // halfway: the mean
        assert!((cos.at(0.1, 4) - 0.01).abs() < 1e-15);
        assert!((cos.at(0.1, 1) - (0.01 + 0.09 * (1.0 + 0.5f64.sqrt()) / 2.0)).abs() < 1e-15);
    }
}
