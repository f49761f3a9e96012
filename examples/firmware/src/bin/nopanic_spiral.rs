//! The spiral network's inference without any output, linked with a panic handler that
//! calls a function which does not exist: the binary only links if no path
//! to a panic is left in it, which shows that inference cannot panic. The
//! result is reported through the exit status alone.
#![no_std]
#![no_main]

use constnet_firmware::{agreement, entry, spiral};

#[entry]
fn main() -> ! {
    let same = agreement(
        &spiral::SPIRAL,
        &spiral::INPUTS,
        &spiral::EXPECTED,
        |_, _| (),
    );
    constnet_firmware::exit(same == spiral::INPUTS.len())
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "C" {
        /// Defined nowhere: a reference to it is a link error.
        fn inference_can_panic() -> !;
    }
    // SAFETY: never executed; if the optimiser left any path to this
    // handler, the missing symbol stops the link, and if it left none, this
    // function is not in the binary.
    unsafe { inference_can_panic() }
}
