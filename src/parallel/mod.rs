//! Training and evaluation on every core (feature `parallel`, which needs
//! `std`).
//!
//! [`Threads`] and [`TrainOn`] train a network on several threads, sharing
//! out either the batch or the layers of each step (see [two ways to share
//! a step](#two-ways-to-share-a-step)), and take one optimiser step per
//! batch, as [`Train::train_epoch`] does. They also evaluate a network over
//! a data set (accuracy, mean loss, predictions) with the data set cut into
//! blocks that the threads share.
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
//! # Two ways to share a step
//!
//! - [`Sharing::Batch`], data-parallel mini-batches: each thread computes
//!   the gradient of its share of the batch into a buffer of its own, the
//!   buffers are added up (in parallel, over ranges of the parameters) and
//!   the optimiser takes one step from the sum. Every batch hands every
//!   parameter and gradient from core to core (each thread reads all the
//!   parameters the step has just written, and the gradients meet to be
//!   added), a cost paid per batch whatever its size.
//! - [`Sharing::Layers`]: the calling thread runs the step as on one
//!   thread, and every product of a dense layer (forward, weight
//!   gradient, input gradient) is cut by rows of the weight matrix, each
//!   thread computing the same band of rows at every step; the optimiser
//!   steps each band on the thread that computed its gradient. A band's
//!   parameters, gradient and optimiser state never leave their core; what
//!   moves is activations, `batch × width` values per layer. A layer of
//!   your own runs whole on the calling thread (the products it computes
//!   with [`Matrix`](crate::Matrix) are cut too), and so does a dense layer
//!   too narrow to give every thread 16 rows, or one whose products have
//!   no vector kernel (`f64`, the portable level of
//!   [`set_kernel_level`](crate::matrix::set_kernel_level), targets other
//!   than x86-64).
//!
//! [`Threads::all`] and [`Threads::up_to`] measure which pays (below);
//! [`Threads::exactly`] shares the batch unless told otherwise, and
//! [`Threads::sharing`] fixes the way for any of them.
//!
//! # How many threads
//!
//! [`Threads::all`] may use every core the operating system offers
//! ([`std::thread::available_parallelism`]), [`Threads::up_to`] at most a
//! given number; both start no thread for work too small to pay for it,
//! and decide by measuring, not by a size fixed in advance. For training,
//! with batches of `B`, five full batches of that size run on one thread,
//! five on all sharing the batch and five on all sharing the layers
//! (only the way set by [`Threads::sharing`], if one is); the first of
//! each five warms up (wakes the threads, brings the parameters to each
//! core) and the other four are timed one by one, each way's fastest
//! kept (other work on the machine only ever adds time, so the fastest
//! step is the one it disturbed least). The faster way on all threads is
//! kept for that batch size if its fastest step was at least 10 % faster
//! than one thread's, one thread otherwise. The choice is measured again at the
//! start of the first epoch after it has lasted 256 batches, then 512,
//! 1,024 and so on, since the machine's load (and with it the better
//! choice) may change, and one measurement can be thrown off by a
//! moment's load elsewhere; and at the next call as soon as none of a
//! call's steps on threads was as fast as one thread's fastest in the
//! trial (the other cores have other work now). A batch of one sample (`B = 1`)
//! never starts a thread. For an evaluation, the first
//! block of 256 samples runs on one thread, timed; the rest is shared out
//! when the time it would save exceeds twice the measured cost of waking
//! every thread of the pool and waiting for them (measured once, by the
//! first evaluation of more than one block, which starts the pool for it).
//! [`Threads::exactly`] always uses the count it is given and measures
//! nothing. [`Threads::last_used`] tells what the last call used.
//!
//! # Results
//!
//! - Training on `t` threads sharing the batch sums each batch's gradient
//!   in another order than one thread does, and sharing the layers sums
//!   each input gradient in another order (band after band; the forward
//!   pass and the weight gradients are the same, bit for bit), so
//!   parameters differ from [`Train::train_epoch`]'s by rounding only
//!   (floating-point reassociation). For a fixed thread count and way they
//!   are **bit-identical from run to run**: each thread's share of a batch
//!   (or band of a layer) is fixed, and the shares are added in the same
//!   order every time, whichever thread computed them. On one thread the
//!   results are bit-identical to `train_epoch`'s. With [`Threads::all`]
//!   or [`Threads::up_to`], the count and way chosen depend on measured
//!   times, so a run that must be reproducible on any machine uses
//!   [`Threads::exactly`].
//! - Evaluations give the same results on any number of threads: each
//!   output is the one [`Network::predict`] gives, bit for bit; a mean
//!   loss sums the blocks' sums in their order.
//! - A step is all or nothing, as in one thread: a batch whose loss is not
//!   finite, or whose update the optimiser refuses, stops training with
//!   [`TrainError::Diverged`] and changes nothing of the network or the
//!   optimiser.
//! - A panic on any thread (in a loss or a layer of your own, say) stops
//!   the others and reaches the caller, as it would on one thread; the
//!   batch it happened in changes nothing, and the `Threads` value stays
//!   usable.
//!
//! # When it pays
//!
//! Threads pay for large layers first: a step's products are shared out,
//! its element-wise passes and small layers mostly not, and handing work
//! to a thread and waiting for it costs about a microsecond each time.
//! Measured on an AMD EPYC (Zen 4, 2 vCPUs under KVM, 2026-12-03), two
//! threads sharing the layers train a 784-256-10 network (the MNIST
//! example's) about 1.5–1.65× faster than one with batches of 32, a
//! 256-256-256-256-10 network 1.4–1.6×, a 784-128-10 network 1.25–1.45×;
//! sharing the batch gains less at that size (1.1–1.4×) and catches up
//! with batches of 128 (README, "Training on every core"). A network of
//! a few hundred parameters trains fastest on one thread, which
//! [`Threads::all`] then keeps. Evaluation shares out well.
//!
//! # Threads and memory
//!
//! The calling thread takes part: with `count` threads, a [`rayon`] pool
//! of `count - 1` threads, owned by the `Threads` value and started on its
//! first parallel call (not the global pool, so that the count is the one
//! asked for), works beside it. In training the calling thread leads
//! (takes the optimiser's step, handing out a fixed range of every tensor
//! to each thread), so the network stays in its core's cache. Waiting
//! threads spin for a while, then sleep, so that threads that share a
//! core (a machine running more threads than it has cores) leave it to
//! each other instead of spinning on it. Each thread
//! of the pool has an 8 MiB stack, as a program's main thread usually
//! does, because a batch's activations live on the stack. Each thread has
//! a gradient buffer of the network's size on the heap, kept for the next
//! call. The calling thread needs no more stack than for
//! [`train_epoch`](crate::Train::train_epoch) (`tests/stack.rs` measures
//! both, at batch 128, to 16 KiB).

use core::sync::atomic::{AtomicUsize, Ordering};
use std::boxed::Box;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use std::vec::Vec;

use rand::Rng;
use rand::seq::SliceRandom;

use crate::fit::{Engine, FitError, FitReport, Observer};
use crate::loss::Loss;
use crate::network::{Gradients, Label, Network, class_of};
use crate::optim::{Optimizer, StepBounds};
use crate::scalar::{Scalar, Vector, Zeroed};
use crate::settings::{self, SettingError};
use crate::simd::Aligned;
use crate::tensors::Tensors;
use crate::train::{self, Train, TrainError};

/// Samples per block of an evaluation: the share a thread takes at a time,
/// and the unit of a mean loss's sums, so that their order does not depend
/// on the thread count.
const BLOCK: usize = 256;

/// Samples per forward pass within a block of an evaluation.
const EVAL_BATCH: usize = 16;

/// Full batches timed one by one each way (one thread, then all) before
/// choosing.
const TRIALS: usize = 4;

/// Batches a first choice of the thread count lasts before it is measured
/// again; each later choice lasts twice as long as the one before.
const FIRST_CHOICE: usize = 256;

/// The stack of each thread of the pool.
const STACK: usize = 8 << 20;

#[allow(unsafe_code)] // a mailbox between threads; see the module's Safety section
mod crew;
pub(crate) mod split;

use crew::{Crew, Served, Waited};
pub(crate) use crew::{crew_size, on_crew};

/// Threads to train and evaluate a network `N` on, with a gradient buffer
/// for each; see the [module documentation](self).
pub struct Threads<N: Network> {
    /// The most threads it uses.
    count: usize,
    /// Whether it always uses `count` (nothing measured).
    fixed: bool,
    /// How a step is shared out, if set; measured otherwise (batch for
    /// `exactly`).
    sharing: Option<Sharing>,
    /// The pool, started on the first parallel call.
    pool: Option<rayon::ThreadPool>,
    /// One gradient buffer per thread, which each batch's backward pass
    /// writes over.
    buffers: Vec<Box<Gradients<N>>>,
    /// What was measured, or chosen, for each batch size.
    plans: Vec<(usize, Plan)>,
    /// The measured cost of waking every thread of the pool and waiting.
    round_trip: Option<Duration>,
    /// The threads the last call used.
    used: usize,
    /// Whether the last group of steps handed work to another thread: a
    /// network whose layers are all too small to cut, its layers shared
    /// out, runs on the calling thread alone while the others wait.
    handed_out: bool,
    /// What the current call's steps know of the values they leave (see
    /// [`StepBounds`]), made anew by each call.
    bounds: StepBounds,
}

impl<N: Network> core::fmt::Debug for Threads<N> {
    /// The count, whether it is fixed, what was chosen for each batch size
    /// (`None` while it is being measured) and what the last call used.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let chosen: Vec<(usize, Option<usize>)> = self
            .plans
            .iter()
            .map(|&(batch, plan)| match plan {
                Plan::Use { way, .. } => (batch, Some(way.threads)),
                Plan::Trial { .. } => (batch, None),
            })
            .collect();
        let shared: Vec<(usize, Sharing)> = self
            .plans
            .iter()
            .filter_map(|&(batch, plan)| match plan {
                Plan::Use { way, .. } if way.threads > 1 => Some((batch, way.sharing)),
                _ => None,
            })
            .collect();
        f.debug_struct("Threads")
            .field("count", &self.count)
            .field("fixed", &self.fixed)
            .field("sharing", &self.sharing)
            .field("chosen", &chosen)
            .field("shared_by", &shared)
            .field("last_used", &self.used)
            .finish()
    }
}

/// How a training step is shared out over threads; see the [module
/// documentation](self#two-ways-to-share-a-step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sharing {
    /// Each thread computes the gradient of its share of the batch into a
    /// buffer of its own; the buffers are added up and the calling thread
    /// takes the step.
    Batch,
    /// The calling thread runs the whole step and each thread computes a
    /// band of rows of every dense layer's products, the same band at
    /// every step, and steps those rows.
    Layers,
}

/// A way to run the steps of one batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Way {
    threads: usize,
    sharing: Sharing,
}

impl Way {
    const ONE: Way = Way {
        threads: 1,
        sharing: Sharing::Batch,
    };
}

/// How training with one batch size runs.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Being timed: the fastest step each way tried so far (see
    /// `Threads::trial_way`), and the batches the choice will then last.
    Trial {
        times: [Duration; 3],
        tried: usize,
        last: usize,
    },
    /// Chosen: this way, for `left` more batches, then measured again, to
    /// last twice as long; `one`, the fastest step on one thread in the
    /// trial that chose it.
    Use {
        way: Way,
        left: usize,
        last: usize,
        one: Duration,
    },
}

impl Plan {
    const START: Plan = Plan::trial(FIRST_CHOICE);

    const fn trial(last: usize) -> Plan {
        Plan::Trial {
            times: [Duration::ZERO; 3],
            tried: 0,
            last,
        }
    }
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
            sharing: None,
            pool: None,
            buffers: Vec::new(),
            plans: Vec::new(),
            round_trip: None,
            used: 1,
            handed_out: false,
            bounds: StepBounds::new(),
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

    /// Shares every step on threads out this way: [`all`](Threads::all)
    /// and [`up_to`](Threads::up_to) then measure only whether it pays
    /// against one thread, and [`exactly`](Threads::exactly) uses it
    /// instead of sharing the batch. See [two ways to share a
    /// step](self#two-ways-to-share-a-step).
    ///
    /// ```
    /// use constnet::parallel::{Sharing, Threads};
    /// use constnet::prelude::*;
    ///
    /// network! { struct Net<f32> { 784 => Dense<256>, Relu, Dense<10> } }
    ///
    /// // Two threads at every step, each computing 128 of the 256 rows of
    /// // the first layer: the same bits from run to run.
    /// let threads = Threads::<Net>::exactly(2)?.sharing(Sharing::Layers);
    /// assert_eq!(threads.chosen_sharing::<32>(), Some(Sharing::Layers));
    /// # Ok::<(), constnet::SettingError>(())
    /// ```
    #[must_use]
    pub fn sharing(mut self, sharing: Sharing) -> Self {
        self.sharing = Some(sharing);
        self.plans.clear();
        self
    }

    /// The number of threads chosen for training with batches of `B`, once
    /// measured: `None` before the first measurement, and again once a
    /// choice has lasted its time and the next epoch will measure anew
    /// (always `Some` for [`exactly`](Threads::exactly)).
    pub fn chosen<const B: usize>(&self) -> Option<usize> {
        self.chosen_way::<B>().map(|way| way.threads)
    }

    /// How the steps of batches of `B` are shared out, once chosen and if
    /// on more than one thread (`None` otherwise; see
    /// [`chosen`](Threads::chosen)).
    pub fn chosen_sharing<const B: usize>(&self) -> Option<Sharing> {
        self.chosen_way::<B>()
            .filter(|way| way.threads > 1)
            .map(|way| way.sharing)
    }

    fn chosen_way<const B: usize>(&self) -> Option<Way> {
        if B < 2 || self.count == 1 {
            return Some(Way::ONE);
        }
        if self.fixed {
            return Some(Way {
                threads: self.count,
                sharing: self.sharing.unwrap_or(Sharing::Batch),
            });
        }
        match self.plan(B) {
            Plan::Use { way, .. } => Some(way),
            Plan::Trial { .. } => None,
        }
    }

    /// The way a trial times `tried`-th: one thread, then each way of
    /// sharing a step on all (the one set, or both); `None` after the last.
    fn trial_way(&self, tried: usize) -> Option<Way> {
        let sharing = match (tried, self.sharing) {
            (0, _) => return Some(Way::ONE),
            (1, Some(sharing)) => sharing,
            (1, None) => Sharing::Batch,
            (2, None) => Sharing::Layers,
            _ => return None,
        };
        Some(Way {
            threads: self.count,
            sharing,
        })
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

    /// Counts `steps` batches of `batch` against the choice for that size:
    /// once it has lasted its time, the next batches measure again (the
    /// machine's load, and so the better choice, may have changed, and
    /// one measurement can be thrown off by a moment's load).
    fn count_down(&mut self, batch: usize, steps: usize) {
        if self.fixed {
            return;
        }
        if let Plan::Use {
            way,
            left,
            last,
            one,
        } = self.plan(batch)
        {
            let plan = match left.checked_sub(steps) {
                Some(left) if left > 0 => Plan::Use {
                    way,
                    left,
                    last,
                    one,
                },
                _ => Plan::trial(last),
            };
            self.set_plan(batch, plan);
        }
    }

    /// The pool, started on first use; `None` if the operating system
    /// would not start its threads (everything then runs on one).
    fn pool(&mut self) -> Option<&rayon::ThreadPool> {
        if self.pool.is_none() && self.count > 1 {
            self.pool = rayon::ThreadPoolBuilder::new()
                .num_threads(self.count - 1)
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

    /// Buffers for `count` threads.
    fn ready(&mut self) {
        while self.buffers.len() < self.count.max(1) {
            self.buffers.push(Gradients::boxed());
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
        if self.chosen::<B>() == Some(1) {
            // One thread: `train_epoch` itself, the code a program without
            // threads runs, nothing looked up per batch.
            self.used = 1;
            let mean = net.train_epoch::<B>(data, loss, opt, rng);
            if B > 1 && self.count > 1 && !data.is_empty() {
                self.count_down(B, data.len().div_ceil(B));
            }
            return mean;
        }
        train::checks::<N, Target, B>(loss);
        if data.is_empty() {
            return Err(TrainError::EmptyData);
        }
        data.shuffle(rng);
        let data = &*data;
        let total = self.batches::<B, Target>(net, data, loss, opt)?;
        Ok(total / N::Scalar::from_f64(data.len() as f64))
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
        let total = self.batches::<B, Target>(net, batch, loss, opt)?;
        Ok(total / N::Scalar::from_f64(B.max(1) as f64))
    }

    /// One step per batch of `B` of `data`, on one thread or all as
    /// planned; the sum of the batches' losses. Not inlined, like the
    /// other paths of an epoch, so that their frames (a batch's
    /// activations each) are not added up on the caller's stack. While the plan for `B` is
    /// being measured, batches run in trials: one batch to warm up (start
    /// the pool, touch the buffers), then `TRIALS` batches timed one by one,
    /// on one thread first, then on all.
    #[inline(never)]
    fn batches<const B: usize, Target: Sync>(
        &mut self,
        net: &mut N,
        data: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
    ) -> Result<N::Scalar, TrainError> {
        self.ready();
        let batch = B.max(1);
        let mut total = N::Scalar::ZERO;
        let mut first = 0;
        self.bounds = StepBounds::new();
        while first * batch < data.len() {
            let rest = &data[first * batch..];
            let (times, tried, last) = match self.plan(B) {
                Plan::Trial { times, tried, last } => (times, tried, last),
                Plan::Use { last, .. } => ([Duration::ZERO; 3], 0, last),
            };
            // Chosen; or on trial, each way in turn.
            let chosen = self.chosen_way::<B>();
            let way = chosen.or(self.trial_way(tried)).unwrap_or(Way::ONE);
            if chosen.is_some() || rest.len() < (1 + TRIALS) * batch {
                // Chosen, or too few batches left for a trial: the rest.
                let steps = self.group::<B, Target>(way, net, rest, loss, opt, first)?;
                total += steps.total;
                let count = rest.len().div_ceil(batch);
                self.count_down(B, count);
                // No step on threads as fast as one thread's fastest:
                // measure again at the next call (the machine's load has
                // changed).
                if let Plan::Use { way, one, last, .. } = self.plan(B)
                    && way.threads > 1
                    && count > TRIALS
                    && steps.clock.fastest() > one
                {
                    self.set_plan(B, Plan::trial(last / 2));
                }
                break;
            }
            // The first batch warms up (wakes the threads, brings the
            // parameters to each core); the next `TRIALS` are timed.
            let trial = &rest[..(1 + TRIALS) * batch];
            let steps = self.group::<B, Target>(way, net, trial, loss, opt, first)?;
            total += steps.total;
            let mut times = times;
            // A way on threads that handed nothing out is one thread's
            // steps with the others waiting: never chosen, however its
            // time compares with one thread's.
            times[tried] = if way.threads > 1 && !self.handed_out {
                Duration::MAX
            } else {
                steps.clock.fastest()
            };
            let plan = if self.trial_way(tried + 1).is_some() {
                Plan::Trial {
                    times,
                    tried: tried + 1,
                    last,
                }
            } else {
                // The fastest way on all threads, if it gains 10 % of the
                // step at least; one thread otherwise.
                let best = (1..=tried).min_by_key(|&i| times[i]).unwrap_or(0);
                let way = match self.trial_way(best) {
                    Some(way) if times[best].as_secs_f64() < 0.9 * times[0].as_secs_f64() => way,
                    _ => Way::ONE,
                };
                Plan::Use {
                    way,
                    left: last,
                    last: last.saturating_mul(2),
                    one: times[0],
                }
            };
            self.set_plan(B, plan);
            first += 1 + TRIALS;
        }
        Ok(total)
    }

    /// The steps of `group` (whole batches of `B` but the last), on
    /// `threads` threads (fewer without a pool); the sum of their losses.
    /// `first` is the index of its first batch in the epoch.
    fn group<const B: usize, Target: Sync>(
        &mut self,
        way: Way,
        net: &mut N,
        group: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        first: usize,
    ) -> Result<Steps<N::Scalar>, TrainError> {
        let batch = B.max(1);
        let threads = if way.threads > 1 && self.pool().is_some() {
            way.threads.min(batch)
        } else {
            1
        };
        self.handed_out = threads > 1 && way.sharing == Sharing::Batch;
        let result = match way.sharing {
            _ if threads == 1 => {
                let (grads, bounds) = (&mut self.buffers[0], &mut self.bounds);
                timed_steps::<N, Target, B>(net, group, loss, opt, grads, bounds, first)
            }
            Sharing::Layers => self.layered::<B, Target>(threads, net, group, loss, opt, first),
            Sharing::Batch => self.shared::<B, Target>(threads, net, group, loss, opt, first),
        };
        // The threads with a share of the last batch.
        let last = group.len() - (group.len() - 1) / batch * batch;
        self.used = threads.min(last);
        result
    }

    /// The steps of `group` on `threads` threads of the pool, the layers
    /// shared out: this thread takes every step, as on one thread, leading
    /// the others, which run their band of each product (see the `split`
    /// module) and their range of the step's element-wise passes.
    #[inline(never)]
    fn layered<const B: usize, Target: Sync>(
        &mut self,
        threads: usize,
        net: &mut N,
        group: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        first: usize,
    ) -> Result<Steps<N::Scalar>, TrainError> {
        let crew = Crew::new(threads);
        let pool = self.pool.as_ref().expect("started by `batches`");
        let lead = Mutex::new(Some((net, opt, &mut self.buffers[0], &mut self.bounds)));
        let run = |t: usize| {
            let _guard = crew.guard();
            if t > 0 {
                let mut seen = 0;
                while let Served::Next = crew.serve(t, &mut seen) {}
                return None;
            }
            let (net, opt, grads, bounds) = lead.lock().ok()?.take()?;
            let result = crew
                .lead(|| timed_steps::<N, Target, B>(net, group, loss, opt, grads, bounds, first));
            let handed_out = crew.posts() > 0;
            crew.release(true);
            Some((result, handed_out))
        };
        let (result, handed_out) =
            on_every_thread(pool, |t| if t < threads { run(t) } else { None })
                .expect("the first thread returns the result");
        self.handed_out = handed_out;
        result
    }

    /// The steps of `group` on `threads` threads of the pool (see the
    /// `crew` module): for each batch, thread `t` computes the gradient
    /// of the `t`-th of `threads` equal shares into buffer `t`; then
    /// thread 0 adds the buffers up into its own and takes the step, each
    /// thread adding up and stepping the same range of every tensor at
    /// every batch.
    fn shared<const B: usize, Target: Sync>(
        &mut self,
        threads: usize,
        net: &mut N,
        group: &[(N::Input, Target)],
        loss: &(impl Loss<N::Output, Target> + Sync),
        opt: &mut (impl Optimizer<N> + Send),
        first: usize,
    ) -> Result<Steps<N::Scalar>, TrainError> {
        let crew = Crew::new(threads);
        // Each thread reads the network and writes its own buffer and sum
        // while it computes its share; the first then takes them all, and
        // the network and the optimiser, for the step.
        let net = RwLock::new(net);
        let opt = Mutex::new((opt, &mut self.bounds));
        let buffers: Vec<Mutex<&mut Gradients<N>>> = self.buffers[..threads]
            .iter_mut()
            .map(|b| Mutex::new(&mut **b))
            .collect();
        let sums: Vec<Mutex<N::Scalar>> =
            (0..threads).map(|_| Mutex::new(N::Scalar::ZERO)).collect();
        let pool = self.pool.as_ref().expect("started by `batches`");
        // Thread `t` of the run; the first returns the result.
        let run = |t: usize| {
            let _guard = crew.guard();
            let mut seen = 0;
            let mut steps = Steps::<N::Scalar>::START;
            for (k, batch) in group.chunks(B.max(1)).enumerate() {
                let len = batch.len();
                let inv = N::Scalar::ONE / N::Scalar::from_f64(len as f64);
                let share = &batch[t * len / threads..(t + 1) * len / threads];
                {
                    let net = net.read().ok()?;
                    let mut buffer = buffers[t].lock().ok()?;
                    let sum = train::share_gradients::<N, Target, B>(
                        &net,
                        share,
                        loss,
                        inv,
                        &mut buffer.0,
                    );
                    *sums[t].lock().ok()? = sum;
                }
                if crew.meet(t) == Waited::Poisoned {
                    return None;
                }
                if t > 0 {
                    match crew.serve(t, &mut seen) {
                        Served::Next => continue,
                        Served::Stop => return None,
                    }
                }
                // `None` when a lock is poisoned by a panic elsewhere.
                let step = (|| {
                    let mut sum = N::Scalar::ZERO;
                    for s in &sums {
                        sum += *s.lock().ok()?;
                    }
                    let mut net = net.write().ok()?;
                    let mut opt = opt.lock().ok()?;
                    let (opt, bounds) = &mut *opt;
                    let mut guards = Vec::with_capacity(threads);
                    for buffer in &buffers {
                        guards.push(buffer.lock().ok()?);
                    }
                    let mut grads: Vec<&mut Gradients<N>> =
                        guards.iter_mut().map(|g| &mut ***g).collect();
                    Some(crew.lead(|| {
                        add_up(&mut grads);
                        train::take_step(
                            &mut **net,
                            &mut **opt,
                            grads[0],
                            sum * inv,
                            first + k,
                            bounds,
                        )
                    }))
                })();
                crew.release(!matches!(step, Some(Ok(_))));
                steps.clock.tick();
                match step? {
                    Ok(mean) => steps.total += mean * N::Scalar::from_f64(len as f64),
                    Err(error) => return Some(Err(error)),
                }
            }
            Some(Ok(steps))
        };
        // This thread leads, with the network and the optimiser's state in
        // its core's cache.
        on_every_thread(pool, |t| if t < threads { run(t) } else { None })
            .expect("the first thread returns the result")
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
                // Every thread, this one too, takes the next block left.
                let blocks: Vec<&[S]> = rest.chunks(BLOCK).collect();
                let done: Vec<Mutex<Option<R>>> = blocks.iter().map(|_| Mutex::new(None)).collect();
                let next = AtomicUsize::new(0);
                let work = || loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(block) = blocks.get(index) else {
                        break;
                    };
                    let result = f(block);
                    *done[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                };
                on_every_thread(pool, |_| work());
                results.extend(done.into_iter().map(|slot| {
                    slot.into_inner()
                        .unwrap_or_else(PoisonError::into_inner)
                        .expect("every block is done")
                }));
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
                on_every_thread(pool, |_| ()); // the threads' first wake-up
                let time = (0..3)
                    .map(|_| {
                        let start = Instant::now();
                        on_every_thread(pool, |_| ());
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

/// What a group of steps gave: the sum of the batches' losses, and the
/// time of its steps after the first (a trial's warm-up).
struct Steps<T> {
    total: T,
    clock: Clock,
}

impl<T: Scalar> Steps<T> {
    const START: Steps<T> = Steps {
        total: T::ZERO,
        clock: Clock::START,
    };
}

/// The time of the fastest of a group's steps after its first, each
/// timed from the end of the one before on the thread that leads it.
#[derive(Clone, Copy, Debug)]
struct Clock {
    /// When the last step ended; `None` before the first has.
    last: Option<Instant>,
    /// The fastest step timed so far.
    fastest: Duration,
}

impl Clock {
    const START: Clock = Clock {
        last: None,
        fastest: Duration::MAX,
    };

    /// A step has ended.
    fn tick(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last {
            self.fastest = self.fastest.min(now - last);
        }
        self.last = Some(now);
    }

    /// The fastest step timed: the figure least disturbed by other work
    /// on the machine, which only ever adds time; `Duration::MAX` if none
    /// was.
    fn fastest(&self) -> Duration {
        self.fastest
    }
}

/// The steps of `group`, batch after batch, each timed (`first` is the
/// index of its first batch): one thread's, or the leader's when the
/// layers are shared. Not inlined, so that both paths have the same frame
/// (a batch's activations and their gradients) and no caller adds its own
/// to it.
#[inline(never)]
fn timed_steps<N: Network, Target, const B: usize>(
    net: &mut N,
    group: &[(N::Input, Target)],
    loss: &impl Loss<N::Output, Target>,
    opt: &mut impl Optimizer<N>,
    grads: &mut Gradients<N>,
    bounds: &mut StepBounds,
    first: usize,
) -> Result<Steps<N::Scalar>, TrainError> {
    let mut steps = Steps::START;
    let mut trace = Zeroed::ZERO;
    for (k, batch) in group.chunks(B.max(1)).enumerate() {
        let mean = train::step::<N, Target, B>(
            net,
            batch,
            loss,
            opt,
            grads,
            &mut trace,
            first + k,
            bounds,
        )?;
        steps.total += mean * N::Scalar::from_f64(batch.len() as f64);
        steps.clock.tick();
    }
    Ok(steps)
}

/// `f(t)` on every thread `t` of a run: the calling thread (`t = 0`) and
/// each of the pool's (`t = 1..`); the calling thread's result, once
/// every thread is done. The calling thread takes part, rather than wait:
/// it stays on its core, with what it last worked on in that core's
/// cache, and the operating system wakes the pool's threads on the
/// others.
fn on_every_thread<R: Send>(pool: &rayon::ThreadPool, f: impl Fn(usize) -> R + Sync) -> R {
    pool.in_place_scope(|scope| {
        scope.spawn_broadcast(|_, context| {
            f(context.index() + 1);
        });
        f(0)
    })
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
        // Copied to a cache line's start, where the kernels read it whole.
        let x: Aligned<[N::Input; EVAL_BATCH]> =
            Aligned(core::array::from_fn(|i| *input(&batch[i])));
        let y = net.predict_batch(&x.0);
        for (item, y) in batch.iter().zip(&y) {
            f(item, y);
        }
    }
    for item in rest {
        f(item, &net.predict(input(item)));
    }
}

/// Adds every buffer after the first into the first, in their order: each
/// large tensor a piece per thread (the same pieces the optimiser steps),
/// on the crew's threads.
fn add_up<N: Network>(buffers: &mut [&mut Gradients<N>]) {
    let Some((first, rest)) = buffers.split_first_mut() else {
        return;
    };
    for i in 0..<Gradients<N> as Tensors<N::Scalar>>::COUNT {
        let sum = first.tensor_mut(i);
        for other in rest.iter_mut() {
            crate::optim::in_parts((&mut *sum, other.tensor(i)), |(sum, part)| {
                add(sum, part);
                true
            });
        }
    }
}

/// `sum += part`, element by element.
fn add<T: Scalar>(sum: &mut [T], part: &[T]) {
    crate::simd::vectorized(
        #[inline(always)]
        || {
            for (s, p) in sum.iter_mut().zip(part) {
                *s += *p;
            }
        },
    );
}
