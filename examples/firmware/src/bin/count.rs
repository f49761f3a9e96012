//! One inference of each network in a function of its own, for
//! `tools/count_instructions.py`, which counts the instructions of every
//! call under QEMU. Exits 0 if the classes equal the host's.
#![no_std]
#![no_main]

use constnet::Network;
use constnet_firmware::{digits, entry, spiral};

constnet_firmware::panic_handler!();

/// One digits (64-32-10) classification.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn count_digits(x: &[f32; 64]) -> usize {
    digits::DIGITS.classify(x)
}

/// One spiral (2-32-32-3) classification.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn count_spiral(x: &[f32; 2]) -> usize {
    spiral::SPIRAL.classify(x)
}

#[entry]
fn main() -> ! {
    let mut same = true;
    for (x, &host) in digits::INPUTS.iter().zip(&digits::EXPECTED).take(4) {
        same &= count_digits(core::hint::black_box(x)) == host;
    }
    for (x, &host) in spiral::INPUTS.iter().zip(&spiral::EXPECTED).take(4) {
        same &= count_spiral(core::hint::black_box(x)) == host;
    }
    constnet_firmware::exit(same)
}
