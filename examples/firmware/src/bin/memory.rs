//! Measures memory on the device: the size of two networks, of their
//! gradients and of SGD's state, and the peak stack of one prediction and
//! of one training step (by stack painting, see `measure_stack`).
//!
//! Run with `cargo run --release --bin memory` in `examples/firmware/`.
#![no_std]
#![no_main]

use core::mem::size_of;

use constnet::prelude::*;
use constnet_firmware::{digits, entry, measure_stack, println, spiral};

constnet_firmware::panic_handler!();

/// Prints the sizes and the stack of `predict` and of `train_batch` with
/// batches of 1 and 8 for the network `net`.
fn report<N>(name: &str, net: &N, x: N::Input, target: usize)
where
    N: Network + Clone,
    SoftmaxCrossEntropy: Loss<N::Output, usize>,
{
    println!(
        "{}: {} parameters; size_of network {} B, gradients {} B, Sgd {} B",
        name,
        N::PARAMETERS,
        size_of::<N>(),
        size_of::<Gradients<N>>(),
        size_of::<Sgd<N>>()
    );
    let (_, predict) = measure_stack(|| net.predict(core::hint::black_box(&x)));
    let mut trained = net.clone();
    let mut opt = Sgd::new(N::Scalar::from_f64(0.01))
        .unwrap()
        .momentum(N::Scalar::from_f64(0.9))
        .unwrap();
    let (_, step1) =
        measure_stack(|| trained.train_batch(&[(x, target)], &SoftmaxCrossEntropy, &mut opt));
    let batch = [(x, target); 8];
    let (_, step8) = measure_stack(|| trained.train_batch(&batch, &SoftmaxCrossEntropy, &mut opt));
    println!(
        "{}: peak stack: predict {} B, training step batch 1 {} B, batch 8 {} B",
        name, predict, step1, step8
    );
}

#[entry]
fn main() -> ! {
    let (x, class) = (spiral::INPUTS[0], spiral::EXPECTED[0]);
    report("spiral 2-32-32-3", &spiral::SPIRAL, x, class);
    let (x, class) = (digits::INPUTS[0], digits::EXPECTED[0]);
    report("digits 64-32-10", &digits::DIGITS, x, class);
    constnet_firmware::exit(true)
}
