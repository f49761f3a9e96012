//! constnet beside the libraries a user would otherwise pick, on the same
//! networks, weights and data, in one run (one thread each):
//!
//! | | network | figure | other library |
//! |---|---|---|---|
//! | W1 | 2-8-1, tanh, sigmoid | training one sample at a time (MSE, rate 0.1), inference one sample at a time | FANN 2.2 (C, `libfloatfann`) |
//! | W3 | 784-128-10, ReLU | inference one sample at a time, and in batches of 32 | candle 0.9 (CPU) |
//!
//! Each other library gets constnet's starting weights, and its outputs
//! are checked against constnet's before anything is timed. Training
//! restores the starting network before every epoch of 256 samples (as
//! `benches/workloads.rs` does: trained on and on, these random labels
//! drive weights into subnormal numbers), and both sides shuffle the data
//! each epoch. candle's matrix products run on one thread
//! (`RAYON_NUM_THREADS=1`, unless set otherwise).
//!
//! `cargo bench` (in this directory; FANN from Debian's `libfann-dev`)
//! prints, after criterion's output, a table of medians and ratios.

use std::hint::black_box;
use std::path::Path;
use std::time::SystemTime;

use constnet::prelude::*;
use constnet::rand::seq::SliceRandom;
use constnet_compare::{Candle, Fann};
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};

network! {
    /// W1: 2-8-1, tanh hidden, sigmoid output.
    struct W1<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// W3: 784-128-10, ReLU (logits out).
    struct W3<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

/// Samples per iteration: an epoch, or the inputs predicted.
const SAMPLES: usize = 256;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(SAMPLES as u64));
    group
}

/// Inputs uniform in [-1, 1).
fn inputs<const I: usize>(rng: &mut SmallRng) -> Vec<[f32; I]> {
    (0..SAMPLES)
        .map(|_| core::array::from_fn(|_| rng.random::<f32>() * 2.0 - 1.0))
        .collect()
}

fn w1(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(1);
    let net = W1::random(&mut rng);
    let mut data: Vec<([f32; 2], [f32; 1])> = inputs::<2>(&mut rng)
        .into_iter()
        .map(|x| (x, [f32::from(rng.random::<bool>())]))
        .collect();
    let layers = net.layers();
    let fann = Fann::tanh_sigmoid(
        layers.tensor(0),
        layers.tensor(1),
        layers.tensor(2),
        layers.tensor(3)[0],
        0.1,
    );
    for (x, _) in &data {
        let (ours, theirs) = (net.predict(x)[0], fann.run(x));
        assert!(
            (ours - theirs).abs() < 1e-5,
            "W1 at {x:?}: constnet {ours}, FANN {theirs}"
        );
    }

    let mut g = group(c, "W1");
    let start = (net.clone(), Sgd::<W1>::new(0.1).unwrap());
    g.bench_function("train b1/constnet", |b| {
        b.iter_batched_ref(
            || start.clone(),
            |(net, opt)| {
                black_box(
                    net.train_epoch::<1>(&mut data, &Mse, opt, &mut rng)
                        .unwrap(),
                )
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("train b1/FANN", |b| {
        b.iter_batched_ref(
            || fann.clone(),
            |fann| {
                data.shuffle(&mut rng);
                for (x, [target]) in &data {
                    fann.train(black_box(x), *target);
                }
            },
            BatchSize::LargeInput,
        )
    });
    let inputs: Vec<[f32; 2]> = data.iter().map(|(x, _)| *x).collect();
    g.bench_function("predict b1/constnet", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|x| net.predict(black_box(x))[0])
                .sum::<f32>()
        })
    });
    g.bench_function("predict b1/FANN", |b| {
        b.iter(|| inputs.iter().map(|x| fann.run(black_box(x))).sum::<f32>())
    });
    g.finish();
}

fn w3(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(3);
    let net = W3::random(&mut rng);
    let xs = inputs::<784>(&mut rng);
    let l = net.layers();
    let candle = Candle::relu(784, l.tensor(0), l.tensor(1), l.tensor(2), l.tensor(3));
    for x in &xs[..8] {
        let (ours, theirs) = (net.predict(x), &candle.predict(x)[0]);
        for (a, b) in ours.iter().zip(theirs) {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + a.abs()),
                "W3: constnet {a}, candle {b}"
            );
        }
    }
    let flat: Vec<f32> = xs.as_flattened().to_vec();

    let mut g = group(c, "W3");
    g.bench_function("predict b1/constnet", |b| {
        b.iter(|| xs.iter().map(|x| net.predict(black_box(x))[0]).sum::<f32>())
    });
    g.bench_function("predict b1/candle", |b| {
        b.iter(|| {
            flat.chunks(784)
                .map(|x| candle.predict(black_box(x))[0][0])
                .sum::<f32>()
        })
    });
    g.bench_function("predict b32/constnet", |b| {
        b.iter(|| {
            xs.chunks(32)
                .map(|batch| net.predict_batch::<32>(black_box(batch.try_into().unwrap()))[0][0])
                .sum::<f32>()
        })
    });
    g.bench_function("predict b32/candle", |b| {
        b.iter(|| {
            flat.chunks(32 * 784)
                .map(|batch| candle.predict(black_box(batch))[0][0])
                .sum::<f32>()
        })
    });
    g.finish();
}

/// The median time per iteration, in nanoseconds, that criterion saved for
/// `group/bench` in this run (`None` for results of an earlier run).
fn median_ns(dir: &Path, group: &str, bench: &str, start: SystemTime) -> Option<f64> {
    let path = dir
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < start {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    value[..value.find([',', '}'])?].trim().parse().ok()
}

fn summary(start: SystemTime) {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            Into::into,
        )
        .join("criterion");
    println!(
        "\nSamples per second (median), constnet and the other library in this run, one thread each:"
    );
    println!(
        "{:<4} {:<12} {:>12} {:>8} {:>12} {:>7}",
        "", "", "constnet", "other", "", "ratio"
    );
    for (group, bench, other) in [
        ("W1", "train b1", "FANN"),
        ("W1", "predict b1", "FANN"),
        ("W3", "predict b1", "candle"),
        ("W3", "predict b32", "candle"),
    ] {
        let rate = |side: &str| {
            median_ns(&dir, group, &format!("{bench}_{side}"), start)
                .map(|ns| SAMPLES as f64 / (ns * 1e-9))
        };
        if let (Some(ours), Some(theirs)) = (rate("constnet"), rate(other)) {
            println!(
                "{group:<4} {bench:<12} {ours:>12.4e} {other:>8} {theirs:>12.4e} {:>6.2}x",
                ours / theirs
            );
        }
    }
}

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: no other thread runs yet.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    let start = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    w1(&mut c);
    w3(&mut c);
    c.final_summary();
    summary(start);
}
