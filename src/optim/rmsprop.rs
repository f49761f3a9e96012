//! RMSprop.

use core::fmt;

use super::{Grads, LearningRate, Optimizer, State, StepError, clip_factor, unbounded, update_all};
use crate::network::{Gradients, Network};
use crate::settings::{self, ScalarOf, SettingError};
use num_traits::Float;

use crate::scalar::{Scalar, Zeroed, const_from_f64};

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

    /// [`new`](RmsProp::new) in `const` context: an optimiser that can be
    /// a `const` or a `static`, its state included (zero). The `_const`
    /// setters ([`momentum_const`](RmsProp::momentum_const), …) go with it.
    ///
    /// ```
    /// use constnet::prelude::*;
    ///
    /// network! {
    ///     /// A 2-4-1 regressor.
    ///     struct Net<f64> { 2 => Dense<4>, Tanh, Dense<1> }
    /// }
    /// static RMS: RmsProp<Net> = RmsProp::new_const(0.01).alpha_const(0.9);
    /// let rms: RmsProp<Net> = RmsProp::new(0.01)?.alpha(0.9)?;
    /// assert_eq!(format!("{RMS:?}"), format!("{rms:?}"));
    /// # Ok::<(), constnet::SettingError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Unless `lr` is finite and greater than 0: in a `const` or a
    /// `static`, a compile error. At run time, use [`new`](RmsProp::new),
    /// which returns a [`SettingError`] instead.
    pub const fn new_const(lr: N::Scalar) -> Self {
        RmsProp {
            lr: settings::const_setting!(positive, "learning rate", lr),
            alpha: const_from_f64(0.99),
            eps: const_from_f64(1e-8),
            momentum: N::Scalar::ZERO,
            weight_decay: N::Scalar::ZERO,
            clip: None,
            square_avg: Zeroed::ZERO,
            buffer: Zeroed::ZERO,
        }
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

    /// [`alpha`](RmsProp::alpha) in `const` context (see
    /// [`new_const`](RmsProp::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `alpha` is in `[0, 1)`: a compile error in a `const` or a
    /// `static`.
    pub const fn alpha_const(mut self, alpha: N::Scalar) -> Self {
        self.alpha = settings::const_setting!(fraction, "alpha", alpha);
        self
    }

    /// [`eps`](RmsProp::eps) in `const` context (see
    /// [`new_const`](RmsProp::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `eps` is finite and greater than 0: a compile error in a
    /// `const` or a `static`.
    pub const fn eps_const(mut self, eps: N::Scalar) -> Self {
        self.eps = settings::const_setting!(positive, "eps", eps);
        self
    }

    /// [`momentum`](RmsProp::momentum) in `const` context (see
    /// [`new_const`](RmsProp::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `mu` is in `[0, 1)`: a compile error in a `const` or a
    /// `static`.
    pub const fn momentum_const(mut self, mu: N::Scalar) -> Self {
        self.momentum = settings::const_setting!(fraction, "momentum", mu);
        self
    }

    /// [`weight_decay`](RmsProp::weight_decay) in `const` context (see
    /// [`new_const`](RmsProp::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `lambda` is finite and at least 0: a compile error in a
    /// `const` or a `static`.
    pub const fn weight_decay_const(mut self, lambda: N::Scalar) -> Self {
        self.weight_decay = settings::const_setting!(non_negative, "weight decay", lambda);
        self
    }

    /// [`clip_norm`](RmsProp::clip_norm) in `const` context (see
    /// [`new_const`](RmsProp::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `max_norm` is finite and greater than 0: a compile error in
    /// a `const` or a `static`.
    pub const fn clip_norm_const(mut self, max_norm: N::Scalar) -> Self {
        self.clip = Some(settings::const_setting!(positive, "clip norm", max_norm));
        self
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

    fn step_and_discard(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Scratch(grads))
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
        update_all(
            net,
            grads,
            state,
            move |p, g, [v, b]| {
                let g = g * scale + lambda * *p;
                *v = alpha * *v + (one - alpha) * g * g;
                let step = g / (v.sqrt() + eps);
                *b = if mu > N::Scalar::ZERO {
                    mu * *b + step
                } else {
                    step
                };
                *p -= lr * *b;
            },
            unbounded(),
        )
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

#[cfg(test)]
#[allow(non_camel_case_types)] // the generic names `network!` gives its impls
mod tests {
    use super::*;

    crate::network! {
        /// A 2-3-1 network in `f32`.
        struct Small<f32> { 2 => Dense<3>, crate::Tanh, Dense<1> }
    }

    /// Every field of two optimisers, bit for bit.
    fn same<N: Network>(a: &RmsProp<N>, b: &RmsProp<N>) -> bool {
        let bits = |x: N::Scalar| x.as_f64().to_bits();
        let settings = |o: &RmsProp<N>| [o.lr, o.alpha, o.eps, o.momentum, o.weight_decay];
        settings(a).map(bits) == settings(b).map(bits)
            && a.clip.map(bits) == b.clip.map(bits)
            && a.square_avg == b.square_avg
            && a.buffer == b.buffer
    }

    static TUNED: RmsProp<Small> = RmsProp::new_const(0.01)
        .alpha_const(0.9)
        .eps_const(1e-6)
        .momentum_const(0.5)
        .weight_decay_const(1e-4)
        .clip_norm_const(3.0);

    #[test]
    fn const_constructors_build_what_the_checked_ones_do() -> Result<(), SettingError> {
        const DEFAULTS: RmsProp<Small> = RmsProp::new_const(0.01);
        assert!(same(&DEFAULTS, &RmsProp::new(0.01)?));
        let tuned = RmsProp::new(0.01)?
            .alpha(0.9)?
            .eps(1e-6)?
            .momentum(0.5)?
            .weight_decay(1e-4)?
            .clip_norm(3.0)?;
        assert!(same(&TUNED, &tuned));
        assert!(!same(&TUNED, &DEFAULTS));
        Ok(())
    }
}
