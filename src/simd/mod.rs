//! Vector kernels for `f32`, chosen at run time: AVX-512F, or AVX2 with
//! FMA, on x86-64. This is the crate's only module with `unsafe` code.
//!
//! The three products a dense layer is made of are computed here as
//! register-blocked matrix–matrix products, with the batch as one of the
//! matrix dimensions (a batch of one is the matrix–vector case):
//!
//! | kernel | formula | form |
//! |---|---|---|
//! | [`matmul_bt`] | `Y = X Wᵀ (+ b)` (forward) | dot products: a tile of `MR` samples × `NR` outputs, each a vector of partial sums along the input |
//! | [`matmul`] | `dX = dY W` (input gradient) | a tile of `MR` samples × `NV` vectors of inputs, one weight row and `MR` broadcast gradients per step |
//! | [`add_at_b`] | `W += dYᵀ X` (weight gradient) | a tile of `MR` weight rows × `NV` vectors of inputs, one input row and `MR` broadcast gradients per sample |
//!
//! [`all_finite`] checks an `f32` slice for NaN and infinities
//! (`Tensors::all_finite`), and [`vectorized`] runs an optimiser's
//! element-wise loops compiled for the chosen set.
//!
//! Weights stay in their row-major `[out][in]` layout and are read in
//! place: nothing is packed, nothing is allocated. Widths that are not a
//! multiple of the vector width end with one masked vector; the masked-off
//! lanes are neither read nor written.
//!
//! # Files
//!
//! - `mod.rs` (this file): [`level`], the choice of instruction set;
//! - `entry.rs`: the safe entry points above, which check the slice
//!   lengths and call the kernels of the chosen set;
//! - `tile.rs`: the `Simd` trait (the few vector operations the kernels
//!   need) and the register-blocked tiles, written once over it;
//! - `avx512.rs`, `avx2.rs` (x86-64 only): each set's `Simd` vector and
//!   its `#[target_feature]` kernels, the tiles compiled for that set;
//! - `tests.rs`: each set the processor has against a plain reference.
//!
//! # Selection
//!
//! [`level`] gives the widest instruction set the processor has ([`widest`]:
//! the build's target features when they enable one, `-C
//! target-cpu=native`, otherwise, with the `std` feature,
//! `is_x86_feature_detected!`), found on the first call and cached in an
//! atomic so that each call costs one relaxed load; or the narrower one
//! chosen with [`set`] (public as
//! [`matrix::set_kernel_level`](crate::matrix::set_kernel_level)). Without
//! either, and on other architectures, every kernel returns `false` and
//! the caller ([`Matrix`](crate::Matrix)) runs its portable loops instead.
//!
//! Which scalar type comes here is the choice of the sealed supertrait of
//! [`Scalar`](crate::Scalar): `f32` calls these entry points, `f64`
//! declines, and `Matrix` offers only matrices large enough to pay.
//!
//! # Results
//!
//! Each output is summed in an order that depends only on the widths, not
//! on the batch size or on where the element falls in a tile, so a sample
//! gives bit-identical results alone or inside a batch. The order differs
//! from the portable loops' (and uses fused multiply-adds), so results
//! differ from them by rounding only.
//!
//! # Safety
//!
//! The `unsafe` here is of two kinds. Calling a `#[target_feature]` kernel
//! is sound only on a processor that has the feature: every call goes
//! through [`level`], which returns a level only after detecting (or the
//! build guaranteeing) its features; [`set`] accepts only a level no wider
//! than [`widest`]. Raw-pointer loads and stores are
//! sound only in bounds: each entry point checks the slice lengths
//! against the dimensions once, and every access the kernels make is at
//! `row · stride + column` with `row` below the row count and `column`
//! below the column count of a checked matrix (masked loads and stores
//! touch only the lanes below the column count).
#![warn(clippy::undocumented_unsafe_blocks)]
// Register tiles are indexed by row and column: index loops say it best.
#![allow(clippy::needless_range_loop)]
// The generic kernels (`tile.rs`) are architecture-neutral; only x86-64 has
// vector types for them so far.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

#[cfg(constnet_arm_fpu)]
pub(crate) mod arm;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod entry;
#[cfg(test)]
mod tests;
mod tile;

pub(crate) use entry::{add_at_b, all_finite, matmul, matmul_bt, vectorized, vectorized_256};
#[cfg(feature = "parallel")]
pub(crate) use entry::{add_at_b_whole, matmul_bt_whole, matmul_whole};

#[cfg(target_arch = "x86_64")]
use core::sync::atomic::{AtomicU8, Ordering};

/// The instruction set the kernels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Level {
    /// No vector kernels: the caller runs its portable loops.
    Portable = 1,
    /// 256-bit AVX2 with FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2 = 2,
    /// 512-bit AVX-512F, with AVX-512VL (every processor with AVX-512
    /// but the Xeon Phi), which [`vectorized`] also uses.
    #[cfg(target_arch = "x86_64")]
    Avx512 = 3,
}

/// The level in use: detected on the first call, or set by
/// [`set`]; 0 until then.
#[cfg(target_arch = "x86_64")]
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The level in use: none on targets other than x86-64 (no detection, no
/// static in RAM).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn level() -> Level {
    Level::Portable
}

/// The widest level available: none on targets other than x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn widest() -> Level {
    Level::Portable
}

/// Uses `level` from now on; only the portable loops exist here.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn set(level: Level) -> bool {
    level == Level::Portable
}

/// The level in use: the widest available, detected (or known from the
/// build's target features) on the first call, unless [`set`] chose
/// another.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Portable,
        2 => Level::Avx2,
        3 => Level::Avx512,
        _ => {
            let level = widest();
            LEVEL.store(level as u8, Ordering::Relaxed);
            level
        }
    }
}

/// Uses `level` from now on, in every thread, if the processor has it;
/// returns whether it does.
#[cfg(target_arch = "x86_64")]
pub(crate) fn set(level: Level) -> bool {
    let available = level as u8 <= widest() as u8;
    if available {
        LEVEL.store(level as u8, Ordering::Relaxed);
    }
    available
}

/// The level when the build itself enables the features (no detection).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
const fn compile_time_level() -> Option<Level> {
    #[cfg(all(target_feature = "avx512f", target_feature = "avx512vl"))]
    return Some(Level::Avx512);
    #[cfg(all(
        not(all(target_feature = "avx512f", target_feature = "avx512vl")),
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    return Some(Level::Avx2);
    #[allow(unreachable_code)]
    None
}

/// The widest level available: the build's target features if they
/// include one, otherwise (with `std`) what the processor reports.
#[cfg(target_arch = "x86_64")]
#[cold]
pub(crate) fn widest() -> Level {
    if let Some(level) = compile_time_level() {
        return level;
    }
    #[allow(unused_mut)]
    let mut level = Level::Portable;
    #[cfg(feature = "std")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            level = Level::Avx512;
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            level = Level::Avx2;
        }
    }
    level
}

/// `T` at an address the vector kernels load from in whole cache lines:
/// 64-byte aligned on x86-64, where a 512-bit load that straddles two
/// lines costs two; as `T` elsewhere.
#[derive(Clone, Copy)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub(crate) struct Aligned<T>(pub(crate) T);

// SAFETY: `Aligned<T>` is `T` and padding (`repr(C)`, one field), so all
// zero bytes are a valid `Aligned<T>` when they are a valid `T`. So that a
// zeroed buffer can be `Zeroed::ZERO`, written in place, where
// `Aligned([ZERO; B])` was built in a temporary and then copied (a batch's
// activations, twice over the stack).
unsafe impl<T: bytemuck::Zeroable> bytemuck::Zeroable for Aligned<T> {}

impl<T: Copy + crate::scalar::Zeroed, const B: usize> Aligned<[T; B]> {
    /// The rows `rows` gives (the first `B` of them) followed by zero rows
    /// up to `B`, written into `slot` once each: a batch copied into
    /// aligned rows without first zeroing the rows the copy overwrites.
    pub(crate) fn rows_then_zeros(
        slot: &mut core::mem::MaybeUninit<Self>,
        rows: impl Iterator<Item = T>,
    ) -> &mut [T; B] {
        // `Aligned` is `repr(C)` with the array as its only field, so the
        // slot's rows start at its address.
        let first = slot.as_mut_ptr().cast::<T>();
        let mut written = 0;
        for row in rows.take(B) {
            // SAFETY: `written < B`: row `written` is inside the slot.
            unsafe { first.add(written).write(row) };
            written += 1;
        }
        for i in written..B {
            // SAFETY: `i < B`, as above.
            unsafe { first.add(i).write(T::ZERO) };
        }
        // SAFETY: every one of the `B` rows has been written.
        unsafe { &mut slot.assume_init_mut().0 }
    }
}
