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

/// One digits classification in int8, from the input's codes.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn count_digits_int8(x: &[i8; 64]) -> usize {
    digits::DIGITS_INT8.classify_codes(x)
}

/// One spiral classification in int8, from the input's codes.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn count_spiral_int8(x: &[i8; 2]) -> usize {
    spiral::SPIRAL_INT8.classify_codes(x)
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
    for (x, &host) in digits::INPUTS_INT8
        .iter()
        .zip(&digits::EXPECTED_INT8)
        .take(4)
    {
        same &= count_digits_int8(core::hint::black_box(x)) == host;
    }
    for (x, &host) in spiral::INPUTS_INT8
        .iter()
        .zip(&spiral::EXPECTED_INT8)
        .take(4)
    {
        same &= count_spiral_int8(core::hint::black_box(x)) == host;
    }
    constnet_firmware::exit(same)
}
