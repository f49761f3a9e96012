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
//!
//! One departure from the rules as written: a piece of state smaller in
//! magnitude than the smallest normal number is stored as zero. Where a
//! parameter's gradient stays zero (a unit that no longer fires) its state
//! decays towards zero step after step, and in IEEE arithmetic it never
//! gets there: SGD's velocity stops a few subnormal units above it
//! (`0.9 × 1.4e-45` rounds back to `1.4e-45`), and every later step then
//! computes with subnormal numbers, which x86 processors handle in
//! microcode, many times slower. Flushed, the state reaches zero and stays
//! there. A state that small changes no step by more than rounding of any
//! parameter larger than about `1e-30` (in `f32`).

use core::borrow::BorrowMut;
use core::fmt;

use num_traits::Float;

use crate::layer::Layer;
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
            ///
            /// # Errors
            ///
            /// [`SettingError`](crate::SettingError) unless `lr` is finite
            /// and greater than 0.
            pub fn boxed(
                lr: impl crate::settings::ScalarOf<N::Scalar>,
            ) -> Result<Self, crate::SettingError> {
                Self::with_state(lr.scalar())
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
///
/// A step is all-or-nothing: it either applies the whole update, leaving
/// every parameter and every piece of its own state finite, or changes
/// nothing (network and optimiser bit-identical to before the call) and
/// returns a [`StepError`] naming the first tensor that would have gone
/// NaN or infinite. constnet's optimisers first try the update on copies
/// of each value, then apply it ([`checked_update`] does both for an
/// element-wise rule); an implementation of this trait must keep the same
/// promise, which training relies on. (Within one training call, SGD with
/// momentum skips the trial of a step that bounds carried from the call's
/// earlier steps show cannot overflow: the same results, one pass over
/// the memory fewer.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot update a network of type `{N}`",
    note = "an optimiser's state has the shape of the network it was made for; make one per network type"
)]
pub trait Optimizer<N: Network> {
    /// Applies one update to `net` from `grads` (the gradient of the loss
    /// with respect to `net`'s parameters).
    ///
    /// # Errors
    ///
    /// [`StepError`] if the update would make a parameter or the
    /// optimiser's state NaN or infinite (a non-finite gradient, a rate too
    /// high for the parameters' range); nothing is changed then.
    fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), StepError>;

    /// [`step`](Optimizer::step) from a gradient that is not needed
    /// afterwards: the step may use `grads` as scratch, leaving
    /// unspecified values there, whether it is taken or refused (plain SGD
    /// keeps the old parameters there while it checks its results, and
    /// needs no other copy). Training calls this: each batch's backward
    /// pass writes the whole gradient again. The network and the
    /// optimiser change exactly as with `step`. The default calls `step`.
    ///
    /// # Errors
    ///
    /// As [`step`](Optimizer::step).
    fn step_and_discard(&mut self, net: &mut N, grads: &mut Gradients<N>) -> Result<(), StepError> {
        self.step(net, grads)
    }

    /// [`step_and_discard`](Optimizer::step_and_discard) as one step of a
    /// training call, which passes every step of the call the same
    /// `bounds`: what the call's earlier steps have learnt of the values
    /// they leave, which nothing else can change while the call lasts.
    /// Only the crate can make a [`StepBounds`]. The default ignores it.
    #[doc(hidden)]
    fn step_and_discard_within(
        &mut self,
        net: &mut N,
        grads: &mut Gradients<N>,
        bounds: &mut StepBounds,
    ) -> Result<(), StepError> {
        let _ = bounds;
        self.step_and_discard(net, grads)
    }

    /// Runs `f` with a gradient buffer for training to write each batch's
    /// gradient into: on the stack by default, on the heap for an
    /// optimiser whose state is there (made with `boxed`).
    fn scratch<R>(f: impl FnOnce(&mut Gradients<N>) -> R) -> R
    where
        Self: Sized,
    {
        Gradients::<N>::scratch(f)
    }
}

/// A step that was not taken: applied, it would have made a parameter or a
/// piece of the optimiser's state NaN or infinite. The network and the
/// optimiser are as they were before the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepError {
    /// The first tensor, in the network's order, that would have gone
    /// non-finite.
    pub tensor: TensorId,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the step would make {} NaN or infinite, and was not applied",
            self.tensor
        )
    }
}

impl core::error::Error for StepError {}

/// One parameter tensor of a network, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorId {
    /// Its place among all the network's tensors, from 0 (the order of
    /// [`Tensors`], of the model file and of safetensors export).
    pub index: usize,
    /// Its layer's place in the network's list of layers, from 0 (a
    /// network used as a layer counts as its own layers).
    pub layer: usize,
    /// Its name within the layer (`"weight"`).
    pub name: &'static str,
}

impl TensorId {
    /// The tensor at place `index` among `N`'s tensors, or `None` past the
    /// last one.
    pub fn of<N: Network>(index: usize) -> Option<TensorId> {
        let mut first = 0;
        for layer in 0..<N::Layers as Layer<N::Input>>::LAYERS {
            let info = <N::Layers as Layer<N::Input>>::layer(layer)?;
            if index < first + info.tensors {
                let tensor = <N::Layers as Layer<N::Input>>::tensor_info(layer, index - first)?;
                return Some(TensorId {
                    index,
                    layer,
                    name: tensor.name,
                });
            }
            first += info.tensors;
        }
        None
    }
}

impl fmt::Display for TensorId {
    /// `` `weight` of layer 2 ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` of layer {}", self.name, self.layer)
    }
}

/// Bounds on the magnitude of every parameter and every value of an
/// optimiser's state, as the last step of a training call left them, for
/// the next step of the same call (see [`update_all`]'s `bounds`). Made
/// only by the crate, at the start of a training call, knowing nothing.
#[doc(hidden)]
#[derive(Debug)]
pub struct StepBounds {
    /// The largest magnitude a parameter, then each piece of state, can
    /// have; `None` when unknown.
    last: Option<[f64; 3]>,
}

impl StepBounds {
    /// Nothing known yet: the first step of a call is tried first.
    pub(crate) const fn new() -> StepBounds {
        StepBounds { last: None }
    }
}

/// A bounded step's limits for scalar `T`: every value a step computes
/// stays at most `limit` in magnitude (`T::MAX / 2²⁰`, so that the
/// rounding of a few operations cannot reach infinity), and a step is
/// taken without its trial when every gradient, parameter and piece of
/// state is at most `allowed` (`limit / 2⁴⁰`).
fn limits<T: Scalar>() -> (f64, f64) {
    let limit = T::max_value().as_f64() / (1u64 << 20) as f64;
    (limit, limit / (1u64 << 40) as f64)
}

/// Applies an element-wise update rule to every parameter of `net`, all or
/// nothing.
///
/// `update(θ, g, s)` changes one parameter `θ` and its `K` pieces of state
/// `s` (one per tensor list in `state`: a momentum, two moments) from its
/// gradient `g`. The rule is first run on copies, tensor by tensor; if any
/// result would be NaN or infinite, nothing is written and the first such
/// tensor is returned. Otherwise it is run again in place. The trial reads
/// what the update reads and writes nothing, so a step costs one more read
/// of the parameters, gradients and state, and no copy of them.
///
/// ```
/// use constnet::optim::{StepError, checked_update};
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-1 regressor.
///     struct Net<f32> { 2 => Dense<1> }
/// }
/// let mut net = Net::random(&mut SmallRng::seed_from_u64(0));
/// let mut grads: Gradients<Net> = Zeroed::ZERO;
/// grads.0.bias = [1.0];
/// let before = net.clone();
///
/// // Plain gradient descent with rate 0.1 (no state: K = 0).
/// checked_update(&mut net, &grads, [], |p, g, _| *p -= 0.1 * g)?;
/// assert_eq!(net.layers().bias, [before.layers().bias[0] - 0.1]);
///
/// // A rate of f32::MAX would overflow the bias: refused, nothing changed.
/// let err = checked_update(&mut net, &grads, [], |p, g, _| *p -= f32::MAX * g * 2.0);
/// assert_eq!(err.unwrap_err().tensor.name, "bias");
/// assert_eq!(net.layers().bias, [before.layers().bias[0] - 0.1]);
/// # Ok::<(), StepError>(())
/// ```
///
/// # Errors
///
/// [`StepError`] naming the first tensor the update would make non-finite.
#[inline(always)]
pub fn checked_update<N: Network, const K: usize>(
    net: &mut N,
    grads: &Gradients<N>,
    state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
) -> Result<(), StepError> {
    update_all(net, Grads::Keep(grads), state, update, unbounded())
}

/// The type of a rule's [`Bound`] where there is none.
pub(crate) type NoBound<const K: usize> = fn(f64, f64, [f64; K]) -> (f64, [f64; K]);

/// No bounds: every step is tried first.
pub(crate) fn unbounded<'a, const K: usize>() -> Option<(&'a mut StepBounds, NoBound<K>)> {
    None
}

/// How far an update rule can move values: from bounds on the magnitude of
/// a parameter, its gradient and its `K` pieces of state, bounds on the
/// parameter's and the state's after the rule (computed in `f64`, over
/// every intermediate value too). [`update_all`] uses it to take a step
/// of a training call without trying it first.
pub(crate) trait Bound<const K: usize>:
    Fn(f64, f64, [f64; K]) -> (f64, [f64; K]) + Copy
{
}

impl<F: Fn(f64, f64, [f64; K]) -> (f64, [f64; K]) + Copy, const K: usize> Bound<K> for F {}

/// How many values a tensor (or, with state, a network) needs for its
/// update to be run through [`simd::vectorized`](crate::simd::vectorized).
const SHORT: usize = 64;

/// The gradient an optimiser's update reads: borrowed by
/// [`Optimizer::step`], or lent by training, which does not read it again
/// ([`Optimizer::step_and_discard`]).
pub(crate) enum Grads<'a, N: Network> {
    /// Read only.
    Keep(&'a Gradients<N>),
    /// Read, and free to be overwritten: a step without state keeps the
    /// old parameters there while it checks its results.
    Scratch(&'a mut Gradients<N>),
}

impl<N: Network> Grads<'_, N> {
    /// The gradient.
    pub(crate) fn get(&self) -> &Gradients<N> {
        match self {
            Grads::Keep(grads) => grads,
            Grads::Scratch(grads) => grads,
        }
    }
}

/// [`checked_update`], with the gradient kept or lent as scratch; within a
/// training call, with the call's `bounds` and the rule's [`Bound`].
///
/// With bounds known from the call's last step, a step whose gradients are
/// all at most `allowed` (see [`limits`]) and whose results the rule's
/// bound keeps under `limit` cannot make anything NaN or infinite: every
/// input is finite, and no sum, difference or product of them overflows.
/// It is then applied without its trial, after one pass over the gradient
/// instead of the trial's over parameters, gradient and state. Any other
/// step is tried first, and if every result is at most `allowed` the next
/// step knows so.
#[inline(always)]
pub(crate) fn update_all<N: Network, const K: usize>(
    net: &mut N,
    mut grads: Grads<'_, N>,
    state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
    bounds: Option<(&mut StepBounds, impl Bound<K>)>,
) -> Result<(), StepError> {
    // The loops over a large network are compiled for the widest vector
    // instructions the processor has (the update is element-wise, so its
    // results do not depend on them); a small one's stay inline, where a
    // call would cost more than it saves.
    use crate::simd::vectorized;

    if K == 0
        && let Grads::Scratch(grads) = &mut grads
    {
        return stash_update(net, grads, update);
    }

    if <N::Layers as Tensors<N::Scalar>>::LEN < SHORT {
        bounded_step(net, grads, state, update, bounds)
    } else {
        vectorized(
            #[inline(always)]
            || bounded_step(net, grads, state, update, bounds),
        )
    }
}

/// [`update_all`]'s step, with or without bounds.
#[inline(always)]
fn bounded_step<N: Network, const K: usize>(
    net: &mut N,
    grads: Grads<'_, N>,
    state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
    bounds: Option<(&mut StepBounds, impl Bound<K>)>,
) -> Result<(), StepError> {
    const { assert!(K <= 2, "StepBounds holds two pieces of state") };
    let Some((bounds, bound)) = bounds else {
        return try_then_apply(net, grads, state, update);
    };
    let (limit, allowed) = limits::<N::Scalar>();
    if let Some([p, s @ ..]) = bounds.last {
        let (p, s) = bound(p, allowed, core::array::from_fn(|k| s[k]));
        if p <= limit && s.iter().all(|&s| s <= limit) && gradient_within(grads.get(), allowed) {
            apply_all(net, grads, state, update);
            let mut last = [p, 0.0, 0.0];
            last[1..=K].copy_from_slice(&s);
            bounds.last = Some(last);
            return Ok(());
        }
    }
    tried_step(net, grads, state, update, bounds)
}

/// A step of a training call that bounds do not cover (the call's first,
/// or one whose values grew past them): tried first, with the stricter
/// test that every result is at most `allowed`, which gives the next
/// step its bounds; refused only if a result is not finite. Out of line:
/// it is taken once per call, and a small network's loop stays small.
#[inline(never)]
fn tried_step<N: Network, const K: usize>(
    net: &mut N,
    grads: Grads<'_, N>,
    state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
    bounds: &mut StepBounds,
) -> Result<(), StepError> {
    let (_, allowed) = limits::<N::Scalar>();
    let small = N::Scalar::from_f64(allowed);
    let within = first_refused(net, grads.get(), &state, update, move |x: N::Scalar| {
        x.abs() <= small
    })
    .is_none();
    if within {
        apply_all(net, grads, state, update);
        bounds.last = Some([allowed; 3]);
        Ok(())
    } else {
        bounds.last = None;
        try_then_apply(net, grads, state, update)
    }
}

/// Whether every value of `grads` is at most `allowed` in magnitude (and
/// so finite).
#[inline(always)]
fn gradient_within<N: Network>(grads: &Gradients<N>, allowed: f64) -> bool {
    let allowed = N::Scalar::from_f64(allowed);
    // A plain loop, not `Iterator::all`: its closure would be compiled out
    // of line, for the build's baseline instruction set rather than the
    // vectorised frame's.
    for i in 0..<Gradients<N> as Tensors<N::Scalar>>::COUNT {
        let within = in_parts(
            grads.tensor(i),
            #[inline(always)]
            |g: &[N::Scalar]| g.iter().fold(true, |ok, x| ok & (x.abs() <= allowed)),
        );
        if !within {
            return false;
        }
    }
    true
}

/// [`update_all`]'s two passes: the rule tried on copies, first tensor
/// first (the first layer's gradient is the one the backward pass wrote
/// last), then, if every result is finite, applied in place, last tensor
/// first (the ones tried last are still in cache, and the first layer's,
/// which the next forward pass reads first, end up there).
#[inline(always)]
fn try_then_apply<N: Network, const K: usize>(
    net: &mut N,
    grads: Grads<'_, N>,
    state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
) -> Result<(), StepError> {
    if let Some(index) = first_refused(net, grads.get(), &state, update, N::Scalar::is_finite) {
        return Err(refused::<N>(index));
    }
    apply_all(net, grads, state, update);
    Ok(())
}

/// The first tensor in which the rule, tried on copies, gives a parameter
/// or a piece of state that `accept` refuses.
#[inline(always)]
fn first_refused<N: Network, const K: usize>(
    net: &N,
    grads: &Gradients<N>,
    state: &[&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
    accept: impl Fn(N::Scalar) -> bool + Copy + Sync,
) -> Option<usize> {
    // A plain loop, as in `gradient_within`.
    for i in 0..<N::Layers as Tensors<N::Scalar>>::COUNT {
        let (p, g) = (net.layers().tensor(i), grads.tensor(i));
        let s = state.each_ref().map(|s| s.tensor(i));
        let accepted = in_parts(
            (p, &g[..p.len()], s),
            #[inline(always)]
            |(p, g, s)| accepts(p, g, s, update, accept),
        );
        if !accepted {
            return Some(i);
        }
    }
    None
}

/// The rule in place on every tensor, last tensor first.
#[inline(always)]
fn apply_all<N: Network, const K: usize>(
    net: &mut N,
    grads: Grads<'_, N>,
    mut state: [&mut Gradients<N>; K],
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
) {
    for i in (0..<N::Layers as Tensors<N::Scalar>>::COUNT).rev() {
        let p = net.layers_mut().tensor_mut(i);
        let (n, s) = (p.len(), state.each_mut().map(|s| s.tensor_mut(i)));
        in_parts(
            (p, &grads.get().tensor(i)[..n], s),
            #[inline(always)]
            |(p, g, s)| {
                apply(p, g, s, update);
                true
            },
        );
    }
}

/// [`update_all`] for a rule without state, on a gradient lent as
/// scratch: one pass that applies the update and keeps each old parameter
/// in its gradient's place, then, if a parameter went non-finite, puts
/// every parameter back.
#[inline(always)]
fn stash_update<N: Network, const K: usize>(
    net: &mut N,
    grads: &mut Gradients<N>,
    update: impl Fn(&mut N::Scalar, N::Scalar, &mut [N::Scalar; K]) + Copy + Sync,
) -> Result<(), StepError> {
    use crate::simd::vectorized;
    let mut first_bad = None;
    net.layers_mut()
        .for_each_tensor_mut(&mut crate::tensors::walk_mut(
            #[inline(always)]
            |i, p| {
                let g = &mut grads.tensor_mut(i)[..p.len()];
                let finite = if p.len() < SHORT {
                    stash(p, g, update)
                } else {
                    in_parts((p, g), |(p, g)| {
                        vectorized(
                            #[inline(always)]
                            || stash(p, g, update),
                        )
                    })
                };
                if !finite && first_bad.is_none() {
                    first_bad = Some(i);
                }
            },
        ));
    match first_bad {
        None => Ok(()),
        Some(index) => {
            put_back(net, grads);
            Err(refused::<N>(index))
        }
    }
}

/// Values a piece of an element-wise pass has at least when the pass is
/// shared out over threads ([`in_parts`]).
#[cfg(feature = "parallel")]
const PART: usize = 1 << 13;

/// `f` of `slices`, or, inside a step shared out over threads (see
/// [`Threads`](crate::parallel::Threads)), of a piece of them per thread,
/// each on its thread, when they are long enough for that to pay; whether
/// every call returned `true`. The pieces are cut at the same places in
/// every slice and at every step, so that each thread works on the same
/// values each time; an element-wise pass gives the same results either
/// way.
#[inline(always)]
pub(crate) fn in_parts<S: Split>(slices: S, f: impl Fn(S) -> bool + Sync) -> bool {
    #[cfg(feature = "parallel")]
    {
        let threads = crate::parallel::crew_size();
        if threads > 1 && slices.len() >= threads * PART {
            return crate::parallel::on_crew(cut(slices, threads), &f);
        }
    }
    f(slices)
}

/// `slices` cut into `parts` pieces, at multiples of 16 values.
#[cfg(feature = "parallel")]
fn cut<S: Split>(slices: S, parts: usize) -> std::vec::Vec<S> {
    let len = slices.len();
    let mut pieces = std::vec::Vec::with_capacity(parts);
    let mut rest = slices;
    let mut start = 0;
    for k in 1..parts {
        let end = (len * k / parts).next_multiple_of(16).min(len);
        let (piece, tail) = rest.split(end - start);
        pieces.push(piece);
        rest = tail;
        start = end;
    }
    pieces.push(rest);
    pieces
}

/// Slices, or groups of slices of one length, that can be cut in two at
/// the same place and sent to another thread.
pub(crate) trait Split: Sized + Send {
    /// The values in each slice.
    fn len(&self) -> usize;
    /// The first `mid` values of each, and the rest.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn split(self, mid: usize) -> (Self, Self);
}

impl<T: Sync> Split for &[T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn split(self, mid: usize) -> (Self, Self) {
        self.split_at(mid)
    }
}

impl<T: Send> Split for &mut [T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn split(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<S: Split, const K: usize> Split for [S; K] {
    fn len(&self) -> usize {
        self.first().map_or(usize::MAX, S::len)
    }
    fn split(self, mid: usize) -> (Self, Self) {
        let mut halves = self.map(|s| {
            let (a, b) = s.split(mid);
            (Some(a), Some(b))
        });
        let first = core::array::from_fn(|k| halves[k].0.take().expect("each once"));
        let second = core::array::from_fn(|k| halves[k].1.take().expect("each once"));
        (first, second)
    }
}

impl<A: Split, B: Split> Split for (A, B) {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn split(self, mid: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.split(mid), self.1.split(mid));
        ((a0, b0), (a1, b1))
    }
}

impl<A: Split, B: Split, C: Split> Split for (A, B, C) {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn split(self, mid: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1), (c0, c1)) =
            (self.0.split(mid), self.1.split(mid), self.2.split(mid));
        ((a0, b0, c0), (a1, b1, c1))
    }
}

/// The error for tensor `index` of `N`. Out of line, so that the step it
/// ends stays small enough to be inlined whole.
#[cold]
#[inline(never)]
fn refused<N: Network>(index: usize) -> StepError {
    let tensor = TensorId::of::<N>(index).unwrap_or(TensorId {
        index,
        layer: 0,
        name: "",
    });
    StepError { tensor }
}

/// Puts back the parameters [`stash_update`] kept in `grads`.
#[cold]
#[inline(never)]
fn put_back<N: Network>(net: &mut N, grads: &Gradients<N>) {
    net.layers_mut()
        .for_each_tensor_mut(&mut |i, p| p.copy_from_slice(&grads.tensor(i)[..p.len()]));
}

/// One tensor of [`stash_update`]: the update in place, each old
/// parameter kept in its gradient's place; whether every result is finite.
#[inline(always)]
fn stash<T: Scalar, const K: usize>(
    p: &mut [T],
    g: &mut [T],
    update: impl Fn(&mut T, T, &mut [T; K]) + Copy + Sync,
) -> bool {
    let n = p.len();
    let g = &mut g[..n];
    let mut ok = true;
    for j in 0..n {
        let old = p[j];
        update(&mut p[j], g[j], &mut core::array::from_fn(|_| T::ZERO));
        g[j] = old;
        ok &= p[j].is_finite();
    }
    ok
}

/// Whether `accept` takes every parameter in `p` and every piece of its
/// state after `update`, run on copies. The loop does not stop early, so
/// that it vectorises.
#[inline(always)]
fn accepts<T: Scalar, const K: usize>(
    p: &[T],
    g: &[T],
    s: [&[T]; K],
    update: impl Fn(&mut T, T, &mut [T; K]) + Copy + Sync,
    accept: impl Fn(T) -> bool + Copy,
) -> bool {
    let n = p.len();
    let (g, s) = (&g[..n], s.map(|s| &s[..n]));
    let mut ok = true;
    for j in 0..n {
        let mut pj = p[j];
        let mut sj: [T; K] = core::array::from_fn(|k| s[k][j]);
        update(&mut pj, g[j], &mut sj);
        ok &= sj.iter().fold(accept(pj), |ok, &x| ok & accept(x));
    }
    ok
}

/// `update` on every parameter of one tensor, in place, with the gradient
/// `g`; each piece of state is stored [`flushed`].
#[inline(always)]
fn apply<T: Scalar, const K: usize>(
    p: &mut [T],
    g: &[T],
    s: [&mut [T]; K],
    update: impl Fn(&mut T, T, &mut [T; K]) + Copy + Sync,
) {
    let n = p.len();
    let (g, s) = (&g[..n], s.map(|s| &mut s[..n]));
    for j in 0..n {
        let mut sj: [T; K] = core::array::from_fn(|k| s[k][j]);
        update(&mut p[j], g[j], &mut sj);
        for k in 0..K {
            s[k][j] = flushed(sj[k]);
        }
    }
}

/// `x`, or zero if it is subnormal (smaller in magnitude than the smallest
/// normal number).
///
/// An optimiser's state decays geometrically where the gradient is zero (a
/// unit that no longer fires): SGD's velocity is multiplied by the
/// momentum, Adam's moments by their betas, at every step. In exact
/// arithmetic it reaches zero; in floating point it stops a few units of
/// the last place above it, in the subnormal range, where `0.9 × 1 ulp`
/// rounds back to `1 ulp` (`0.999 × k ulp` to `k ulp` for `k` up to 500).
/// Every later step would then multiply subnormal numbers, which x86
/// processors do in microcode: on a 784-128-10 network with three in four
/// velocities stuck there, a tenth of the training time. Stored as zero,
/// the state stays zero while the gradient does (see the [module
/// documentation](self)).
#[inline(always)]
fn flushed<T: Scalar>(x: T) -> T {
    if x.abs() < T::min_positive_value() {
        T::ZERO
    } else {
        x
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
    /// Changes the learning rate for the following steps. Unlike a
    /// constructor's, this rate may be 0, which leaves the parameters as
    /// they are (a [`Cosine`] schedule ends there).
    ///
    /// # Errors
    ///
    /// [`SettingError`](crate::SettingError) unless `lr` is finite and at
    /// least 0; the rate is then unchanged.
    fn set_learning_rate(&mut self, lr: Self::Scalar) -> Result<(), crate::SettingError>;
}

/// The factor that scales `grads` down to Euclidean norm `max_norm` when
/// it is longer (`1` otherwise, or without a maximum), as PyTorch's
/// `clip_grad_norm_` computes it: `min(1, max_norm / (norm + 1e-6))`.
#[inline(always)]
fn clip_factor<T: Scalar, G: Tensors<T>>(grads: &G, max_norm: Option<T>) -> T {
    match max_norm {
        Some(max) => {
            let coef = max / (grads.norm_squared().sqrt() + T::from_f64(1e-6));
            coef.min(T::ONE)
        }
        None => T::ONE,
    }
}
