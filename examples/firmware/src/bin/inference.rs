//! Runs both networks, stored in flash, on their test inputs, prints the
//! classes over semihosting and exits with status 0 only if every class
//! equals the one the host predicted.
#![no_std]
#![no_main]

use constnet_firmware::{agreement, digits, entry, println, spiral};

constnet_firmware::panic_handler!();

#[entry]
fn main() -> ! {
    let expected = &spiral::EXPECTED;
    let same_spiral = agreement(&spiral::SPIRAL, &spiral::INPUTS, expected, |i, class| {
        println!(
            "spiral {:?} -> class {} (host: {})",
            spiral::INPUTS[i],
            class,
            expected[i]
        );
    });
    let expected = &digits::EXPECTED;
    let same_digits = agreement(&digits::DIGITS, &digits::INPUTS, expected, |i, class| {
        println!("digits image {} -> {} (host: {})", i, class, expected[i]);
    });
    println!(
        "spiral: {}/{} and digits: {}/{} classes equal the host's",
        same_spiral,
        spiral::INPUTS.len(),
        same_digits,
        digits::INPUTS.len()
    );
    constnet_firmware::exit(
        same_spiral == spiral::INPUTS.len() && same_digits == digits::INPUTS.len(),
    )
}
