//! Optimisers: they update a network's parameters in place from its
//! gradients.
//!
//! An optimiser sees the parameters, the gradients and its own state as the
//! same list of flat tensors ([`Tensors`]), so one update rule serves every
//! network. Its state has the network's parameter shape and is typed by the
//! network: an optimiser built for one network type cannot update another.
//!
//! | optimiser | state | rule (PyTorch's) |
//! |---|---|---|
//! | [`Sgd`] | velocity | SGD, momentum, Nesterov, L2 weight decay |
//! | [`Adam`] | two moments | Adam; AdamW with [`Adam::adamw`] |
//! | [`RmsProp`] | squared-gradient average, momentum buffer | RMSprop |
//!
//! Each can clip the gradient by its global norm first (`clip_norm`), and
//! [`Scheduled`] drives the learning rate of any of them with a
//! [`Schedule`]: [`StepDecay`], [`Exponential`] or [`Cosine`].

use core::borrow::BorrowMut;

use crate::network::{Gradients, Network};
use crate::scalar::{Scalar, Zeroed};
use crate::tensors::Tensors;

/// `Optimizer::boxed(lr)` for an optimiser with a private
/// `with_state(lr)` constructor generic over its [`State`]: the same
/// optimiser with its state, and training's gradient buffer, on the heap.
macro_rules! boxed_constructor {
    ($name:ident) => {
        #[cfg(feature = "alloc")]
        impl<N: Network> $name<N, alloc::boxed::Box<Gradients<N>>> {
            #[doc = concat!("[`", stringify!($name), "::new`] with its state, and training's")]
            /// gradient buffer, on the heap: for networks too big for the
            /// stack (see [`heap`](crate::heap)).
            pub fn boxed(lr: N::Scalar) -> Self {
                Self::with_state(lr)
            }
        }
    };
}
use boxed_constructor;

mod adam;
mod rmsprop;
mod schedule;
mod sgd;

pub use adam::{Adam, WeightDecay};
pub use rmsprop::RmsProp;
pub use schedule::{Cosine, Exponential, Schedule, Scheduled, StepDecay};
pub use sgd::{Momentum, Sgd};

/// Something that updates a network `N` in place from its gradients.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot update a network of type `{N}`",
    note = "an optimiser's state has the shape of the network it was made for; make one per network type"
)]
pub trait Optimizer<N: Network> {
    /// Applies one update to `net` from `grads` (the gradient of the loss
    /// with respect to `net`'s parameters).
    fn step(&mut self, net: &mut N, grads: &Gradients<N>);

    /// Runs `f` with a zeroed gradient buffer for training to fill before
    /// each step: on the stack by default, on the heap for an optimiser
    /// whose state is there (made with `boxed`).
    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R
    where
        Self: Sized,
    {
        Gradients::<N>::scratch(f)
    }
}

/// Where an optimiser keeps its network-shaped state: inline, as a
/// [`Gradients<N>`] (the default), or on the heap, as a
/// `Box<Gradients<N>>` (the `boxed` constructors, with the `alloc`
/// feature).
pub trait State<N: Network>: BorrowMut<Gradients<N>> + Clone {
    /// Zero state, made where this kind of state lives.
    fn zeroed() -> Self;
    /// Runs `f` with a zeroed gradient buffer that lives where this kind of
    /// state does.
    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R;
}

impl<N: Network> State<N> for Gradients<N> {
    fn zeroed() -> Self {
        Zeroed::ZERO
    }
    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R {
        let mut grads = Zeroed::ZERO;
        f(&mut grads)
    }
}

#[cfg(feature = "alloc")]
impl<N: Network> State<N> for alloc::boxed::Box<Gradients<N>> {
    fn zeroed() -> Self {
        Gradients::boxed()
    }
    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R {
        f(&mut Gradients::boxed())
    }
}

/// An optimiser whose learning rate can be read and changed, which is what
/// a [`Scheduled`] drives.
pub trait LearningRate {
    /// The scalar of the rate.
    type Scalar: Scalar;
    /// The learning rate `η`.
    fn learning_rate(&self) -> Self::Scalar;
    /// Changes the learning rate for the following steps.
    fn set_learning_rate(&mut self, lr: Self::Scalar);
}

/// The factor that scales `grads` down to Euclidean norm `max_norm` when
/// it is longer (`1` otherwise, or without a maximum), as PyTorch's
/// `clip_grad_norm_` computes it: `min(1, max_norm / (norm + 1e-6))`.
fn clip_factor<T: Scalar, G: Tensors<T>>(grads: &G, max_norm: Option<T>) -> T {
    match max_norm {
        Some(max) => {
            let coef = max / (grads.norm_squared().sqrt() + T::from_f64(1e-6));
            coef.min(T::ONE)
        }
        None => T::ONE,
    }
}
