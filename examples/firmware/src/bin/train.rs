//! On-device training without std or alloc: a 2-8-1 network learns XOR
//! from random weights with mini-batch SGD and momentum, on the
//! micro-controller. Exits with status 0 if the loss fell below a tenth of
//! where it started and every case is classified correctly.
#![no_std]
#![no_main]

use constnet::prelude::*;
use constnet_firmware::{entry, println};

constnet_firmware::panic_handler!();

network! {
    /// A 2-8-1 XOR classifier.
    struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

#[entry]
fn main() -> ! {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut net = Xor::random(&mut rng);
    let mut opt = Sgd::new(0.5).unwrap().momentum(0.9).unwrap();
    let mut data = [
        ([0.0, 0.0], [0.0]),
        ([0.0, 1.0], [1.0]),
        ([1.0, 0.0], [1.0]),
        ([1.0, 1.0], [0.0]),
    ];
    let first = net.mean_loss(&data, &Mse).unwrap_or(f32::NAN);
    println!("loss before training: {}", first);
    let mut last = first;
    for epoch in 1..=300 {
        match net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng) {
            Ok(loss) => last = loss,
            Err(e) => {
                println!("epoch {}: {}", epoch, e);
                constnet_firmware::exit(false);
            }
        }
        if epoch % 100 == 0 {
            println!("epoch {}: loss {}", epoch, last);
        }
    }
    let accuracy = net.accuracy(&data);
    println!("loss after training: {}, accuracy {}", last, accuracy);
    let learned = last < first / 10.0 && accuracy == 1.0;
    constnet_firmware::exit(learned)
}
