//! Parameter-shaped values seen as a list of flat tensors.
//!
//! A network's parameters, its gradients and an optimiser's state (momentum
//! velocity) all have the same shape: the tensors its layers describe (a
//! weight matrix and a bias vector per dense layer). [`Tensors`] exposes
//! such a value as a fixed list of flat slices, in the same order for all
//! three, so that an optimiser is a few lines of slice arithmetic that
//! works for every network and allocates nothing.

use crate::scalar::Scalar;

/// A value made of a fixed list of parameter tensors, each seen as a flat
/// slice of scalars.
///
/// A layer describes its tensors once, in [`TENSORS`](Tensors::TENSORS)
/// (activations have none); a [`Chain`](crate::Chain) and a network list
/// their layers' tensors in order, and a network's
/// [`Gradients`](crate::Gradients) the same tensors in the same order.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not compute in `{T}`: it has no `Tensors<{T}>` impl",
    label = "not a layer of `{T}`",
    note = "every layer of a network computes in the network's scalar type; a layer of your own implements `Tensors<T>` (with an empty body when it has no parameters)"
)]
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
        // The first three tensors one by one, with constant indices, so
        // that their accessors are known and inlined: a loop that the
        // compiler does not unroll (its body is an optimiser's update)
        // would call them through pointers.
        if let Some(tensor) = Self::TENSORS.first() {
            f(0, tensor.get(self));
        }
        if let Some(tensor) = Self::TENSORS.get(1) {
            f(1, tensor.get(self));
        }
        if let Some(tensor) = Self::TENSORS.get(2) {
            f(2, tensor.get(self));
        }
        for i in 3..Self::COUNT {
            f(i, self.tensor(i));
        }
    }

    /// Calls `f` with the index and the mutable slice of each tensor, in
    /// order; see [`for_each_tensor`](Tensors::for_each_tensor).
    #[inline(always)]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [T])) {
        // As in `for_each_tensor`.
        if let Some(tensor) = Self::TENSORS.first() {
            f(0, tensor.get_mut(self));
        }
        if let Some(tensor) = Self::TENSORS.get(1) {
            f(1, tensor.get_mut(self));
        }
        if let Some(tensor) = Self::TENSORS.get(2) {
            f(2, tensor.get_mut(self));
        }
        for i in 3..Self::COUNT {
            f(i, self.tensor_mut(i));
        }
    }

    /// Whether every scalar in every tensor is finite (neither NaN nor
    /// infinite).
    ///
    /// It expects to find nothing (a trained network's parameters, a
    /// gradient), so it reads every tensor whole: with the vector kernels for
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

/// How a tensor's values are drawn when a network is created at random.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fill {
    /// All zero (a dense layer's bias).
    Zeros,
    /// All one (a scale).
    Ones,
    /// Uniform by the [`Init`](crate::Init) scheme that suits the following activation,
    /// with the fan-in and fan-out of a `[outputs, inputs]` matrix (a
    /// dense layer's weight).
    Random,
}

/// One parameter tensor of a layer `L` with scalars `T`: its name, its
/// shape, how it starts, and where it is in the layer.
///
/// `shape` is `[rows, columns]` for a matrix stored row by row and `[len]`
/// for a vector; `get` and `get_mut` give the tensor as one flat slice of
/// `shape`'s product of scalars. The constructor says how the tensor starts
/// in a new network.
///
/// ```
/// use constnet::tensors::Tensor;
///
/// struct Scale([f32; 3]);
/// // A tensor named "scale" of 3 values, the layer's field `.0`, starting at one.
/// const SCALE: Tensor<Scale, f32> = Tensor::ones("scale", &[3], |s| &s.0, |s| &mut s.0);
///
/// let mut layer = Scale([0.5, 2.0, 4.0]);
/// assert_eq!(SCALE.info().shape, &[3]);
/// SCALE.get_mut(&mut layer)[1] = 3.0;
/// assert_eq!(SCALE.get(&layer), &[0.5, 3.0, 4.0]);
/// ```
pub struct Tensor<L, T> {
    name: &'static str,
    shape: &'static [usize],
    fill: Fill,
    get: fn(&L) -> &[T],
    get_mut: fn(&mut L) -> &mut [T],
}

impl<L, T> Tensor<L, T> {
    /// A tensor that starts at zero (a bias).
    pub const fn zeros(
        name: &'static str,
        shape: &'static [usize],
        get: fn(&L) -> &[T],
        get_mut: fn(&mut L) -> &mut [T],
    ) -> Self {
        Tensor {
            name,
            shape,
            fill: Fill::Zeros,
            get,
            get_mut,
        }
    }

    /// A tensor that starts at one (a scale).
    pub const fn ones(
        name: &'static str,
        shape: &'static [usize],
        get: fn(&L) -> &[T],
        get_mut: fn(&mut L) -> &mut [T],
    ) -> Self {
        Tensor {
            fill: Fill::Ones,
            ..Self::zeros(name, shape, get, get_mut)
        }
    }

    /// A tensor drawn at random (a weight; see [`Fill::Random`]).
    pub const fn random(
        name: &'static str,
        shape: &'static [usize],
        get: fn(&L) -> &[T],
        get_mut: fn(&mut L) -> &mut [T],
    ) -> Self {
        Tensor {
            fill: Fill::Random,
            ..Self::zeros(name, shape, get, get_mut)
        }
    }

    /// What the tensor is, without the layer type.
    pub const fn info(&self) -> TensorInfo {
        TensorInfo {
            name: self.name,
            shape: self.shape,
            fill: self.fill,
        }
    }

    /// The tensor's values in `layer`.
    #[inline(always)]
    pub fn get<'a>(&self, layer: &'a L) -> &'a [T] {
        (self.get)(layer)
    }

    /// The tensor's values in `layer`, mutably.
    #[inline(always)]
    pub fn get_mut<'a>(&self, layer: &'a mut L) -> &'a mut [T] {
        (self.get_mut)(layer)
    }
}

/// A tensor's name, shape and start, as the formats see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorInfo {
    /// Its name (`"weight"`), unique within its layer.
    pub name: &'static str,
    /// Its shape: `[rows, columns]` of a row-major matrix, or `[len]`.
    pub shape: &'static [usize],
    /// How it is drawn at random.
    pub fill: Fill,
}

impl TensorInfo {
    /// The number of scalars.
    pub const fn len(&self) -> usize {
        let mut len = 1;
        let mut i = 0;
        while i < self.shape.len() {
            len *= self.shape[i];
            i += 1;
        }
        len
    }

    /// Whether it holds no scalar.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The number of scalars in all of `tensors`.
const fn total_len<L, T>(tensors: &[Tensor<L, T>]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < tensors.len() {
        len += tensors[i].info().len();
        i += 1;
    }
    len
}

/// `f`, typed as a walk's closure over mutable tensors.
#[inline(always)]
pub(crate) fn walk_mut<T, F: FnMut(usize, &mut [T])>(f: F) -> F {
    f
}
