//! Regression: a 1-16-16-1 tanh network learns `sin(x)` on `[−π, π]` from
//! 256 random samples, with an identity (linear) output, mean squared error
//! and mini-batches of 16 (SGD with momentum, shuffled every epoch). The
//! learning rate is lowered for the last part of training. The final error
//! is measured on a fresh, evenly spaced grid, not on the training points,
//! so it says how well the curve was learnt between them.
//!
//! Run it with `cargo run --release --example sine`.

use std::f32::consts::PI;
use std::time::Instant;

use constnet::prelude::*;

network! {
    /// A 1-16-16-1 regressor; its output layer is linear.
    struct Sine<f32> { 1 => Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
}

/// `n` samples `(x, sin x)` with `x` uniform in `[−π, π]`.
fn samples(rng: &mut impl Rng, n: usize) -> Vec<([f32; 1], [f32; 1])> {
    (0..n)
        .map(|_| {
            let x = rng.random_range(-PI..=PI);
            ([x], [x.sin()])
        })
        .collect()
}

/// `n` evenly spaced points `(x, sin x)` from `−π` to `π`.
fn grid(n: usize) -> Vec<([f32; 1], [f32; 1])> {
    (0..n)
        .map(|i| {
            let x = -PI + 2.0 * PI * i as f32 / (n - 1) as f32;
            ([x], [x.sin()])
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Sine::random(&mut rng);
    let mut opt = Sgd::new(0.02)?.momentum(0.9)?;
    let mut data = samples(&mut rng, 256);

    let epochs = 1000;
    for epoch in 1..=epochs {
        if epoch == epochs * 4 / 5 {
            opt.set_learning_rate(0.002)?; // a finer last stretch
        }
        let loss = net.train_epoch::<16>(&mut data, &Mse, &mut opt, &mut rng)?;
        if epoch == 1 || epoch % 100 == 0 {
            println!("epoch {epoch:4}  training MSE {loss:.2e}");
        }
    }

    let test = grid(1001);
    let mse = net.mean_loss(&test, &Mse)?;
    let worst = test
        .iter()
        .map(|(x, [t])| (net.predict(x)[0] - t).abs())
        .fold(0.0, f32::max);
    for x in [-PI, -PI / 2.0, 0.0, 1.0, PI / 2.0, PI] {
        println!(
            "sin({x:+.4}) = {:+.4}, net: {:+.4}",
            x.sin(),
            net.predict(&[x])[0]
        );
    }
    println!(
        "MSE on a grid of {} points: {mse:.2e} (worst error {worst:.4})  ({:.1?})",
        test.len(),
        start.elapsed()
    );
    Ok(())
}
