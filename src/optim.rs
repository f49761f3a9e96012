//! Optimisers: they update a network's parameters in place from its
//! gradients.
//!
//! An optimiser sees the parameters, the gradients and its own state as the
//! same list of flat tensors ([`Tensors`]), so one update rule serves every
//! network. Its state has the network's parameter shape and is typed by the
//! network: an optimiser built for one network type cannot update another.

use core::fmt;

use crate::network::{Gradients, Network};
use crate::scalar::{Scalar, Zeroed};
use crate::tensors::Tensors;

/// Something that updates a network `N` in place from its gradients.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot update a network of type `{N}`",
    note = "an optimiser's state has the shape of the network it was made for; make one per network type"
)]
pub trait Optimizer<N: Network> {
    /// Applies one update to `net` from `grads` (the gradient of the loss
    /// with respect to `net`'s parameters).
    fn step(&mut self, net: &mut N, grads: &Gradients<N>);
}

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
/// `α = 0` is plain SGD. For a constant `η` this is the same trajectory as
/// PyTorch's `v ← α v + g`, `θ ← θ − η v`, with `Δθ = −η v`. The velocity
/// `Δθ` is stored as a [`Gradients<N>`](Gradients), one tensor per
/// parameter tensor, and starts at zero.
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-4-1 regressor.
///     struct Net<f64> { 2 => Dense<4>, Tanh, Dense<1> }
/// }
/// let opt: Sgd<Net> = Sgd::new(0.1).nesterov(0.9).weight_decay(1e-4);
/// assert_eq!(opt.learning_rate(), 0.1);
/// ```
pub struct Sgd<N: Network> {
    lr: N::Scalar,
    momentum: Momentum<N::Scalar>,
    weight_decay: N::Scalar,
    velocity: Gradients<N>,
}

impl<N: Network> Sgd<N> {
    /// Plain SGD with learning rate `lr`, no momentum, no weight decay.
    pub fn new(lr: N::Scalar) -> Self {
        Sgd {
            lr,
            momentum: Momentum::None,
            weight_decay: N::Scalar::ZERO,
            velocity: Zeroed::ZERO,
        }
    }

    /// Sets classical momentum `alpha` (`0` turns it off).
    pub fn momentum(mut self, alpha: N::Scalar) -> Self {
        self.momentum = Momentum::Classic(alpha);
        self
    }

    /// Sets Nesterov momentum `alpha`.
    pub fn nesterov(mut self, alpha: N::Scalar) -> Self {
        self.momentum = Momentum::Nesterov(alpha);
        self
    }

    /// Sets L2 weight decay `lambda`: `λ θ` is added to every gradient.
    pub fn weight_decay(mut self, lambda: N::Scalar) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// The learning rate `η`.
    pub fn learning_rate(&self) -> N::Scalar {
        self.lr
    }

    /// Changes the learning rate for the following steps.
    pub fn set_learning_rate(&mut self, lr: N::Scalar) {
        self.lr = lr;
    }

    /// The momentum setting.
    pub fn momentum_kind(&self) -> Momentum<N::Scalar> {
        self.momentum
    }

    /// The velocity `Δθ`, in the network's parameter shape.
    pub fn velocity(&self) -> &Gradients<N> {
        &self.velocity
    }
}

impl<N: Network> Clone for Sgd<N> {
    fn clone(&self) -> Self {
        Sgd {
            velocity: self.velocity.clone(),
            ..*self
        }
    }
}

impl<N: Network> fmt::Debug for Sgd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sgd")
            .field("lr", &self.lr)
            .field("momentum", &self.momentum)
            .field("weight_decay", &self.weight_decay)
            .finish_non_exhaustive()
    }
}

impl<N: Network> Optimizer<N> for Sgd<N> {
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) {
        let params = net.layers_mut();
        for i in 0..<Gradients<N> as Tensors<N::Scalar>>::COUNT {
            sgd_update(
                params.tensor_mut(i),
                grads.tensor(i),
                self.velocity.tensor_mut(i),
                self.lr,
                self.momentum,
                self.weight_decay,
            );
        }
    }
}

/// The SGD rule on one tensor: parameters `p`, gradient `g`, velocity `v`.
/// Generic only over the scalar, so it is compiled once per scalar type.
fn sgd_update<T: Scalar>(
    p: &mut [T],
    g: &[T],
    v: &mut [T],
    lr: T,
    momentum: Momentum<T>,
    weight_decay: T,
) {
    let triples = p.iter_mut().zip(g).zip(v.iter_mut());
    match momentum {
        Momentum::None => {
            for ((p, &g), _) in triples {
                *p = *p - lr * (g + weight_decay * *p);
            }
        }
        Momentum::Classic(alpha) => {
            for ((p, &g), v) in triples {
                *v = alpha * *v - lr * (g + weight_decay * *p);
                *p = *p + *v;
            }
        }
        Momentum::Nesterov(alpha) => {
            for ((p, &g), v) in triples {
                let step = lr * (g + weight_decay * *p);
                *v = alpha * *v - step;
                *p = *p + alpha * *v - step;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-computed: θ = 1, g = 0.5, η = 0.1, α = 0.9, v₀ = 0.2.
    // classic:  v = 0.9·0.2 − 0.1·0.5 = 0.13;  θ = 1.13
    // nesterov: v = 0.13;  θ = 1 + 0.9·0.13 − 0.05 = 1.067
    // decay λ = 0.1: g = 0.5 + 0.1·1 = 0.6; plain θ = 1 − 0.06 = 0.94
    #[test]
    fn one_step_by_hand() {
        let (mut p, mut v) = ([1.0f64], [0.2f64]);
        sgd_update(&mut p, &[0.5], &mut v, 0.1, Momentum::Classic(0.9), 0.0);
        assert!((v[0] - 0.13).abs() < 1e-15 && (p[0] - 1.13).abs() < 1e-15);

        let (mut p, mut v) = ([1.0f64], [0.2f64]);
        sgd_update(&mut p, &[0.5], &mut v, 0.1, Momentum::Nesterov(0.9), 0.0);
        assert!((v[0] - 0.13).abs() < 1e-15 && (p[0] - 1.067).abs() < 1e-15);

        let (mut p, mut v) = ([1.0f64], [0.0f64]);
        sgd_update(&mut p, &[0.5], &mut v, 0.1, Momentum::None, 0.1);
        assert!((p[0] - 0.94).abs() < 1e-15 && v[0] == 0.0);
    }
}
