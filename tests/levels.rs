//! The kernel levels (`constnet::matrix::set_kernel_level`): every level
//! the processor has computes the same networks to within `f32` rounding,
//! passes NaN through, and is reproducible; different levels give
//! different bits, except for networks too small for the kernels. This file is its own test binary because the level is
//! process-wide: tests in other binaries never see it change.

use constnet::matrix::{
    KernelLevel, UnsupportedLevel, kernel_level, set_kernel_level, widest_kernel_level,
};
use constnet::prelude::*;

network! {
    /// Wide enough for the vector kernels (16 inputs, 256 weights or more).
    struct Wide<f32> { 64 => Dense<32>, Relu, Dense<32>, Tanh, Dense<10> }
}

network! {
    /// The same in `f64`, which always runs the portable loops.
    struct Wide64<f64> { 64 => Dense<32>, Relu, Dense<32>, Tanh, Dense<10> }
}

/// The levels this processor has, narrowest first.
fn levels() -> Vec<KernelLevel> {
    [
        KernelLevel::Portable,
        KernelLevel::Avx2,
        KernelLevel::Avx512,
    ]
    .into_iter()
    .filter(|&level| level <= widest_kernel_level())
    .collect()
}

network! {
    /// Too small for the vector kernels: its training steps run compiled
    /// for the level, with the same operations at every level.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

/// The parameters of a `Small` network, as bits, after three epochs of
/// one sample per step (with momentum) and a few steps of two samples.
fn small_trained_bits() -> Vec<u32> {
    let mut rng = SmallRng::seed_from_u64(11);
    let mut net = Small::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut data: Vec<([f32; 2], [f32; 1])> = (0..64)
        .map(|_| {
            let x = [rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
            (x, [f32::from(x[0] * x[1] > 0.0)])
        })
        .collect();
    for _ in 0..3 {
        net.train_epoch::<1>(&mut data, &Mse, &mut opt, &mut rng)
            .unwrap();
    }
    for pair in data.chunks_exact(2).take(8) {
        net.train_batch(&[pair[0], pair[1]], &Mse, &mut opt)
            .unwrap();
    }
    let mut bits = Vec::new();
    net.for_each_tensor(&mut |_, t| bits.extend(t.iter().map(|x| x.to_bits())));
    bits
}

fn data(seed: u64) -> Vec<([f32; 64], usize)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..64)
        .map(|i| {
            (
                core::array::from_fn(|_| rng.random_range(-1.0..1.0)),
                i % 10,
            )
        })
        .collect()
}

/// The parameters of a `Wide` network (`f32` or `f64`) after a few epochs
/// from a fixed seed, as the bits of `f64`s (exact for both).
fn trained_bits<N>() -> Vec<u64>
where
    N: Network<Input = [<N as Network>::Scalar; 64]> + Train<usize> + Tensors<N::Scalar>,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = N::random(&mut rng);
    let mut opt = Sgd::new(N::Scalar::from_f64(0.05))
        .unwrap()
        .momentum(N::Scalar::from_f64(0.9))
        .unwrap();
    let mut data: Vec<(N::Input, usize)> = data(8)
        .into_iter()
        .map(|(x, c)| (x.map(|v| N::Scalar::from_f64(f64::from(v))), c))
        .collect();
    for _ in 0..5 {
        net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)
            .unwrap();
    }
    let mut bits = Vec::new();
    net.for_each_tensor(&mut |_, t| bits.extend(t.iter().map(|x| x.as_f64().to_bits())));
    bits
}

/// One test, so that the levels are switched in order, never concurrently.
#[test]
fn every_level_agrees_within_rounding_passes_nan_and_repeats_itself() {
    let widest = widest_kernel_level();
    assert_eq!(kernel_level(), widest, "the default is the widest level");
    eprintln!("levels on this processor: {:?}", levels());

    let net = Wide::random(&mut SmallRng::seed_from_u64(1));
    let inputs: Vec<[f32; 64]> = data(2).into_iter().map(|(x, _)| x).collect();
    let mut by_level = Vec::new();
    let mut f64_by_level = Vec::new();
    let mut small_by_level = Vec::new();
    for level in levels() {
        set_kernel_level(level).unwrap();
        assert_eq!(kernel_level(), level);

        // A sample gives the same bits alone (`predict`) as in a batch
        // of eight (`predict_batch`).
        let batch: [[f32; 64]; 8] = core::array::from_fn(|i| inputs[i]);
        for (x, row) in batch.iter().zip(&net.predict_batch(&batch)) {
            assert_eq!(
                net.predict(x).map(f32::to_bits),
                row.map(f32::to_bits),
                "{level:?}"
            );
        }

        // NaN in, NaN out, alone and in a batch.
        let mut x = inputs[0];
        x[40] = f32::NAN;
        assert!(net.predict(&x).iter().all(|v| v.is_nan()), "{level:?}");
        let mut batch = [inputs[1]; 4];
        batch[2][3] = f32::NAN;
        let y = net.predict_batch(&batch);
        for (i, row) in y.iter().enumerate() {
            assert!(
                row.iter().all(|v| v.is_nan() == (i == 2)),
                "{level:?} row {i}"
            );
        }

        // The same seed at the same level: the same bits, twice.
        let first = trained_bits::<Wide>();
        assert_eq!(
            first,
            trained_bits::<Wide>(),
            "{level:?} is not reproducible"
        );
        by_level.push((level, first));
        small_by_level.push((level, small_trained_bits()));
        f64_by_level.push(trained_bits::<Wide64>());

        // Predictions agree with the portable level within f32 rounding.
        let predictions: Vec<[f32; 10]> = inputs.iter().map(|x| net.predict(x)).collect();
        set_kernel_level(KernelLevel::Portable).unwrap();
        for (x, p) in inputs.iter().zip(&predictions) {
            let q = net.predict(x);
            for (a, b) in p.iter().zip(&q) {
                assert!(
                    (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                    "{level:?}: {a} vs {b}"
                );
            }
        }
    }

    // Different levels sum in different orders: the f32 bits differ
    // (README, Reproducibility); f64 never uses them and does not.
    for pair in by_level.windows(2) {
        let differing = pair[0]
            .1
            .iter()
            .zip(&pair[1].1)
            .filter(|(a, b)| a != b)
            .count();
        eprintln!(
            "{:?} vs {:?}: {differing} of {} parameters differ",
            pair[0].0,
            pair[1].0,
            pair[0].1.len()
        );
        assert!(
            differing > 0,
            "{:?} and {:?} gave the same bits",
            pair[0].0,
            pair[1].0
        );
    }
    assert!(f64_by_level.windows(2).all(|w| w[0] == w[1]));
    // A network too small for the kernels trains to the same bits at every
    // level (`exp` comes from the platform, the same in one process).
    for pair in small_by_level.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].1,
            "{:?} and {:?} trained a small network differently",
            pair[0].0, pair[1].0
        );
    }

    // A level the processor lacks is refused, and nothing changes.
    set_kernel_level(widest).unwrap();
    if widest < KernelLevel::Avx512 {
        assert_eq!(
            set_kernel_level(KernelLevel::Avx512),
            Err(UnsupportedLevel {
                wanted: KernelLevel::Avx512,
                widest
            })
        );
        assert_eq!(kernel_level(), widest);
    }
}
