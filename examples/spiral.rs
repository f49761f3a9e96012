//! Classification: three interleaved spiral arms in the plane, one class
//! per arm, which no linear model can separate. A 2-32-32-3 ReLU network
//! outputs one logit per class and is trained with `SoftmaxCrossEntropy`
//! (softmax inside the loss) on class-index targets (`usize`), in
//! mini-batches of 16, with the learning rate lowered for the last epochs.
//! The data is generated from a seeded `SmallRng` with a little noise;
//! accuracy is reported on the training set and on a test set drawn
//! separately with another seed.
//!
//! Run it with `cargo run --release --example spiral`. With
//! `-- --export FILE` it also writes the trained network as Rust source,
//! with sixteen test points and the classes predicted for them here, for
//! the firmware example in `examples/firmware/` to check itself against.

use std::f32::consts::TAU;
use std::time::Instant;

use constnet::prelude::*;

#[path = "common/mod.rs"]
mod common;

/// The number of classes, one per arm.
const CLASSES: usize = 3;

network! {
    /// A 2-32-32-3 classifier whose outputs are logits.
    struct Spiral<f32> { 2 => Dense<32>, Relu, Dense<32>, Relu, Dense<CLASSES> }
}

/// `n` points per arm: radius `r` uniform in `(0, 1]`, angle
/// `2πk/3 + 2πr` for arm `k` (one full turn), plus up to ±0.15 rad of noise.
fn spiral(rng: &mut impl Rng, n: usize) -> Vec<([f32; 2], usize)> {
    let mut data = Vec::with_capacity(CLASSES * n);
    for class in 0..CLASSES {
        for _ in 0..n {
            let r: f32 = 1.0 - rng.random::<f32>();
            let angle =
                TAU * class as f32 / CLASSES as f32 + TAU * r + rng.random_range(-0.15..0.15);
            data.push(([r * angle.cos(), r * angle.sin()], class));
        }
    }
    data
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Spiral::random(&mut rng);
    let mut opt = Sgd::new(0.05)?.momentum(0.9)?;
    let mut train = spiral(&mut SmallRng::seed_from_u64(100), 100);
    let test = spiral(&mut SmallRng::seed_from_u64(200), 300);

    for epoch in 1..=500 {
        if epoch == 400 {
            opt.set_learning_rate(0.005)?; // settle into the minimum
        }
        let loss = net.train_epoch::<16>(&mut train, &SoftmaxCrossEntropy, &mut opt, &mut rng)?;
        if epoch == 1 || epoch % 50 == 0 {
            println!(
                "epoch {epoch:3}  loss {loss:.4}  train accuracy {:5.1} %",
                100.0 * net.accuracy(&train)
            );
        }
    }

    if let Some(path) = common::export_path() {
        let calibration: Vec<[f32; 2]> = train.iter().map(|s| s.0).collect();
        let int8 = common::quantize_and_compare(&net, &calibration, &test)?;
        let inputs: Vec<[f32; 2]> = test.iter().map(|s| s.0).collect();
        common::export_for_firmware(&net, &int8, "Spiral", "SPIRAL", &inputs, &path)?;
        println!("wrote {path}");
    }

    println!(
        "train accuracy {:.1} % ({} points), test accuracy {:.1} % ({} points)  ({:.1?})",
        100.0 * net.accuracy(&train),
        train.len(),
        100.0 * net.accuracy(&test),
        test.len(),
        start.elapsed()
    );
    Ok(())
}
