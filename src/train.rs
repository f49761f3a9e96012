//! Training: mini-batch gradient descent over a data set.
//!
//! A data set is a slice of `(input, target)` pairs. Each epoch shuffles
//! it in place (no allocation), cuts it into batches of `B` samples and
//! makes one optimiser step per batch, from the **mean** of the batch's
//! per-sample gradients. `B = 1` is stochastic gradient descent, `B` equal
//! to the data set's length is full-batch gradient descent; a last batch
//! with fewer than `B` samples is used too (its gradient is the mean over
//! the samples it has).
//!
//! A step is all or nothing: a batch whose loss is NaN or infinite, or
//! whose update would make any parameter or optimiser state NaN or infinite
//! (bad data, a learning rate that is too high), stops the epoch with
//! [`TrainError::Diverged`] and leaves the parameters and the optimiser
//! state bit-identical to what they were before that batch.

use core::fmt;

use num_traits::Float;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::layer::Layer;
use crate::layer::LayerKind;
use crate::loss::Loss;
use crate::network::{Gradients, Network};
use crate::optim::{Optimizer, StepBounds, TensorId};
use crate::scalar::{Scalar, Vector, Zeroed};
use crate::tensors::Tensors;

/// Why a training call returned without finishing.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The data set has no samples.
    EmptyData,
    /// A batch gave a loss that is NaN or infinite, or an update that
    /// would have made a parameter or the optimiser's state NaN or
    /// infinite (a non-finite gradient, a learning rate too high). Nothing
    /// of that batch's update was applied: network and optimiser are as
    /// they were before it.
    Diverged {
        /// The index of the batch within its epoch, from 0.
        batch: usize,
        /// The batch's mean loss.
        loss: f64,
        /// The first tensor the update would have made non-finite, or
        /// `None` when the loss itself was not finite.
        tensor: Option<TensorId>,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::EmptyData => {
                f.write_str("the data set is empty: there is nothing to train on")
            }
            TrainError::Diverged {
                batch,
                loss,
                tensor,
            } => {
                write!(f, "training diverged at batch {batch}: ")?;
                match tensor {
                    None => write!(f, "the loss is {loss}")?,
                    Some(tensor) => write!(
                        f,
                        "the update would make {tensor} NaN or infinite (loss {loss})"
                    )?,
                }
                f.write_str(
                    "; nothing of it was applied. Lower the learning rate or check the data \
                     for NaN, infinities or out-of-range targets",
                )
            }
        }
    }
}

impl core::error::Error for TrainError {}

/// A gradient buffer for training a network `N` that the caller keeps:
/// in a `static`, in a box, or in a local that lives across many steps.
/// [`Train::train_batch_with`] and [`Train::train_epoch_with`] fill it
/// with each batch's gradient and take their step from it.
///
/// [`Train::train_batch`] and [`Train::train_epoch`] make a
/// [`Gradients<N>`] for each call, on the stack (or on the heap for an
/// optimiser made with `boxed`). With this buffer instead, a
/// micro-controller can keep the gradient in `.bss`, counted and placed by
/// the linker, out of the stack, and no call zeroes it: each batch's
/// backward pass writes the whole gradient over what the last one left
/// ([`Layer::backward_overwrite`]), so what a buffer holds between calls
/// never matters, and its contents are not accessible.
///
/// [`new`](GradientBuffer::new) is `const`, so a buffer can be a
/// `static`; a program that trains from one function can hold it as that
/// function's own `static mut`, which cortex-m-rt's `#[entry]` hands out as
/// a `&'static mut` without `unsafe` (`examples/firmware/src/bin/train_static.rs`
/// keeps the network, the optimiser and this buffer so). Anywhere else, a
/// local reused for every call does the same:
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-8-1 XOR classifier.
///     struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
/// }
/// static OPT: Sgd<Xor> = Sgd::new_const(0.5).momentum_const(0.9);
///
/// let mut rng = SmallRng::seed_from_u64(7);
/// let mut net = Xor::random(&mut rng);
/// let mut opt = OPT.clone();
/// let mut grads = GradientBuffer::new();
/// let mut data = [
///     ([0.0, 0.0], [0.0]),
///     ([0.0, 1.0], [1.0]),
///     ([1.0, 0.0], [1.0]),
///     ([1.0, 1.0], [0.0]),
/// ];
/// let first = net.mean_loss(&data, &Mse)?;
/// for _ in 0..300 {
///     net.train_epoch_with::<4>(&mut data, &Mse, &mut opt, &mut rng, &mut grads)?;
/// }
/// assert!(net.mean_loss(&data, &Mse)? < first / 10.0);
/// assert_eq!(net.accuracy(&data), 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(bytemuck::Zeroable)]
#[zeroable(bound = "")]
#[repr(transparent)]
pub struct GradientBuffer<N: Network>(Gradients<N>);

impl<N: Network> GradientBuffer<N> {
    /// A zero buffer; `const`, so it can be a `static`.
    pub const fn new() -> Self {
        Zeroed::ZERO
    }

    /// A zero buffer built directly on the heap, for networks whose
    /// gradient does not fit the stack (see [`heap`](crate::heap)).
    #[cfg(feature = "alloc")]
    pub fn boxed() -> alloc::boxed::Box<Self> {
        crate::heap::zeroed_box()
    }
}

impl<N: Network> Default for GradientBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Network> fmt::Debug for GradientBuffer<N> {
    /// Prints its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GradientBuffer")
            .field("len", &<Gradients<N> as Tensors<N::Scalar>>::LEN)
            .finish()
    }
}

/// Training a [`Network`] on samples with targets of type `Target`: a
/// vector (`[T; O]`) for regression or one-hot classification, or a class
/// index (`usize`).
///
/// Implemented for every network and every target type the loss accepts;
/// the target type is inferred from the data.
pub trait Train<Target>: Network {
    /// The mean loss of a batch of `B` samples, and its gradient with
    /// respect to the parameters, written into `grads`.
    fn loss_and_gradients<const B: usize>(
        &self,
        batch: &[(Self::Input, Target); B],
        loss: &impl Loss<Self::Output, Target>,
        grads: &mut Gradients<Self>,
    ) -> Self::Scalar;

    /// One optimiser step on one batch of `B` samples. Returns the batch's
    /// mean loss (before the step).
    ///
    /// # Errors
    ///
    /// [`TrainError::Diverged`] if the loss is not finite or the update
    /// would make anything non-finite; the network and optimiser are then
    /// unchanged. [`TrainError::EmptyData`]
    /// if `B` is 0.
    fn train_batch<const B: usize>(
        &mut self,
        batch: &[(Self::Input, Target); B],
        loss: &impl Loss<Self::Output, Target>,
        opt: &mut impl Optimizer<Self>,
    ) -> Result<Self::Scalar, TrainError>;

    /// One epoch of mini-batch gradient descent with batches of `B`
    /// samples: shuffles `data` in place with `rng`, then makes one step
    /// per batch. Returns the mean loss over the epoch's samples (each
    /// measured before its batch's step).
    ///
    /// # Errors
    ///
    /// [`TrainError::EmptyData`], or
    /// [`TrainError::Diverged`] for the first batch whose loss is not
    /// finite or whose update would make anything non-finite: that batch's
    /// update is not applied, and the batches before it have been.
    fn train_epoch<const B: usize>(
        &mut self,
        data: &mut [(Self::Input, Target)],
        loss: &impl Loss<Self::Output, Target>,
        opt: &mut impl Optimizer<Self>,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<Self::Scalar, TrainError>;

    /// [`train_batch`](Train::train_batch) with a gradient buffer of the
    /// caller's (see [`GradientBuffer`]): the same step, bit for bit,
    /// without a gradient made for the call.
    ///
    /// # Errors
    ///
    /// As [`train_batch`](Train::train_batch).
    fn train_batch_with<const B: usize>(
        &mut self,
        batch: &[(Self::Input, Target); B],
        loss: &impl Loss<Self::Output, Target>,
        opt: &mut impl Optimizer<Self>,
        grads: &mut GradientBuffer<Self>,
    ) -> Result<Self::Scalar, TrainError>;

    /// [`train_epoch`](Train::train_epoch) with a gradient buffer of the
    /// caller's (see [`GradientBuffer`]): the same shuffle and the same
    /// steps, bit for bit, without a gradient made for the call.
    ///
    /// # Errors
    ///
    /// As [`train_epoch`](Train::train_epoch).
    fn train_epoch_with<const B: usize>(
        &mut self,
        data: &mut [(Self::Input, Target)],
        loss: &impl Loss<Self::Output, Target>,
        opt: &mut impl Optimizer<Self>,
        rng: &mut (impl Rng + ?Sized),
        grads: &mut GradientBuffer<Self>,
    ) -> Result<Self::Scalar, TrainError>;

    /// The mean loss over a data set, without training.
    ///
    /// # Errors
    ///
    /// [`TrainError::EmptyData`] for an empty data set.
    fn mean_loss(
        &self,
        data: &[(Self::Input, Target)],
        loss: &impl Loss<Self::Output, Target>,
    ) -> Result<Self::Scalar, TrainError>;
}

impl<N: Network, Target> Train<Target> for N {
    fn loss_and_gradients<const B: usize>(
        &self,
        batch: &[(N::Input, Target); B],
        loss: &impl Loss<N::Output, Target>,
        grads: &mut Gradients<N>,
    ) -> N::Scalar {
        checks::<N, Target, B>(loss);
        let mut trace = Zeroed::ZERO;
        batch_gradients::<N, Target, B>(self, batch, loss, grads, &mut trace)
    }

    fn train_batch<const B: usize>(
        &mut self,
        batch: &[(N::Input, Target); B],
        loss: &impl Loss<N::Output, Target>,
        opt: &mut impl Optimizer<N>,
    ) -> Result<N::Scalar, TrainError> {
        checks::<N, Target, B>(loss);
        with_scratch(opt, |opt, grads| {
            small_frame::<N, _>(
                #[inline(always)]
                || {
                    let mut trace = Zeroed::ZERO;
                    let bounds = &mut StepBounds::new();
                    step::<N, Target, B>(self, batch, loss, opt, grads, &mut trace, 0, bounds)
                },
            )
        })
    }

    fn train_epoch<const B: usize>(
        &mut self,
        data: &mut [(N::Input, Target)],
        loss: &impl Loss<N::Output, Target>,
        opt: &mut impl Optimizer<N>,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<N::Scalar, TrainError> {
        checks::<N, Target, B>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        data.shuffle(rng);
        with_scratch(opt, |opt, grads| {
            epoch::<N, Target, B>(self, data, loss, opt, grads)
        })
    }

    fn train_batch_with<const B: usize>(
        &mut self,
        batch: &[(N::Input, Target); B],
        loss: &impl Loss<N::Output, Target>,
        opt: &mut impl Optimizer<N>,
        grads: &mut GradientBuffer<N>,
    ) -> Result<N::Scalar, TrainError> {
        checks::<N, Target, B>(loss);
        small_frame::<N, _>(
            #[inline(always)]
            || {
                let mut trace = Zeroed::ZERO;
                let bounds = &mut StepBounds::new();
                step::<N, Target, B>(self, batch, loss, opt, &mut grads.0, &mut trace, 0, bounds)
            },
        )
    }

    fn train_epoch_with<const B: usize>(
        &mut self,
        data: &mut [(N::Input, Target)],
        loss: &impl Loss<N::Output, Target>,
        opt: &mut impl Optimizer<N>,
        rng: &mut (impl Rng + ?Sized),
        grads: &mut GradientBuffer<N>,
    ) -> Result<N::Scalar, TrainError> {
        checks::<N, Target, B>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        data.shuffle(rng);
        epoch::<N, Target, B>(self, data, loss, opt, &mut grads.0)
    }

    fn mean_loss(
        &self,
        data: &[(N::Input, Target)],
        loss: &impl Loss<N::Output, Target>,
    ) -> Result<N::Scalar, TrainError> {
        checks::<N, Target, 1>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        let total = data.iter().fold(N::Scalar::ZERO, |sum, (x, t)| {
            sum + loss.loss(&self.predict(x), t)
        });
        Ok(total / N::Scalar::from_f64(data.len() as f64))
    }
}

/// What the compiler checks of a training call once the types are known
/// (after monomorphisation: `cargo build` reports them, `cargo check` does
/// not): a batch of at least one sample, and no loss that applies softmax
/// itself after a network that ends in `Softmax`.
#[inline(always)]
pub(crate) fn checks<N: Network, Target, const B: usize>(loss: &impl Loss<N::Output, Target>) {
    const {
        assert!(
            B > 0,
            "a batch of 0 samples: the batch size must be at least 1"
        )
    };
    on_logits::<N, Target, _>(loss);
}

/// Refuses, at compile time, a loss that wants logits after a network that
/// ends in `Softmax`.
#[inline(always)]
fn on_logits<N: Network, Target, L: Loss<N::Output, Target>>(_: &L) {
    const {
        assert!(
            !(L::ON_LOGITS
                && <N::Layers as Layer<N::Input>>::LAST_KIND.code() == LayerKind::SOFTMAX.code()),
            "this loss applies softmax itself, and the network already ends in `Softmax`: \
             end the network with its last `Dense` (logits) for `SoftmaxCrossEntropy`, \
             or train this network with `CrossEntropy`"
        )
    };
}

/// Runs `f` with the optimiser and a gradient buffer of the kind it keeps
/// (on the stack, or on the heap for an optimiser made with `boxed`).
fn with_scratch<N: Network, O: Optimizer<N>, R>(
    opt: &mut O,
    f: impl FnOnce(&mut O, &mut Gradients<N>) -> R,
) -> R {
    O::scratch(|grads| f(opt, grads))
}

/// One step per batch of `B` of `data` (not empty), each batch's gradient
/// written into `grads`; the mean loss over the samples.
#[inline(always)]
pub(crate) fn epoch<N: Network, Target, const B: usize>(
    net: &mut N,
    data: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    opt: &mut impl Optimizer<N>,
    grads: &mut Gradients<N>,
) -> Result<N::Scalar, TrainError> {
    small_frame::<N, _>(
        #[inline(always)]
        || {
            let mut total = N::Scalar::ZERO;
            let mut bounds = StepBounds::new();
            let mut trace = Zeroed::ZERO;
            for (index, batch) in data.chunks(B).enumerate() {
                let mean = step::<N, Target, B>(
                    net,
                    batch,
                    loss,
                    opt,
                    grads,
                    &mut trace,
                    index,
                    &mut bounds,
                )?;
                total += mean * N::Scalar::from_f64(batch.len() as f64);
            }
            Ok(total / N::Scalar::from_f64(data.len() as f64))
        },
    )
}

/// Runs `f`, a training call's steps: for a small network (at most
/// [`SMALL_NETWORK`](crate::network::SMALL_NETWORK) parameters, whose
/// time goes to its activations and its step more than to the matrix
/// kernels) compiled for the widest instruction set up to 256-bit
/// vectors, so that its activations and its update take a vector register
/// each (W1's tanh over 8 hidden units: one AVX pass, not two SSE ones).
/// Not 512-bit ones: a sample's step is a chain of dependent operations,
/// and on an Intel Xeon (family 6 model 167) W1 trained at 75.6 ns a
/// sample compiled for AVX-512 against 49.5 for AVX2 (criterion medians,
/// `W1/train b1`). The same operations in the same order (Rust fuses no
/// multiply-adds), so the same bits at every level. Larger networks spend
/// their time in the matrix kernels, which choose their own set.
#[inline(always)]
fn small_frame<N: Network, R>(f: impl FnOnce() -> R) -> R {
    if N::PARAMETERS <= crate::network::SMALL_NETWORK {
        crate::simd::vectorized_256(f)
    } else {
        f()
    }
}

/// What the training forward pass of a batch of `B` keeps for the backward
/// pass (see [`Layer::Trace`]): zeroed once per training call and handed
/// from batch to batch, since each forward pass writes all of it (a
/// network's traces are its layers' outputs), rather than zeroed for every
/// batch.
pub(crate) type BatchTrace<N, const B: usize> =
    <<N as Network>::Layers as Layer<<N as Network>::Input>>::Trace<B>;

/// The gradient of one batch, written into `grads` (whatever it held),
/// checked, then applied. `trace` is the training call's (whatever the
/// last batch left in it); `bounds` too (see
/// [`Optimizer::step_and_discard_within`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the step's state, each from its caller
pub(crate) fn step<N: Network, Target, const B: usize>(
    net: &mut N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    opt: &mut impl Optimizer<N>,
    grads: &mut Gradients<N>,
    trace: &mut BatchTrace<N, B>,
    index: usize,
    bounds: &mut StepBounds,
) -> Result<N::Scalar, TrainError> {
    let mean = if size_of::<[N::Input; B]>() + size_of::<BatchTrace<N, B>>() >= OUTLINED {
        outlined_gradients::<N, Target, B>(net, batch, loss, grads, trace)
    } else {
        batch_gradients::<N, Target, B>(net, batch, loss, grads, trace)
    };
    take_step(net, opt, grads, mean, index, bounds)
}

/// The bytes of a batch's inputs and trace from which [`step`] computes
/// the batch's gradient in a function of its own: a batch this large
/// takes far longer than a call, and its buffers (the inputs, the output
/// gradient of each layer) then sit in one frame whatever path of an epoch
/// calls it, so that every path needs the same stack. Smaller batches
/// (a tiny network's single samples) are inlined into the epoch's loop.
const OUTLINED: usize = 64 << 10;

/// [`batch_gradients`], not inlined (see [`OUTLINED`]).
#[inline(never)]
fn outlined_gradients<N: Network, Target, const B: usize>(
    net: &N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    grads: &mut Gradients<N>,
    trace: &mut BatchTrace<N, B>,
) -> N::Scalar {
    batch_gradients::<N, Target, B>(net, batch, loss, grads, trace)
}

/// The step from a batch's gradient `grads` and mean loss `mean`: refused
/// with [`TrainError::Diverged`] (batch `index`) when the loss is not
/// finite or the optimiser refuses it; otherwise taken. `grads` holds
/// unspecified values afterwards (the optimiser's scratch).
#[inline(always)]
pub(crate) fn take_step<N: Network>(
    net: &mut N,
    opt: &mut impl Optimizer<N>,
    grads: &mut Gradients<N>,
    mean: N::Scalar,
    index: usize,
    bounds: &mut StepBounds,
) -> Result<N::Scalar, TrainError> {
    let diverged = |tensor| TrainError::Diverged {
        batch: index,
        loss: mean.as_f64(),
        tensor,
    };
    if !mean.is_finite() {
        return Err(diverged(None));
    }
    // The optimiser refuses a step that would make anything non-finite,
    // which a non-finite gradient always would.
    opt.step_and_discard_within(net, grads, bounds)
        .map_err(|refused| diverged(Some(refused.tensor)))?;
    Ok(mean)
}

/// The mean loss of up to `B` samples and its gradient, written into
/// `grads` (whatever it held), through one forward and one backward pass
/// over the whole batch. Rows past
/// `batch.len()` are zero and get a zero output gradient, so they add
/// nothing to the parameter gradient.
#[inline(always)]
fn batch_gradients<N: Network, Target, const B: usize>(
    net: &N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    grads: &mut Gradients<N>,
    trace: &mut BatchTrace<N, B>,
) -> N::Scalar {
    let n = batch.len().clamp(1, B.max(1));
    let inv = N::Scalar::ONE / N::Scalar::from_f64(n as f64);
    // With B = 1 the batch has one sample and the mean is that sample:
    // no multiplication by 1 on the path from the output to the update.
    let scale = (B > 1).then_some(inv);
    summed_gradients::<N, Target, B>(net, batch, loss, scale, &mut grads.0, false, trace) * inv
}

/// The sum of the losses of `samples` (any number), and their gradient
/// times `inv`, written into `grads` (zero for no samples): one forward
/// and one backward pass per
/// chunk, of `B` samples while at least `B` are left, then of 16 or the
/// largest power of two that fits (whose kernels run as fast per sample
/// as a whole batch's). Used by multi-threaded training, where each
/// thread takes a share of a batch of `B`, scaled by one over the
/// batch's length.
#[cfg(feature = "parallel")]
pub(crate) fn share_gradients<N: Network, Target, const B: usize>(
    net: &N,
    samples: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    inv: N::Scalar,
    grads: &mut N::Layers,
) -> N::Scalar {
    if samples.is_empty() {
        grads.for_each_tensor_mut(&mut |_, tensor| tensor.fill(N::Scalar::ZERO));
        return N::Scalar::ZERO;
    }
    let mut total = N::Scalar::ZERO;
    let mut rest = samples;
    while !rest.is_empty() {
        let take = match rest.len() {
            n if n >= B => B,
            16.. => 16,
            n => 1 << n.ilog2(),
        };
        let (chunk, tail) = rest.split_at(take);
        let gradients = match take {
            n if n == B => chunk_gradients::<N, Target, B>,
            16 => chunk_gradients::<N, Target, 16>,
            8 => chunk_gradients::<N, Target, 8>,
            4 => chunk_gradients::<N, Target, 4>,
            2 => chunk_gradients::<N, Target, 2>,
            _ => chunk_gradients::<N, Target, 1>,
        };
        // The first chunk writes the gradient, the others add to it.
        let add = rest.len() < samples.len();
        total += gradients(net, chunk, loss, Some(inv), grads, add);
        rest = tail;
    }
    total
}

/// [`summed_gradients`] with a trace of its own.
#[cfg(feature = "parallel")]
#[inline(always)]
fn chunk_gradients<N: Network, Target, const B: usize>(
    net: &N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    inv: Option<N::Scalar>,
    grads: &mut N::Layers,
    add: bool,
) -> N::Scalar {
    let mut trace = Zeroed::ZERO;
    summed_gradients::<N, Target, B>(net, batch, loss, inv, grads, add, &mut trace)
}

/// The sum of the losses of up to `B` samples and their gradient, each
/// sample's times `inv` when it is given, added to `grads` if `add`,
/// otherwise written into it (whatever it held). `trace` holds whatever
/// the last batch left in it; the forward pass writes all of it.
#[inline(always)]
fn summed_gradients<N: Network, Target, const B: usize>(
    net: &N,
    batch: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    inv: Option<N::Scalar>,
    grads: &mut N::Layers,
    add: bool,
    trace: &mut BatchTrace<N, B>,
) -> N::Scalar {
    let layers = net.layers();
    let mut x = core::mem::MaybeUninit::uninit();
    let x = crate::simd::Aligned::rows_then_zeros(&mut x, batch.iter().map(|(input, _)| *input));
    let mut y: crate::simd::Aligned<[N::Output; B]> = Zeroed::ZERO;
    let y = &mut y.0;
    layers.forward_train(x, y, trace);

    let mut dy: crate::simd::Aligned<[N::Output; B]> = Zeroed::ZERO;
    let dy = &mut dy.0;
    let mut total = N::Scalar::ZERO;
    for ((yb, dyb), (_, target)) in y.iter().zip(dy.iter_mut()).zip(batch) {
        total += loss.loss_grad(yb, target, dyb);
        if let Some(inv) = inv {
            for g in dyb.as_mut_slice() {
                *g *= inv;
            }
        }
    }

    if add {
        layers.backward(x, y, dy, trace, grads, None);
    } else {
        layers.backward_overwrite(x, y, dy, trace, grads, None);
    }
    total
}
