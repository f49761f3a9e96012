//! How much stack a network built on the stack needs, measured rather than
//! estimated: each workload runs in a child process (this test binary run
//! again) on a thread of a given stack size, and a binary search finds the
//! smallest size it finishes with (a thread that overflows its stack
//! aborts its process). The figures are quoted in the README ("Memory")
//! and in `heap`'s documentation; the assertions keep those sentences
//! true.
//!
//! With `parallel`, it also checks that training through `Threads` needs
//! no more stack on the calling thread than training on it alone.
//!
//! Run with `--nocapture` to see the figures.

use std::hint::black_box;
use std::process::Command;

use constnet::prelude::*;

network! {
    /// 784-512-512-10: 669,706 parameters, 2.7 MB in f32.
    struct Big<f32> { 784 => Dense<512>, Relu, Dense<512>, Relu, Dense<10> }
}

/// The environment variable that makes this binary a probe: `name:bytes`.
const PROBE: &str = "CONSTNET_STACK_PROBE";

/// A network, SGD with momentum and one training epoch of batches of 8,
/// all on the stack: the network, its velocity and training's gradient
/// buffer are three copies of the parameters, plus a batch's activations.
#[inline(never)]
fn train() {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Big::random(&mut rng);
    let mut opt = Sgd::new(0.01).unwrap().momentum(0.9).unwrap();
    let mut data = vec![([0.5f32; 784], 3usize); 16];
    net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)
        .unwrap();
    black_box(&net);
}

/// Decoding a network from bytes into a value on the stack.
#[inline(never)]
fn decode() {
    let bytes = Big::random_boxed(&mut SmallRng::seed_from_u64(1))
        .encode_to_vec()
        .unwrap();
    let net = Big::decode(&bytes).unwrap();
    black_box(&net);
}

/// One epoch of sixteen batches of 128, on the calling thread alone
/// (`on_threads: false`) or through `Threads::all`, which takes five
/// batches on the calling thread alone, five sharing the batch with the
/// pool and five sharing the layers, its trials (on one core, all
/// alone), then the last as it chose: a batch's activations take
/// about 1.4 MB of stack for this network, so a path that keeps two of
/// them in one frame shows.
#[cfg(feature = "parallel")]
#[inline(never)]
fn train_128(on_threads: bool) {
    use constnet::parallel::{Threads, TrainOn};
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Big::random_boxed(&mut rng);
    let mut opt = Sgd::boxed(0.01).unwrap().momentum(0.9).unwrap();
    let mut data = vec![([0.5f32; 784], 3usize); 2048];
    let loss = match on_threads {
        false => net.train_epoch::<128>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng),
        true => {
            let mut threads = Threads::all();
            net.train_epoch_on::<128>(
                &mut data,
                &SoftmaxCrossEntropy,
                &mut opt,
                &mut rng,
                &mut threads,
            )
        }
    };
    black_box(loss.unwrap());
}

/// The workloads, each on the stack of the calling thread.
fn workload(name: &str) {
    match name {
        "train" => train(),
        "decode" => decode(),
        #[cfg(feature = "parallel")]
        "train_128" => train_128(false),
        #[cfg(feature = "parallel")]
        "train_128_on_all" => train_128(true),
        other => panic!("unknown workload {other}"),
    }
}

/// Whether `name` finishes on a thread with `stack` bytes of stack.
fn fits(name: &str, stack: usize) -> bool {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "probe", "--test-threads", "1", "--quiet"])
        .env(PROBE, format!("{name}:{stack}"))
        .output()
        .unwrap()
        .status
        .success()
}

/// The smallest stack, to 16 KiB, on which `name` finishes.
fn smallest_stack(name: &str) -> usize {
    const STEP: usize = 16 << 10;
    let (mut fails, mut works) = (0, 64 << 20);
    assert!(fits(name, works), "{name} needs more than 64 MiB");
    while works - fails > STEP {
        let mid = (fails + works) / 2 / STEP * STEP;
        if fits(name, mid) {
            works = mid;
        } else {
            fails = mid;
        }
    }
    works
}

/// The child's side: runs the workload named in `PROBE` on a thread of the
/// given stack size. Without `PROBE`, it does nothing.
#[test]
fn probe() {
    let Ok(spec) = std::env::var(PROBE) else {
        return;
    };
    let (name, stack) = spec.split_once(':').unwrap();
    let stack: usize = stack.parse().unwrap();
    let name = name.to_owned();
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || workload(&name))
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn stack_needed_per_parameter() {
    if std::env::var_os(PROBE).is_some() {
        return;
    }
    let parameters = Big::PARAMETERS as f64;
    let train = smallest_stack("train");
    let decode = smallest_stack("decode");
    let per = |bytes: usize| bytes as f64 / parameters;
    println!(
        "669,706 parameters: training on the stack needs {:.1} MiB ({:.1} bytes per parameter), \
         decoding {:.1} MiB ({:.1} bytes per parameter)",
        train as f64 / (1 << 20) as f64,
        per(train),
        decode as f64 / (1 << 20) as f64,
        per(decode),
    );
    // The README, `heap` and `Network::random`'s and `Save::decode`'s
    // documentation say: at most 15 bytes per parameter to train, 12 to
    // decode. Below 12 and 4 the measurement itself would be wrong (three
    // copies of the parameters, one network).
    assert!(
        (12.0..=15.0).contains(&per(train)),
        "training: {:.2} B",
        per(train)
    );
    assert!(
        (4.0..=12.5).contains(&per(decode)),
        "decoding: {:.2} B",
        per(decode)
    );
}

/// Training on threads needs no more stack on the calling thread than
/// training on it alone, which `Threads`' documentation says. The
/// threads' gradient buffers live on the heap, and the epoch's paths (one
/// thread, the measurement, the shared steps) are functions of their own:
/// inlined into one frame, `train_epoch_on` of a deep network at batch 128
/// once needed more than the main thread's 8 MiB where `train_epoch`
/// needed less.
#[cfg(feature = "parallel")]
#[test]
fn training_on_threads_needs_no_more_stack_than_alone() {
    if std::env::var_os(PROBE).is_some() {
        return;
    }
    let alone = smallest_stack("train_128");
    let shared = smallest_stack("train_128_on_all");
    println!(
        "an epoch at batch 128: {:.2} MiB of stack alone, {:.2} MiB through `Threads::all`",
        alone as f64 / (1 << 20) as f64,
        shared as f64 / (1 << 20) as f64
    );
    // Within the search's step: the same frames.
    assert!(
        shared <= alone + (16 << 10),
        "on threads {shared} B, alone {alone} B"
    );
}
