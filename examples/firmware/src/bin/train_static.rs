//! On-device training with everything that lasts in statics: a 2-8-1
//! network learns XOR with mini-batch SGD and momentum, with the network,
//! the optimiser (its velocity included) and the gradient buffer in RAM
//! that the linker places and counts (`.bss` and `.data`), not on the
//! stack. The optimiser is built at compile time (`Sgd::new_const`: a
//! setting out of range would not compile) and the gradient buffer is
//! reused by every step without being zeroed (`GradientBuffer`). Prints
//! the peak stack of one training step and exits with status 0 if the loss
//! fell below a tenth of where it started and every case is classified
//! correctly.
//!
//! `cargo run --release --target thumbv6m-none-eabi --bin train_static`
//! (Cortex-M0, 16 KiB of RAM), or without `--target` for the Cortex-M4F.
#![no_std]
#![no_main]

use constnet::prelude::*;
use constnet_firmware::{entry, measure_stack, println};

constnet_firmware::panic_handler!();

network! {
    /// A 2-8-1 XOR classifier.
    struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

// The network, the optimiser and the gradient buffer, in RAM the linker
// places. All three start as values known at compile time: zero, or the
// optimiser's settings and zero velocity. They are `static mut` (a
// `Mutex<RefCell<_>>` would add a critical section and a run-time borrow
// check for values only `main` touches), borrowed once, in `main`.
static mut NET: Xor = Zeroed::ZERO;
static mut OPT: Sgd<Xor> = Sgd::new_const(0.5).momentum_const(0.9);
static mut GRADS: GradientBuffer<Xor> = GradientBuffer::new();

#[entry]
fn main() -> ! {
    // SAFETY: `main` runs once and never returns, and nothing else (no
    // interrupt handler) names these statics, so these are the only
    // references to them there will ever be.
    let (net, opt, grads) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(NET),
            &mut *core::ptr::addr_of_mut!(OPT),
            &mut *core::ptr::addr_of_mut!(GRADS),
        )
    };

    let mut rng = SmallRng::seed_from_u64(7);
    // Drawn in place, as `Xor::random` would draw them.
    net.layers_mut().randomize(&mut rng, None, Init::Xavier);
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
        // One epoch is one step: the batch is the whole data set.
        let (result, stack) = if epoch == 1 {
            measure_stack(|| net.train_epoch_with::<4>(&mut data, &Mse, opt, &mut rng, grads))
        } else {
            let result = net.train_epoch_with::<4>(&mut data, &Mse, opt, &mut rng, grads);
            (result, 0)
        };
        if epoch == 1 {
            println!("peak stack of a training step: {} B", stack);
        }
        match result {
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
