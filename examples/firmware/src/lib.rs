//! What the firmware binaries share: the networks trained on the host, a
//! check against the host's predictions, an exit, and a stack meter.
#![no_std]

use constnet::Network;

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
    cortex_m_semihosting::debug::exit(if success {
        cortex_m_semihosting::debug::EXIT_SUCCESS
    } else {
        cortex_m_semihosting::debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// Runs `f` and returns its result and the peak stack it used, in bytes,
/// by painting the stack below the current frame before the call and
/// looking for the deepest word that changed after it.
#[inline(always)]
pub fn measure_stack<R>(f: impl FnOnce() -> R) -> (R, usize) {
    const PAINT: u32 = 0xC0DE_C0DE;
    const WINDOW: usize = 64 * 1024;
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - 64) & !3;
    let bottom = top - WINDOW;
    let mut a = bottom;
    while a < top {
        // SAFETY: [bottom, top) is unused stack below the current frame
        // (the RAM region is 4 MiB, the window 64 KiB), aligned to 4.
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
