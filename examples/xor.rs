//! XOR, the smallest problem a straight line cannot solve: a 2-8-1 network
//! (tanh hidden layer, sigmoid output) learns it from the four truth-table
//! rows with mean squared error and SGD with momentum, one full batch of 4
//! per step. It shows the whole loop: define the type with `network!`, seed
//! the initialisation, train epoch by epoch, then `predict` and `accuracy`.
//!
//! Run it with `cargo run --release --example xor`.

use std::time::Instant;

use constnet::prelude::*;

network! {
    /// A 2-8-1 XOR classifier: its output is the probability of a 1.
    struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(0.5)?.momentum(0.9)?;
    let mut data = [
        ([0.0, 0.0], [0.0]),
        ([0.0, 1.0], [1.0]),
        ([1.0, 0.0], [1.0]),
        ([1.0, 1.0], [0.0]),
    ];

    println!("{net:?}: {} parameters", Xor::PARAMETERS);
    for epoch in 1..=1000 {
        // B = 4 = the whole data set: one step per epoch.
        let loss = net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)?;
        if epoch == 1 || epoch % 100 == 0 {
            println!("epoch {epoch:4}  loss {loss:.6}");
        }
    }

    // `train_epoch` shuffles in place: print the inputs in truth-table order.
    data.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    for (x, [t]) in &data {
        let [y] = net.predict(x);
        println!("{x:?} -> {y:.4}  (target {t}, class {})", net.classify(x));
    }
    println!(
        "accuracy {:.0} %  ({:.1?})",
        100.0 * net.accuracy(&data),
        start.elapsed()
    );
    Ok(())
}
