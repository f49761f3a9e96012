//! The threads of one shared run of training, working in step: a barrier,
//! and element-wise passes that the leading thread (index 0) cuts into a
//! piece per thread and hands out, always the same piece to the same
//! thread.
//!
//! In a run (`on_every_thread`: the calling thread leads, the pool's
//! threads follow) every thread computes the gradient of its share of a
//! batch, all [meet](Crew::meet), then the leader adds the gradients up
//! and takes the optimiser's step while the others [serve](Crew::serve)
//! the pieces of its passes, until it [releases](Crew::release) them for
//! the next batch. Each thread sums and steps the same range of every
//! tensor at every batch, so that the optimiser's state of that range
//! stays in its core's cache and each value is written by one core only.
//!
//! Waiting threads spin first (a batch's phases last microseconds, less
//! than waking a sleeping thread takes), then sleep until woken; see
//! [`Crew::wait`].
//!
//! A panic on one thread poisons the crew: the others stop waiting and
//! return (a worker) or panic in turn (the leader, whose step cannot go
//! on), so that the run ends and passes the panic on.
//!
//! # Safety
//!
//! The one piece of `unsafe` code is the mailbox: the leader posts a
//! pointer to a pass that lives on its stack, with its lifetime erased,
//! and the workers call it. The leader waits until every worker has
//! counted itself done with the pass before it returns from
//! [`Crew::pass`], so the pointer is never used after the pass is gone;
//! the post itself is written only while every worker waits for the
//! post count to change, and read only after it has.

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::boxed::Box;
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::Instant;
use std::vec::Vec;

/// The most and the fewest spins before a waiting thread sleeps.
const MOST_SPINS: u32 = 1 << 14;
const FEWEST_SPINS: u32 = 1 << 4;

/// A value alone on its cache lines (two, for the adjacent-line
/// prefetcher), so that threads writing neighbours do not slow each other.
#[repr(align(128))]
#[derive(Default)]
struct Alone<T>(T);

/// A piece of a pass: run with the index of the thread that runs it;
/// whether its results are finite.
type Piece<'a> = dyn Fn(usize) -> bool + Sync + 'a;

/// What the leader has posted.
enum Post {
    /// Run your piece of this pass.
    Pass(*const Piece<'static>),
    /// Go on to the next batch, or stop.
    Release { stop: bool },
}

/// The shared state of one run's threads.
pub(super) struct Crew {
    threads: usize,
    /// Threads arrived at the barrier.
    arrived: Alone<AtomicUsize>,
    /// Times the barrier has opened.
    opened: Alone<AtomicUsize>,
    /// Posts so far.
    posted: Alone<AtomicUsize>,
    /// The last post: written by the leader only, before `posted` counts
    /// it, and while no other thread reads it.
    post: UnsafeCell<Post>,
    /// Workers done with the current pass.
    done: Alone<AtomicUsize>,
    /// Whether a piece of the current pass had a non-finite result.
    refused: AtomicBool,
    /// Whether a thread panicked.
    poisoned: AtomicBool,
    /// Each thread's handle, once it has slept, to wake it.
    handles: Vec<OnceLock<Thread>>,
    /// Whether each thread is asleep, or about to be.
    asleep: Vec<Alone<AtomicBool>>,
}

// SAFETY: `post` is written by the leader only while every worker waits
// for `posted` to change, and read by the workers only after it has (the
// count is written after the post and read before it, sequentially
// consistent); the pass it points to is `Sync` and outlives every use,
// since the leader waits for all workers to be done before returning from
// `pass`.
unsafe impl Sync for Crew {}

std::thread_local! {
    /// The crew this thread leads, during a step.
    static LEADING: Cell<*const Crew> = const { Cell::new(core::ptr::null()) };
    /// How long this thread spins before it sleeps (see `Crew::wait`).
    static SPIN_BUDGET: Cell<u32> = const { Cell::new(MOST_SPINS / 4) };
}

/// Whether a wait ended with what it waited for, or with a panic
/// elsewhere.
#[derive(PartialEq, Eq)]
pub(super) enum Waited {
    Done,
    Poisoned,
}

/// How a worker's serving ended.
pub(super) enum Served {
    /// On to the next batch.
    Next,
    /// The leader stopped the run (an error), or a thread panicked.
    Stop,
}

impl Crew {
    pub(super) fn new(threads: usize) -> Self {
        Crew {
            threads,
            arrived: Alone::default(),
            opened: Alone::default(),
            posted: Alone::default(),
            post: UnsafeCell::new(Post::Release { stop: false }),
            done: Alone::default(),
            refused: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            handles: (0..threads).map(|_| OnceLock::new()).collect(),
            asleep: (0..threads).map(|_| Alone::default()).collect(),
        }
    }

    /// Marks the crew poisoned if the calling thread unwinds before the
    /// guard is dropped.
    pub(super) fn guard(&self) -> impl Drop + '_ {
        struct Guard<'a>(&'a Crew);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.poisoned.store(true, Ordering::SeqCst);
                    self.0.wake();
                }
            }
        }
        Guard(self)
    }

    /// Thread `me` waits until `ready` or a panic elsewhere: it spins
    /// for a while (a step's phases last microseconds, less than it takes
    /// to wake a sleeping thread), then sleeps until another thread
    /// changes something. How long a thread spins follows how long its
    /// waits last: twice as long after a wait that ended while spinning,
    /// or asleep but within what spinning for the most spins would have
    /// covered (then long enough to have covered it, twice over); half as
    /// long after a wait that outlasted that too. So a thread spins
    /// through the short waits between the passes of a step, and a thread
    /// sharing its core with the one it waits for (when the system runs
    /// more threads than it has cores), whose waits last a time slice,
    /// soon leaves it the core instead of spinning on it.
    fn wait(&self, me: usize, ready: impl Fn() -> bool) -> Waited {
        let outcome = || {
            if ready() {
                Some(Waited::Done)
            } else if self.poisoned.load(Ordering::SeqCst) {
                Some(Waited::Poisoned)
            } else {
                None
            }
        };
        let budget = SPIN_BUDGET.get();
        let start = Instant::now();
        for _ in 0..budget {
            if let Some(outcome) = outcome() {
                SPIN_BUDGET.set((budget * 2).min(MOST_SPINS));
                return outcome;
            }
            core::hint::spin_loop();
        }
        let spun = start.elapsed();
        self.handles[me].get_or_init(std::thread::current);
        let outcome = loop {
            // Asleep first, then look: a thread that changes something
            // then looks whether anyone is asleep (`wake`) either sees
            // this thread asleep or made the change this look sees.
            self.asleep[me].0.store(true, Ordering::SeqCst);
            let seen = outcome();
            if seen.is_none() {
                // A wake-up may come before the thread sleeps, which then
                // returns at once, or for an earlier wait (ignored); the
                // timeout only bounds what a missed wake-up would cost.
                std::thread::park_timeout(core::time::Duration::from_millis(1));
            }
            self.asleep[me].0.store(false, Ordering::Relaxed);
            if let Some(outcome) = seen.or_else(outcome) {
                break outcome;
            }
        };
        // The spins the wait lasted, at the pace of this one's spinning.
        let per_spin = spun.as_secs_f64() / f64::from(budget);
        let lasted = start.elapsed().as_secs_f64() / per_spin.max(1e-12);
        let next = if lasted < f64::from(MOST_SPINS) {
            (2.0 * lasted).max(2.0 * f64::from(budget)) as u32
        } else {
            budget / 2
        };
        SPIN_BUDGET.set(next.clamp(FEWEST_SPINS, MOST_SPINS));
        outcome
    }

    /// Wakes every thread asleep (after a change it may be waiting for).
    fn wake(&self) {
        for (asleep, handle) in self.asleep.iter().zip(&self.handles) {
            if asleep.0.load(Ordering::SeqCst)
                && let Some(thread) = handle.get()
            {
                thread.unpark();
            }
        }
    }

    /// Thread `me` waits until every thread has arrived; what each wrote
    /// before is then visible to all.
    pub(super) fn meet(&self, me: usize) -> Waited {
        let round = self.opened.0.load(Ordering::SeqCst);
        if self.arrived.0.fetch_add(1, Ordering::SeqCst) + 1 == self.threads {
            self.arrived.0.store(0, Ordering::Relaxed);
            self.opened.0.fetch_add(1, Ordering::SeqCst);
            self.wake();
            return Waited::Done;
        }
        self.wait(me, || self.opened.0.load(Ordering::SeqCst) != round)
    }

    /// Runs `f` with this thread leading the crew: the passes
    /// [`pass`] runs are shared out.
    pub(super) fn lead<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Ends the lead, whatever happens in `f`.
        struct End;
        impl Drop for End {
            fn drop(&mut self) {
                LEADING.set(core::ptr::null());
            }
        }
        LEADING.set(self);
        let _end = End;
        f()
    }

    /// The passes posted so far (on the leader: each one handed out).
    pub(super) fn posts(&self) -> usize {
        self.posted.0.load(Ordering::SeqCst)
    }

    /// Ends the step: the workers go on to the next batch, or stop.
    pub(super) fn release(&self, stop: bool) {
        self.publish(Post::Release { stop });
    }

    fn publish(&self, post: Post) {
        // SAFETY: only the leader posts, and every worker is waiting for
        // `posted` to change (the last pass is done, or none was posted).
        unsafe { *self.post.get() = post };
        self.posted.0.fetch_add(1, Ordering::SeqCst);
        self.wake();
    }

    /// A worker's part of a step: runs its piece of each pass posted,
    /// until released.
    pub(super) fn serve(&self, index: usize, seen: &mut usize) -> Served {
        loop {
            if self.wait(index, || self.posted.0.load(Ordering::SeqCst) != *seen)
                == Waited::Poisoned
            {
                return Served::Stop;
            }
            *seen = self.posted.0.load(Ordering::SeqCst);
            // SAFETY: the leader wrote it before counting the post, and
            // does not write it again before this worker is done with it.
            match unsafe { &*self.post.get() } {
                Post::Release { stop } => {
                    return if *stop { Served::Stop } else { Served::Next };
                }
                &Post::Pass(piece) => {
                    // SAFETY: the leader keeps the pass alive until every
                    // worker has counted itself done.
                    let finite = unsafe { (*piece)(index) };
                    if !finite {
                        self.refused.store(true, Ordering::Relaxed);
                    }
                    self.done.0.fetch_add(1, Ordering::SeqCst);
                    self.wake();
                }
            }
        }
    }

    /// The leader's side of a pass: posts it, runs piece 0, waits for the
    /// others; whether every piece's results were finite.
    fn pass(&self, piece: &Piece<'_>) -> bool {
        self.done.0.store(0, Ordering::Relaxed);
        self.refused.store(false, Ordering::Relaxed);
        // SAFETY: only the lifetime changes; the workers use the pointer
        // before `done` counts them all, which this function waits for.
        let erased: *const Piece<'static> = unsafe { core::mem::transmute(piece) };
        self.publish(Post::Pass(erased));
        let finite = piece(0);
        if self.wait(0, || self.done.0.load(Ordering::SeqCst) == self.threads - 1)
            == Waited::Poisoned
        {
            panic!("a thread training with this one panicked");
        }
        finite && !self.refused.load(Ordering::Relaxed)
    }
}

/// The number of threads an element-wise pass on this thread may be cut
/// into: those of the crew it leads, 1 outside a shared step.
pub(crate) fn crew_size() -> usize {
    let crew = LEADING.get();
    if crew.is_null() {
        1
    } else {
        // SAFETY: set by `lead` from a live crew, cleared when it ends.
        unsafe { (*crew).threads }
    }
}

/// `f` of each piece, piece `k` on thread `k` of the crew this thread
/// leads (one piece per thread; see [`crew_size`]); whether every call
/// returned `true`.
pub(crate) fn on_crew<S: Send>(pieces: Vec<S>, f: &(impl Fn(S) -> bool + Sync)) -> bool {
    let crew = LEADING.get();
    assert!(!crew.is_null(), "pieces handed out outside a shared step");
    // SAFETY: as in `crew_size`.
    let crew = unsafe { &*crew };
    assert_eq!(pieces.len(), crew.threads, "one piece per thread");
    let slots: Box<[Mutex<Option<S>>]> = pieces.into_iter().map(|p| Mutex::new(Some(p))).collect();
    let piece = |k: usize| {
        let taken = slots[k].lock().map(|mut slot| slot.take());
        match taken {
            Ok(Some(piece)) => crate::simd::vectorized(
                #[inline(always)]
                || f(piece),
            ),
            _ => true,
        }
    };
    crew.pass(&piece)
}
