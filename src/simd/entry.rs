//! The safe entry points: each checks the slice lengths against the
//! dimensions once, then calls the kernel of the instruction set [`level`]
//! chose, or returns `false` (`None`) when there is none.

use super::{Level, level};
#[cfg(target_arch = "x86_64")]
use super::{avx2, avx512};

/// [`matmul_bt_whole`], cut by rows of `w` over the threads of a shared
/// step when this thread leads one (see [`crate::parallel`]).
#[inline]
pub(crate) fn matmul_bt(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    dims: (usize, usize, usize),
) -> bool {
    #[cfg(feature = "parallel")]
    if level() != Level::Portable && crate::parallel::split::matmul_bt(x, w, bias, y, dims) {
        return true;
    }
    matmul_bt_whole(x, w, bias, y, dims)
}

/// [`matmul_whole`], cut by rows of `w` as [`matmul_bt`] is.
#[inline]
pub(crate) fn matmul(dy: &[f32], w: &[f32], dx: &mut [f32], m: usize, n: usize, k: usize) -> bool {
    #[cfg(feature = "parallel")]
    if level() != Level::Portable && crate::parallel::split::matmul(dy, w, dx, (m, n, k)) {
        return true;
    }
    matmul_whole(dy, w, dx, m, n, k)
}

/// [`add_at_b_whole`], cut by rows of `w` as [`matmul_bt`] is.
#[inline]
pub(crate) fn add_at_b<const ACC: bool>(
    dy: &[f32],
    x: &[f32],
    w: &mut [f32],
    dims: (usize, usize, usize),
) -> bool {
    #[cfg(feature = "parallel")]
    if level() != Level::Portable && crate::parallel::split::add_at_b::<ACC>(dy, x, w, dims) {
        return true;
    }
    add_at_b_whole::<ACC>(dy, x, w, dims)
}

/// `y = x wᵀ + bias`: `x` is `m × k`, `w` is `n × k`, `y` is `m × n`, all
/// row-major, and `bias` has `n` values or none (then nothing is added).
/// Returns `false`, leaving `y` alone, when no vector kernel is available.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn matmul_bt_whole(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    (m, n, k): (usize, usize, usize),
) -> bool {
    // Without a vector kernel (always, on targets other than x86-64) the
    // caller's portable loops run, and nothing here may panic.
    let level = level();
    if level == Level::Portable {
        return false;
    }
    assert!(x.len() == m * k && w.len() == n * k && y.len() == m * n);
    assert!(bias.is_none_or(|b| b.len() == n));
    let bias = bias.map_or(core::ptr::null(), <[f32]>::as_ptr);
    match level {
        Level::Portable => false,
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: `level` returned AVX-512 only after detecting AVX-512F,
            // AVX2 and FMA; the lengths were checked above.
            unsafe { avx512::matmul_bt(x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr(), m, n, k) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: `level` returned AVX2 only after detecting AVX2 and
            // FMA; the lengths were checked above.
            unsafe { avx2::matmul_bt(x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr(), m, n, k) };
            true
        }
    }
}

/// `dx = dy w`: `dy` is `m × n`, `w` is `n × k`, `dx` is `m × k`
/// (overwritten). Returns `false`, leaving `dx` alone, when no vector
/// kernel is available.
pub(crate) fn matmul_whole(
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
) -> bool {
    // Without a vector kernel (always, on targets other than x86-64) the
    // caller's portable loops run, and nothing here may panic.
    let level = level();
    if level == Level::Portable {
        return false;
    }
    assert!(dy.len() == m * n && w.len() == n * k && dx.len() == m * k);
    match level {
        Level::Portable => false,
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { avx512::matmul(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { avx2::matmul(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
            true
        }
    }
}

/// `w += dyᵀ x` with `ACC`, otherwise `w = dyᵀ x` (whatever `w` held):
/// `dy` is `m × n`, `x` is `m × k`, `w` is `n × k`. Returns `false`,
/// leaving `w` alone, when no vector kernel is available.
pub(crate) fn add_at_b_whole<const ACC: bool>(
    dy: &[f32],
    x: &[f32],
    w: &mut [f32],
    (m, n, k): (usize, usize, usize),
) -> bool {
    // Without a vector kernel (always, on targets other than x86-64) the
    // caller's portable loops run, and nothing here may panic.
    let level = level();
    if level == Level::Portable {
        return false;
    }
    assert!(dy.len() == m * n && x.len() == m * k && w.len() == n * k);
    match level {
        Level::Portable => false,
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { avx512::add_at_b::<ACC>(dy.as_ptr(), x.as_ptr(), w.as_mut_ptr(), m, n, k) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { avx2::add_at_b::<ACC>(dy.as_ptr(), x.as_ptr(), w.as_mut_ptr(), m, n, k) };
            true
        }
    }
}

/// Whether every value of `xs` is finite (neither NaN nor infinite), or
/// `None` when no vector kernel is available.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn all_finite(xs: &[f32]) -> Option<bool> {
    match level() {
        Level::Portable => None,
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `matmul_bt`; `xs` has `xs.len()` readable `f32`s.
        Level::Avx512 => Some(unsafe { avx512::all_finite(xs.as_ptr(), xs.len()) }),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `matmul_bt`; `xs` has `xs.len()` readable `f32`s.
        Level::Avx2 => Some(unsafe { avx2::all_finite(xs.as_ptr(), xs.len()) }),
    }
}

/// Runs `f`, compiled for the instruction set [`level`] chose, so that the
/// element-wise loops inlined into it vectorise for that set's registers.
/// Without fused multiply-adds in the source (Rust contracts none), the
/// results are the same on every level.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    match level() {
        Level::Portable => f(),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` returned AVX-512 only after detecting AVX-512F,
        // AVX-512VL, AVX2 and FMA.
        Level::Avx512 => unsafe { avx512::run(f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` returned AVX2 only after detecting AVX2 and FMA.
        Level::Avx2 => unsafe { avx2::run(f) },
    }
}

/// [`vectorized`], with vectors of at most 256 bits: for a chain of a few
/// dependent values at a time (a small network's training steps), which
/// has no values to fill wider vectors and which 512-bit arithmetic made
/// slower on an Intel Xeon (see `train::small_frame`).
#[inline(always)]
pub(crate) fn vectorized_256<R>(f: impl FnOnce() -> R) -> R {
    match level() {
        Level::Portable => f(),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` returned AVX-512 or AVX2 only after detecting
        // AVX2 and FMA.
        Level::Avx512 | Level::Avx2 => unsafe { avx2::run(f) },
    }
}
