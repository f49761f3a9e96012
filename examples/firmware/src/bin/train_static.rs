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
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use panic_semihosting as _;

network! {
    /// A 2-8-1 XOR classifier.
    struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

/// Runs `f` and returns its result and the peak stack it used, in bytes,
/// as `constnet_firmware::measure_stack` does (paint the free stack, call,
/// find the deepest word that changed), with the painted window bounded by
/// the RAM that is free: from the end of the statics (cortex-m-rt's
/// `__sheap`) to the current frame, so that it works with 16 KiB of RAM.
#[inline(always)]
fn measure_stack<R>(f: impl FnOnce() -> R) -> (R, usize) {
    const PAINT: u32 = 0xC0DE_C0DE;
    unsafe extern "C" {
        /// The first word after `.bss` and `.data`, set by cortex-m-rt's
        /// linker script.
        static __sheap: u32;
    }
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - 64) & !3;
    let bottom = &raw const __sheap as usize;
    let mut a = bottom;
    while a < top {
        // SAFETY: [bottom, top) is RAM that no static and no live frame
        // uses (between the statics and the current frame), aligned to 4.
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
    let r = core::hint::black_box(call(f));
    let mut a = bottom;
    // SAFETY: the same words, read back.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    (r, top - a)
}

/// Calls `f` in a frame of its own, below the painted top.
#[inline(never)]
fn call<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[entry]
fn main() -> ! {
    // `static mut`s declared in the `#[entry]` function: cortex-m-rt hands
    // each one to `main` as a `&'static mut`, without `unsafe`. That is
    // sound because `main` runs once and cannot be called again, so these
    // references are the only ones there will ever be. (A `static mut`
    // anywhere else would need `unsafe` at every use, and a
    // `Mutex<RefCell<_>>` a critical section and a run-time borrow check
    // for values that only `main` touches.) All three start as values
    // known at compile time: zero, or the optimiser's settings and zero
    // velocity.
    static mut NET: Xor = Zeroed::ZERO;
    static mut OPT: Sgd<Xor> = Sgd::new_const(0.5).momentum_const(0.9);
    static mut GRADS: GradientBuffer<Xor> = GradientBuffer::new();
    let (net, opt, grads) = (NET, OPT, GRADS);

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
    hprintln!("loss before training: {}", first);
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
            hprintln!("peak stack of a training step: {} B", stack);
        }
        match result {
            Ok(loss) => last = loss,
            Err(e) => {
                hprintln!("epoch {}: {}", epoch, e);
                constnet_firmware::exit(false);
            }
        }
        if epoch % 100 == 0 {
            hprintln!("epoch {}: loss {}", epoch, last);
        }
    }
    let accuracy = net.accuracy(&data);
    hprintln!("loss after training: {}, accuracy {}", last, accuracy);
    let learned = last < first / 10.0 && accuracy == 1.0;
    constnet_firmware::exit(learned)
}
