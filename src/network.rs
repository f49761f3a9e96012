//! Networks: a stack of layers with a fixed input and output width, and
//! what a user does with one (create, predict, classify, measure).
//!
//! The [`network!`](crate::network!) macro builds a named type that
//! implements [`Network`]; training comes from [`Train`](crate::Train).

use core::fmt;

use num_traits::Float;
use rand::Rng;

use crate::layer::{Init, Layer};
use crate::scalar::{Scalar, Vector, Zeroed, argmax};
use crate::tensors::Tensors;

/// The most parameters a network may have for its passes on one sample to
/// be compiled for the widest instruction set as a whole
/// ([`Network::predict`]).
pub(crate) const SMALL_NETWORK: usize = 1024;

/// A network: layers that map an [`Input`](Network::Input) vector to an
/// [`Output`](Network::Output) vector, with the shape of every layer in
/// its type.
///
/// Implemented by the types [`network!`](crate::network!) builds; the
/// required items are for that macro, the provided ones for users.
pub trait Network: Sized + bytemuck::Zeroable + 'static {
    /// The scalar type (`f32` or `f64`).
    type Scalar: Scalar;
    /// The input of one sample, `[Scalar; I]`.
    type Input: Vector<Scalar = Self::Scalar>;
    /// The output of one sample, `[Scalar; O]`.
    type Output: Vector<Scalar = Self::Scalar>;
    /// The layers, composed with [`Chain`](crate::Chain).
    type Layers: Layer<Self::Input, Output = Self::Output>;

    /// The layers.
    fn layers(&self) -> &Self::Layers;
    /// The layers, mutably (an optimiser updates them in place).
    fn layers_mut(&mut self) -> &mut Self::Layers;
    /// The network made of these layers.
    fn from_layers(layers: Self::Layers) -> Self;

    /// Gives the layers whose setting is written in
    /// [`network!`](crate::network!) (`LeakyRelu(0.2)`) that setting;
    /// nothing for a network without. A new network (from
    /// [`random`](Network::random), [`random_boxed`](Network::random_boxed)
    /// or a PyTorch import) has had it called; a network loaded from a file
    /// has the settings stored in the file.
    fn write_settings(&mut self) {}

    /// The number of learnable parameters (weights and biases).
    const PARAMETERS: usize = <Self::Layers as Tensors<Self::Scalar>>::LEN;

    /// A network with random parameters from `rng`: each dense layer takes
    /// the scheme that suits the activation after it (He before ReLU,
    /// Xavier otherwise; see [`Init`]). The same seed gives bit-identical
    /// parameters.
    ///
    /// The network is a value on the stack: training it there with SGD's
    /// momentum needs about 15 bytes of stack per `f32` parameter (measured
    /// by `tests/stack.rs`; 8 MiB trains about 550,000). For larger
    /// networks use [`random_boxed`](Network::random_boxed) and the
    /// optimisers' `boxed` constructors (see [`heap`](crate::heap)).
    fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut net = Self::from_layers(Layer::random_layers(rng, None, Init::Xavier));
        net.write_settings();
        net
    }

    /// A network with random parameters, every dense layer initialised
    /// with `init`.
    fn random_with<R: Rng + ?Sized>(rng: &mut R, init: Init) -> Self {
        let mut net = Self::from_layers(Layer::random_layers(rng, Some(init), Init::Xavier));
        net.write_settings();
        net
    }

    /// [`random`](Network::random), built directly on the heap: no copy of
    /// the network passes through the stack, so it may be larger than the
    /// stack. The same seed gives the same parameters as `random`.
    #[cfg(feature = "alloc")]
    fn random_boxed<R: Rng + ?Sized>(rng: &mut R) -> alloc::boxed::Box<Self> {
        let mut net = crate::heap::zeroed_box::<Self>();
        net.layers_mut().randomize(rng, None, Init::Xavier);
        net.write_settings();
        net
    }

    /// Layer `K` as written in [`network!`](crate::network!), counting
    /// from 0 (activations and networks used as layers count as one):
    /// `net.layer::<2>()` is the third layer, with its type, whatever the
    /// nesting of the [`Chain`](crate::Chain) that holds it.
    ///
    /// ```
    /// use constnet::prelude::*;
    ///
    /// network! {
    ///     /// A 2-8-1 regressor.
    ///     struct Net<f32> { 2 => Dense<8>, LeakyRelu, Dense<1> }
    /// }
    ///
    /// let mut net = Net::random(&mut SmallRng::seed_from_u64(1));
    /// let last: &Dense<f32, 8, 1> = net.layer::<2>();
    /// assert_eq!(last.bias, [0.0]);
    /// net.layer_mut::<1>().slope = 0.2;
    /// assert_eq!(net.layers().1.0.slope, 0.2); // the same layer, the long way
    /// ```
    ///
    /// A layer the network does not have does not compile:
    ///
    /// ```compile_fail
    /// use constnet::prelude::*;
    ///
    /// network! { struct Net<f32> { 2 => Dense<8>, LeakyRelu, Dense<1> } }
    /// let net = Net::random(&mut SmallRng::seed_from_u64(1));
    /// let _ = net.layer::<3>();
    /// ```
    fn layer<const K: usize>(&self) -> &<Self as LayerAt<K>>::Layer
    where
        Self: LayerAt<K>,
    {
        self.layer_at()
    }

    /// Layer `K`, mutably (see [`layer`](Network::layer)).
    fn layer_mut<const K: usize>(&mut self) -> &mut <Self as LayerAt<K>>::Layer
    where
        Self: LayerAt<K>,
    {
        self.layer_at_mut()
    }

    /// The output for one input.
    fn predict(&self, x: &Self::Input) -> Self::Output {
        let mut y = [Zeroed::ZERO];
        // A small network's whole pass, compiled for the widest instruction
        // set there is: its activations then take one vector register (a
        // tanh over 8 values is one AVX pass, not two SSE ones). Larger
        // networks spend their time in the matrix kernels, which choose
        // their own set. The same operations in the same order (Rust fuses
        // no multiply-adds), so the same bits on every level.
        if Self::PARAMETERS <= SMALL_NETWORK {
            crate::simd::vectorized(
                #[inline(always)]
                || self.layers().forward(core::array::from_ref(x), &mut y),
            );
        } else {
            self.layers().forward(core::array::from_ref(x), &mut y);
        }
        let [y] = y;
        y
    }

    /// The outputs for a batch of `B` inputs, computed together.
    fn predict_batch<const B: usize>(&self, x: &[Self::Input; B]) -> [Self::Output; B] {
        let mut y = [Zeroed::ZERO; B];
        self.layers().forward(x, &mut y);
        y
    }

    /// The predicted class of one input: the arg-max of the output, or, for
    /// a network with a single output, `1` when it exceeds `0.5` and `0`
    /// otherwise.
    fn classify(&self, x: &Self::Input) -> usize {
        class_of(self.predict(x).as_slice())
    }

    /// A printable summary: one row per layer (its kind and setting, input
    /// and output width, parameters), then the number of parameters, their
    /// bytes, and the bytes a training step keeps beside the network
    /// (gradients and optimiser state), in the network's scalar type.
    /// `no_std`: printing it allocates nothing.
    ///
    /// ```
    /// use constnet::prelude::*;
    ///
    /// network! {
    ///     /// A 4-16-3 classifier.
    ///     struct Net<f32> { 4 => Dense<16>, LeakyRelu(0.2), Dense<3> }
    /// }
    ///
    /// let net = Net::random(&mut SmallRng::seed_from_u64(1));
    /// let text = net.summary().to_string();
    /// println!("{text}");
    /// assert!(text.contains("LeakyRelu (slope 0.2)"));
    /// assert!(text.contains("parameters: 131 (524 B of f32)"));
    /// ```
    fn summary(&self) -> crate::summary::Summary<'_, Self> {
        crate::summary::Summary::new(self)
    }

    /// The fraction of samples whose predicted class equals their label
    /// (`0.0` for an empty data set).
    fn accuracy<L: Label<Self::Output>>(&self, data: &[(Self::Input, L)]) -> f64 {
        let correct = data
            .iter()
            .filter(|(x, label)| self.classify(x) == label.class())
            .count();
        correct as f64 / data.len().max(1) as f64
    }
}

/// Layer `K` of a network, counting from 0 in the order written in
/// [`network!`](crate::network!), which implements it for every layer;
/// used through [`Network::layer`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no layer {K}",
    label = "no layer {K} in `{Self}`",
    note = "layers are counted from 0, in the order they are written in `network!`"
)]
pub trait LayerAt<const K: usize>: Network {
    /// The type of layer `K`.
    type Layer;
    /// Layer `K`.
    fn layer_at(&self) -> &Self::Layer;
    /// Layer `K`, mutably.
    fn layer_at_mut(&mut self) -> &mut Self::Layer;
}

/// Implemented by a scalar type for itself only: `network!` checks with it
/// that a layer written with its scalar type (`Dense<f64, 8, 1>`) computes
/// in the network's.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a layer of `{Self}` in a network of `{T}`: all layers of a network compute in its scalar type",
    label = "this layer's scalar type is `{Self}`, the network's is `{T}`",
    note = "write the layer without its scalar type (`Dense<8, 1>`): it then computes in the network's"
)]
pub trait SameScalar<T> {}

impl<T> SameScalar<T> for T {}

/// Compiles only when `S` is `T`; see [`SameScalar`].
#[doc(hidden)]
pub const fn same_scalar<S: SameScalar<T>, T>() {}

/// The class a vector stands for: the arg-max, or for a single value,
/// whether it exceeds one half.
pub(crate) fn class_of<T: Scalar>(y: &[T]) -> usize {
    match y {
        [p] => usize::from(*p > T::from_f64(0.5)),
        _ => argmax(y),
    }
}

/// A label that names a class for a network whose output is `Y`: a class
/// index, or a vector of the output's own type (width and scalar), one-hot
/// or a probability distribution, whose class is its arg-max. A one-wide
/// vector is a binary label: class `1` when it exceeds `0.5`. A vector of
/// another width or scalar type is not a label for `Y`, so it does not
/// compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a label for a network whose output is `{Y}`",
    label = "labels must be class indices (`usize`) or vectors of type `{Y}`",
    note = "a vector label has the network's output width and scalar type"
)]
pub trait Label<Y> {
    /// The class.
    fn class(&self) -> usize;
}

impl<Y> Label<Y> for usize {
    fn class(&self) -> usize {
        *self
    }
}

impl<T: Scalar, const N: usize> Label<[T; N]> for [T; N] {
    fn class(&self) -> usize {
        class_of(self)
    }
}

/// The gradient of a loss with respect to the parameters of a network `N`:
/// a value of `N`'s layers' type, whose tensors hold the gradients. Also
/// the shape of optimiser state.
///
/// It is typed by the network, so the gradients of one network type do not
/// type-check as another's.
#[derive(bytemuck::Zeroable)]
#[zeroable(bound = "")]
#[repr(transparent)]
pub struct Gradients<N: Network>(pub N::Layers);

#[cfg(feature = "alloc")]
impl<N: Network> Gradients<N> {
    /// Zero gradients built directly on the heap (see [`heap`](crate::heap)).
    pub fn boxed() -> alloc::boxed::Box<Self> {
        crate::heap::zeroed_box()
    }
}

impl<N: Network> Clone for Gradients<N> {
    fn clone(&self) -> Self {
        Gradients(self.0.clone())
    }
}

impl<N: Network> PartialEq for Gradients<N> {
    /// Equal when every scalar is equal.
    fn eq(&self, other: &Self) -> bool {
        (0..<Self as Tensors<N::Scalar>>::COUNT).all(|i| self.tensor(i) == other.tensor(i))
    }
}

impl<N: Network> fmt::Debug for Gradients<N> {
    /// Prints the size and the Euclidean norm, not the numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gradients")
            .field("len", &<Self as Tensors<N::Scalar>>::LEN)
            .field("norm", &self.norm_squared().sqrt())
            .finish()
    }
}

impl<N: Network> Tensors<N::Scalar> for Gradients<N> {
    const COUNT: usize = <N::Layers as Tensors<N::Scalar>>::COUNT;
    const LEN: usize = <N::Layers as Tensors<N::Scalar>>::LEN;

    fn tensor(&self, i: usize) -> &[N::Scalar] {
        self.0.tensor(i)
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [N::Scalar] {
        self.0.tensor_mut(i)
    }
    #[inline]
    fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[N::Scalar])) {
        self.0.for_each_tensor(f);
    }
    #[inline]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [N::Scalar])) {
        self.0.for_each_tensor_mut(f);
    }
    #[inline]
    fn all_finite(&self) -> bool {
        self.0.all_finite()
    }
}
