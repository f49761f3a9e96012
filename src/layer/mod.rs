//! Layers: what a layer computes ([`Layer`], or the shorter [`Map`] and
//! [`Elementwise`]), what it is ([`Describe`]), and composition
//! ([`Chain`], [`Architecture`]).
//!
//! A layer maps a batch of `B` input vectors to a batch of `B` output
//! vectors. Its input type is the trait's parameter and its output type an
//! associated type, so a composition ([`Chain`]) of two layers only exists
//! when the first one's output is the second one's input: shapes are checked
//! by the compiler, not at run time.
//!
//! Backpropagation takes two kinds of derivative (see [`Layer::backward`]):
//! with respect to a layer's **input**, carried backwards to the layer
//! before, and with respect to its **parameters**, stored in the layer's
//! gradient. Activations only have the first kind; [`Dense`] has both.
//!
//! # Writing your own layer
//!
//! A layer is a type that says what it is ([`Describe`]: a name; and
//! [`Tensors`]: its parameter tensors, if it has any) and what it
//! computes, in one of three ways, from the shortest to the most general:
//!
//! | trait | you write | for |
//! |---|---|---|
//! | [`Elementwise`] | `f(x)` and `f′` (from `x` or `y = f(x)`) | activations; `Describe` and `Tensors` come with it |
//! | [`Map`] | one sample: `y = f(x)`, and `dx` from `dy` (adding to the parameters' gradient) | any layer, width-changing or with parameters |
//! | [`Layer`] | a whole batch, with a trace kept for the backward pass | kernels that work on the batch at once ([`Dense`]) |
//!
//! Everything else (training, the optimisers, saving and loading, serde,
//! the PyTorch import, export as Rust source, `network!`, heap
//! construction) comes from these. constnet's own layers are written the
//! same way: [`Relu`] is an [`Elementwise`], [`Softmax`] a [`Map`].
//!
//! ```
//! use constnet::layer::{Describe, Elementwise, LayerKind, Map, Tensor};
//! use constnet::prelude::*;
//!
//! /// softplus(x) = ln(1 + eˣ), whose derivative is 1 − e^(−y).
//! #[derive(Clone, Copy, Debug, Zeroable)]
//! struct Softplus;
//!
//! impl Elementwise for Softplus {
//!     const KIND: LayerKind = LayerKind::named("Softplus");
//!     fn f<T: Scalar>(&self, x: T) -> T {
//!         (T::ONE + x.exp()).ln()
//!     }
//!     fn df<T: Scalar>(&self, _x: T, y: T) -> T {
//!         T::ONE - (-y).exp()
//!     }
//! }
//!
//! /// y = s ⊙ x, with a learned scale `s` per input.
//! #[derive(Clone, Copy, Debug, Zeroable)]
//! struct Scale<T, const N: usize>([T; N]);
//!
//! impl<T: Scalar, const N: usize> Describe for Scale<T, N> {
//!     const KIND: LayerKind = LayerKind::named("Scale");
//! }
//!
//! impl<T: Scalar, const N: usize> Tensors<T> for Scale<T, N> {
//!     const TENSORS: &'static [Tensor<Self, T>] =
//!         &[Tensor::ones("scale", &[N], |s| &s.0, |s| &mut s.0)];
//! }
//!
//! impl<T: Scalar, const N: usize> Map<[T; N]> for Scale<T, N> {
//!     type Output = [T; N];
//!     fn map(&self, x: &[T; N]) -> [T; N] {
//!         core::array::from_fn(|i| self.0[i] * x[i])
//!     }
//!     fn grad(&self, x: &[T; N], _y: &[T; N], dy: &[T; N], g: &mut Self) -> [T; N] {
//!         (0..N).for_each(|i| g.0[i] += dy[i] * x[i]);
//!         core::array::from_fn(|i| dy[i] * self.0[i])
//!     }
//! }
//!
//! network! {
//!     /// Both, between dense layers.
//!     struct Net<f32> { 2 => Dense<4>, Softplus, Scale<f32, 4>, Dense<1> }
//! }
//!
//! let mut rng = SmallRng::seed_from_u64(1);
//! let mut net = Net::random(&mut rng);
//! let mut opt = Sgd::new(0.1);
//! let mut data = [([0.0, 1.0], [1.0]), ([1.0, 0.0], [-1.0])];
//! let before = net.mean_loss(&data, &Mse)?;
//! for _ in 0..50 {
//!     net.train_epoch::<2>(&mut data, &Mse, &mut opt, &mut rng)?;
//! }
//! assert!(net.mean_loss(&data, &Mse)? < before / 10.0);
//! assert_eq!(Net::PARAMETERS, 2 * 4 + 4 + 4 + 4 * 1 + 1);
//! # Ok::<(), constnet::TrainError>(())
//! ```
//!
//! A layer's gradient is a value of its own type, so a layer is `Clone` and
//! [`Zeroable`](bytemuck::Zeroable): derive both (the derive needs the
//! `bytemuck` crate as a dependency, or
//! `#[bytemuck(crate = "constnet::bytemuck")]` beside it).

mod activation;
mod chain;
mod dense;
mod describe;
mod init;

pub(crate) use activation::softmax;
pub use activation::{Elementwise, Identity, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use chain::{Chain, ChainTrace, Then};
pub use dense::Dense;
pub(crate) use describe::{total_len, write_arguments};
pub use describe::{
    Describe, Fill, LayerInfo, LayerKind, MAX_NAME_LEN, Setting, Tensor, TensorInfo,
};
pub use init::Init;

use core::fmt::{self, Write};

use rand::Rng;

use crate::scalar::{Vector, Zeroed};
use crate::tensors::Tensors;

/// A differentiable function from a batch of `X` vectors to a batch of
/// [`Output`](Layer::Output) vectors, with its backward pass.
///
/// Every method takes the batch size `B` as a const generic, so a batch of
/// samples goes through as matrix–matrix work, and a single sample is a
/// batch of one. Nothing here allocates: buffers live on the caller's stack.
///
/// A layer's gradient is a value of the layer's own type: `backward` adds
/// to the gradient's tensors (see [`Tensors`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{X}` as its input",
    label = "this layer does not accept an input of type `{X}`",
    note = "the output width of each layer must equal the input width of the next one"
)]
pub trait Layer<X: Vector>: Tensors<X::Scalar> + bytemuck::Zeroable + Clone {
    /// The vector this layer produces for one sample.
    type Output: Vector<Scalar = X::Scalar>;
    /// What the training forward pass keeps for the backward pass, beyond
    /// the layer's input and output (which the caller keeps): `()` for a
    /// single layer, the intermediate activations for a [`Chain`].
    type Trace<const B: usize>: bytemuck::Zeroable;

    /// How many layers this is made of: 1, or for a [`Chain`] the sum of
    /// its two parts.
    const DEPTH: usize = 1;

    /// The training forward pass: `y = f(x)` for a batch, keeping in `trace`
    /// what [`backward`](Layer::backward) will need.
    fn forward_train<const B: usize>(
        &self,
        x: &[X; B],
        y: &mut [Self::Output; B],
        trace: &mut Self::Trace<B>,
    );

    /// The inference forward pass: `y = f(x)` for a batch.
    #[inline]
    fn forward<const B: usize>(&self, x: &[X; B], y: &mut [Self::Output; B]) {
        let mut trace = Zeroed::ZERO;
        self.forward_train(x, y, &mut trace);
    }

    /// The backward pass, given the input `x`, output `y` and `trace` of
    /// [`forward_train`](Layer::forward_train) and the gradient `dy` of the
    /// loss with respect to `y`:
    ///
    /// 1. **adds** the gradient with respect to the parameters to `grad`
    ///    (the second kind of derivative: stored, not carried on);
    /// 2. if `dx` is given, **writes** the gradient with respect to the
    ///    input into it (the first kind: the running product of the chain
    ///    rule, carried back to the layer before). The first layer of a
    ///    network is called with `None`, which saves its largest product.
    fn backward<const B: usize>(
        &self,
        x: &[X; B],
        y: &[Self::Output; B],
        dy: &[Self::Output; B],
        trace: &Self::Trace<B>,
        grad: &mut Self,
        dx: Option<&mut [X; B]>,
    );
}

/// A layer written one sample at a time: `y = f(x)` and, for the backward
/// pass, `dx = (∂f/∂x)ᵀ dy`, adding the gradient with respect to the
/// parameters to `grad`. Every `Map` is a [`Layer`] (batches go through
/// sample by sample, with no trace), so it is all a layer of your own
/// needs beside [`Describe`]; see the [module documentation](self).
pub trait Map<X: Vector>: Describe + Tensors<X::Scalar> {
    /// The vector this layer produces for one sample.
    type Output: Vector<Scalar = X::Scalar>;

    /// `y = f(x)` for one sample.
    fn map(&self, x: &X) -> Self::Output;

    /// For one sample with input `x`, output `y` and gradient `dy` of the
    /// loss with respect to `y`: adds the gradient with respect to the
    /// parameters to `grad` (nothing for a layer without parameters) and
    /// returns the gradient with respect to `x`.
    fn grad(&self, x: &X, y: &Self::Output, dy: &Self::Output, grad: &mut Self) -> X;

    /// `map` for a batch; override it to compute a whole batch at once.
    #[inline]
    fn map_batch<const B: usize>(&self, x: &[X; B], y: &mut [Self::Output; B]) {
        for (x, y) in x.iter().zip(y.iter_mut()) {
            *y = self.map(x);
        }
    }

    /// `grad` for a batch, writing `dx` when it is given; override it with
    /// [`map_batch`](Map::map_batch).
    #[inline]
    fn grad_batch<const B: usize>(
        &self,
        x: &[X; B],
        y: &[Self::Output; B],
        dy: &[Self::Output; B],
        grad: &mut Self,
        dx: Option<&mut [X; B]>,
    ) {
        match dx {
            Some(dx) => {
                for (((x, y), dy), dx) in x.iter().zip(y).zip(dy).zip(dx.iter_mut()) {
                    *dx = self.grad(x, y, dy, grad);
                }
            }
            // Without parameters, nothing is left to compute.
            None if Self::COUNT == 0 => {}
            None => {
                for ((x, y), dy) in x.iter().zip(y).zip(dy) {
                    self.grad(x, y, dy, grad);
                }
            }
        }
    }
}

impl<X: Vector, M: Map<X> + Describe> Layer<X> for M {
    type Output = M::Output;
    type Trace<const B: usize> = ();

    #[inline]
    fn forward_train<const B: usize>(&self, x: &[X; B], y: &mut [M::Output; B], _: &mut ()) {
        self.map_batch(x, y);
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &[X; B],
        y: &[M::Output; B],
        dy: &[M::Output; B],
        _: &(),
        grad: &mut Self,
        dx: Option<&mut [X; B]>,
    ) {
        self.grad_batch(x, y, dy, grad, dx);
    }
}

/// A list of layers taking `X`: what each one is, in order, with its
/// widths, and what is done with all of them at once (random
/// initialisation, export). Every format reads a network through this.
///
/// It is implemented for every layer that [`Describe`]s itself (a list of
/// one), for [`Chain`] (the layers of both parts) and for every network
/// made by [`network!`](crate::network!) (its layers), so a network used
/// as a layer adds its layers to the list. For a network made by
/// `network!` the list is the layers as written, so layer `i` is module
/// `i` of the equivalent PyTorch `nn.Sequential`.
///
/// ```
/// use constnet::layer::{Architecture, LayerKind};
/// use constnet::prelude::*;
///
/// type Layers = Chain<Dense<f32, 4, 8>, Chain<Relu, Dense<f32, 8, 3>>>;
/// assert_eq!(<Layers as Architecture<[f32; 4]>>::LAYERS, 3);
/// let relu = <Layers as Architecture<[f32; 4]>>::layer(1).unwrap();
/// assert_eq!((relu.kind, relu.inputs, relu.outputs), (LayerKind::RELU, 8, 8));
/// assert_eq!(<Layers as Architecture<[f32; 4]>>::layer(2).unwrap().to_string(), "Dense<8→3>");
/// assert_eq!(<Layers as Architecture<[f32; 4]>>::layer(3), None);
/// ```
pub trait Architecture<X: Vector>: Layer<X> {
    /// How many layers there are (1 for a single layer).
    const LAYERS: usize;
    /// The largest input or output width of any layer.
    const MAX_WIDTH: usize;
    /// The bytes the layers' names take in constnet's format: a length
    /// byte and the name, for each layer known by its name.
    const NAME_BYTES: usize;
    /// The scheme that suits a dense layer placed right before the first
    /// layer (see [`Describe::INIT_BEFORE`]).
    const INIT_BEFORE: Init;

    /// What layer `index` is, or `None` when `index ≥ LAYERS`.
    fn layer(index: usize) -> Option<LayerInfo>;

    /// Tensor `i` of layer `index`, or `None` when there is no such
    /// tensor. The tensors of all layers, in order, are this value's
    /// [`Tensors`].
    fn tensor_info(index: usize, i: usize) -> Option<TensorInfo>;

    /// The setting of layer `index`, or `None` for a layer without one.
    fn setting(&self, index: usize) -> Option<f32>;

    /// Sets the setting of layer `index`; returns whether it has one.
    fn set_setting(&mut self, index: usize, value: f32) -> bool;

    /// Draws every parameter again, in place: each tensor by its
    /// [`Fill`], random ones by `force` if it is given and otherwise by the
    /// scheme the next layer asks for (`next` after the last), and every
    /// setting back to its default.
    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init);

    /// Writes the layers' types as a `network!` list, comma-separated
    /// (see [`Describe::write_type`]).
    fn write_types(out: &mut dyn Write) -> fmt::Result;

    /// Writes a `const` expression that builds these layers (see
    /// [`Describe::write_value`]).
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result;
}

impl<X, L> Architecture<X> for L
where
    X: Vector,
    L: Describe + Layer<X>,
{
    const LAYERS: usize = 1;
    const MAX_WIDTH: usize = if X::LEN > L::Output::LEN {
        X::LEN
    } else {
        L::Output::LEN
    };
    const NAME_BYTES: usize = if L::KIND.is_named() {
        1 + L::KIND.name().len()
    } else {
        0
    };
    const INIT_BEFORE: Init = <L as Describe>::INIT_BEFORE;

    fn layer(index: usize) -> Option<LayerInfo> {
        (index == 0).then(|| LayerInfo::of::<X::Scalar, L>(X::LEN, L::Output::LEN))
    }
    fn tensor_info(index: usize, i: usize) -> Option<TensorInfo> {
        (index == 0)
            .then(|| <L as Tensors<X::Scalar>>::TENSORS.get(i).map(Tensor::info))
            .flatten()
    }
    fn setting(&self, index: usize) -> Option<f32> {
        (index == 0)
            .then(|| L::SETTING.as_ref().map(|s| s.get(self)))
            .flatten()
    }
    fn set_setting(&mut self, index: usize, value: f32) -> bool {
        match (index, &L::SETTING) {
            (0, Some(setting)) => {
                setting.set(self, value);
                true
            }
            _ => false,
        }
    }
    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        init::randomize(self, rng, force.unwrap_or(next));
    }
    fn write_types(out: &mut dyn Write) -> fmt::Result {
        L::write_type(out)
    }
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        Describe::write_value::<X::Scalar>(self, out)
    }
}

/// Writes the layers of `L` as `Dense<2→8> → Tanh<8> → …`, for `Debug`.
pub fn write_layer_list<X: Vector, L: Architecture<X>>(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for index in 0..L::LAYERS {
        if index > 0 {
            f.write_str(" → ")?;
        }
        if let Some(info) = L::layer(index) {
            write!(f, "{info}")?;
        }
    }
    Ok(())
}
