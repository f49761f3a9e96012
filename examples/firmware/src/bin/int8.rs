//! Runs both networks in int8, stored in flash, on their test inputs'
//! codes: exits with status 0 only if every output code equals the one
//! the host computed (integer arithmetic gives the same bits on every
//! core) and so every class the host predicted. No float operation: on a
//! core without an FPU this binary links no soft-float routine (`.ci/run`
//! checks its symbols).
#![no_std]
#![no_main]

use constnet_firmware::{digits, entry, println, spiral};

constnet_firmware::panic_handler!();

#[entry]
fn main() -> ! {
    let mut same = 0;
    for (i, x) in spiral::INPUTS_INT8.iter().enumerate() {
        let y = spiral::SPIRAL_INT8.forward(core::hint::black_box(x));
        let class = spiral::SPIRAL_INT8.classify_codes(x);
        let ok = y == spiral::OUTPUTS_INT8[i] && class == spiral::EXPECTED_INT8[i];
        println!(
            "spiral {} -> {:?} class {} (host: {:?})",
            i,
            y,
            class,
            spiral::OUTPUTS_INT8[i]
        );
        same += usize::from(ok);
    }
    for (i, x) in digits::INPUTS_INT8.iter().enumerate() {
        let y = digits::DIGITS_INT8.forward(core::hint::black_box(x));
        let class = digits::DIGITS_INT8.classify_codes(x);
        let ok = y == digits::OUTPUTS_INT8[i] && class == digits::EXPECTED_INT8[i];
        println!(
            "digits {} -> {:?} class {} (host: {:?})",
            i,
            y,
            class,
            digits::OUTPUTS_INT8[i]
        );
        same += usize::from(ok);
    }
    let total = spiral::INPUTS_INT8.len() + digits::INPUTS_INT8.len();
    println!(
        "int8: {}/{} outputs bit-identical to the host's",
        same, total
    );
    constnet_firmware::exit(same == total)
}
