//! Training and evaluation on every core (feature `parallel`, which needs
//! `std`).
//!
//! [`Threads`] and [`TrainOn`] train a network with data-parallel
//! mini-batches: each
//! thread computes the gradient of its share of the batch into a buffer of
//! its own, the buffers are added up (in parallel, over ranges of the
//! parameters), and the optimiser takes one step from the sum, as
//! [`Train::train_epoch`] does from the whole
//! batch. It also evaluates a network over a data set (accuracy, mean
//! loss, predictions) with the data set cut into blocks that the threads
//! share.
//!
//! ```
//! use constnet::parallel::{Threads, TrainOn};
//! use constnet::prelude::*;
//!
//! network! {
//!     /// A 64-32-10 classifier.
//!     struct Net<f32> { 64 => Dense<32>, Relu, Dense<10> }
//! }
//!
//! let mut rng = SmallRng::seed_from_u64(1);
//! let mut net = Net::random(&mut rng);
//! let mut opt = Sgd::new(0.1)?.momentum(0.9)?;
//! // 512 samples whose class is the index of their largest input.
//! let mut data: Vec<([f32; 64], usize)> = (0..512)
//!     .map(|i| {
//!         let class = i % 10;
//!         (core::array::from_fn(|j| if j == class { 1.0 } else { 0.1 }), class)
//!     })
//!     .collect();
//!
//! let mut threads = Threads::all();
//! for _ in 0..20 {
//!     net.train_epoch_on::<32>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng, &mut threads)?;
//! }
//! assert_eq!(threads.accuracy(&net, &data), 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How many threads
//!
//! [`Threads::all`] may use every core the operating system offers
//! ([`std::thread::available_parallelism`]), [`Threads::up_to`] at most a
//! given number; both start no thread for work too small to pay for it,
//! and decide by measuring, not by a size fixed in advance. For training,
//! with batches of `B`, the first two full batches of that size run on one
//! thread and the next two on all, each timed whole (gradient, sum and
//! step); all threads are kept for that batch size only if they were at
//! least 10 % faster, one thread otherwise. A batch of one
//! sample (`B = 1`) never starts a thread. For an evaluation, the first
//! block of 256 samples runs on one thread, timed; the rest is shared out
//! when the time it would save exceeds twice the measured cost of waking
//! every thread of the pool and waiting for them (measured once, by the
//! first evaluation of more than one block, which starts the pool for it).
//! [`Threads::exactly`] always uses the count it is given and measures
//! nothing. [`Threads::last_used`] tells what the last call used.
//!
//! # Results
//!
//! - Training on `t` threads sums each batch's gradient in another order
//!   than one thread does, so parameters differ from
//!   [`Train::train_epoch`]'s by rounding only
//!   (floating-point reassociation); for a fixed thread count they are
//!   **bit-identical from run to run**: each thread's share of a batch is
//!   a fixed range of it, and the shares' gradients and losses are added
//!   in the same order every time, whichever thread computed them. On one
//!   thread the results are bit-identical to `train_epoch`'s. With
//!   [`Threads::all`] or [`Threads::up_to`], the count chosen depends on
//!   measured times, so a run that must be reproducible on any machine
//!   uses [`Threads::exactly`].
//! - Evaluations give the same results on any number of threads: each
//!   output is the one [`Network::predict`] gives, bit for bit; a mean
//!   loss sums the blocks' sums in their order.
//! - A step is all or nothing, as in one thread: a batch whose loss is not
//!   finite, or whose update the optimiser refuses, stops training with
//!   [`TrainError::Diverged`] and changes nothing of the network or the
//!   optimiser.
//!
//! # When it pays
//!
//! Each step hands the parameters and the gradients from core to core: the
//! threads' gradients are added up, and every thread's next forward pass
//! reads the parameters the step has just written. That cost is paid per
//! batch, whatever its size, so threads pay for large batches of large
//! networks first. Measured on an AMD EPYC (Zen 4, 2 vCPUs, 2026-12-02),
//! two threads train a 256-256-256-256-10 network (800 KB of parameters)
//! 1.4× faster than one with batches of 128, but more slowly with
//! batches of 32, where [`Threads::all`] keeps one thread (README,
//! "Training on every core"). Evaluation shares out well.
//!
//! # Threads and memory
//!
//! The threads are a [`rayon`] pool of the chosen size, owned by the
//! `Threads` value and started on its first parallel call (not the global
//! pool, so that the count is the one asked for); each has an 8 MiB stack,
//! as a program's main thread usually does, because a batch's activations
//! live on the stack. Each thread has a gradient buffer of the network's
//! size on the heap, kept for the next call.

use std::boxed::Box;
use std::time::{Duration, Instant};
use std::vec::Vec;

use rand::Rng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::fit::{Engine, FitError, FitReport, Observer};
use crate::loss::Loss;
use crate::network::{Gradients, Label, Network, class_of};
use crate::optim::Optimizer;
use crate::scalar::{Scalar, Vector, Zeroed};
use crate::settings::{self, SettingError};
use crate::tensors::Tensors;
use crate::train::{self, Train, TrainError};

/// Samples per block of an evaluation: the share a thread takes at a time,
/// and the unit of a mean loss's sums, so that their order does not depend
/// on the thread count.
const BLOCK: usize = 256;

/// Samples per forward pass within a block of an evaluation.
const EVAL_BATCH: usize = 16;

/// Full batches timed each way (one thread, all) before choosing.
const TRIALS: u32 = 2;

/// Values of a gradient tensor from which its sum over the threads'
/// buffers is itself shared out; a smaller one is added up on one thread.
const SHARED_SUM: usize = 1 << 14;

/// The stack of each thread of the pool.
const STACK: usize = 8 << 20;

std::thread_local! {
    /// The threads the element-wise passes of the optimiser's step on this
    /// thread may use: set during a shared step, 1 otherwise.
    static SHARES: core::cell::Cell<usize> = const { core::cell::Cell::new(1) };
}

/// How many threads the optimiser's element-wise passes may use on this
/// thread (see `optim::in_parts`).
pub(crate) fn shares() -> usize {
    SHARES.get()
}

/// `a` and `b`, on two threads of the current pool when one is free.
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    rayon::join(a, b)
}

/// Runs `f` with the optimiser's passes shared out over `threads`.
fn sharing<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    /// Puts the count back, whatever happens in `f`.
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHARES.set(self.0);
        }
    }
    let _restore = Restore(SHARES.replace(threads));
    f()
}

/// Threads to train and evaluate a network `N` on, with a gradient buffer
/// for each; see the [module documentation](self).
pub struct Threads<N: Network> {
    /// The most threads it uses.
    count: usize,
    /// Whether it always uses `count` (nothing measured).
    fixed: bool,
    /// The pool, started on the first parallel call.
    pool: Option<rayon::ThreadPool>,
    /// One zero gradient buffer per thread, between calls.
    buffers: Vec<Box<Gradients<N>>>,
    /// Each thread's sum of its share's losses, during a step.
    sums: Vec<N::Scalar>,
    /// Whether a call was interrupted (a panic) with buffers not zeroed.
    dirty: bool,
    /// What was measured, or chosen, for each batch size.
    plans: Vec<(usize, Plan)>,
    /// The measured cost of waking every thread of the pool and waiting.
    round_trip: Option<Duration>,
    /// The threads the last call used.
    used: usize,
}

impl<N: Network> core::fmt::Debug for Threads<N> {
    /// The count, whether it is fixed, what was chosen for each batch size
    /// (`None` while it is being measured) and what the last call used.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let chosen: Vec<(usize, Option<usize>)> = self
            .plans
            .iter()
            .map(|&(batch, plan)| match plan {
                Plan::Use(threads) => (batch, Some(threads)),
                Plan::Trial { .. } => (batch, None),
            })
            .collect();
        f.debug_struct("Threads")
            .field("count", &self.count)
            .field("fixed", &self.fixed)
            .field("chosen", &chosen)
            .field("last_used", &self.used)
            .finish()
    }
}

/// How training with one batch size runs.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Being timed: the fastest step so far on one thread and on all, and
    /// the number of steps timed.
    Trial {
        one: Duration,
        all: Duration,
        timed: u32,
    },
    /// Chosen: this many threads.
    Use(usize),
}

impl Plan {
    const START: Plan = Plan::Trial {
        one: Duration::MAX,
        all: Duration::MAX,
        timed: 0,
    };
}

impl<N: Network> Threads<N> {
    /// Up to as many threads as the machine offers to this process
    /// ([`std::thread::available_parallelism`], 1 if it cannot tell),
    /// starting none for work too small to pay for them.
    pub fn all() -> Self {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with(count, false)
    }

    /// Up to `count` threads, starting none for work too small to pay for
    /// them.
    ///
    /// # Errors
    ///
    /// [`SettingError`] if `count` is 0.
    pub fn up_to(count: usize) -> Result<Self, SettingError> {
        Ok(Self::with(Self::checked(count)?, false))
    }

    /// Exactly `count` threads for every batch of two samples or more and
    /// every evaluation, whatever the work: results reproducible bit for
    /// bit wherever the same count is used.
    ///
    /// # Errors
    ///
    /// [`SettingError`] if `count` is 0.
    pub fn exactly(count: usize) -> Result<Self, SettingError> {
        Ok(Self::with(Self::checked(count)?, true))
    }

    fn checked(count: usize) -> Result<usize, SettingError> {
        let value = u32::try_from(count).unwrap_or(u32::MAX);
        settings::at_least_one("threads", value).map(|_| count)
    }

    fn with(count: usize, fixed: bool) -> Self {
        Threads {
            count,
            fixed,
            pool: None,
            buffers: Vec::new(),
            sums: Vec::new(),
            dirty: false,
            plans: Vec::new(),
            round_trip: None,
            used: 1,
        }
    }

    /// The most threads it uses.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How many threads the last call used (1 before any call): for
    /// training, those of its last step.
    pub fn last_used(&self) -> usize {
        self.used
    }

    /// The number of threads chosen for training with batches of `B`, once
    /// measured (always `Some` for [`exactly`](Threads::exactly)).
    pub fn chosen<const B: usize>(&self) -> Option<usize> {
        if B < 2 || self.count == 1 {
            return Some(1);
        }
        if self.fixed {
            return Some(self.count);
        }
        match self.plan(B) {
            Plan::Use(threads) => Some(threads),
            Plan::Trial { .. } => None,
        }
    }

    fn plan(&self, batch: usize) -> Plan {
        self.plans
            .iter()
            .find(|(b, _)| *b == batch)
            .map_or(Plan::START, |(_, plan)| *plan)
    }

    fn set_plan(&mut self, batch: usize, plan: Plan) {
        match self.plans.iter_mut().find(|(b, _)| *b == batch) {
            Some((_, p)) => *p = plan,
            None => self.plans.push((batch, plan)),
        }
    }

    /// The pool, started on first use; `None` if the operating system
    /// would not start its threads (everything then runs on one).
    fn pool(&mut self) -> Option<&rayon::ThreadPool> {
        if self.pool.is_none() && self.count > 1 {
            self.pool = rayon::ThreadPoolBuilder::new()
                .num_threads(self.count)
                .stack_size(STACK)
                .thread_name(|i| std::format!("constnet-{i}"))
                .build()
                .ok();
            if self.pool.is_none() {
                self.count = 1;
            }
        }
        self.pool.as_ref()
    }

    /// Buffers for `count` threads, all zero.
    fn ready(&mut self) {
        if self.dirty {
            for buffer in &mut self.buffers {
                buffer.for_each_tensor_mut(&mut |_, t| t.fill(N::Scalar::ZERO));
            }
            self.dirty = false;
        }
        while self.buffers.len() < self.count.max(1) {
            self.buffers.push(Gradients::boxed());
            self.sums.push(N::Scalar::ZERO);
        }
    }
}

impl<N: Network + Send + Sync> Threads<N>
where
    Gradients<N>: Send,
{
    /// [`TrainOn::train_epoch_on`].
    fn train_epoch<const B: usize, Target: Sync, O: Optimizer<N> + Send>(
        &mut self,
        net: &mut N,
        data: &mut [(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut O,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<N::Scalar, TrainError> {
        train::checks::<N, Target, B>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        data.shuffle(rng);
        let data = &*data;
        if self.chosen::<B>() == Some(1) {
            // One thread: `train_epoch` itself, with the gradient buffer
            // it makes (on the stack, where the compiler keeps a small
            // network's gradient in registers), nothing looked up per batch.
            self.used = 1;
            return O::scratch(|grads| train::epoch::<N, Target, B>(net, data, loss, opt, grads));
        }
        self.run::<B, _>(|threads| {
            let mut total = N::Scalar::ZERO;
            for (index, batch) in data.chunks(B).enumerate() {
                let mean = threads.step::<B, Target>(net, batch, loss, opt, index)?;
                total += mean * N::Scalar::from_f64(batch.len() as f64);
            }
            Ok(total / N::Scalar::from_f64(data.len() as f64))
        })
    }

    /// [`TrainOn::train_batch_on`].
    fn train_batch<const B: usize, Target: Sync>(
        &mut self,
        net: &mut N,
        batch: &[(N::Input, Target); B],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
    ) -> Result<N::Scalar, TrainError> {
        train::checks::<N, Target, B>(loss);
        self.run::<B, _>(|threads| threads.step::<B, Target>(net, batch, loss, opt, 0))
    }

    /// Runs `f` in the pool when batches of `B` may use it, on the
    /// caller's thread otherwise.
    fn run<const B: usize, R: Send>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, TrainError> + Send,
    ) -> Result<R, TrainError> {
        self.ready();
        if self.chosen::<B>() == Some(1) || self.pool().is_none() {
            self.used = 1;
            return f(self);
        }
        let pool = self.pool.take().expect("started just above");
        let result = pool.install(|| f(self));
        self.pool = Some(pool);
        result
    }

    /// One step on `batch`, on one thread or all as planned, timed while
    /// the plan for `B` is being measured.
    fn step<const B: usize, Target: Sync>(
        &mut self,
        net: &mut N,
        batch: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        index: usize,
    ) -> Result<N::Scalar, TrainError> {
        let plan = self.plan(B);
        let threads = match (self.chosen::<B>(), plan) {
            (Some(threads), _) => threads,
            (None, Plan::Trial { timed, .. }) if timed < TRIALS => 1,
            _ => self.count,
        }
        .min(batch.len());
        let timed = matches!(plan, Plan::Trial { .. }) && !self.fixed && batch.len() == B;
        let start = timed.then(Instant::now);

        self.dirty = true;
        let result = if threads == 1 {
            train::step::<N, Target, B>(net, batch, loss, opt, &mut self.buffers[0], index)
        } else {
            self.shared_step::<B, Target>(threads, net, batch, loss, opt, index)
        };
        if result.is_err() {
            // The optimiser leaves unspecified values when it refuses.
            self.buffers[0].for_each_tensor_mut(&mut |_, t| t.fill(N::Scalar::ZERO));
        }
        self.dirty = false;
        self.used = threads;

        if let (Some(start), Plan::Trial { one, all, timed }) = (start, plan) {
            let time = start.elapsed();
            let (one, all) = match threads {
                1 => (one.min(time), all),
                _ => (one, all.min(time)),
            };
            let timed = timed + 1;
            // Threads only for a clear gain: 10 % of the step at least.
            let plan = match timed {
                n if n < 2 * TRIALS => Plan::Trial { one, all, timed },
                _ if all.as_secs_f64() < 0.9 * one.as_secs_f64() => Plan::Use(self.count),
                _ => Plan::Use(1),
            };
            self.set_plan(B, plan);
        }
        result
    }

    /// A step whose gradient `threads` threads compute, each over a fixed
    /// share of the batch; the buffers are then added up into the first,
    /// from which the optimiser steps.
    fn shared_step<const B: usize, Target: Sync>(
        &mut self,
        threads: usize,
        net: &mut N,
        batch: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        index: usize,
    ) -> Result<N::Scalar, TrainError> {
        let len = batch.len();
        let inv = N::Scalar::ONE / N::Scalar::from_f64(len as f64);
        let shared: &N = net;
        let buffers = &mut self.buffers[..threads];
        let sums = &mut self.sums[..threads];
        rayon::scope(|scope| {
            let mut shares = buffers.iter_mut().zip(sums.iter_mut()).enumerate();
            let (_, (first, first_sum)) = shares.next().expect("two threads at least");
            for (k, (buffer, sum)) in shares {
                let share = &batch[k * len / threads..(k + 1) * len / threads];
                scope.spawn(move |_| {
                    *sum = train::share_gradients::<N, Target, B>(
                        shared,
                        share,
                        loss,
                        inv,
                        &mut buffer.0,
                    );
                });
            }
            let share = &batch[..len / threads];
            *first_sum =
                train::share_gradients::<N, Target, B>(shared, share, loss, inv, &mut first.0);
        });
        let total = sums.iter().fold(N::Scalar::ZERO, |total, &sum| total + sum);
        add_up(buffers, threads);
        let grads = &mut self.buffers[0];
        sharing(threads, || {
            train::take_step(net, opt, grads, total * inv, index)
        })
    }
}

impl<N, Target, L, O> Engine<N, Target, L, O> for Threads<N>
where
    N: Network + Send + Sync,
    Gradients<N>: Send,
    Target: Label<N::Output> + Sync,
    L: Loss<N::Output, Target> + Sync,
    O: Optimizer<N> + Send,
{
    fn epoch<const B: usize>(
        &mut self,
        net: &mut N,
        train: &mut [(N::Input, Target)],
        loss: &L,
        opt: &mut O,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<N::Scalar, TrainError> {
        self.train_epoch::<B, Target, _>(net, train, loss, opt, rng)
    }
    fn mean_loss(
        &mut self,
        net: &N,
        data: &[(N::Input, Target)],
        loss: &L,
    ) -> Result<N::Scalar, TrainError> {
        Threads::mean_loss(self, net, data, loss)
    }
    fn accuracy(&mut self, net: &N, data: &[(N::Input, Target)]) -> f64 {
        Threads::accuracy(self, net, data)
    }
}

impl<N: Network + Sync> Threads<N> {
    /// The fraction of samples whose predicted class equals their label,
    /// as [`Network::accuracy`], on up to [`count`](Threads::count)
    /// threads.
    pub fn accuracy<L: Label<N::Output> + Sync>(&mut self, net: &N, data: &[(N::Input, L)]) -> f64 {
        let correct: usize = self
            .blocks(data, |block| {
                let mut correct = 0;
                for_outputs(
                    net,
                    block,
                    |(x, _)| x,
                    |(_, label), y| {
                        correct += usize::from(class_of(y.as_slice()) == label.class());
                    },
                );
                correct
            })
            .into_iter()
            .sum();
        correct as f64 / data.len().max(1) as f64
    }

    /// The mean loss over a data set, on up to [`count`](Threads::count)
    /// threads: the same value on any number of threads (it may differ
    /// from [`Train::mean_loss`]'s in the last
    /// bits, which sums in another order).
    ///
    /// # Errors
    ///
    /// [`TrainError::EmptyData`] for an empty data set.
    pub fn mean_loss<Target: Sync>(
        &mut self,
        net: &N,
        data: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
    ) -> Result<N::Scalar, TrainError> {
        train::checks::<N, Target, 1>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        let total = self
            .blocks(data, |block| {
                let mut total = N::Scalar::ZERO;
                for_outputs(
                    net,
                    block,
                    |(x, _)| x,
                    |(_, target), y| {
                        total += loss.loss(y, target);
                    },
                );
                total
            })
            .into_iter()
            .fold(N::Scalar::ZERO, |total, sum| total + sum);
        Ok(total / N::Scalar::from_f64(data.len() as f64))
    }

    /// The outputs for `inputs`, in order, on up to
    /// [`count`](Threads::count) threads: each the one
    /// [`Network::predict`] gives, bit for bit.
    pub fn predict(&mut self, net: &N, inputs: &[N::Input]) -> Vec<N::Output> {
        let blocks = self.blocks(inputs, |block| {
            let mut outputs = Vec::with_capacity(block.len());
            for_outputs(net, block, |x| x, |_, y| outputs.push(*y));
            outputs
        });
        blocks.into_iter().flatten().collect()
    }

    /// `f` of each block of `BLOCK` items, in order: the first on this
    /// thread, timed, the others shared out when that pays.
    fn blocks<S: Sync, R: Send>(&mut self, items: &[S], f: impl Fn(&[S]) -> R + Sync) -> Vec<R> {
        let Some(first) = items.chunks(BLOCK).next() else {
            return Vec::new();
        };
        let start = Instant::now();
        let mut results = std::vec![f(first)];
        let rest = &items[first.len()..];
        let work = start
            .elapsed()
            .mul_f64(rest.len() as f64 / first.len() as f64);
        self.used = if rest.is_empty() {
            1
        } else {
            self.evaluation_threads(work)
        };
        match self.pool.as_ref().filter(|_| self.used > 1) {
            Some(pool) => {
                let mut more = Vec::new();
                pool.install(|| rest.par_chunks(BLOCK).map(&f).collect_into_vec(&mut more));
                results.append(&mut more);
            }
            None => results.extend(rest.chunks(BLOCK).map(&f)),
        }
        results
    }

    /// The threads for an evaluation whose rest takes `work` on one
    /// thread: all when sharing it out saves more than twice the measured
    /// round trip through the pool.
    fn evaluation_threads(&mut self, work: Duration) -> usize {
        if self.count == 1 || self.pool().is_none() {
            return 1;
        }
        if self.fixed {
            return self.count;
        }
        let round_trip = match self.round_trip {
            Some(time) => time,
            None => {
                let pool = self.pool.as_ref().expect("started just above");
                pool.broadcast(|_| ()); // the threads' first wake-up
                let time = (0..3)
                    .map(|_| {
                        let start = Instant::now();
                        pool.broadcast(|_| ());
                        start.elapsed()
                    })
                    .min()
                    .unwrap_or(Duration::ZERO);
                *self.round_trip.insert(time)
            }
        };
        let saved = work.as_secs_f64() * (1.0 - 1.0 / self.count as f64);
        if saved > 2.0 * round_trip.as_secs_f64() {
            self.count
        } else {
            1
        }
    }
}

/// Training on [`Threads`]: [`Train`]'s and [`Fit`](crate::fit::Fit)'s methods with the
/// threads as their last argument, the same steps computed on up to
/// [`Threads::count`] threads (see the [module documentation](self) for
/// what is the same and what may differ in the last bits). Implemented for
/// every network.
pub trait TrainOn<Target>: Train<Target> + Send + Sync
where
    Gradients<Self>: Send,
{
    /// One epoch of mini-batch gradient descent with batches of `B`, as
    /// [`Train::train_epoch`]: the same shuffle of `data` with `rng`, one
    /// step per batch, the mean loss over the epoch; each batch's gradient
    /// computed on `threads`.
    ///
    /// # Errors
    ///
    /// As `train_epoch`: [`TrainError::EmptyData`], or
    /// [`TrainError::Diverged`] for the first batch whose loss is not finite
    /// or whose update would make anything non-finite; that batch's update
    /// is not applied, and the batches before it have been.
    fn train_epoch_on<const B: usize>(
        &mut self,
        data: &mut [(Self::Input, Target)],
        loss: &(impl Loss<Self::Output, Target> + Sync),
        opt: &mut (impl Optimizer<Self> + Send),
        rng: &mut (impl Rng + ?Sized),
        threads: &mut Threads<Self>,
    ) -> Result<Self::Scalar, TrainError>;

    /// One optimiser step on one batch of `B` samples, as
    /// [`Train::train_batch`], its gradient computed on `threads`. Returns
    /// the batch's mean loss (before the step).
    ///
    /// # Errors
    ///
    /// As `train_batch`: [`TrainError::Diverged`], with nothing changed.
    fn train_batch_on<const B: usize>(
        &mut self,
        batch: &[(Self::Input, Target); B],
        loss: &(impl Loss<Self::Output, Target> + Sync),
        opt: &mut (impl Optimizer<Self> + Send),
        threads: &mut Threads<Self>,
    ) -> Result<Self::Scalar, TrainError>;

    /// Trains for up to `epochs` epochs as [`Fit::fit`](crate::fit::Fit::fit) does (validation
    /// after each, the observer's say), each epoch with
    /// [`train_epoch_on`](TrainOn::train_epoch_on) and each validation
    /// with [`Threads::mean_loss`] and [`Threads::accuracy`].
    ///
    /// # Errors
    ///
    /// As `fit`: the first [`TrainError`] with its epoch.
    #[allow(clippy::too_many_arguments)]
    fn fit_on<const B: usize>(
        &mut self,
        train: &mut [(Self::Input, Target)],
        validation: &[(Self::Input, Target)],
        loss: &(impl Loss<Self::Output, Target> + Sync),
        opt: &mut (impl Optimizer<Self> + Send),
        rng: &mut (impl Rng + ?Sized),
        epochs: usize,
        observer: &mut impl Observer<Self>,
        threads: &mut Threads<Self>,
    ) -> Result<FitReport, FitError>
    where
        Target: Label<Self::Output>;
}

impl<N: Network + Send + Sync, Target: Sync> TrainOn<Target> for N
where
    Gradients<N>: Send,
{
    fn train_epoch_on<const B: usize>(
        &mut self,
        data: &mut [(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        rng: &mut (impl Rng + ?Sized),
        threads: &mut Threads<N>,
    ) -> Result<N::Scalar, TrainError> {
        threads.train_epoch::<B, Target, _>(self, data, loss, opt, rng)
    }

    fn train_batch_on<const B: usize>(
        &mut self,
        batch: &[(N::Input, Target); B],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        threads: &mut Threads<N>,
    ) -> Result<N::Scalar, TrainError> {
        threads.train_batch::<B, Target>(self, batch, loss, opt)
    }

    fn fit_on<const B: usize>(
        &mut self,
        train: &mut [(N::Input, Target)],
        validation: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        rng: &mut (impl Rng + ?Sized),
        epochs: usize,
        observer: &mut impl Observer<N>,
        threads: &mut Threads<N>,
    ) -> Result<FitReport, FitError>
    where
        Target: Label<N::Output>,
    {
        crate::fit::fit_with::<B, N, Target, _, _, _>(
            threads, self, train, validation, loss, opt, rng, epochs, observer,
        )
    }
}

/// Runs `f` on each item of `block` with its network output, computed in
/// forward passes of `EVAL_BATCH` samples (bit-identical to one sample's);
/// `input` finds an item's input.
fn for_outputs<N: Network, S>(
    net: &N,
    block: &[S],
    input: impl Fn(&S) -> &N::Input,
    mut f: impl FnMut(&S, &N::Output),
) {
    let (batches, rest) = block.as_chunks::<EVAL_BATCH>();
    for batch in batches {
        let x: [N::Input; EVAL_BATCH] = core::array::from_fn(|i| *input(&batch[i]));
        let y = net.predict_batch(&x);
        for (item, y) in batch.iter().zip(&y) {
            f(item, y);
        }
    }
    for item in rest {
        f(item, &net.predict(input(item)));
    }
}

/// Adds every buffer after the first into the first, in their order,
/// zeroing them: each tensor over `threads` ranges, on as many threads,
/// once it is large enough.
fn add_up<N: Network>(buffers: &mut [Box<Gradients<N>>], threads: usize)
where
    Gradients<N>: Send,
{
    let Some((first, rest)) = buffers.split_first_mut() else {
        return;
    };
    for i in 0..<Gradients<N> as Tensors<N::Scalar>>::COUNT {
        let sum = first.tensor_mut(i);
        for other in rest.iter_mut() {
            let part = other.tensor_mut(i);
            if sum.len() < SHARED_SUM {
                add_and_clear(sum, part);
            } else {
                let chunk = sum.len().div_ceil(threads).next_multiple_of(64);
                sum.par_chunks_mut(chunk)
                    .zip(part.par_chunks_mut(chunk))
                    .for_each(|(sum, part)| add_and_clear(sum, part));
            }
        }
    }
}

/// `sum += part`, then `part = 0`, element by element.
fn add_and_clear<T: Scalar>(sum: &mut [T], part: &mut [T]) {
    crate::simd::vectorized(
        #[inline(always)]
        || {
            for (s, p) in sum.iter_mut().zip(part.iter_mut()) {
                *s += *p;
                *p = T::ZERO;
            }
        },
    );
}
