//! Training steps and predictions make no heap allocation, for every
//! benchmark workload (W1–W4, see `benches/workloads.rs`).
//!
//! A counting global allocator (this file is its own test binary, so the
//! allocator applies to it alone) counts the allocations made by the
//! current thread, and their bytes, while counting is switched on. The first call of each
//! kind is counted too: the run-time detection of the vector kernels must
//! not allocate either.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use constnet::prelude::*;

/// The system allocator, counting the allocations of threads that ask.
struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted. A `const` `Cell`
    /// with no destructor: reading it never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations (including reallocations) made while
    /// counting, and the bytes they asked for: per thread, so that tests
    /// running side by side do not count each other's.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + bytes));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees carry over; counting touches no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread, and the bytes they ask for
/// (a reallocation counts its new size).
fn counted(f: impl FnOnce()) -> (usize, usize) {
    let before = (ALLOCATIONS.get(), BYTES.get());
    COUNTING.set(true);
    f();
    COUNTING.set(false);
    (ALLOCATIONS.get() - before.0, BYTES.get() - before.1)
}

/// The allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    counted(f).0
}

/// The bytes `f` allocates on this thread.
fn allocated_bytes(f: impl FnOnce()) -> usize {
    counted(f).1
}

network! {
    /// W1: 2-8-1, tanh hidden, sigmoid output.
    struct W1<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// W2: 64-32-10.
    struct W2<f32> { 64 => Dense<32>, Relu, Dense<10> }
}

network! {
    /// W3: 784-128-10.
    struct W3<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

network! {
    /// W4: 256-256-256-256-10.
    struct W4<f32> {
        256 => Dense<256>, Relu, Dense<256>, Relu, Dense<256>, Relu, Dense<10>
    }
}

network! {
    /// W2's shape in `f64` (the portable loops).
    struct W2f64<f64> { 64 => Dense<32>, Relu, Dense<10> }
}

/// 100 seeded samples with classes below 10 (a partial last batch of 4
/// when batched by 32).
fn dataset<T: Scalar, const I: usize>(rng: &mut SmallRng) -> Vec<([T; I], usize)> {
    (0..100)
        .map(|_| {
            let x = core::array::from_fn(|_| T::from_f64(rng.random::<f64>() * 2.0 - 1.0));
            (x, rng.random_range(0..10))
        })
        .collect()
}

/// Training (epochs, single batches, gradients, the loss) and prediction
/// (one sample, a batch of 32, classes, accuracy) of a classifier, with
/// allocations counted; everything else made beforehand.
fn classifier<N, T, const I: usize>(name: &str)
where
    T: Scalar,
    N: Network<Scalar = T, Input = [T; I]> + Train<usize>,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net: Box<N> = Box::new(N::random(&mut rng));
    let mut opt: Box<Sgd<N>> = Box::new(
        Sgd::new(T::from_f64(0.01))
            .unwrap()
            .momentum(T::from_f64(0.9))
            .unwrap(),
    );
    let mut grads: Box<Gradients<N>> = Box::new(Zeroed::ZERO);
    let mut data = dataset::<T, I>(&mut rng);
    let inputs: Vec<[T; I]> = data.iter().map(|(x, _)| *x).collect();
    let (batches, _) = inputs.as_chunks::<32>();
    let first: [([T; I], usize); 32] = data[..32].try_into().unwrap();

    let n = allocations(|| {
        for _ in 0..2 {
            net.train_epoch::<32>(&mut data, &SoftmaxCrossEntropy, &mut *opt, &mut rng)
                .unwrap();
        }
        net.train_batch(&first, &SoftmaxCrossEntropy, &mut *opt)
            .unwrap();
        black_box(net.loss_and_gradients(&first, &SoftmaxCrossEntropy, &mut grads));
        black_box(net.mean_loss(&data, &SoftmaxCrossEntropy).unwrap());
    });
    assert_eq!(n, 0, "{name}: training allocated {n} times");

    let n = allocations(|| {
        for x in &inputs {
            black_box(net.predict(black_box(x)));
            black_box(net.classify(black_box(x)));
        }
        for batch in batches {
            black_box(net.predict_batch(black_box(batch)));
        }
        black_box(net.accuracy(&data));
    });
    assert_eq!(n, 0, "{name}: prediction allocated {n} times");
}

/// Runs `f` on a thread with a stack large enough for W4's gradient and
/// batch buffers (the thread itself is created before counting starts).
fn with_large_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations(|| {
        black_box(vec![1u8; 10]);
    });
    assert_eq!(n, 1);
}

#[test]
fn w1_trains_and_predicts_without_allocating() {
    with_large_stack(|| {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut net = W1::random(&mut rng);
        let mut opt = Sgd::new(0.1).unwrap();
        let mut data: Vec<([f32; 2], [f32; 1])> = (0..64)
            .map(|_| {
                (
                    [rng.random(), rng.random()],
                    [rng.random_range(0..2) as f32],
                )
            })
            .collect();
        let n = allocations(|| {
            for _ in 0..3 {
                net.train_epoch::<1>(&mut data, &Mse, &mut opt, &mut rng)
                    .unwrap();
            }
            net.train_batch(&[data[0]], &Mse, &mut opt).unwrap();
            for (x, _) in &data {
                black_box(net.predict(black_box(x)));
                black_box(net.classify(black_box(x)));
            }
        });
        assert_eq!(n, 0, "W1 allocated {n} times");
    });
}

#[test]
fn w2_trains_and_predicts_without_allocating() {
    with_large_stack(|| classifier::<W2, _, 64>("W2"));
}

#[test]
fn w3_trains_and_predicts_without_allocating() {
    with_large_stack(|| classifier::<W3, _, 784>("W3"));
}

#[test]
fn w4_trains_and_predicts_without_allocating() {
    with_large_stack(|| classifier::<W4, _, 256>("W4"));
}

#[test]
fn f64_trains_and_predicts_without_allocating() {
    with_large_stack(|| classifier::<W2f64, _, 64>("W2 in f64"));
}

network! {
    /// A small network, to load from a file far longer than its own.
    struct Tiny<f32> { 2 => Dense<3>, Relu, Dense<1> }
}

/// A file of 256 MiB (sparse: it takes no disk) that starts like a good
/// file of `Tiny` is refused after reading no more than a good file's
/// length, not read whole into memory.
#[test]
fn loading_a_huge_file_reads_only_a_good_files_length() {
    let net = Tiny::random(&mut SmallRng::seed_from_u64(1));
    let path = std::env::temp_dir().join(format!("constnet-alloc-{}.cnet", std::process::id()));
    net.save_file(&path).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(256 << 20).unwrap();
    drop(file);
    let mut result = None;
    let bytes = allocated_bytes(|| result = Some(Tiny::load_file(&path)));
    std::fs::remove_file(&path).unwrap();
    let err = result.unwrap().unwrap_err();
    let err = err.get_ref().and_then(|e| e.downcast_ref::<LoadError>());
    assert_eq!(
        err,
        Some(&LoadError::TrailingBytes {
            expected: Tiny::ENCODED_LEN,
            found: 256 << 20
        })
    );
    assert!(bytes < 64 << 10, "{bytes} bytes allocated");
}
