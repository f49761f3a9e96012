//! Real data on a micro-controller-sized network: the 1,797 8×8 images of
//! handwritten digits in `data/digits/` (UCI, via scikit-learn), learned by
//! a 64-32-10 ReLU network (2,410 parameters, 9.6 KB in f32) with
//! `SoftmaxCrossEntropy`, mini-batches of 16 and momentum. A fixed fifth of
//! the images is held out and only used to measure accuracy.
//!
//! Run it with `cargo run --release --example digits`. With
//! `-- --export FILE` it also writes the trained network as Rust source for
//! the firmware example in `examples/firmware/`, in f32 and in int8. The
//! int8 network is quantised after training, calibrated on the training
//! images; both accuracies are printed.

use std::time::Instant;

use constnet::metrics::ConfusionMatrix;
use constnet::prelude::*;
use constnet::rand::seq::SliceRandom;

#[path = "common/mod.rs"]
mod common;

network! {
    /// A 64-32-10 digit classifier whose outputs are logits.
    struct Digits<f32> { 64 => Dense<32>, Relu, Dense<10> }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut data = common::digits()?;
    let mut rng = SmallRng::seed_from_u64(2024);
    data.shuffle(&mut rng);
    let test = data.split_off(data.len() * 4 / 5);
    let mut train = data;
    println!("{} training images, {} held out", train.len(), test.len());

    let mut net = Digits::random(&mut rng);
    println!("{}\n", net.summary());
    let mut opt = Sgd::new(0.05)?.momentum(0.9)?;
    for epoch in 1..=40 {
        if epoch == 31 {
            opt.set_learning_rate(0.005)?;
        }
        let loss = net.train_epoch::<16>(&mut train, &SoftmaxCrossEntropy, &mut opt, &mut rng)?;
        if epoch == 1 || epoch % 5 == 0 {
            println!(
                "epoch {epoch:2}  loss {loss:.4}  train {:5.1} %  held out {:5.1} %",
                100.0 * net.accuracy(&train),
                100.0 * net.accuracy(&test)
            );
        }
    }

    println!("{}", ConfusionMatrix::<10>::of(&net, &test));
    // Post-training int8 quantisation, calibrated on the training images.
    let calibration: Vec<[f32; 64]> = train.iter().map(|s| s.0).collect();
    let int8 = common::quantize_and_compare(&net, &calibration, &test)?;
    if let Some(path) = common::export_path() {
        let inputs: Vec<[f32; 64]> = test.iter().map(|s| s.0).collect();
        common::export_for_firmware(&net, &int8, "Digits", "DIGITS", &inputs, &path)?;
        println!("wrote {path}");
    }
    println!(
        "held-out accuracy {:.1} % ({} images)  ({:.1?})",
        100.0 * net.accuracy(&test),
        test.len(),
        start.elapsed()
    );
    Ok(())
}
