//! Throughput of the standard workloads, constnet against a hand-written
//! baseline (`baseline/mod.rs`), in the same run.
//!
//! | | network | loss, optimiser | batch |
//! |---|---|---|---|
//! | W1 | 2-8-1, tanh, sigmoid | MSE, SGD lr 0.1 | 1 |
//! | W2 | 64-32-10, ReLU | softmax + cross-entropy, SGD lr 0.01 momentum 0.9 | 32 |
//! | W3 | 784-128-10, ReLU | same | 32 |
//! | W4 | 256-256-256-256-10, ReLU | same | 32 |
//!
//! `cargo bench` prints samples per second for each benchmark (one
//! criterion element is one sample; training is forward, backward and the
//! optimiser step), then a table of medians with the ratio to the baseline
//! and the arithmetic rate in GFLOP/s (6 flops per weight per trained
//! sample, 2 per inferred sample), next to the machine's f32 FMA peak
//! measured by the `peak` benchmarks of the same run (see `peak/mod.rs`),
//! and the bound that one core's L2 reads put on W3 one sample at a time.
//! Inputs are synthetic and seeded, the same for both sides, and both start
//! from the same weights.
//!
//! With `--features parallel` it also compares one thread with all cores
//! (`parallel::Threads`), in a last table: W1 and W2 training (which
//! threads must not slow), W3, W4 and the MNIST network trained
//! continuously (epochs of 2,048 samples, one after another on the same
//! network, as a program's loop does; batches of 32 and of 128), and
//! evaluation.

mod baseline;
mod peak;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use baseline::{Act, Mlp};
#[cfg(feature = "parallel")]
use constnet::parallel::{Sharing, Threads, TrainOn};
use constnet::prelude::*;
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};

network! {
    /// W1: 2-8-1, tanh hidden, sigmoid output.
    struct W1<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// W2: 64-32-10, ReLU hidden, logits for softmax + cross-entropy.
    struct W2<f32> { 64 => Dense<32>, Relu, Dense<10> }
}

network! {
    /// W3: 784-128-10 (MNIST-sized), ReLU hidden, logits.
    struct W3<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

network! {
    /// The MNIST example's network: 784-256-10, ReLU hidden, logits.
    struct Mnist<f32> { 784 => Dense<256>, Relu, Dense<10> }
}

network! {
    /// W4: 256-256-256-256-10, ReLU hidden, logits.
    struct W4<f32> {
        256 => Dense<256>, Relu, Dense<256>, Relu, Dense<256>, Relu, Dense<10>
    }
}

/// Samples per epoch: one criterion iteration trains on all of them.
const SAMPLES: usize = 256;

/// `SAMPLES` seeded inputs uniform in `[-1, 1)`, with classes below `k`.
fn dataset<const I: usize>(rng: &mut SmallRng, k: usize) -> Vec<([f32; I], usize)> {
    (0..SAMPLES)
        .map(|_| {
            let x = core::array::from_fn(|_| baseline::uniform(rng));
            (x, rng.next_u32() as usize % k)
        })
        .collect()
}

/// The same data for the baseline, one `Vec` per input.
fn as_vecs<const I: usize>(data: &[([f32; I], usize)]) -> Vec<(Vec<f32>, usize)> {
    data.iter().map(|(x, c)| (x.to_vec(), *c)).collect()
}

/// The baseline with the same weights as `net`.
fn baseline_of<N: Network<Scalar = f32>>(
    net: &N,
    sizes: &[usize],
    acts: &[Act],
    loss: baseline::Loss,
) -> Mlp {
    let layers = net.layers();
    let params: Vec<(&[f32], &[f32])> = (0..acts.len())
        .map(|l| (layers.tensor(2 * l), layers.tensor(2 * l + 1)))
        .collect();
    Mlp::new(sizes, acts, &params, loss)
}

/// A group measuring `SAMPLES` samples per iteration.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(SAMPLES as u64));
    group
}

/// Benchmarks one training epoch per iteration, each from a fresh copy of
/// `start` (network and optimiser state), so that the figure does not depend
/// on how many iterations criterion runs. Training on and on would change
/// what is measured: on these random labels the weights of units that stop
/// learning shrink towards zero until they are subnormal numbers, on which
/// every implementation's arithmetic is many times slower on x86.
fn train_bench<S: Clone>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    start: &S,
    mut epoch: impl FnMut(&mut S),
) {
    g.bench_function(name, |b| {
        b.iter_batched_ref(|| start.clone(), &mut epoch, BatchSize::LargeInput)
    });
}

/// Benchmarks predictions one sample at a time, constnet then the
/// baseline, on the same inputs.
fn predict_bench<N: Network<Scalar = f32>>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    net: &N,
    inputs: &[N::Input],
    base: &Mlp,
    base_data: &[(Vec<f32>, usize)],
) {
    g.bench_function("predict b1/constnet", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|x| net.predict(black_box(x)).as_slice()[0])
                .sum::<f32>()
        })
    });
    g.bench_function("predict b1/baseline", |b| {
        b.iter(|| {
            base_data
                .iter()
                .map(|(x, _)| base.predict(black_box(x))[0])
                .sum::<f32>()
        })
    });
}

fn w1(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(1);
    let net = W1::random(&mut rng);
    let base = baseline_of(
        &net,
        &[2, 8, 1],
        &[Act::Tanh, Act::Sigmoid],
        baseline::Loss::Mse,
    )
    .sgd(0.1, 0.0);
    let data = dataset::<2>(&mut rng, 2);
    let mut base_data = as_vecs(&data);
    let mut data: Vec<_> = data.into_iter().map(|(x, c)| (x, [c as f32])).collect();

    let mut g = group(c, "W1");
    let start = (net.clone(), Sgd::<W1>::new(0.1).unwrap());
    train_bench(&mut g, "train b1/constnet", &start, |(net, opt)| {
        let loss = net.train_epoch::<1>(black_box(&mut data), &Mse, opt, &mut rng);
        black_box(loss.unwrap());
    });
    train_bench(&mut g, "train b1/baseline", &base, |base| {
        black_box(base.train_epoch(black_box(&mut base_data), 1, &mut rng));
    });
    #[cfg(feature = "parallel")]
    {
        let mut threads = Threads::all();
        train_bench(&mut g, "train b1/all cores", &start, |(net, opt)| {
            let loss =
                net.train_epoch_on::<1>(black_box(&mut data), &Mse, opt, &mut rng, &mut threads);
            black_box(loss.unwrap());
        });
    }
    let inputs: Vec<[f32; 2]> = data.iter().map(|(x, _)| *x).collect();
    predict_bench(&mut g, &net, &inputs, &base, &base_data);
    g.finish();
}

/// W2, W3 and W4: ReLU networks trained on logits with softmax +
/// cross-entropy, SGD lr 0.01 momentum 0.9, batches of 32.
fn classifier<N, const I: usize>(
    c: &mut Criterion,
    name: &str,
    seed: u64,
    sizes: &[usize],
    inference: bool,
) where
    N: Network<Scalar = f32, Input = [f32; I]> + Train<usize> + Clone + Send + Sync,
    Gradients<N>: Send,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    let mut rng = SmallRng::seed_from_u64(seed);
    let net: Box<N> = Box::new(N::random(&mut rng));
    let acts: Vec<Act> = (1..sizes.len() - 1)
        .map(|_| Act::Relu)
        .chain([Act::Identity])
        .collect();
    let base = baseline_of(&*net, sizes, &acts, baseline::Loss::SoftmaxCrossEntropy).sgd(0.01, 0.9);
    let opt: Box<Sgd<N>> = Box::new(Sgd::new(0.01).unwrap().momentum(0.9).unwrap());
    let mut data = dataset::<I>(&mut rng, 10);
    let mut base_data = as_vecs(&data);
    let inputs: Vec<[f32; I]> = data.iter().map(|(x, _)| *x).collect();

    optimizer_step(c, name, &*net, &data[..32]);
    let mut g = group(c, name);
    let start = (net.clone(), opt);
    train_bench(&mut g, "train b32/constnet", &start, |(net, opt)| {
        let loss = net.train_epoch::<32>(
            black_box(&mut data),
            &SoftmaxCrossEntropy,
            &mut **opt,
            &mut rng,
        );
        black_box(loss.unwrap());
    });
    train_bench(&mut g, "train b32/baseline", &base, |base| {
        black_box(base.train_epoch(black_box(&mut base_data), 32, &mut rng));
    });
    // A small network (W2): threads must cost it nothing; larger ones are
    // trained continuously on all cores below.
    #[cfg(feature = "parallel")]
    let small = <N::Layers as Tensors<f32>>::LEN < SMALL;
    #[cfg(feature = "parallel")]
    if small {
        for (name, mut threads) in [
            ("train b32/all cores", Threads::all()),
            (
                "train b32/all cores always",
                Threads::exactly(cores()).unwrap(),
            ),
        ] {
            train_bench(&mut g, name, &start, |(net, opt)| {
                let loss = net.train_epoch_on::<32>(
                    black_box(&mut data),
                    &SoftmaxCrossEntropy,
                    &mut **opt,
                    &mut rng,
                    &mut threads,
                );
                black_box(loss.unwrap());
            });
        }
    }
    if inference {
        predict_bench(&mut g, &*net, &inputs, &base, &base_data);
        let (batches, _) = inputs.as_chunks::<32>();
        g.bench_function("predict b32/constnet", |b| {
            b.iter(|| {
                batches
                    .iter()
                    .map(|x| net.predict_batch(black_box(x))[31].as_slice()[0])
                    .sum::<f32>()
            })
        });
        g.bench_function("predict b32/baseline", |b| {
            b.iter(|| {
                base_data
                    .chunks(32)
                    .map(|chunk| {
                        let y: Vec<Vec<f32>> = chunk
                            .iter()
                            .map(|(x, _)| base.predict(black_box(x)))
                            .collect();
                        y[31][0]
                    })
                    .sum::<f32>()
            })
        });
    }
    g.finish();
    #[cfg(feature = "parallel")]
    if inference {
        evaluation(c, name, &*net, &mut rng);
    }
    #[cfg(feature = "parallel")]
    if !small {
        continuous(c, name, &*net, &mut rng);
    }
}

/// One SGD step with momentum 0.9 (`Optimizer::step`, which tries the
/// update before it writes it) on a batch's gradient, one step after
/// another, beside the same rule as a plain loop over three arrays of as
/// many values: the passes over parameters, gradient and velocity that the
/// step cannot avoid, with nothing checked.
fn optimizer_step<N>(c: &mut Criterion, name: &str, net: &N, batch: &[(N::Input, usize)])
where
    N: Network<Scalar = f32> + Train<usize> + Clone,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    let batch: &[_; 32] = batch.try_into().expect("32 samples");
    let mut grads = Gradients::<N>::boxed();
    net.loss_and_gradients(batch, &SoftmaxCrossEntropy, &mut grads);
    let mut net = net.clone();
    let mut opt: Box<Sgd<N>> = Box::new(Sgd::new(0.01).unwrap().momentum(0.9).unwrap());
    let len = <N::Layers as Tensors<f32>>::LEN;
    let mut g = c.benchmark_group(format!("{name} step"));
    g.throughput(Throughput::Elements(len as u64));
    g.bench_function("constnet", |b| {
        b.iter(|| opt.step(&mut net, black_box(&grads)).unwrap())
    });
    let (mut p, mut v) = (vec![0.5f32; len], vec![0.0f32; len]);
    let gradient: Vec<f32> = (0..<Gradients<N> as Tensors<f32>>::COUNT)
        .flat_map(|i| grads.tensor(i).to_vec())
        .collect();
    g.bench_function("plain loop", |b| {
        b.iter(|| {
            for ((p, g), v) in p.iter_mut().zip(black_box(&gradient)).zip(&mut v) {
                *v = 0.9 * *v - 0.01 * g;
                *p += *v;
            }
        })
    });
    g.finish();
}

/// The MNIST network quantised to int8 (calibrated on its first 64
/// inputs), one sample at a time: `Quantized::classify` on 256 inputs.
fn int8(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(6);
    let net: Box<Mnist> = Mnist::random_boxed(&mut rng);
    let inputs: Vec<[f32; 784]> = dataset::<784>(&mut rng, 10)
        .into_iter()
        .map(|(x, _)| x)
        .collect();
    let int8 = constnet::quant::Quantized::calibrate(&*net, &inputs[..64]).unwrap();
    let mut g = group(c, "MNIST int8");
    g.bench_function("classify b1", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|x| int8.classify(black_box(x)))
                .sum::<usize>()
        })
    });
    g.finish();
}

/// Parameters below which a network is compared on one thread and all
/// cores as W2 is (epochs from a fresh copy, the cost threads must not
/// add), and from which it is trained continuously.
#[cfg(feature = "parallel")]
const SMALL: usize = 10_000;

/// Samples per epoch of the continuous training benchmarks.
#[cfg(feature = "parallel")]
const CONTINUOUS: usize = 2048;

/// Training as a program's loop does, one epoch of `CONTINUOUS` samples
/// after another on the same network (not a fresh copy for each, as
/// `train_bench` makes), with batches of 32 and of 128: on one thread,
/// then on all cores.
#[cfg(feature = "parallel")]
fn continuous<N, const I: usize>(c: &mut Criterion, name: &str, net: &N, rng: &mut SmallRng)
where
    N: Network<Scalar = f32, Input = [f32; I]> + Train<usize> + Clone + Send + Sync,
    Gradients<N>: Send,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    let mut data: Vec<([f32; I], usize)> = (0..CONTINUOUS / SAMPLES)
        .flat_map(|_| dataset::<I>(rng, 10))
        .collect();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(CONTINUOUS as u64));
    g.sample_size(20);
    epochs::<N, I, 32>(&mut g, "epochs of 2048", net, &mut data, rng);
    epochs::<N, I, 128>(&mut g, "epochs of 2048 b128", net, &mut data, rng);
    g.finish();
}

/// [`continuous`] with batches of `B`, as benchmarks `{bench}/constnet`,
/// `{bench}/all cores`, `{bench}/all cores always` (the batch shared out)
/// and `{bench}/all cores layers` (the layers shared out).
#[cfg(feature = "parallel")]
fn epochs<N, const I: usize, const B: usize>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    bench: &str,
    net: &N,
    data: &mut [([f32; I], usize)],
    rng: &mut SmallRng,
) where
    N: Network<Scalar = f32, Input = [f32; I]> + Train<usize> + Clone + Send + Sync,
    Gradients<N>: Send,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    for (side, mut threads) in [
        ("constnet", None),
        ("all cores", Some(Threads::all())),
        ("all cores always", Some(Threads::exactly(cores()).unwrap())),
        (
            "all cores layers",
            Some(Threads::exactly(cores()).unwrap().sharing(Sharing::Layers)),
        ),
    ] {
        let mut net = Box::new(net.clone());
        let mut opt: Box<Sgd<N>> = Box::new(Sgd::new(0.01).unwrap().momentum(0.9).unwrap());
        g.bench_function(format!("{bench}/{side}"), |b| {
            b.iter(|| {
                let data = black_box(&mut *data);
                let loss = match &mut threads {
                    None => net.train_epoch::<B>(data, &SoftmaxCrossEntropy, &mut *opt, rng),
                    Some(threads) => {
                        net.train_epoch_on::<B>(data, &SoftmaxCrossEntropy, &mut *opt, rng, threads)
                    }
                };
                black_box(loss.unwrap())
            })
        });
    }
}

/// Samples an evaluation benchmark classifies.
#[cfg(feature = "parallel")]
const EVALUATED: usize = 4096;

/// Accuracy over `EVALUATED` samples, one thread and all cores.
#[cfg(feature = "parallel")]
fn evaluation<N, const I: usize>(c: &mut Criterion, name: &str, net: &N, rng: &mut SmallRng)
where
    N: Network<Scalar = f32, Input = [f32; I]> + Sync,
{
    let data: Vec<([f32; I], usize)> = (0..EVALUATED / SAMPLES)
        .flat_map(|_| dataset::<I>(rng, 10))
        .collect();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(EVALUATED as u64));
    g.bench_function("accuracy/constnet", |b| {
        b.iter(|| net.accuracy(black_box(&data)))
    });
    for (name, mut threads) in [
        ("accuracy/all cores", Threads::all()),
        (
            "accuracy/all cores always",
            Threads::exactly(cores()).unwrap(),
        ),
    ] {
        g.bench_function(name, |b| b.iter(|| threads.accuracy(net, black_box(&data))));
    }
    g.finish();
}

/// One row of the summary: a benchmark, its workload's weights and the
/// flops per weight per sample.
struct Row {
    group: &'static str,
    bench: &'static str,
    weights: u64,
    flops_per_weight: u64,
}

const ROWS: &[Row] = &[
    Row {
        group: "W1",
        bench: "train b1",
        weights: 24,
        flops_per_weight: 6,
    },
    Row {
        group: "W1",
        bench: "predict b1",
        weights: 24,
        flops_per_weight: 2,
    },
    Row {
        group: "W2",
        bench: "train b32",
        weights: 2368,
        flops_per_weight: 6,
    },
    Row {
        group: "W2",
        bench: "predict b1",
        weights: 2368,
        flops_per_weight: 2,
    },
    Row {
        group: "W2",
        bench: "predict b32",
        weights: 2368,
        flops_per_weight: 2,
    },
    Row {
        group: "W3",
        bench: "train b32",
        weights: 101_632,
        flops_per_weight: 6,
    },
    Row {
        group: "W3",
        bench: "predict b1",
        weights: 101_632,
        flops_per_weight: 2,
    },
    Row {
        group: "W3",
        bench: "predict b32",
        weights: 101_632,
        flops_per_weight: 2,
    },
    Row {
        group: "W4",
        bench: "train b32",
        weights: 199_168,
        flops_per_weight: 6,
    },
    Row {
        group: "W4",
        bench: "predict b1",
        weights: 199_168,
        flops_per_weight: 2,
    },
    Row {
        group: "W4",
        bench: "predict b32",
        weights: 199_168,
        flops_per_weight: 2,
    },
    Row {
        group: "MNIST",
        bench: "train b32",
        weights: 203_264,
        flops_per_weight: 6,
    },
];

/// The benchmarks run on one thread and on all cores: group, benchmark,
/// samples per iteration.
#[cfg(feature = "parallel")]
const CORES: &[(&str, &str, usize)] = &[
    ("W1", "train b1", SAMPLES),
    ("W2", "train b32", SAMPLES),
    ("W3", "epochs of 2048", CONTINUOUS),
    ("W4", "epochs of 2048", CONTINUOUS),
    ("MNIST", "epochs of 2048", CONTINUOUS),
    ("W3", "epochs of 2048 b128", CONTINUOUS),
    ("W4", "epochs of 2048 b128", CONTINUOUS),
    ("MNIST", "epochs of 2048 b128", CONTINUOUS),
    ("W2", "accuracy", EVALUATED),
    ("W3", "accuracy", EVALUATED),
];

/// The cores the machine offers.
#[cfg(feature = "parallel")]
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The table of one thread against all cores: `Threads::all` (which
/// measures whether threads pay, and how to share a step out) and
/// `Threads::exactly` (threads always), sharing the batch or the layers.
#[cfg(feature = "parallel")]
fn cores_summary(dir: &Path) {
    println!(
        "\nOne thread against all {} cores, samples/s (median): \"all\" is `Threads::all`, \
         which keeps one thread where more do not pay; \"always\" is `Threads::exactly`, \
         sharing out the batch; \"layers\" is `Threads::exactly` sharing out the layers",
        cores()
    );
    println!(
        "{:<6} {:<19} {:>12} {:>12} {:>7} {:>12} {:>7} {:>12} {:>7}",
        "", "", "one", "all", "ratio", "always", "ratio", "layers", "ratio"
    );
    for &(group, bench, samples) in CORES {
        let per_s = |side: &str| {
            median_ns(dir, group, &format!("{bench}_{side}")).map(|ns| samples as f64 / (ns * 1e-9))
        };
        let Some(one) = per_s("constnet") else {
            continue;
        };
        let column = |side: &str| match per_s(side) {
            Some(v) => (format!("{v:.4e}"), format!("{:.2}x", v / one)),
            None => ("-".to_string(), "-".to_string()),
        };
        let (all, all_ratio) = column("all cores");
        let (always, always_ratio) = column("all cores always");
        let (layers, layers_ratio) = column("all cores layers");
        println!(
            "{group:<6} {bench:<19} {one:>12.4e} {all:>12} {all_ratio:>7} {always:>12} {always_ratio:>7} \
             {layers:>12} {layers_ratio:>7}"
        );
    }
}

/// When this run started: results saved before it are from another run.
static START: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();

/// The median time per iteration, in nanoseconds, that criterion saved
/// for `group/bench` in this run.
fn median_ns(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < *START.get()? {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// The fastest sample's time per iteration, in nanoseconds, in this run:
/// other processes on a shared machine only ever add time, so this is the
/// figure least disturbed by them.
fn best_ns(dir: &Path, group: &str, bench: &str) -> Option<f64> {
    median_ns(dir, group, bench)?; // only results of this run
    let path = dir.join(group).join(bench).join("new").join("sample.json");
    let text = std::fs::read_to_string(path).ok()?;
    let array = |key: &str| -> Option<Vec<f64>> {
        let start = text.find(&format!("\"{key}\":["))? + key.len() + 4;
        let end = start + text[start..].find(']')?;
        text[start..end]
            .split(',')
            .map(|v| v.trim().parse().ok())
            .collect()
    };
    let (iters, times) = (array("iters")?, array("times")?);
    iters
        .iter()
        .zip(&times)
        .map(|(n, t)| t / n)
        .min_by(f64::total_cmp)
}

/// Prints the table of medians, ratios and GFLOP/s, and the same from
/// each benchmark's fastest sample.
fn summary(dir: &Path) {
    let peak = peak::measured_gflops(dir, median_ns);
    let best_peak = peak::measured_gflops(dir, best_ns);
    println!(
        "\nSummary of this run: samples/s (median), ratio = constnet / baseline, \
         GFLOP/s at 6 flops per weight per trained sample and 2 per inferred one"
    );
    if let (Some((name, median)), Some((_, best))) = (&peak, &best_peak) {
        println!(
            "f32 FMA peak, one thread ({name}): {best:.1} GFLOP/s from the fastest sample \
             (median {median:.1}); \"%peak\" is relative to {best:.1}"
        );
    }
    println!(
        "{:<4} {:<12} {:>12} {:>12} {:>7} {:>8} {:>6} | {:>7} {:>8} {:>6}",
        "",
        "median:",
        "constnet/s",
        "baseline/s",
        "ratio",
        "GFLOP/s",
        "%peak",
        "best:",
        "GFLOP/s",
        "%peak"
    );
    for row in ROWS {
        let per_s = |side: &str, time: fn(&Path, &str, &str) -> Option<f64>| {
            // criterion turns the `/` of `train b1/constnet` into `_`.
            time(dir, row.group, &format!("{}_{side}", row.bench))
                .map(|ns| SAMPLES as f64 / (ns * 1e-9))
        };
        let Some(ours) = per_s("constnet", median_ns) else {
            continue;
        };
        let base = per_s("baseline", median_ns);
        let flops = (row.weights * row.flops_per_weight) as f64 * 1e-9;
        let percent = |gflops: f64, peak: &Option<(&str, f64)>| {
            peak.map_or("-".to_string(), |(_, p)| {
                format!("{:.0}%", 100.0 * gflops / p)
            })
        };
        let ratio = |ours: f64, base: Option<f64>| {
            base.map_or("-".to_string(), |b| format!("{:.2}x", ours / b))
        };
        let best = per_s("constnet", best_ns).unwrap_or(ours);
        let best_base = per_s("baseline", best_ns);
        println!(
            "{:<4} {:<12} {:>12.4e} {:>12} {:>7} {:>8.2} {:>6} | {:>7} {:>8.2} {:>6}",
            row.group,
            row.bench,
            ours,
            base.map_or("-".to_string(), |b| format!("{b:.4e}")),
            ratio(ours, base),
            ours * flops,
            percent(ours * flops, &best_peak),
            ratio(best, best_base),
            best * flops,
            percent(best * flops, &best_peak),
        );
    }
    if let Some((_, peak)) = best_peak {
        step_bound(dir, peak);
    }
    if let Some(read) = peak::measured_l2_read(dir, best_ns) {
        println!(
            "L2 read, one thread: {:.0} GB/s from the fastest sample; W3 one sample at a time \
             reads its first layer's {} bytes per sample, so at most {:.3e} samples/s",
            read * 1e-9,
            peak::L2_BYTES,
            read / peak::L2_BYTES as f64
        );
    }
}

/// What a step taken as a pass of its own leaves of the FMA peak `peak`
/// (GFLOP/s) to W4's training at batch 32: with every product at the peak,
/// a batch takes the arithmetic the three products actually do (the first
/// layer has no input gradient) plus the `plain loop` over parameters,
/// gradient and velocity of `W4 step`, the least a separate step reads and
/// writes. Printed as % of the peak by the table's count of 6 flops per
/// weight.
fn step_bound(dir: &Path, peak: f64) {
    let Some(step_ns) = median_ns(dir, "W4 step", "plain loop") else {
        return;
    };
    let (layers, batch) = ([256u64, 256, 256, 256, 10], 32.0);
    let weights: Vec<u64> = layers.windows(2).map(|w| w[0] * w[1]).collect();
    let counted = 6 * weights.iter().sum::<u64>();
    let done = counted - 2 * weights[0];
    let products_ns = batch * done as f64 / peak;
    let bound = 100.0 * batch * counted as f64 / (products_ns + step_ns) / peak;
    println!(
        "W4 training, batch 32, with the step as a pass of its own: products at the peak \
         {:.1} us + the step's plain loop {:.1} us (median) a batch: at most {bound:.0}% of \
         the peak",
        products_ns * 1e-3,
        step_ns * 1e-3,
    );
}

/// Where criterion writes its results: `target/criterion`.
fn output_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("criterion")
}

fn main() {
    START.get_or_init(SystemTime::now);
    let dir = output_dir();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    peak::bench(&mut c);
    w1(&mut c);
    classifier::<W2, 64>(&mut c, "W2", 2, &[64, 32, 10], true);
    classifier::<W3, 784>(&mut c, "W3", 3, &[784, 128, 10], true);
    classifier::<W4, 256>(&mut c, "W4", 4, &[256, 256, 256, 256, 10], true);
    classifier::<Mnist, 784>(&mut c, "MNIST", 5, &[784, 256, 10], false);
    int8(&mut c);
    c.final_summary();
    summary(&dir);
    #[cfg(feature = "parallel")]
    cores_summary(&dir);
}
