//! What the firmware binaries share: the networks trained on the host, a
//! check against the host's predictions, and what differs between the
//! targets (Cortex-M and RISC-V): the `entry` attribute, output, exit, a
//! panic handler and a stack meter.
//!
//! A binary uses only this crate's names, so the same source runs on every
//! target:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use constnet_firmware::{entry, println};
//! constnet_firmware::panic_handler!();
//!
//! #[entry]
//! fn main() -> ! {
//!     println!("hello from {}", "the device");
//!     constnet_firmware::exit(true)
//! }
//! ```
#![no_std]

use constnet::Network;

/// Marks the program's entry point, `fn main() -> !`, called after the
/// runtime (cortex-m-rt or riscv-rt) has set up RAM.
#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;

/// `println!` and `eprintln!`, like std's, to the host's standard output
/// and error over semihosting (the `semihosting` crate, for Arm and RISC-V).
pub use semihosting::{eprintln, println};

/// Defines the panic handler: it prints the panic message on the host's
/// standard error and ends the program with exit status 1. A binary
/// without it must define its own `#[panic_handler]` (the `nopanic_*`
/// binaries define one that cannot link).
#[macro_export]
macro_rules! panic_handler {
    () => {
        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::eprintln!("{}", info);
            $crate::exit(false)
        }
    };
}

/// The spiral classifier (2-32-32-3) trained and exported on the host by
/// `cargo run --release --example spiral -- --export examples/firmware/model/spiral.rs`,
/// with test points and the classes the host predicted for them.
pub mod spiral {
    include!("../model/spiral.rs");
}

/// The 8×8-digits classifier (64-32-10) trained and exported on the host
/// by `cargo run --release --example digits -- --export examples/firmware/model/digits.rs`,
/// with held-out images and the classes the host predicted for them.
pub mod digits {
    include!("../model/digits.rs");
}

/// How many of `inputs` `net` puts in the class the host predicted
/// (`expected`), calling `each(input index, class)` for every input.
pub fn agreement<N: Network>(
    net: &N,
    inputs: &[N::Input],
    expected: &[usize],
    mut each: impl FnMut(usize, usize),
) -> usize {
    let mut same = 0;
    for (i, (x, &host)) in inputs.iter().zip(expected).enumerate() {
        let class = net.classify(core::hint::black_box(x));
        each(i, class);
        same += usize::from(class == host);
    }
    same
}

/// Ends the program under QEMU with exit status 0 (`success`) or 1.
pub fn exit(success: bool) -> ! {
    semihosting::process::exit(if success { 0 } else { 1 })
}

/// The stack pointer.
#[inline(always)]
fn stack_pointer() -> usize {
    #[cfg(target_arch = "arm")]
    {
        cortex_m::register::msp::read() as usize
    }
    #[cfg(target_arch = "riscv32")]
    {
        let sp: usize;
        // SAFETY: reads a register, touches no memory.
        unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
        sp
    }
}

/// The lowest address the stack may grow down to: the end of the
/// statically allocated RAM, from the runtime's linker script.
fn stack_limit() -> usize {
    unsafe extern "C" {
        #[cfg(target_arch = "arm")]
        #[link_name = "_stack_end"]
        static STACK_END: u8;
        #[cfg(target_arch = "riscv32")]
        #[link_name = "__estack"]
        static STACK_END: u8;
    }
    // Only the symbol's address is taken, never its contents.
    &raw const STACK_END as usize
}

/// Runs `f` and returns its result and the peak stack it used, in bytes,
/// by painting the stack below the current frame before the call and
/// looking for the deepest word that changed after it. The painted window
/// is 64 KiB, or less where the stack ends sooner (on a part with little
/// RAM): a result equal to the whole window means the stack may have
/// overflowed it.
#[inline(always)]
pub fn measure_stack<R>(f: impl FnOnce() -> R) -> (R, usize) {
    const PAINT: u32 = 0xC0DE_C0DE;
    const WINDOW: usize = 64 * 1024;
    let top = (stack_pointer() - 64) & !3;
    let bottom = top - WINDOW.min((top - stack_limit()) & !3);
    let mut a = bottom;
    while a < top {
        // SAFETY: [bottom, top) is unused stack below the current frame and
        // above the end of the static data (at most 64 KiB), aligned to 4.
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
