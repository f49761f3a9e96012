//! The runtime alone: the same start-up and exit as `nopanic_spiral` and `nopanic_digits`, without a
//! network. The difference in size between the two is the network's own
//! code and parameters.
#![no_std]
#![no_main]

use constnet_firmware::entry;

#[entry]
fn main() -> ! {
    let all = core::hint::black_box(true);
    constnet_firmware::exit(all)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    constnet_firmware::exit(false)
}
