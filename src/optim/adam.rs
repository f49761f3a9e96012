//! Adam and AdamW.

use core::fmt;

use num_traits::Float;

use super::{Grads, LearningRate, Optimizer, State, StepError, clip_factor, unbounded, update_all};
use crate::network::{Gradients, Network};
use crate::scalar::{Scalar, Zeroed, const_from_f64};
use crate::settings::{self, ScalarOf, SettingError};

/// How [`Adam`] applies weight decay `λ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightDecay<T> {
    /// None.
    None,
    /// L2: `λ θ` is added to the gradient (PyTorch's `Adam(weight_decay=λ)`).
    L2(T),
    /// Decoupled: `θ ← θ (1 − η λ)` before the Adam step (AdamW).
    Decoupled(T),
}

/// Adam (Kingma and Ba, 2015), and AdamW (Loshchilov and Hutter, 2019) with
/// decoupled weight decay, as PyTorch defines them. With step count `t`,
/// gradient `g`, learning rate `η`:
///
/// ```text
/// m ← β₁ m + (1 − β₁) g
/// v ← β₂ v + (1 − β₂) g²
/// θ ← θ − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
///
/// The defaults are PyTorch's: `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`. The
/// moments `m` and `v` have the network's shape and start at zero.
///
/// ```
/// use constnet::optim::Adam;
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-4-1 regressor.
///     struct Net<f32> { 2 => Dense<4>, Tanh, Dense<1> }
/// }
/// let adam: Adam<Net> = Adam::new(1e-3)?;
/// let adamw: Adam<Net> = Adam::adamw(1e-3)?; // weight decay 0.01, decoupled
/// # let _ = (adam, adamw);
/// # Ok::<(), constnet::SettingError>(())
/// ```
pub struct Adam<N: Network, S = Gradients<N>> {
    lr: N::Scalar,
    beta1: N::Scalar,
    beta2: N::Scalar,
    eps: N::Scalar,
    weight_decay: WeightDecay<N::Scalar>,
    clip: Option<N::Scalar>,
    steps: i32,
    m: S,
    v: S,
}

impl<N: Network> Adam<N> {
    /// Adam with learning rate `lr` and PyTorch's defaults.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lr` is finite and greater than 0.
    pub fn new(lr: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        Self::with_state(lr.scalar())
    }

    /// AdamW with learning rate `lr` and PyTorch's default decoupled weight
    /// decay, `0.01`.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lr` is finite and greater than 0.
    pub fn adamw(lr: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        Self::new(lr)?.decoupled_weight_decay(N::Scalar::from_f64(0.01))
    }

    /// [`new`](Adam::new) in `const` context: an optimiser that can be a
    /// `const` or a `static`, its moments included (zero). The `_const`
    /// setters ([`betas_const`](Adam::betas_const), …) go with it.
    ///
    /// ```
    /// use constnet::optim::Adam;
    /// use constnet::prelude::*;
    ///
    /// network! {
    ///     /// A 2-4-1 regressor.
    ///     struct Net<f32> { 2 => Dense<4>, Tanh, Dense<1> }
    /// }
    /// static ADAM: Adam<Net> = Adam::new_const(1e-3).betas_const(0.8, 0.99);
    /// let adam: Adam<Net> = Adam::new(1e-3)?.betas(0.8, 0.99)?;
    /// assert_eq!(format!("{ADAM:?}"), format!("{adam:?}"));
    /// # Ok::<(), constnet::SettingError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Unless `lr` is finite and greater than 0: in a `const` or a
    /// `static`, a compile error. At run time, use [`new`](Adam::new),
    /// which returns a [`SettingError`] instead.
    pub const fn new_const(lr: N::Scalar) -> Self {
        Adam {
            lr: settings::const_setting!(positive, "learning rate", lr),
            beta1: const_from_f64(0.9),
            beta2: const_from_f64(0.999),
            eps: const_from_f64(1e-8),
            weight_decay: WeightDecay::None,
            clip: None,
            steps: 0,
            m: Zeroed::ZERO,
            v: Zeroed::ZERO,
        }
    }

    /// [`adamw`](Adam::adamw) in `const` context (see
    /// [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `lr` is finite and greater than 0: a compile error in a
    /// `const` or a `static`.
    pub const fn adamw_const(lr: N::Scalar) -> Self {
        Self::new_const(lr).decoupled_weight_decay_const(const_from_f64(0.01))
    }
}

super::boxed_constructor!(Adam);

impl<N: Network, S: State<N>> Adam<N, S> {
    fn with_state(lr: N::Scalar) -> Result<Self, SettingError> {
        Ok(Adam {
            lr: settings::positive("learning rate", lr)?,
            beta1: N::Scalar::from_f64(0.9),
            beta2: N::Scalar::from_f64(0.999),
            eps: N::Scalar::from_f64(1e-8),
            weight_decay: WeightDecay::None,
            clip: None,
            steps: 0,
            m: S::zeroed(),
            v: S::zeroed(),
        })
    }

    /// Sets `β₁` and `β₂`, the decay rates of the two moments.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless both are in `[0, 1)` (at 1 the bias
    /// correction would divide by zero).
    pub fn betas(
        mut self,
        beta1: impl ScalarOf<N::Scalar>,
        beta2: impl ScalarOf<N::Scalar>,
    ) -> Result<Self, SettingError> {
        self.beta1 = settings::fraction("beta1", beta1.scalar())?;
        self.beta2 = settings::fraction("beta2", beta2.scalar())?;
        Ok(self)
    }

    /// Sets `ε`, added to the denominator.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `eps` is finite and greater than 0: with
    /// `ε = 0` a parameter whose gradient has always been 0 (an input that
    /// is always 0) would be updated by `0 / 0`.
    pub fn eps(mut self, eps: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        self.eps = settings::positive("eps", eps.scalar())?;
        Ok(self)
    }

    /// L2 weight decay `λ`, added to the gradient (Adam's own form).
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lambda` is finite and at least 0.
    pub fn weight_decay(mut self, lambda: impl ScalarOf<N::Scalar>) -> Result<Self, SettingError> {
        let lambda = settings::non_negative("weight decay", lambda.scalar())?;
        self.weight_decay = WeightDecay::L2(lambda);
        Ok(self)
    }

    /// Decoupled weight decay `λ` (AdamW): `θ ← θ (1 − η λ)` each step.
    ///
    /// # Errors
    ///
    /// [`SettingError`] unless `lambda` is finite and at least 0.
    pub fn decoupled_weight_decay(
        mut self,
        lambda: impl ScalarOf<N::Scalar>,
    ) -> Result<Self, SettingError> {
        let lambda = settings::non_negative("weight decay", lambda.scalar())?;
        self.weight_decay = WeightDecay::Decoupled(lambda);
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

    /// [`betas`](Adam::betas) in `const` context (see
    /// [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless both are in `[0, 1)`: a compile error in a `const` or a
    /// `static`.
    pub const fn betas_const(mut self, beta1: N::Scalar, beta2: N::Scalar) -> Self {
        self.beta1 = settings::const_setting!(fraction, "beta1", beta1);
        self.beta2 = settings::const_setting!(fraction, "beta2", beta2);
        self
    }

    /// [`eps`](Adam::eps) in `const` context (see
    /// [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `eps` is finite and greater than 0: a compile error in a
    /// `const` or a `static`.
    pub const fn eps_const(mut self, eps: N::Scalar) -> Self {
        self.eps = settings::const_setting!(positive, "eps", eps);
        self
    }

    /// [`weight_decay`](Adam::weight_decay) in `const` context (see
    /// [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `lambda` is finite and at least 0: a compile error in a
    /// `const` or a `static`.
    pub const fn weight_decay_const(mut self, lambda: N::Scalar) -> Self {
        let lambda = settings::const_setting!(non_negative, "weight decay", lambda);
        self.weight_decay = WeightDecay::L2(lambda);
        self
    }

    /// [`decoupled_weight_decay`](Adam::decoupled_weight_decay) in `const`
    /// context (see [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `lambda` is finite and at least 0: a compile error in a
    /// `const` or a `static`.
    pub const fn decoupled_weight_decay_const(mut self, lambda: N::Scalar) -> Self {
        let lambda = settings::const_setting!(non_negative, "weight decay", lambda);
        self.weight_decay = WeightDecay::Decoupled(lambda);
        self
    }

    /// [`clip_norm`](Adam::clip_norm) in `const` context (see
    /// [`new_const`](Adam::new_const)).
    ///
    /// # Panics
    ///
    /// Unless `max_norm` is finite and greater than 0: a compile error in
    /// a `const` or a `static`.
    pub const fn clip_norm_const(mut self, max_norm: N::Scalar) -> Self {
        self.clip = Some(settings::const_setting!(positive, "clip norm", max_norm));
        self
    }

    /// How many steps have been taken.
    pub fn steps(&self) -> u32 {
        self.steps.unsigned_abs()
    }

    /// The first and second moments, `m` and `v`.
    pub fn moments(&self) -> (&Gradients<N>, &Gradients<N>) {
        (self.m.borrow(), self.v.borrow())
    }
}

impl<N: Network, S> LearningRate for Adam<N, S> {
    type Scalar = N::Scalar;
    fn learning_rate(&self) -> N::Scalar {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: N::Scalar) -> Result<(), SettingError> {
        self.lr = settings::non_negative("learning rate", lr)?;
        Ok(())
    }
}

impl<N: Network, S: State<N>> Optimizer<N> for Adam<N, S> {
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

impl<N: Network, S: State<N>> Adam<N, S> {
    fn update(&mut self, net: &mut N, grads: Grads<'_, N>) -> Result<(), StepError> {
        // The step count advances only with a step taken.
        let t = self.steps.saturating_add(1);
        let one = N::Scalar::ONE;
        let (lr, beta1, beta2, eps, weight_decay) =
            (self.lr, self.beta1, self.beta2, self.eps, self.weight_decay);
        let scale = clip_factor(grads.get(), self.clip);
        let step = lr / (one - beta1.powi(t));
        let bias2_sqrt = (one - beta2.powi(t)).sqrt();
        let state = [self.m.borrow_mut(), self.v.borrow_mut()];
        update_all(
            net,
            grads,
            state,
            move |p, g, [m, v]| {
                let mut g = g * scale;
                match weight_decay {
                    WeightDecay::None => {}
                    WeightDecay::L2(lambda) => g += lambda * *p,
                    WeightDecay::Decoupled(lambda) => *p *= one - lr * lambda,
                }
                *m = beta1 * *m + (one - beta1) * g;
                *v = beta2 * *v + (one - beta2) * g * g;
                let denom = v.sqrt() / bias2_sqrt + eps;
                *p -= step * *m / denom;
            },
            unbounded(),
        )?;
        self.steps = t;
        Ok(())
    }
}

impl<N: Network, S: State<N>> Clone for Adam<N, S> {
    fn clone(&self) -> Self {
        Adam {
            m: self.m.clone(),
            v: self.v.clone(),
            ..*self
        }
    }
}

impl<N: Network, S> fmt::Debug for Adam<N, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adam")
            .field("lr", &self.lr)
            .field("betas", &(self.beta1, self.beta2))
            .field("eps", &self.eps)
            .field("weight_decay", &self.weight_decay)
            .field("clip", &self.clip)
            .field("steps", &self.steps)
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
    fn same<N: Network>(a: &Adam<N>, b: &Adam<N>) -> bool {
        let bits = |x: N::Scalar| x.as_f64().to_bits();
        let decay = |w: WeightDecay<N::Scalar>| match w {
            WeightDecay::None => (0, 0),
            WeightDecay::L2(x) => (1, bits(x)),
            WeightDecay::Decoupled(x) => (2, bits(x)),
        };
        [a.lr, a.beta1, a.beta2, a.eps].map(bits) == [b.lr, b.beta1, b.beta2, b.eps].map(bits)
            && decay(a.weight_decay) == decay(b.weight_decay)
            && a.clip.map(bits) == b.clip.map(bits)
            && a.steps == b.steps
            && a.m == b.m
            && a.v == b.v
    }

    static ADAMW: Adam<Small> = Adam::adamw_const(1e-3);
    static TUNED: Adam<Small> = Adam::new_const(0.01)
        .betas_const(0.8, 0.99)
        .eps_const(1e-6)
        .weight_decay_const(1e-4)
        .clip_norm_const(1.0);

    #[test]
    fn const_constructors_build_what_the_checked_ones_do() -> Result<(), SettingError> {
        assert!(same(&ADAMW, &Adam::adamw(1e-3)?));
        let tuned = Adam::new(0.01)?
            .betas(0.8, 0.99)?
            .eps(1e-6)?
            .weight_decay(1e-4)?
            .clip_norm(1.0)?;
        assert!(same(&TUNED, &tuned));
        assert!(!same(&TUNED, &Adam::new(0.01)?));
        crate::network! {
            /// A 1-1 network in `f64`, whose defaults are not rounded.
            struct Wide<f64> { 1 => Dense<1> }
        }
        const WIDE: Adam<Wide> = Adam::new_const(0.1).decoupled_weight_decay_const(0.5);
        assert!(same(&WIDE, &Adam::new(0.1)?.decoupled_weight_decay(0.5)?));
        Ok(())
    }
}
