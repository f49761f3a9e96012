//! Layers: the [`Layer`] trait (what a layer computes and what it is),
//! its implementations, and composition ([`Chain`]).
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
//! A layer is a type with two impls, both next to each other in its file:
//!
//! - [`Tensors`]: its parameter tensors, if it has any
//!   ([`Tensors::TENSORS`]: names, shapes, how they start, where they are
//!   in the layer); an empty impl for a layer without parameters;
//! - [`Layer`]: its name ([`KIND`](Layer::KIND)) and what it computes for
//!   one sample: `y = f(x)` ([`map`](Layer::map)) and, for the backward
//!   pass, the gradient with respect to the input, adding the gradient
//!   with respect to the parameters ([`grad`](Layer::grad)). Batches go
//!   through sample by sample unless the layer computes whole batches
//!   itself (as [`Dense`] does, with matrix products).
//!
//! An element-wise activation is shorter still: [`elementwise!`](crate::elementwise!)
//! defines it from the function and its derivative, and writes both impls;
//! constnet's own activations are made that way.
//!
//! Everything else (training, the optimisers, saving and loading, serde,
//! the PyTorch import, export as Rust source, `network!`, heap
//! construction, printing) comes from these impls.
//!
//! ```
//! use constnet::layer::LayerKind;
//! use constnet::prelude::*;
//!
//! constnet::elementwise! {
//!     /// softplus(x) = ln(1 + eˣ), whose derivative is 1 − e^(−y).
//!     struct Softplus = "Softplus";
//!     f(x) = (T::ONE + x.exp()).ln();
//!     df(_x, y) = T::ONE - (-y).exp();
//! }
//!
//! /// y = s ⊙ x, with a learned scale `s` per input.
//! #[derive(Clone, Copy, Debug, Zeroable)]
//! struct Scale<T, const N: usize>([T; N]);
//!
//! impl<T: Scalar, const N: usize> Tensors<T> for Scale<T, N> {
//!     const TENSORS: &'static [Tensor<Self, T>] =
//!         &[Tensor::ones("scale", &[N], |s| &s.0, |s| &mut s.0)];
//! }
//!
//! impl<T: Scalar, const N: usize> Layer<[T; N]> for Scale<T, N> {
//!     const KIND: LayerKind = LayerKind::named("Scale");
//!     type Output = [T; N];
//!     type Trace<const B: usize> = ();
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
//! let mut opt = Sgd::new(0.1)?;
//! let mut data = [([0.0, 1.0], [1.0]), ([1.0, 0.0], [-1.0])];
//! let before = net.mean_loss(&data, &Mse)?;
//! for _ in 0..50 {
//!     net.train_epoch::<2>(&mut data, &Mse, &mut opt, &mut rng)?;
//! }
//! assert!(net.mean_loss(&data, &Mse)? < before / 10.0);
//! assert_eq!(Net::PARAMETERS, 2 * 4 + 4 + 4 + 4 * 1 + 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A layer's gradient is a value of its own type, so a layer is `Clone` and
//! [`Zeroable`](bytemuck::Zeroable): derive both (the derive needs the
//! `bytemuck` crate as a dependency, or
//! `#[bytemuck(crate = "constnet::bytemuck")]` beside it).
//!
//! Why a macro rather than a trait for element-wise layers: a blanket
//! `impl<L: Elementwise> Layer<…> for L` would make the compiler report a
//! layer that does not fit in a chain as the whole chain not fitting; with
//! impls for each type it names the layer.

pub mod activation;
mod chain;
mod dense;
mod describe;
mod init;

pub use crate::tensors::{Fill, Tensor, TensorInfo};
pub(crate) use activation::softmax;
pub use activation::*;
pub use chain::{Chain, ChainTrace, Then};
pub use dense::Dense;
pub use describe::{LayerInfo, LayerKind, MAX_NAME_LEN, Setting};
#[doc(hidden)]
pub use describe::{write_arguments, write_short_type_name};
pub use init::Init;

use core::fmt::{self, Write};

use rand::Rng;

use crate::scalar::{Vector, Zeroed};
use crate::tensors::Tensors;

/// A layer: a differentiable function from `X` vectors to
/// [`Output`](Layer::Output) vectors, with its backward pass, and the
/// description of itself that every format reads.
///
/// A layer says what it does to one sample ([`map`](Layer::map),
/// [`grad`](Layer::grad)); the batch passes
/// ([`forward_train`](Layer::forward_train),
/// [`backward`](Layer::backward)) take the batch size `B` as a const
/// generic and by default go sample by sample. Layers that compute a whole
/// batch at once override them ([`Dense`]: matrix–matrix products). Nothing
/// here allocates: buffers live on the caller's stack.
///
/// A layer's gradient is a value of the layer's own type: `backward` adds
/// to the gradient's tensors (see [`Tensors`]).
///
/// The last group of items describes the layer for saving, serde, import,
/// export and printing. Each has a default for a single layer, built from
/// [`KIND`](Layer::KIND), [`SETTING`](Layer::SETTING) and
/// [`Tensors::TENSORS`]; a [`Chain`] and a network override them to list
/// their layers in order (so a network used as a layer adds its layers to
/// the list, and layer `i` of a network made by `network!` is module `i`
/// of the equivalent PyTorch `nn.Sequential`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{X}` as its input",
    label = "this layer does not accept an input of type `{X}`",
    note = "the output width of each layer must equal the input width of the next one"
)]
pub trait Layer<X: Vector>: Tensors<X::Scalar> + bytemuck::Zeroable + Clone {
    /// What kind of layer this is: its name in files, serde and messages.
    const KIND: LayerKind;

    /// The setting, if the layer has one (none by default): a number that
    /// is part of what the layer computes but is not learned, such as a
    /// leaky ReLU's slope. A layer has at most one.
    const SETTING: Option<Setting<Self>> = None;

    /// The scheme that suits a dense layer placed right before this layer
    /// (see [`Init`]): He before ReLU-like layers, Xavier (the default)
    /// otherwise.
    const INIT_BEFORE: Init = Init::Xavier;

    /// The vector this layer produces for one sample.
    type Output: Vector<Scalar = X::Scalar>;

    /// What the training forward pass keeps for the backward pass, beyond
    /// the layer's input and output (which the caller keeps): `()` for a
    /// single layer, the intermediate activations for a [`Chain`].
    ///
    /// A training call may zero the trace once and hand it from batch to
    /// batch: [`forward_train`](Layer::forward_train) then finds in it
    /// what the last batch's pass left there, so it writes every part of
    /// it that [`backward`](Layer::backward) reads (as a [`Chain`] does:
    /// its trace is its layers' outputs).
    type Trace<const B: usize>: bytemuck::Zeroable;

    /// How many layers this is made of: 1, or for a [`Chain`] the sum of
    /// its two parts.
    const DEPTH: usize = 1;

    /// `y = f(x)` for one sample.
    fn map(&self, x: &X) -> Self::Output;

    /// For one sample with input `x`, output `y = f(x)` and gradient `dy`
    /// of the loss with respect to `y`: adds the gradient with respect to
    /// the parameters to `grad` (nothing for a layer without parameters)
    /// and returns the gradient with respect to `x`.
    fn grad(&self, x: &X, y: &Self::Output, dy: &Self::Output, grad: &mut Self) -> X;

    /// The training forward pass: `y = f(x)` for a batch, keeping in `trace`
    /// what [`backward`](Layer::backward) will need. By default,
    /// [`map`](Layer::map) for each sample.
    #[inline]
    fn forward_train<const B: usize>(
        &self,
        x: &[X; B],
        y: &mut [Self::Output; B],
        trace: &mut Self::Trace<B>,
    ) {
        let _ = trace;
        for (x, y) in x.iter().zip(y.iter_mut()) {
            *y = self.map(x);
        }
    }

    /// The inference forward pass: `y = f(x)` for a batch.
    #[inline(always)]
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
    ///
    /// By default, [`grad`](Layer::grad) for each sample (and nothing at
    /// all for a layer without parameters called with `None`).
    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &[X; B],
        y: &[Self::Output; B],
        dy: &[Self::Output; B],
        trace: &Self::Trace<B>,
        grad: &mut Self,
        dx: Option<&mut [X; B]>,
    ) {
        let _ = trace;
        match dx {
            Some(dx) => {
                for (((x, y), dy), dx) in x.iter().zip(y).zip(dy).zip(dx.iter_mut()) {
                    *dx = self.grad(x, y, dy, grad);
                }
            }
            None if Self::COUNT == 0 => {}
            None => {
                for ((x, y), dy) in x.iter().zip(y).zip(dy) {
                    self.grad(x, y, dy, grad);
                }
            }
        }
    }

    /// [`backward`](Layer::backward), except that the gradient with
    /// respect to the parameters **replaces** what `grad` held instead of
    /// being added to it. Training calls this once per batch, so that no
    /// pass over the memory has to zero the gradient first.
    ///
    /// By default, zeroes `grad`'s tensors, then calls `backward`. A layer
    /// whose kernels can write its gradient directly overrides it (a dense
    /// layer writes `dW = dYᵀ X` without reading the old values); the
    /// values must be those of the default, bit for bit.
    #[inline]
    fn backward_overwrite<const B: usize>(
        &self,
        x: &[X; B],
        y: &[Self::Output; B],
        dy: &[Self::Output; B],
        trace: &Self::Trace<B>,
        grad: &mut Self,
        dx: Option<&mut [X; B]>,
    ) {
        grad.for_each_tensor_mut(&mut |_, tensor| tensor.fill(X::Scalar::ZERO));
        self.backward(x, y, dy, trace, grad, dx);
    }

    /// How many layers there are in the list (1 for a single layer).
    const LAYERS: usize = 1;

    /// The kind of the last layer of the list (this layer's for a single
    /// one): what training checks against a loss that wants logits.
    const LAST_KIND: LayerKind = Self::KIND;

    /// The largest input or output width of any layer in the list.
    const MAX_WIDTH: usize = if X::LEN > Self::Output::LEN {
        X::LEN
    } else {
        Self::Output::LEN
    };

    /// The bytes the names of the layers take in constnet's format: a
    /// length byte and the name, for each layer known by its name.
    const NAME_BYTES: usize = if Self::KIND.is_named() {
        1 + Self::KIND.name().len()
    } else {
        0
    };

    /// What layer `index` of the list is, or `None` when `index ≥ LAYERS`.
    fn layer(index: usize) -> Option<LayerInfo> {
        (index == 0).then(|| LayerInfo {
            kind: Self::KIND,
            inputs: X::LEN,
            outputs: Self::Output::LEN,
            tensors: Self::COUNT,
            setting: Self::SETTING.as_ref().map(|s| (s.name(), s.default())),
        })
    }

    /// Tensor `i` of layer `index`, or `None` when there is no such
    /// tensor. The tensors of all layers, in order, are this value's
    /// [`Tensors`].
    fn tensor_info(index: usize, i: usize) -> Option<TensorInfo> {
        (index == 0)
            .then(|| Self::TENSORS.get(i).map(Tensor::info))
            .flatten()
    }

    /// The setting of layer `index`, or `None` for a layer without one.
    fn setting(&self, index: usize) -> Option<f32> {
        (index == 0)
            .then(|| Self::SETTING.as_ref().map(|s| s.get(self)))
            .flatten()
    }

    /// Sets the setting of layer `index`; returns whether it has one.
    fn set_setting(&mut self, index: usize, value: f32) -> bool {
        match (index, &Self::SETTING) {
            (0, Some(setting)) => {
                setting.set(self, value);
                true
            }
            _ => false,
        }
    }

    /// Draws every parameter again, in place: each tensor by its
    /// [`Fill`], random ones by `force` if it is given and otherwise by the
    /// scheme the next layer asks for (`next` after the last), and every
    /// setting back to its default.
    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        init::randomize(self, rng, force.unwrap_or(next));
    }

    /// New layers with parameters drawn as
    /// [`randomize`](Layer::randomize) draws them. A chain builds its
    /// parts one after the other, so no zero value of the whole passes
    /// through the stack (it is not inlined, to keep large temporaries out
    /// of the caller's frame).
    #[inline(never)]
    fn random_layers<R: Rng + ?Sized>(rng: &mut R, force: Option<Init>, next: Init) -> Self {
        let mut layers: Self = bytemuck::Zeroable::zeroed();
        layers.randomize(rng, force, next);
        layers
    }

    /// Writes the type of each layer as [`export`](crate::export) puts it
    /// in a `network!` list, comma-separated. By default the type's name
    /// without module paths (`Scale<f32, 4>`), which must be in scope where
    /// the exported file is included; constnet's own layers write
    /// `::constnet::` paths.
    fn write_types(out: &mut dyn Write) -> fmt::Result {
        write_short_type_name(core::any::type_name::<Self>(), out)
    }

    /// Writes a `const` expression that builds these layers with their
    /// parameters and settings, for [`export`](crate::export). By default
    /// the type's name without its generic arguments, called with the
    /// setting and then each tensor as an array literal (`Scale([1.0,
    /// 2.0])` for a tuple struct), or alone for a layer with neither (a
    /// unit struct).
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        let name = core::any::type_name::<Self>();
        let base = name.split('<').next().unwrap_or(name);
        write_short_type_name(base, out)?;
        write_arguments::<X, Self>(self, out)
    }
}

/// Gives `layer` its setting `value`, for a setting written in `network!`
/// (`LeakyRelu(0.2)`). A layer without a setting is a compile error
/// there.
#[doc(hidden)]
pub fn write_setting<X: Vector, L: Layer<X>>(layer: &mut L, value: f32) {
    const {
        assert!(
            L::SETTING.is_some(),
            "this layer has no setting to write in `network!`: write it without parentheses"
        )
    };
    if let Some(setting) = &L::SETTING {
        setting.set(layer, value);
    }
}

/// Writes the layers of `L` as `Dense<2→8> → Tanh<8> → …`, for `Debug`.
pub fn write_layer_list<X: Vector, L: Layer<X>>(f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// What [`elementwise!`](crate::elementwise!) expands to calls; not for
/// direct use.
#[doc(hidden)]
pub mod __private {
    use crate::scalar::Scalar;

    /// `y = f(x)` over a whole batch as one flat loop: simple enough for the
    /// compiler to vectorise. For [`elementwise!`](crate::elementwise!).
    #[inline(always)]
    pub fn elementwise_map<T: Scalar, const N: usize, const B: usize>(
        x: &[[T; N]; B],
        y: &mut [[T; N]; B],
        f: impl Fn(T) -> T,
    ) {
        for (&x, y) in x.as_flattened().iter().zip(y.as_flattened_mut()) {
            *y = f(x);
        }
    }

    /// `dx = dy ⊙ f′(x, y)` over a whole batch as one flat loop. For
    /// [`elementwise!`](crate::elementwise!).
    #[inline(always)]
    pub fn elementwise_grad<T: Scalar, const N: usize, const B: usize>(
        x: &[[T; N]; B],
        y: &[[T; N]; B],
        dy: &[[T; N]; B],
        dx: &mut [[T; N]; B],
        df: impl Fn(T, T) -> T,
    ) {
        let (x, y, dy) = (x.as_flattened(), y.as_flattened(), dy.as_flattened());
        let all = x.iter().zip(y).zip(dy).zip(dx.as_flattened_mut());
        for (((&x, &y), &d), g) in all {
            *g = d * df(x, y);
        }
    }
}
