//! Stochastic gradient descent with momentum.

use core::fmt;

use super::{Grads, LearningRate, Optimizer, State, StepError, clip_factor, update_all};
use crate::network::{Gradients, Network};
use crate::scalar::{Scalar, Zeroed};
use crate::settings::{self, ScalarOf, SettingError};

/// The momentum term of [`Sgd`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Momentum<T> {
    /// Plain gradient descent: `θ ← θ − η g`.
    None,
    /// Classical momentum `α ≥ 0`: `Δθ ← α Δθ − η g`, `θ ← θ + Δθ`.
    Classic(T),
    /// Nesterov momentum `α ≥ 0`: `Δθ ← α Δθ − η g`,
    /// `θ ← θ + α Δθ − η g` (the step looks ahead along the velocity).
    Nesterov(T),
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum
/// and L2 weight decay.
///
/// With learning rate `η`, momentum `α` and weight decay `λ`, each step
/// takes `g = ∇L(θ) + λ θ` and updates the velocity `Δθ` and parameters `θ`:
///
/// ```text
/// Δθ ← α Δθ − η g
/// θ  ← θ + Δθ                 (classic)
/// θ  ← θ + α Δθ − η g         (Nesterov)
/// ```
///
/// `α = 0` is plain SGD. The velocity `Δθ` is stored as a
/// [`Gradients<N>`](Gradients), one tensor per parameter tensor, and starts
/// at zero.
///
/// **Two forms of momentum.** The form above (the default) keeps the
/// displacement `Δθ`, which already holds the learning rate. PyTorch keeps
/// the velocity `v ← α v + g` and steps `θ ← θ − η v` (Nesterov:
/// `θ ← θ − η (g + α v)`). For a constant `η` they follow the same
/// trajectory (`Δθ = −η v`), but when the rate changes, as under a
/// [`Scheduled`](super::Scheduled) optimiser, they part: in the default
/// form a new rate scales only new gradients, while in PyTorch's it also
/// rescales the momentum already gathered. [`pytorch_form`](Sgd::pytorch_form)
/// selects PyTorch's.
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-4-1 regressor.
///     struct Net<f64> { 2 => Dense<4>, Tanh, Dense<1> }
/// }
/// let opt: Sgd<Net> = Sgd::new(0.1)?.nesterov(0.9)?.weight_decay(1e-4)?;
/// assert_eq!(opt.learning_rate(), 0.1);
///
/// // A setting out of its range is refused where it is made:
/// let err = Sgd::<Net>::new(0.1)?.momentum(1.5).unwrap_err();
/// assert_eq!(err.to_string(), "momentum = 1.5 is out of range: it must be in [0, 1)");
/// # Ok::<(), constnet::SettingError>(())
/// ```
pub struct Sgd<N: Network, S = Gradients<N>> {
    lr: N::Scalar,
    momentum: Momentum<N::Scalar>,
    weight_decay: N::Scalar,
    clip: Option<N::Scalar>,
    pytorch_form: bool,
    velocity: S,
}

impl<N: Network> Sgd<N> {
    /// Plain SGD with learning rate `lr`, no momentum, no weight decay.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lr` is finite and greater than 0.
    pub fn new(lr: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        Self::with_state(lr.scalar())
    }
}

super::boxed_constructor!(Sgd);

impl<N: Network, S: State<N>> Sgd<N, S> {
    fn with_state(lr: N::Scalar) -> Result<Self, SettingError> {
        Ok(Sgd {
            lr: settings::positive("learning rate", lr)?,
            momentum: Momentum::None,
            weight_decay: N::Scalar::ZERO,
            clip: None,
            pytorch_form: false,
            velocity: S::zeroed(),
        })
    }

    /// Sets classical momentum `alpha` (`0` turns it off).
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `alpha` is in `[0, 1)`.
    pub fn momentum(mut self, alpha: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.momentum = Momentum::Classic(settings::fraction("momentum", alpha.scalar())?);
        Ok(self)
    }

    /// Sets Nesterov momentum `alpha`.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `alpha` is in `[0, 1)`.
    pub fn nesterov(mut self, alpha: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.momentum = Momentum::Nesterov(settings::fraction("momentum", alpha.scalar())?);
        Ok(self)
    }

    /// Sets L2 weight decay `lambda`: `λ θ` is added to every gradient.
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

    /// Keeps momentum as PyTorch does, as the velocity `v ← α v + g` with
    /// `θ ← θ − η v`, instead of the displacement `Δθ`; this matters only
    /// when the learning rate changes.
    pub fn pytorch_form(mut self) -> Self {
        self.pytorch_form = true;
        self
    }

    /// The momentum setting.
    pub fn momentum_kind(&self) -> Momentum<N::Scalar> {
        self.momentum
    }

    /// The momentum state in the network's parameter shape: the
    /// displacement `Δθ`, or PyTorch's velocity `v` with
    /// [`pytorch_form`](Sgd::pytorch_form).
    pub fn velocity(&self) -> &Gradients<N> {
        self.velocity.borrow()
    }
}

impl<N: Network, S: State<N>> Clone for Sgd<N, S> {
    fn clone(&self) -> Self {
        Sgd {
            velocity: self.velocity.clone(),
            ..*self
        }
    }
}

impl<N: Network, S> fmt::Debug for Sgd<N, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sgd")
            .field("lr", &self.lr)
            .field("momentum", &self.momentum)
            .field("weight_decay", &self.weight_decay)
            .field("clip", &self.clip)
            .field("pytorch_form", &self.pytorch_form)
            .finish_non_exhaustive()
    }
}

impl<N: Network, S> LearningRate for Sgd<N, S> {
    type Scalar = N::Scalar;
    fn learning_rate(&self) -> N::Scalar {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: N::Scalar) -> Result<(), SettingError> {
        self.lr = settings::non_negative("learning rate", lr)?;
        Ok(())
    }
}

impl<N: Network, S: State<N>> Sgd<N, S> {
    #[inline(always)]
    fn update(&mut self, net: &mut N, grads: Grads<'_, N>) -> Result<(), StepError> {
        let rule = SgdRule {
            lr: self.lr,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            scale: clip_factor(grads.get(), self.clip),
            pytorch_form: self.pytorch_form,
        };
        rule.apply(net, grads, self.velocity.borrow_mut())
    }
}

impl<N: Network, S: State<N>> Optimizer<N> for Sgd<N, S> {
    #[inline(always)]
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Keep(grads))
    }

    #[inline(always)]
    fn step_and_clear(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Clear(grads))
    }

    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R {
        S::scratch(f)
    }
}

/// One SGD step's constants. Generic only over the scalar, so the rule is
/// compiled once per scalar type.
#[derive(Clone, Copy)]
struct SgdRule<T> {
    lr: T,
    momentum: Momentum<T>,
    weight_decay: T,
    /// The gradient clipping factor (1 without clipping).
    scale: T,
    pytorch_form: bool,
}

impl<T: Scalar> SgdRule<T> {
    /// The rule on every parameter of `net`, with `velocity` as its
    /// momentum state. The choice of rule is made once, outside the loops.
    #[inline(always)]
    fn apply<N: Network<Scalar = T>>(
        self,
        net: &mut N,
        grads: Grads<'_, N>,
        velocity: &mut Gradients<N>,
    ) -> Result<(), StepError> {
        let (scale, weight_decay) = (self.scale, self.weight_decay);
        if scale == T::ONE && weight_decay == T::ZERO {
            // The common case, without two multiplications and an addition
            // per parameter that would not change the result.
            self.apply_with(net, grads, velocity, |g, _| g)
        } else {
            self.apply_with(net, grads, velocity, move |g, p| {
                scale * g + weight_decay * p
            })
        }
    }

    /// The rule with the effective gradient `grad(g, θ)`. Without momentum
    /// the velocity is neither read nor written.
    #[inline(always)]
    fn apply_with<N: Network<Scalar = T>>(
        self,
        net: &mut N,
        grads: Grads<'_, N>,
        velocity: &mut Gradients<N>,
        grad: impl Fn(T, T) -> T + Copy,
    ) -> Result<(), StepError> {
        let lr = self.lr;
        match (self.momentum, self.pytorch_form) {
            (Momentum::None, _) => update_all(net, grads, [], move |p, g, _| {
                *p = *p - lr * grad(g, *p);
            }),
            (Momentum::Classic(alpha), false) => {
                update_all(net, grads, [velocity], move |p, g, [v]| {
                    *v = alpha * *v - lr * grad(g, *p);
                    *p += *v;
                })
            }
            (Momentum::Nesterov(alpha), false) => {
                update_all(net, grads, [velocity], move |p, g, [v]| {
                    let step = lr * grad(g, *p);
                    *v = alpha * *v - step;
                    *p = *p + alpha * *v - step;
                })
            }
            (Momentum::Classic(alpha), true) => {
                update_all(net, grads, [velocity], move |p, g, [v]| {
                    *v = alpha * *v + grad(g, *p);
                    *p -= lr * *v;
                })
            }
            (Momentum::Nesterov(alpha), true) => {
                update_all(net, grads, [velocity], move |p, g, [v]| {
                    let g = grad(g, *p);
                    *v = alpha * *v + g;
                    *p -= lr * (g + alpha * *v);
                })
            }
        }
    }
}

#[cfg(test)]
#[allow(non_camel_case_types)] // the generic names `network!` gives its impls
mod tests {
    use super::*;

    crate::network! {
        /// One weight and one bias.
        struct One<f64> { 1 => Dense<1> }
    }

    // Hand-computed on the weight: θ = 1, g = 0.5, η = 0.1, α = 0.9, v₀ = 0.2.
    // classic:  v = 0.9·0.2 − 0.1·0.5 = 0.13;  θ = 1.13
    // nesterov: v = 0.13;  θ = 1 + 0.9·0.13 − 0.05 = 1.067
    // decay λ = 0.1: g = 0.5 + 0.1·1 = 0.6; plain θ = 1 − 0.06 = 0.94
    fn sgd_update(v0: f64, momentum: Momentum<f64>, weight_decay: f64) -> (f64, f64) {
        let mut net: One = Zeroed::ZERO;
        net.layers_mut().weight.0 = [[1.0]];
        let mut grads: Gradients<One> = Zeroed::ZERO;
        grads.0.weight.0 = [[0.5]];
        let mut velocity: Gradients<One> = Zeroed::ZERO;
        velocity.0.weight.0 = [[v0]];
        let rule = SgdRule {
            lr: 0.1,
            momentum,
            weight_decay,
            scale: 1.0,
            pytorch_form: false,
        };
        rule.apply(&mut net, Grads::Keep(&grads), &mut velocity)
            .unwrap();
        (net.layers().weight.0[0][0], velocity.0.weight.0[0][0])
    }

    #[test]
    fn one_step_by_hand() {
        let (p, v) = sgd_update(0.2, Momentum::Classic(0.9), 0.0);
        assert!((v - 0.13).abs() < 1e-15 && (p - 1.13).abs() < 1e-15);

        let (p, v) = sgd_update(0.2, Momentum::Nesterov(0.9), 0.0);
        assert!((v - 0.13).abs() < 1e-15 && (p - 1.067).abs() < 1e-15);

        let (p, v) = sgd_update(0.0, Momentum::None, 0.1);
        assert!((p - 0.94).abs() < 1e-15 && v == 0.0);
    }
}
