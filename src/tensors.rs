//! Parameter-shaped values seen as a list of flat tensors.
//!
//! A network's parameters, its gradients and an optimiser's state (momentum
//! velocity) all have the same shape: the tensors its layers describe (a
//! weight matrix and a bias vector per dense layer). [`Tensors`] exposes
//! such a value as a fixed list of flat slices, in the same order for all
//! three, so that an optimiser is a few lines of slice arithmetic that
//! works for every network and allocates nothing.

use crate::layer::{Tensor, total_len};
use crate::scalar::Scalar;

/// A value made of a fixed list of parameter tensors, each seen as a flat
/// slice of scalars.
///
/// A layer describes its tensors once, in [`TENSORS`](Tensors::TENSORS)
/// (activations have none); a [`Chain`](crate::Chain) and a network list
/// their layers' tensors in order, and a network's
/// [`Gradients`](crate::Gradients) the same tensors in the same order.
pub trait Tensors<T: Scalar>: Sized + 'static {
    /// A layer's parameter tensors, in order: each one's name, shape,
    /// start and place in the layer (none by default). Everything else in
    /// this trait follows from it for a layer; a layer without parameters
    /// implements the trait with an empty body.
    ///
    /// A [`Chain`](crate::Chain), a network and its gradients list their
    /// layers' tensors instead, through the other items.
    const TENSORS: &'static [Tensor<Self, T>] = &[];

    /// How many tensors there are.
    const COUNT: usize = Self::TENSORS.len();
    /// How many scalars there are in all tensors together.
    const LEN: usize = total_len(Self::TENSORS);

    /// Tensor `i` (`0 ≤ i < COUNT`) as a flat slice; empty when `i` is out
    /// of range.
    #[inline(always)]
    fn tensor(&self, i: usize) -> &[T] {
        match Self::TENSORS.get(i) {
            Some(tensor) => tensor.get(self),
            None => &[],
        }
    }

    /// Tensor `i` as a flat mutable slice; empty when `i` is out of range.
    #[inline(always)]
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        match Self::TENSORS.get(i) {
            Some(tensor) => tensor.get_mut(self),
            None => &mut [],
        }
    }

    /// Calls `f` with the index and the slice of each tensor, in order.
    ///
    /// The same as calling [`tensor`](Tensors::tensor) for each index, but
    /// composite values ([`Chain`](crate::Chain), networks) call their
    /// parts' `for_each_tensor` in turn, so that for a network the loop is
    /// straight-line code with every index known at compile time. Optimisers
    /// and the training loop go through this.
    #[inline(always)]
    fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[T])) {
        for i in 0..Self::COUNT {
            f(i, self.tensor(i));
        }
    }

    /// Calls `f` with the index and the mutable slice of each tensor, in
    /// order; see [`for_each_tensor`](Tensors::for_each_tensor).
    #[inline(always)]
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
    #[inline(always)]
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
