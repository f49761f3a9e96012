//! Small neural networks whose shapes live in their types.
//!
//! constnet implements feed-forward networks (dense layers, activations,
//! losses, backpropagation, mini-batch gradient descent with momentum) with
//! every layer's width in its type. A network that does not fit together,
//! an input of the wrong width or a target of the wrong width does not
//! compile. The forward and backward passes are monomorphised for the exact
//! shapes, keep everything on the stack and allocate nothing, so the same
//! code runs in a program and in `no_std` firmware.
//!
//! # A first network
//!
//! ```
//! use constnet::prelude::*;
//!
//! network! {
//!     /// A 2-8-1 XOR classifier.
//!     pub struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
//! }
//!
//! let mut rng = SmallRng::seed_from_u64(7);
//! let mut net = Xor::random(&mut rng); // seeded: the same on every machine
//! let mut opt = Sgd::new(0.5)?.momentum(0.9)?; // updates the net in place
//! let mut data = [
//!     ([0.0, 0.0], [0.0]),
//!     ([0.0, 1.0], [1.0]),
//!     ([1.0, 0.0], [1.0]),
//!     ([1.0, 1.0], [0.0]),
//! ];
//! for _ in 0..500 {
//!     net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)?; // batch of 4
//! }
//! let y: [f32; 1] = net.predict(&[1.0, 0.0]);
//! assert!(y[0] > 0.5);
//! assert_eq!(net.accuracy(&data), 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # From the mathematics to the API
//!
//! | concept | in constnet |
//! |---|---|
//! | dense layer `y = W x + b` | [`Dense<T, I, O>`](Dense): `weight` is a [`Matrix<T, O, I>`](Matrix), `bias` a `[T; O]` |
//! | activation | [`Identity`], [`Relu`], [`LeakyRelu`], [`Sigmoid`], [`Tanh`], [`Softmax`], or your own with [`elementwise!`] |
//! | a network `f₂(W₂ f₁(W₁x + b₁) + b₂)` | [`Chain`] of layers; [`network!`] names one |
//! | random start, seeded | [`Network::random`], with [`Init`] (Xavier or He) |
//! | loss | [`Mse`], [`CrossEntropy`], [`SoftmaxCrossEntropy`], [`BinaryCrossEntropy`] |
//! | derivative with respect to the **input** (carried back) | the `dx` written by [`Layer::backward`] |
//! | derivative with respect to the **parameters** (stored) | the `grad` accumulated by [`Layer::backward`]; a network's is a [`Gradients<N>`](Gradients) |
//! | gradient descent `θ ← θ − η ∇L` | [`Sgd`] and [`Train::train_batch`] |
//! | mini-batch SGD, shuffled each epoch | [`Train::train_epoch`] with batch size `B` |
//! | momentum `Δθ ← α Δθ − η ∇L`, `θ ← θ + Δθ` | [`Sgd::momentum`]; `Δθ` is [`Sgd::velocity`], shaped like the network |
//!
//! A layer's backward pass takes the gradient of the loss with respect to
//! its output and does two things: it adds the gradient with respect to its
//! parameters to its gradient (only dense layers have parameters), and it
//! multiplies the running product of the chain rule by its own derivative
//! with respect to its input, handing the result to the layer before. The
//! first layer skips that second product, which nobody needs.
//!
//! # Classification
//!
//! For `K` classes, end the network with a `Dense<K>` and train with
//! [`SoftmaxCrossEntropy`], which applies softmax to the logits inside the
//! loss (stable, and the cheapest gradient). Targets are class indices
//! (`usize`) or one-hot vectors; [`Network::classify`] gives the arg-max.
//! A [`Softmax`] layer with [`CrossEntropy`] gives the same gradient the
//! long way, and predictions that are probabilities.
//!
//! # Writing your own layer
//!
//! A layer of your own is as first-class as constnet's: it trains inside
//! [`network!`], saves and loads, serialises, imports from PyTorch, exports
//! as Rust source and builds on the heap. It is a [`Tensors`] impl (its
//! parameter tensors, if any) and a [`Layer`] impl (its name, and what it
//! does to one sample); an element-wise activation is one
//! [`elementwise!`]. The [`layer`] module shows both, and
//! `examples/custom_layer.rs` three layers in 36 lines.
//!
//! ```
//! use constnet::prelude::*;
//!
//! constnet::elementwise! {
//!     /// softplus(x) = ln(1 + eˣ), whose derivative is 1 − e^(−y).
//!     pub struct Softplus = "Softplus";
//!     f(x) = (T::ONE + x.exp()).ln();
//!     df(_x, y) = T::ONE - (-y).exp();
//! }
//!
//! network! {
//!     /// Softplus between two dense layers.
//!     pub struct Net<f64> { 2 => Dense<4>, Softplus, Dense<1> }
//! }
//!
//! let net = Net::random(&mut SmallRng::seed_from_u64(1));
//! let copy = Net::decode(&net.encode_to_vec()?)?; // saved under its name
//! assert!(copy == net);
//! assert_eq!(format!("{net:?}"), "Net[Dense<2→4> → Softplus<4> → Dense<4→1>]");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `std` (default): float functions from the standard library (except
//!   `f32`'s `tanh`, which is constnet's own; see [`Tanh`]).
//! - `alloc` (part of `std`): networks, gradients and optimiser state built
//!   directly on the heap, for networks too big for the stack; see [`heap`].
//! - `libm`: float functions from the `libm` crate, for `no_std` targets:
//!   `--no-default-features --features libm`. The crate is `#![no_std]`
//!   either way; nothing allocates but the `heap` constructors.
//! - `serde`: `Serialize` and `Deserialize` for every network made by
//!   [`network!`], layers of your own included, checked against the type
//!   when read (no_std, no alloc).
//! - `safetensors`: `format::FromSafetensors`, loading weights saved from
//!   PyTorch in the safetensors format. It needs `alloc` (not `std`).
//!
//! # Saving and loading
//!
//! [`Save`] writes a network into a `&mut [u8]` of
//! [`Save::ENCODED_LEN`] bytes and reads it back, without std or alloc, in
//! a versioned format with a shape signature and a CRC-32 (see
//! [`format`]); a failed load is a [`LoadError`] and leaves the network as
//! it was. With `std`, [`Save::save_file`] and [`Save::load_file`] use
//! files.
//!
//! # Int8 inference
//!
//! [`quant::Quantized::calibrate`] turns a trained `f32` network into its
//! int8 form, computed with integer operations only (for
//! micro-controllers without an FPU, and parameters a quarter the size):
//! a type derived from the network, `const`-constructible, exported as
//! `i8`/`i32` statics by [`export::quantized_source`] and saved in the
//! same format (version 3). See [`quant`].
//!
//! [`Network::summary`] prints a network's layers, widths, parameters and
//! the bytes of its training state.
//!
//! # Memory
//!
//! A network is a plain value of the size of its parameters: `Xor` above is
//! 33 `f32`s, 132 bytes. Its [`Gradients`] and the [`Sgd`] velocity are the
//! same size again. A training step keeps the activations of one batch on
//! the stack. Large networks (a `Dense<784, 512>` is 1.6 MB) can exceed a
//! thread's stack: build them on the heap with [`Network::random_boxed`]
//! and the optimisers' `boxed` constructors (see [`heap`]), or as a
//! `static`. On a micro-controller, the network, an optimiser built at
//! compile time (`Sgd::new_const`) and a [`GradientBuffer`] for
//! [`Train::train_epoch_with`] can all be statics, so that the linker
//! counts the RAM they take and only the batch's activations use the
//! stack.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod export;
pub mod fit;
pub mod format;
pub mod heap;
pub mod layer;
pub mod loss;
mod macros;
mod math;
pub mod matrix;
pub mod metrics;
pub mod network;
pub mod optim;
#[cfg(feature = "parallel")]
#[cfg_attr(docsrs, doc(cfg(feature = "parallel")))]
pub mod parallel;
pub mod quant;
pub mod scalar;
pub mod settings;
#[allow(unsafe_code)] // the SIMD kernels; see the module's Safety section
mod simd;
pub mod summary;
pub mod tensors;
pub mod train;

pub use layer::activation::*;
pub use layer::{Chain, Dense, Init, Layer};
pub use loss::{BinaryCrossEntropy, CrossEntropy, Loss, Mse, SoftmaxCrossEntropy};
pub use matrix::Matrix;
pub use network::{Gradients, Label, Network};
pub use optim::{Adam, LearningRate, Momentum, Optimizer, RmsProp, Scheduled, Sgd};
pub use scalar::{Scalar, Vector, Zeroed};
pub use settings::SettingError;
pub use tensors::Tensors;
pub use train::{GradientBuffer, Train, TrainError};

pub use format::{EncodeError, LoadError, Save, SaveArray};

/// The `rand` crate constnet uses, for seeding and for the `Rng` bound.
pub use rand;

/// The `bytemuck` crate, whose [`Zeroable`](bytemuck::Zeroable) every layer
/// has: `#[bytemuck(crate = "constnet::bytemuck")]` lets its derive work
/// without a dependency of your own.
pub use bytemuck;

/// The `serde` crate, for the impls `network!` emits with the `serde`
/// feature.
#[cfg(feature = "serde")]
#[doc(hidden)]
pub use serde as __serde;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Everything needed to define, train and run a network.
pub mod prelude {
    #[cfg(feature = "safetensors")]
    pub use crate::format::FromSafetensors;
    pub use crate::format::{LoadError, Save, SaveArray};
    pub use crate::layer::activation::*;
    pub use crate::layer::{Chain, Dense, Init, Layer, LayerKind, Tensor, Then};
    pub use crate::loss::{BinaryCrossEntropy, CrossEntropy, Loss, Mse, SoftmaxCrossEntropy};
    pub use crate::network;
    pub use crate::network::{Gradients, Label, Network};
    pub use crate::optim::{Adam, LearningRate, Momentum, Optimizer, RmsProp, Sgd};
    #[cfg(feature = "parallel")]
    pub use crate::parallel::{Sharing, Threads, TrainOn};
    pub use crate::scalar::{Scalar, Vector, Zeroed};
    pub use crate::settings::SettingError;
    pub use crate::tensors::Tensors;
    pub use crate::train::{GradientBuffer, Train, TrainError};
    pub use bytemuck::Zeroable;
    pub use rand::rngs::SmallRng;
    pub use rand::{Rng, RngExt, SeedableRng};
}
