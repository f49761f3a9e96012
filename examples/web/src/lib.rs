//! The MNIST network of the `mnist` example in a web page.
//!
//! Everything between the pointer and the ten probabilities is here, in
//! Rust, so that the page's JavaScript only forwards pointer positions and
//! copies pixels: a drawing pad ([`Pad`], a round brush with anti-aliased
//! edges), the preprocessing MNIST's images went through ([`preprocess`]:
//! the ink's bounding box scaled to fit 20×20, placed in 28×28 with its
//! centre of mass at the centre), and the network ([`Mnist`]), embedded at
//! build time from the file the `mnist` example saves ([`MODEL`]).
//!
//! Built for `wasm32-unknown-unknown` it is `no_std`, allocates nothing and
//! exports a few `extern "C"` functions (the `wasm` module); built for the
//! host it is the same code, which `examples/test_digits.rs` runs to know
//! what the page must show.
#![cfg_attr(target_arch = "wasm32", no_std)]

use constnet::prelude::*;

network! {
    /// The `mnist` example's network: 784 pixels, 256 ReLU units, 10 logits.
    pub struct Mnist<f32> { 784 => Dense<256>, Relu, Dense<10> }
}

/// The trained network in constnet's format, as the `mnist` example saved
/// it (`build.rs` finds the file).
pub static MODEL: &[u8] = include_bytes!(env!("CONSTNET_WEB_MODEL"));

/// The side of the drawing pad, in pixels (ten per MNIST pixel).
pub const PAD: usize = 280;

/// The brush's radius, in pad pixels: a digit drawn across most of the pad
/// gets strokes about as wide, relative to its height, as MNIST's.
pub const BRUSH: f32 = 12.0;

/// Float functions `core` lacks, from constnet's scalar type (the `libm`
/// crate's, on the host as in WebAssembly, so both compute the same bits).
fn sqrt<T: Scalar>(x: T) -> T {
    x.sqrt()
}
fn floor<T: Scalar>(x: T) -> T {
    x.floor()
}
fn ceil<T: Scalar>(x: T) -> T {
    x.ceil()
}
fn exp<T: Scalar>(x: T) -> T {
    x.exp()
}

/// The side of MNIST's images.
pub const SIDE: usize = 28;

/// The side of the box MNIST's digits were scaled to fit.
pub const BOX: usize = 20;

/// A square of `PAD`×`PAD` pixels of ink, from 0 (none) to 255.
pub struct Pad {
    ink: [u8; PAD * PAD],
}

/// The pixels a stroke may have changed: `x0..x1` × `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// One past the last column.
    pub x1: usize,
    /// One past the last row.
    pub y1: usize,
}

impl Pad {
    /// A pad without ink.
    pub const EMPTY: Pad = Pad {
        ink: [0; PAD * PAD],
    };

    /// Removes all ink.
    pub fn clear(&mut self) {
        self.ink = [0; PAD * PAD];
    }

    /// The ink, row by row.
    pub fn ink(&self) -> &[u8; PAD * PAD] {
        &self.ink
    }

    /// Draws a segment from `(x0, y0)` to `(x1, y1)` (pad pixels, `(0, 0)`
    /// the top left corner of the top left pixel) with the round brush: a
    /// pixel's ink becomes at least its coverage, `BRUSH + 0.5` minus the
    /// distance from its centre to the segment, clamped to `[0, 1]`. A dot
    /// is the segment from a point to itself. Returns the pixels it may
    /// have changed.
    pub fn stroke(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
        let reach = BRUSH + 1.0;
        let clamp = |v: f32| -> usize {
            if v.is_nan() || v <= 0.0 {
                0
            } else {
                (v as usize).min(PAD)
            }
        };
        let rect = Rect {
            x0: clamp(x0.min(x1) - reach),
            y0: clamp(y0.min(y1) - reach),
            x1: clamp(x0.max(x1) + reach + 1.0),
            y1: clamp(y0.max(y1) + reach + 1.0),
        };
        let (dx, dy) = (x1 - x0, y1 - y0);
        let length2 = dx * dx + dy * dy;
        for y in rect.y0..rect.y1 {
            for x in rect.x0..rect.x1 {
                let (px, py) = (x as f32 + 0.5 - x0, y as f32 + 0.5 - y0);
                // The nearest point of the segment, as a fraction of it.
                let t = if length2 > 0.0 {
                    ((px * dx + py * dy) / length2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (ex, ey) = (px - t * dx, py - t * dy);
                let coverage = (BRUSH + 0.5 - sqrt(ex * ex + ey * ey)).clamp(0.0, 1.0);
                let level = (coverage * 255.0 + 0.5) as u8;
                let pixel = &mut self.ink[y * PAD + x];
                *pixel = (*pixel).max(level);
            }
        }
        rect
    }
}

/// `ink` (a `PAD`×`PAD` pad) as MNIST's images were made: the bounding
/// box of the ink, scaled (keeping its aspect ratio) so that its longer
/// side is 20 pixels, each new pixel the mean ink of the area it covers,
/// then placed in a 28×28 image so that its centre of mass falls on the
/// centre, to the nearest pixel. Grey levels are in `[0, 1]`, 1 for full
/// ink, like the training images. `None` if there is no ink.
pub fn preprocess(ink: &[u8; PAD * PAD]) -> Option<[f32; SIDE * SIDE]> {
    // The bounding box of the ink.
    let (mut left, mut top, mut right, mut bottom) = (PAD, PAD, 0, 0);
    for (y, row) in ink.chunks_exact(PAD).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if v > 0 {
                left = left.min(x);
                right = right.max(x + 1);
                top = top.min(y);
                bottom = bottom.max(y + 1);
            }
        }
    }
    if left >= right {
        return None;
    }
    let (width, height) = (right - left, bottom - top);
    // Pad pixels per box pixel, the same along both axes.
    let step = width.max(height) as f32 / BOX as f32;
    // The part of pad pixel `p` (`p..p + 1`) in box pixel `b`
    // (`b step..(b + 1) step`).
    let overlap = |b: usize, p: usize| -> f32 {
        let lo = (b as f32 * step).max(p as f32);
        let hi = ((b + 1) as f32 * step).min((p + 1) as f32);
        (hi - lo).max(0.0)
    };
    // Area means, separably: first along rows into `rows`, then down.
    let mut rows = [[0.0f32; BOX]; PAD];
    for (y, sums) in rows.iter_mut().enumerate().take(height) {
        let row = &ink[(top + y) * PAD + left..][..width];
        for (b, sum) in sums.iter_mut().enumerate() {
            let first = (b as f32 * step) as usize;
            let last = (ceil((b + 1) as f32 * step) as usize).min(width);
            for (p, &v) in row.iter().enumerate().take(last).skip(first) {
                *sum += overlap(b, p) * f32::from(v);
            }
        }
    }
    let scale = 1.0 / (255.0 * step * step);
    let mut boxed = [[0.0f32; BOX]; BOX];
    for (b, out) in boxed.iter_mut().enumerate() {
        let first = (b as f32 * step) as usize;
        let last = (ceil((b + 1) as f32 * step) as usize).min(height);
        for (p, sums) in rows.iter().enumerate().take(last).skip(first) {
            let weight = overlap(b, p);
            for (o, s) in out.iter_mut().zip(sums) {
                *o += weight * s;
            }
        }
        for o in out.iter_mut() {
            *o = (*o * scale).min(1.0);
        }
    }
    // The centre of mass, pixel centres at `i + 0.5`.
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (y, row) in boxed.iter().enumerate() {
        for (x, &v) in row.iter().enumerate() {
            mass += v;
            mx += (x as f32 + 0.5) * v;
            my += (y as f32 + 0.5) * v;
        }
    }
    if mass <= 0.0 {
        return None;
    }
    let centre = SIDE as f32 / 2.0;
    let shift_x = floor(centre - mx / mass + 0.5) as isize;
    let shift_y = floor(centre - my / mass + 0.5) as isize;
    let mut image = [0.0f32; SIDE * SIDE];
    for (y, row) in boxed.iter().enumerate() {
        for (x, &v) in row.iter().enumerate() {
            let (tx, ty) = (x as isize + shift_x, y as isize + shift_y);
            if (0..SIDE as isize).contains(&tx) && (0..SIDE as isize).contains(&ty) {
                image[ty as usize * SIDE + tx as usize] = v;
            }
        }
    }
    Some(image)
}

/// The ten class probabilities: the softmax of the network's logits.
pub fn probabilities(net: &Mnist, image: &[f32; SIDE * SIDE]) -> [f32; 10] {
    let logits = net.predict(image);
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut p = logits.map(|z| exp(z - max));
    let sum: f32 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= sum);
    p
}

/// The most probable class.
pub fn class(p: &[f32; 10]) -> usize {
    constnet::scalar::argmax(p)
}

/// The exports the page calls. The page is one thread and calls them one
/// at a time, never from inside another, so each takes the one `App` for
/// the length of the call.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::cell::UnsafeCell;
    use core::fmt::Write;

    use super::{Mnist, PAD, Pad, SIDE, Save, Zeroed};

    struct App {
        net: Mnist,
        loaded: bool,
        pad: Pad,
        /// The pad as the canvas shows it, RGBA: black ink whose opacity is
        /// the ink's level, over the page's background. (All of `App`
        /// starts as zeros, so it takes no room in the .wasm file.)
        pixels: [u8; PAD * PAD * 4],
        /// What the network sees, white on black like MNIST, RGBA.
        input: [u8; SIDE * SIDE * 4],
        probabilities: [f32; 10],
        message: Message,
    }

    /// A message of up to 256 bytes, cut short if longer.
    struct Message {
        bytes: [u8; 256],
        len: usize,
    }

    impl Write for Message {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let mut n = s.len().min(self.bytes.len() - self.len);
            while !s.is_char_boundary(n) {
                n -= 1;
            }
            self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }

    struct Global(UnsafeCell<App>);
    // SAFETY: wasm32-unknown-unknown without the atomics feature has one
    // thread; the statics are never shared.
    unsafe impl Sync for Global {}

    static APP: Global = Global(UnsafeCell::new(App {
        net: Mnist::ZERO,
        loaded: false,
        pad: Pad::EMPTY,
        pixels: [0; PAD * PAD * 4],
        input: [0; SIDE * SIDE * 4],
        probabilities: [0.0; 10],
        message: Message {
            bytes: [0; 256],
            len: 0,
        },
    }));

    fn app() -> &'static mut App {
        // SAFETY: one thread, and each export takes this reference once
        // and drops it on return (see the module's documentation).
        unsafe { &mut *APP.0.get() }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    /// Decodes the embedded model: 1 if it loaded, 0 if not, with the
    /// reason in [`message`].
    #[unsafe(no_mangle)]
    pub extern "C" fn init() -> u32 {
        let app = app();
        app.message.len = 0;
        match Mnist::decode_into(&mut app.net, super::MODEL) {
            Ok(()) => {
                app.loaded = true;
                1
            }
            Err(e) => {
                let _ = write!(app.message, "the embedded model does not load: {e}");
                0
            }
        }
    }

    /// The address of the message [`init`] left (UTF-8).
    #[unsafe(no_mangle)]
    pub extern "C" fn message() -> *const u8 {
        app().message.bytes.as_ptr()
    }

    /// The length of that message in bytes.
    #[unsafe(no_mangle)]
    pub extern "C" fn message_len() -> usize {
        app().message.len
    }

    /// The side of the pad in pixels.
    #[unsafe(no_mangle)]
    pub extern "C" fn pad_side() -> usize {
        PAD
    }

    /// The address of the pad's RGBA pixels (`PAD`×`PAD`).
    #[unsafe(no_mangle)]
    pub extern "C" fn pixels() -> *const u8 {
        app().pixels.as_ptr()
    }

    /// The address of the network's input as RGBA pixels (28×28).
    #[unsafe(no_mangle)]
    pub extern "C" fn input() -> *const u8 {
        app().input.as_ptr()
    }

    /// The address of the ten probabilities (`f32`) of the last
    /// [`classify`].
    #[unsafe(no_mangle)]
    pub extern "C" fn probabilities() -> *const f32 {
        app().probabilities.as_ptr()
    }

    /// Removes all ink.
    #[unsafe(no_mangle)]
    pub extern "C" fn clear() {
        let app = app();
        app.pad.clear();
        app.pixels.fill(0);
        app.input.fill(0);
        app.probabilities = [0.0; 10];
    }

    /// Draws a segment with the brush (see [`Pad::stroke`]).
    #[unsafe(no_mangle)]
    pub extern "C" fn stroke(x0: f32, y0: f32, x1: f32, y1: f32) {
        let app = app();
        let r = app.pad.stroke(x0, y0, x1, y1);
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                app.pixels[4 * (y * PAD + x) + 3] = app.pad.ink()[y * PAD + x];
            }
        }
    }

    /// Preprocesses the pad and runs the network: the most probable class,
    /// -1 if the pad is blank, -2 if the model did not load.
    #[unsafe(no_mangle)]
    pub extern "C" fn classify() -> i32 {
        let app = app();
        if !app.loaded {
            return -2;
        }
        let Some(image) = super::preprocess(app.pad.ink()) else {
            app.input.fill(0);
            app.probabilities = [0.0; 10];
            return -1;
        };
        for (rgba, &v) in app.input.chunks_exact_mut(4).zip(&image) {
            let level = (v * 255.0 + 0.5) as u8;
            rgba.copy_from_slice(&[level, level, level, 255]);
        }
        app.probabilities = super::probabilities(&app.net, &image);
        super::class(&app.probabilities) as i32
    }
}
