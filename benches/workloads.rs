//! Throughput of training and inference on small networks.
//!
//! `cargo bench` prints samples per second for each workload. Inputs are
//! synthetic and seeded, so runs are comparable.

use std::hint::black_box;

use constnet::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

network! {
    /// W1: 2-8-1, tanh hidden, sigmoid output.
    struct W1<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// W2: 64-32-10, ReLU hidden, logits for softmax + cross-entropy.
    struct W2<f32> { 64 => Dense<32>, Relu, Dense<10> }
}

/// `N` seeded samples with inputs uniform in [-1, 1) and `K` classes.
fn dataset<const I: usize, const N: usize>(rng: &mut SmallRng, k: usize) -> [([f32; I], usize); N] {
    core::array::from_fn(|_| {
        let x = core::array::from_fn(|_| rng.random::<f32>() * 2.0 - 1.0);
        (x, rng.next_u32() as usize % k)
    })
}

fn w1(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = W1::random(&mut rng);
    let mut opt = Sgd::new(0.1);
    let data: [([f32; 2], usize); 256] = dataset(&mut rng, 2);
    let mut data = data.map(|(x, c)| (x, [c as f32]));

    let mut group = c.benchmark_group("W1 2-8-1");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("train, batch 1", |b| {
        b.iter(|| net.train_epoch::<1>(black_box(&mut data), &Mse, &mut opt, &mut rng))
    });
    group.bench_function("predict", |b| {
        b.iter(|| {
            data.iter()
                .map(|(x, _)| net.predict(black_box(x))[0])
                .sum::<f32>()
        })
    });
    group.finish();
}

fn w2(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(2);
    let mut net = W2::random(&mut rng);
    let mut opt = Sgd::new(0.01).momentum(0.9);
    let mut data: [([f32; 64], usize); 256] = dataset(&mut rng, 10);

    let mut group = c.benchmark_group("W2 64-32-10");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("train, batch 32", |b| {
        b.iter(|| {
            net.train_epoch::<32>(
                black_box(&mut data),
                &SoftmaxCrossEntropy,
                &mut opt,
                &mut rng,
            )
        })
    });
    group.bench_function("predict", |b| {
        b.iter(|| {
            data.iter()
                .map(|(x, _)| net.classify(black_box(x)))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, w1, w2);
criterion_main!(benches);
