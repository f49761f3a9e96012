//! Stochastic gradient descent with momentum.

use core::fmt;

use super::{
    Grads, LearningRate, Optimizer, State, StepBounds, StepError, clip_factor, unbounded,
    update_all,
};
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

    /// [`new`](Sgd::new) in `const` context: an optimiser that can be a
    /// `const` or a `static`, its velocity included (zero), so that on a
    /// micro-controller it takes RAM in `.data` rather than stack. The
    /// `_const` setters ([`momentum_const`](Sgd::momentum_const), …) go
    /// with it; [`pytorch_form`](Sgd::pytorch_form) is `const` itself.
    ///
    /// ```
    /// use constnet::prelude::*;
    ///
    /// network! {
    ///     /// A 2-8-1 XOR classifier.
    ///     struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
    /// }
    /// static OPT: Sgd<Xor> = Sgd::new_const(0.5).momentum_const(0.9);
    ///
    /// // The same optimiser as the one built at run time.
    /// let opt: Sgd<Xor> = Sgd::new(0.5)?.momentum(0.9)?;
    /// assert_eq!(format!("{OPT:?}"), format!("{opt:?}"));
    /// assert_eq!(OPT.velocity(), opt.velocity());
    /// # Ok::<(), constnet::SettingError>(())
    /// ```
    ///
    /// A setting out of its range does not compile:
    ///
    /// ```compile_fail,E0080
    /// # use constnet::prelude::*;
    /// # network! { struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid } }
    /// // error: evaluation panicked: momentum is out of range: it must be in [0, 1)
    /// static OPT: Sgd<Xor> = Sgd::new_const(0.5).momentum_const(1.5);
    /// ```
    ///
    /// # Panics
    ///
    /// Unless `lr` is finite and greater than 0: in a `const` or a
    /// `static`, a compile error. At run time, use [`new`](Sgd::new),
    /// which returns a [`SettingError`] instead.
    pub const fn new_const(lr: N::Scalar) -> Self {
        Sgd {
            lr: settings::const_setting!(positive, "learning rate", lr),
            momentum: Momentum::None,
            weight_decay: N::Scalar::ZERO,
            clip: None,
            pytorch_form: false,
            velocity: Zeroed::ZERO,
        }
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
    /// when the learning rate changes. `const`, like
    /// [`new_const`](Sgd::new_const).
    pub const fn pytorch_form(mut self) -> Self {
        self.pytorch_form = true;
        self
    }

    /// [`momentum`](Sgd::momentum) in `const` context (see
    /// [`new_const`](Sgd::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `alpha` is in `[0, 1)`: a compile error in a `const` or a
    /// `static`.
    pub const fn momentum_const(mut self, alpha: N::Scalar) -> Self {
        self.momentum = Momentum::Classic(settings::const_setting!(fraction, "momentum", alpha));
        self
    }

    /// [`nesterov`](Sgd::nesterov) in `const` context (see
    /// [`new_const`](Sgd::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `alpha` is in `[0, 1)`: a compile error in a `const` or a
    /// `static`.
    pub const fn nesterov_const(mut self, alpha: N::Scalar) -> Self {
        self.momentum = Momentum::Nesterov(settings::const_setting!(fraction, "momentum", alpha));
        self
    }

    /// [`weight_decay`](Sgd::weight_decay) in `const` context (see
    /// [`new_const`](Sgd::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `lambda` is finite and at least 0: a compile error in a
    /// `const` or a `static`.
    pub const fn weight_decay_const(mut self, lambda: N::Scalar) -> Self {
        self.weight_decay = settings::const_setting!(non_negative, "weight decay", lambda);
        self
    }

    /// [`clip_norm`](Sgd::clip_norm) in `const` context (see
    /// [`new_const`](Sgd::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `max_norm` is finite and greater than 0: a compile error in
    /// a `const` or a `static`.
    pub const fn clip_norm_const(mut self, max_norm: N::Scalar) -> Self {
        self.clip = Some(settings::const_setting!(positive, "clip norm", max_norm));
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
    /// One step, tried first, or, with a training call's `bounds`, taken
    /// without its trial when the bounds show that it cannot go wrong.
    #[inline(always)]
    fn update(
        &mut self,
        net: &mut N,
        grads: Grads<'_, N>,
        bounds: Option<&mut StepBounds>,
    ) -> Result<(), StepError> {
        let rule = SgdRule {
            lr: self.lr,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            scale: clip_factor(grads.get(), self.clip),
            pytorch_form: self.pytorch_form,
        };
        rule.apply(net, grads, self.velocity.borrow_mut(), bounds)
    }
}

impl<N: Network, S: State<N>> Optimizer<N> for Sgd<N, S> {
    #[inline(always)]
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Keep(grads), None)
    }

    #[inline(always)]
    fn step_and_discard(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.update(net, Grads::Scratch(grads), None)
    }

    #[inline(always)]
    fn step_and_discard_within(
        &mut self,
        net: &mut N,
        grads: &mut Gradients<N>,
        bounds: &mut StepBounds,
    ) -> Result<(), StepError> {
        self.update(net, Grads::Scratch(grads), Some(bounds))
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
        bounds: Option<&mut StepBounds>,
    ) -> Result<(), StepError> {
        let (scale, weight_decay) = (self.scale, self.weight_decay);
        if scale == T::ONE && weight_decay == T::ZERO {
            // The common case, without two multiplications and an addition
            // per parameter that would not change the result.
            self.apply_with(net, grads, velocity, |g, _| g, bounds)
        } else {
            self.apply_with(
                net,
                grads,
                velocity,
                move |g, p| scale * g + weight_decay * p,
                bounds,
            )
        }
    }

    /// The rule with the effective gradient `grad(g, θ)`. Without momentum
    /// the velocity is neither read nor written.
    ///
    /// Each form's bound follows its arithmetic: with `|θ| ≤ P`,
    /// `|g| ≤ G`, `|v| ≤ V` and a clipping factor at most 1, the effective
    /// gradient is at most `G + λP`, and each sum or product after it at
    /// most the sum or product of its terms' bounds.
    #[inline(always)]
    fn apply_with<N: Network<Scalar = T>>(
        self,
        net: &mut N,
        grads: Grads<'_, N>,
        velocity: &mut Gradients<N>,
        grad: impl Fn(T, T) -> T + Copy + Sync,
        bounds: Option<&mut StepBounds>,
    ) -> Result<(), StepError> {
        let lr = self.lr;
        // The bound's constants, computed only where there is a bound.
        let f64s = move |alpha: T| {
            let (eta, lambda) = (lr.abs().as_f64(), self.weight_decay.abs().as_f64());
            (alpha.abs().as_f64(), eta, move |p: f64, g: f64| {
                g + lambda * p
            })
        };
        match (self.momentum, self.pytorch_form) {
            (Momentum::None, _) => update_all(
                net,
                grads,
                [],
                move |p, g, _| {
                    *p = *p - lr * grad(g, *p);
                },
                unbounded(),
            ),
            (Momentum::Classic(alpha), false) => update_all(
                net,
                grads,
                [velocity],
                move |p, g, [v]| {
                    *v = alpha * *v - lr * grad(g, *p);
                    *p += *v;
                },
                bounds.map(|b| {
                    let (a, eta, gradient) = f64s(alpha);
                    (b, move |p: f64, g: f64, [v]: [f64; 1]| {
                        let v = a * v + eta * gradient(p, g);
                        (p + v, [v])
                    })
                }),
            ),
            (Momentum::Nesterov(alpha), false) => update_all(
                net,
                grads,
                [velocity],
                move |p, g, [v]| {
                    let step = lr * grad(g, *p);
                    *v = alpha * *v - step;
                    *p = *p + alpha * *v - step;
                },
                bounds.map(|b| {
                    let (a, eta, gradient) = f64s(alpha);
                    (b, move |p: f64, g: f64, [v]: [f64; 1]| {
                        let step = eta * gradient(p, g);
                        let v = a * v + step;
                        (p + a * v + step, [v])
                    })
                }),
            ),
            (Momentum::Classic(alpha), true) => update_all(
                net,
                grads,
                [velocity],
                move |p, g, [v]| {
                    *v = alpha * *v + grad(g, *p);
                    *p -= lr * *v;
                },
                bounds.map(|b| {
                    let (a, eta, gradient) = f64s(alpha);
                    (b, move |p: f64, g: f64, [v]: [f64; 1]| {
                        let v = a * v + gradient(p, g);
                        (p + eta * v, [v])
                    })
                }),
            ),
            (Momentum::Nesterov(alpha), true) => update_all(
                net,
                grads,
                [velocity],
                move |p, g, [v]| {
                    let g = grad(g, *p);
                    *v = alpha * *v + g;
                    *p -= lr * (g + alpha * *v);
                },
                bounds.map(|b| {
                    let (a, eta, gradient) = f64s(alpha);
                    (b, move |p: f64, g: f64, [v]: [f64; 1]| {
                        let g = gradient(p, g);
                        let v = a * v + g;
                        (p + eta * (g + a * v), [v])
                    })
                }),
            ),
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
        rule.apply(&mut net, Grads::Keep(&grads), &mut velocity, None)
            .unwrap();
        (net.layers().weight.0[0][0], velocity.0.weight.0[0][0])
    }

    crate::network! {
        /// A 2-3-1 network in `f32`.
        struct Small<f32> { 2 => Dense<3>, crate::Tanh, Dense<1> }
    }

    crate::network! {
        /// One weight and one bias, in `f32`.
        struct OneF32<f32> { 1 => Dense<1> }
    }

    #[test]
    fn within_a_call_a_small_gradient_at_a_rate_that_overflows_is_still_refused() {
        // The first step of the call (a zero gradient) leaves everything
        // small, so the next one could skip its trial; its gradient, 8, is
        // small too, but 8 times the rate is twice the largest f32. The
        // rule's bound sees it: the step is tried, and refused.
        let rate = f32::MAX / 4.0;
        let sgd = Sgd::<OneF32>::new(rate).unwrap();
        for mut opt in [
            sgd.clone().momentum(0.5).unwrap(),
            sgd.clone().nesterov(0.5).unwrap(),
            sgd.clone().momentum(0.5).unwrap().pytorch_form(),
            sgd.clone().nesterov(0.5).unwrap().pytorch_form(),
        ] {
            let mut net: OneF32 = Zeroed::ZERO;
            net.layers_mut().weight.0 = [[1.0]];
            let mut bounds = StepBounds::new();
            let mut grads: Gradients<OneF32> = Zeroed::ZERO;
            opt.step_and_discard_within(&mut net, &mut grads, &mut bounds)
                .unwrap();
            grads.0.weight.0 = [[8.0]];
            let before = (net.clone(), opt.velocity().clone());
            let err = opt.step_and_discard_within(&mut net, &mut grads, &mut bounds);
            assert_eq!(err.unwrap_err().tensor.name, "weight");
            assert!(net == before.0 && *opt.velocity() == before.1);
        }
    }

    /// Every field of two optimisers, bit for bit.
    fn same<N: Network>(a: &Sgd<N>, b: &Sgd<N>) -> bool {
        let bits = |x: N::Scalar| x.as_f64().to_bits();
        let momentum = |m: Momentum<N::Scalar>| match m {
            Momentum::None => (0, 0),
            Momentum::Classic(x) => (1, bits(x)),
            Momentum::Nesterov(x) => (2, bits(x)),
        };
        bits(a.lr) == bits(b.lr)
            && momentum(a.momentum) == momentum(b.momentum)
            && bits(a.weight_decay) == bits(b.weight_decay)
            && a.clip.map(bits) == b.clip.map(bits)
            && a.pytorch_form == b.pytorch_form
            && a.velocity == b.velocity
    }

    static CLASSIC: Sgd<Small> = Sgd::new_const(0.5).momentum_const(0.9);
    const NESTEROV: Sgd<One> = Sgd::new_const(0.1)
        .nesterov_const(0.99)
        .weight_decay_const(1e-4)
        .clip_norm_const(2.5)
        .pytorch_form();

    #[test]
    fn const_constructors_build_what_the_checked_ones_do() -> Result<(), SettingError> {
        assert!(same(&CLASSIC, &Sgd::new(0.5)?.momentum(0.9)?));
        let nesterov = Sgd::new(0.1)?
            .nesterov(0.99)?
            .weight_decay(1e-4)?
            .clip_norm(2.5)?
            .pytorch_form();
        assert!(same(&NESTEROV, &nesterov));
        assert!(!same(&NESTEROV, &Sgd::new(0.1)?.nesterov(0.99)?));
        const PLAIN: Sgd<Small> = Sgd::new_const(1e-3).momentum_const(0.0);
        assert!(same(&PLAIN, &Sgd::new(1e-3)?.momentum(0.0)?));
        Ok(())
    }

    #[test]
    #[should_panic(expected = "momentum is out of range: it must be in [0, 1)")]
    fn const_setter_called_at_run_time_panics_with_the_range() {
        let alpha = core::hint::black_box(1.0);
        let _ = Sgd::<One>::new_const(0.1).momentum_const(alpha);
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
