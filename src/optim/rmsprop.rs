//! RMSprop.

use core::fmt;

use super::{Grads, LearningRate, Optimizer, State, StepError, clip_factor, update_all};
use crate::network::{Gradients, Network};
use crate::settings::{self, ScalarOf, SettingError};
use num_traits::Float;

use crate::scalar::{Scalar, Zeroed};

/// RMSprop (Hinton, 2012), as PyTorch defines it (not centred). With
/// gradient `g = ∇L + λ θ`, learning rate `η`, smoothing `α`:
///
/// ```text
/// v ← α v + (1 − α) g²
/// b ← μ b + g / (√v + ε)      (with momentum μ > 0; else b = g / (√v + ε))
/// θ ← θ − η b
/// ```
///
/// The defaults are PyTorch's: `α = 0.99`, `ε = 1e-8`, no momentum, no
/// weight decay. `v` and `b` have the network's shape and start at zero.
pub struct RmsProp<N: Network, S = Gradients<N>> {
    lr: N::Scalar,
    alpha: N::Scalar,
    eps: N::Scalar,
    momentum: N::Scalar,
    weight_decay: N::Scalar,
    clip: Option<N::Scalar>,
    square_avg: S,
    buffer: S,
}

impl<N: Network> RmsProp<N> {
    /// RMSprop with learning rate `lr` and PyTorch's defaults.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lr` is finite and greater than 0.
    pub fn new(lr: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        Self::with_state(lr.scalar())
    }
}

super::boxed_constructor!(RmsProp);

impl<N: Network, S: State<N>> RmsProp<N, S> {
    fn with_state(lr: N::Scalar) -> Result<Self, SettingError> {
        Ok(RmsProp {
            lr: settings::positive("learning rate", lr)?,
            alpha: N::Scalar::from_f64(0.99),
            eps: N::Scalar::from_f64(1e-8),
            momentum: N::Scalar::ZERO,
            weight_decay: N::Scalar::ZERO,
            clip: None,
            square_avg: S::zeroed(),
            buffer: S::zeroed(),
        })
    }

    /// Sets the smoothing constant `α` of the squared-gradient average.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `alpha` is in `[0, 1)`.
    pub fn alpha(mut self, alpha: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.alpha = settings::fraction("alpha", alpha.scalar())?;
        Ok(self)
    }

    /// Sets `ε`, added to the denominator.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `eps` is finite and greater than 0: with
    /// `ε = 0` a parameter whose gradient is 0 would be updated by `0 / 0`.
    pub fn eps(mut self, eps: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.eps = settings::positive("eps", eps.scalar())?;
        Ok(self)
    }

    /// Sets momentum `μ`.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `mu` is in `[0, 1)`.
    pub fn momentum(mut self, mu: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.momentum = settings::fraction("momentum", mu.scalar())?;
        Ok(self)
    }

    /// L2 weight decay `λ`, added to the gradient.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lambda` is finite and at least 0.
    pub fn weight_decay(mut self, lambda: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.weight_decay = settings::non_negative("weight decay", lambda.scalar())?;
        Ok(self)
    }

    /// Scales the gradient down to Euclidean norm `max_norm` when it is
    /// longer, before the step (PyTorch's `clip_grad_norm_`).
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `max_norm` is finite and greater than 0.
    pub fn clip_norm(mut self, max_norm: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.clip = Some(settings::positive("clip norm", max_norm.scalar())?);
        Ok(self)
    }

    /// The running average of squared gradients, `v`.
    pub fn square_avg(&self) -> &Gradients<N> {
        self.square_avg.borrow()
    }
}

impl<N: Network, S> LearningRate for RmsProp<N, S> {
    type Scalar = N::Scalar;
    fn learning_rate(&self) -> N::Scalar {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: N::Scalar) -> Result<(), SettingError> {
        self.lr = settings::non_negative("learning rate", lr)?;
        Ok(())
    }
}

impl<N: Network, S: State<N>> Optimizer<N> for RmsProp<N, S> {
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Keep(grads))
    }

    fn step_and_clear(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Clear(grads))
    }

    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R {
        S::scratch(f)
    }
}

impl<N: Network, S: State<N>> RmsProp<N, S> {
    fn update(&mut self, net: &mut N, grads: Grads<'_, N>) -> Result<(), StepError> {
        let scale = clip_factor(grads.get(), self.clip);
        let (lr, alpha, eps, mu, lambda) = (
            self.lr,
            self.alpha,
            self.eps,
            self.momentum,
            self.weight_decay,
        );
        let one = N::Scalar::ONE;
        let state = [self.square_avg.borrow_mut(), self.buffer.borrow_mut()];
        update_all(net, grads, state, move |p, g, [v, b]| {
            let g = g * scale + lambda * *p;
            *v = alpha * *v + (one - alpha) * g * g;
            let step = g / (v.sqrt() + eps);
            *b = if mu > N::Scalar::ZERO {
                mu * *b + step
            } else {
                step
            };
            *p -= lr * *b;
        })
    }
}

impl<N: Network, S: State<N>> Clone for RmsProp<N, S> {
    fn clone(&self) -> Self {
        RmsProp {
            square_avg: self.square_avg.clone(),
            buffer: self.buffer.clone(),
            ..*self
        }
    }
}

impl<N: Network, S> fmt::Debug for RmsProp<N, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RmsProp")
            .field("lr", &self.lr)
            .field("alpha", &self.alpha)
            .field("eps", &self.eps)
            .field("momentum", &self.momentum)
            .field("weight_decay", &self.weight_decay)
            .field("clip", &self.clip)
            .finish_non_exhaustive()
    }
}
