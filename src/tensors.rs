//! Parameter-shaped values seen as a list of flat tensors.
//!
//! A network's parameters, its gradients and an optimiser's state (momentum
//! velocity) all have the same shape: one weight matrix and one bias vector
//! per dense layer. [`Tensors`] exposes such a value as a fixed list of flat
//! slices, in the same order for all three, so that an optimiser is a few
//! lines of slice arithmetic that works for every network and allocates
//! nothing.

use crate::scalar::{Scalar, Zeroed};

/// A value made of a fixed list of parameter tensors, each seen as a flat
/// slice of scalars.
///
/// Layers implement it for their learnable parameters (activations have
/// none), gradients implement it with the same tensors in the same order.
pub trait Tensors<T: Scalar> {
    /// How many tensors there are.
    const COUNT: usize;
    /// How many scalars there are in all tensors together.
    const LEN: usize;

    /// Tensor `i` (`0 ≤ i < COUNT`) as a flat slice; empty when `i` is out
    /// of range.
    fn tensor(&self, i: usize) -> &[T];
    /// Tensor `i` as a flat mutable slice; empty when `i` is out of range.
    fn tensor_mut(&mut self, i: usize) -> &mut [T];

    /// Calls `f` with the index and the slice of each tensor, in order.
    ///
    /// The same as calling [`tensor`](Tensors::tensor) for each index, but
    /// composite values ([`Chain`](crate::Chain), networks) call their
    /// parts' `for_each_tensor` in turn, so that for a network the loop is
    /// straight-line code with every index known at compile time. Optimisers
    /// and the training loop go through this.
    #[inline]
    fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[T])) {
        for i in 0..Self::COUNT {
            f(i, self.tensor(i));
        }
    }

    /// Calls `f` with the index and the mutable slice of each tensor, in
    /// order; see [`for_each_tensor`](Tensors::for_each_tensor).
    #[inline]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [T])) {
        for i in 0..Self::COUNT {
            f(i, self.tensor_mut(i));
        }
    }

    /// Whether every scalar in every tensor is finite (neither NaN nor
    /// infinite).
    ///
    /// Training runs this on every gradient, which is nearly always
    /// finite, so it reads every tensor whole: with the vector kernels for
    /// `f32`, otherwise in blocks of 16 scalars without stopping inside a
    /// block, which the compiler turns into vector compares.
    ///
    /// Composite values ([`Chain`](crate::Chain), networks, gradients)
    /// combine their parts' answers, and [`Dense`](crate::Dense) checks its
    /// own arrays, so the check is inlined with every length known.
    #[inline]
    fn all_finite(&self) -> bool {
        let mut all = true;
        self.for_each_tensor(&mut |_, tensor| all &= all_finite(tensor));
        all
    }

    /// The sum of the squares of all scalars (the squared Euclidean norm).
    fn norm_squared(&self) -> T {
        let mut sum = T::ZERO;
        self.for_each_tensor(&mut |_, tensor| {
            sum = tensor.iter().fold(sum, |acc, &x| acc + x * x);
        });
        sum
    }
}

/// Whether every scalar in `xs` is finite: with the vector kernels for long
/// `f32` slices, otherwise in blocks of 16 scalars without stopping inside a
/// block, which the compiler turns into vector compares. Always inlined, so
/// that the length is known and a short slice is a few instructions.
#[inline(always)]
pub(crate) fn all_finite<T: Scalar>(xs: &[T]) -> bool {
    if xs.len() >= 64
        && let Some(finite) = T::simd_all_finite(xs)
    {
        return finite;
    }
    let block = |xs: &[T]| xs.iter().fold(true, |ok, x| ok & x.is_finite());
    let (blocks, rest) = xs.as_chunks::<16>();
    blocks.iter().fold(true, |ok, b| ok & block(b)) & block(rest)
}

impl<T: Scalar> Tensors<T> for () {
    const COUNT: usize = 0;
    const LEN: usize = 0;

    fn tensor(&self, _: usize) -> &[T] {
        &[]
    }
    fn tensor_mut(&mut self, _: usize) -> &mut [T] {
        &mut []
    }
}

/// A value with learnable parameters, and the type of their gradient: a
/// value with the same tensors in the same order.
///
/// The gradient type depends only on the layer, not on its input, so a
/// network's [`Gradients`](crate::Gradients) are known without solving any
/// shape constraint.
pub trait Parameters<T: Scalar>: Tensors<T> {
    /// The gradient of a loss with respect to these parameters (`()` for a
    /// layer without parameters).
    type Grad: Tensors<T> + Zeroed + Clone;
}
