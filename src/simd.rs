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
//! [`all_finite`] is the training step's check of an `f32` gradient.
//!
//! Weights stay in their row-major `[out][in]` layout and are read in
//! place: nothing is packed, nothing is allocated. Widths that are not a
//! multiple of the vector width end with one masked vector; the masked-off
//! lanes are neither read nor written.
//!
//! # Selection
//!
//! [`level`] picks the widest instruction set the processor has: at
//! compile time when the build already enables it (`-C
//! target-cpu=native`), otherwise, with the `std` feature, once at run
//! time with `is_x86_feature_detected!`, cached in an atomic so that each
//! call costs one relaxed load. Without either, and on other
//! architectures, every kernel returns `false` and the caller
//! ([`Matrix`](crate::Matrix)) runs its portable loops instead.
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
//! build guaranteeing) its features. Raw-pointer loads and stores are
//! sound only in bounds: each public function checks the slice lengths
//! against the dimensions once, and every access the kernels make is at
//! `row · stride + column` with `row` below the row count and `column`
//! below the column count of a checked matrix (masked loads and stores
//! touch only the lanes below the column count).
#![warn(clippy::undocumented_unsafe_blocks)]
// Register tiles are indexed by row and column: index loops say it best.
#![allow(clippy::needless_range_loop)]
// The generic kernels below are architecture-neutral; only x86-64 has
// vector types for them so far.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

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
    /// 512-bit AVX-512F.
    #[cfg(target_arch = "x86_64")]
    Avx512 = 3,
}

/// The detected level; 0 until the first call.
#[cfg(target_arch = "x86_64")]
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The widest instruction set available: none on targets other than
/// x86-64 (no detection, no static in RAM).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn level() -> Level {
    Level::Portable
}

/// The widest instruction set available, detected on the first call.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn level() -> Level {
    if let Some(level) = compile_time_level() {
        return level;
    }
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Portable,
        #[cfg(target_arch = "x86_64")]
        2 => Level::Avx2,
        #[cfg(target_arch = "x86_64")]
        3 => Level::Avx512,
        _ => detect(),
    }
}

#[cfg(target_arch = "x86_64")]
/// The level when the build itself enables the features (no detection).
#[inline(always)]
const fn compile_time_level() -> Option<Level> {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
    return Some(Level::Avx512);
    #[cfg(all(
        target_arch = "x86_64",
        not(target_feature = "avx512f"),
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    return Some(Level::Avx2);
    #[allow(unreachable_code)]
    None
}

#[cfg(target_arch = "x86_64")]
/// Detects the level and caches it.
#[cold]
#[inline(never)]
fn detect() -> Level {
    #[allow(unused_mut)]
    let mut level = Level::Portable;
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            level = Level::Avx512;
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            level = Level::Avx2;
        }
    }
    LEVEL.store(level as u8, Ordering::Relaxed);
    level
}

/// `y = x wᵀ + bias`: `x` is `m × k`, `w` is `n × k`, `y` is `m × n`, all
/// row-major, and `bias` has `n` values or none (then nothing is added).
/// Returns `false`, leaving `y` alone, when no vector kernel is available.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn matmul_bt(
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
            unsafe {
                x86::avx512::matmul_bt(x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr(), m, n, k)
            };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: `level` returned AVX2 only after detecting AVX2 and
            // FMA; the lengths were checked above.
            unsafe { x86::avx2::matmul_bt(x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr(), m, n, k) };
            true
        }
    }
}

/// `dx = dy w`: `dy` is `m × n`, `w` is `n × k`, `dx` is `m × k`
/// (overwritten). Returns `false`, leaving `dx` alone, when no vector
/// kernel is available.
pub(crate) fn matmul(dy: &[f32], w: &[f32], dx: &mut [f32], m: usize, n: usize, k: usize) -> bool {
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
            unsafe { x86::avx512::matmul(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { x86::avx2::matmul(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
            true
        }
    }
}

/// `w += dyᵀ x`: `dy` is `m × n`, `x` is `m × k`, `w` is `n × k`.
/// Returns `false`, leaving `w` alone, when no vector kernel is available.
pub(crate) fn add_at_b(dy: &[f32], x: &[f32], w: &mut [f32], m: usize, n: usize, k: usize) -> bool {
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
            unsafe { x86::avx512::add_at_b(dy.as_ptr(), x.as_ptr(), w.as_mut_ptr(), m, n, k) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            // SAFETY: as in `matmul_bt`.
            unsafe { x86::avx2::add_at_b(dy.as_ptr(), x.as_ptr(), w.as_mut_ptr(), m, n, k) };
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
        Level::Avx512 => Some(unsafe { x86::avx512::all_finite(xs.as_ptr(), xs.len()) }),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `matmul_bt`; `xs` has `xs.len()` readable `f32`s.
        Level::Avx2 => Some(unsafe { x86::avx2::all_finite(xs.as_ptr(), xs.len()) }),
    }
}

/// `xs` as a slice of `f32` when `T` is `f32`, `None` otherwise (a type
/// check the compiler resolves).
#[inline(always)]
pub(crate) fn as_f32<T: 'static>(xs: &[T]) -> Option<&[f32]> {
    if core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (the same type id), so the pointer and length
        // describe the same `f32`s, borrowed for the same lifetime.
        Some(unsafe { core::slice::from_raw_parts(xs.as_ptr().cast::<f32>(), xs.len()) })
    } else {
        None
    }
}

/// The operations the kernels need from a vector of `f32` lanes.
///
/// # Safety
///
/// Every method may only be called from code compiled with the type's
/// target features (the kernels are `#[inline(always)]` into a
/// `#[target_feature]` function) on a processor that has them. Loads and
/// stores take pointers to `LANES` (or, for the `_part` forms, `n`)
/// readable or writable `f32`s.
trait Simd: Copy {
    /// Lanes in a vector.
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self;
    /// All lanes `x`.
    unsafe fn splat(x: f32) -> Self;
    /// `LANES` values from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// The first `n < LANES` lanes from `p`, the others zero.
    unsafe fn load_part(p: *const f32, n: usize) -> Self;
    /// All lanes to `p`.
    unsafe fn store(p: *mut f32, v: Self);
    /// The first `n < LANES` lanes to `p`.
    unsafe fn store_part(p: *mut f32, n: usize, v: Self);
    /// `a · b + c`, fused.
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
    /// The sum of the lanes of each of four vectors.
    unsafe fn sum4(v: [Self; 4]) -> [f32; 4];
}

/// Dot products of `MR` rows of `x` (stride `ldx`) with `NR` rows of `w`
/// (stride `ldw`), over `k` columns: `out[r][j] = x[r] · w[j]`.
///
/// Each lane sums every `LANES`-th product in order; the lanes are then
/// added by the same tree whatever `MR` and `NR` are.
///
/// # Safety
///
/// `V`'s features are enabled; rows `0..MR` of `x` and `0..NR` of `w` have
/// `k` readable columns.
#[inline(always)]
unsafe fn tile_nt<V: Simd, const MR: usize, const NR: usize>(
    x: *const f32,
    ldx: usize,
    w: *const f32,
    ldw: usize,
    k: usize,
) -> [[f32; NR]; MR] {
    // SAFETY: the caller guarantees the features and that every row read
    // here has `k` readable columns; `c + LANES ≤ k` in the loop and the
    // masked load reads only the `k - c` columns left.
    unsafe {
        let mut acc = [[V::zero(); NR]; MR];
        let mut xv = [V::zero(); MR];
        let full = k - k % V::LANES;
        let mut c = 0;
        while c < full {
            for r in 0..MR {
                xv[r] = V::load(x.add(r * ldx + c));
            }
            for j in 0..NR {
                let wv = V::load(w.add(j * ldw + c));
                for r in 0..MR {
                    acc[r][j] = V::mul_add(xv[r], wv, acc[r][j]);
                }
            }
            c += V::LANES;
        }
        if c < k {
            let n = k - c;
            for r in 0..MR {
                xv[r] = V::load_part(x.add(r * ldx + c), n);
            }
            for j in 0..NR {
                let wv = V::load_part(w.add(j * ldw + c), n);
                for r in 0..MR {
                    acc[r][j] = V::mul_add(xv[r], wv, acc[r][j]);
                }
            }
        }
        let mut out = [[0.0; NR]; MR];
        for r in 0..MR {
            let mut j = 0;
            while j < NR {
                let mut group = [V::zero(); 4];
                for i in 0..4 {
                    if j + i < NR {
                        group[i] = acc[r][j + i];
                    }
                }
                let sums = V::sum4(group);
                for i in 0..4 {
                    if j + i < NR {
                        out[r][j + i] = sums[i];
                    }
                }
                j += 4;
            }
        }
        out
    }
}

/// `y[b][o] = x[b] · w[o]` for all `m` samples and the `NR` outputs from
/// `o0`: tiles of `MR` samples, then single samples.
///
/// # Safety
///
/// As [`gemm_nt`], with `o0 + NR ≤ n`.
#[inline(always)]
unsafe fn outputs_nt<V: Simd, const MR: usize, const NR: usize>(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    (m, n, k): (usize, usize, usize),
    o0: usize,
) {
    // SAFETY: samples `b0..b0 + MR ≤ m` and outputs `o0..o0 + NR ≤ n` are
    // in bounds of `x` (m × k), `w` (n × k), `bias` (n, unless null) and
    // `y` (m × n).
    unsafe {
        let w = w.add(o0 * k);
        let mut b = [0.0f32; NR];
        if !bias.is_null() {
            for j in 0..NR {
                b[j] = *bias.add(o0 + j);
            }
        }
        // Without a bias the sum is stored as it is (adding `0.0` would
        // turn a `-0.0` into `0.0`).
        let store = |row: *mut f32, out: &[f32; NR]| {
            for j in 0..NR {
                *row.add(j) = if bias.is_null() {
                    out[j]
                } else {
                    out[j] + b[j]
                };
            }
        };
        let mut b0 = 0;
        while b0 + MR <= m {
            let out = tile_nt::<V, MR, NR>(x.add(b0 * k), k, w, k, k);
            for r in 0..MR {
                store(y.add((b0 + r) * n + o0), &out[r]);
            }
            b0 += MR;
        }
        while b0 < m {
            let [out] = tile_nt::<V, 1, NR>(x.add(b0 * k), k, w, k, k);
            store(y.add(b0 * n + o0), &out);
            b0 += 1;
        }
    }
}

/// `y = x wᵀ (+ bias)` with `MR × NR` tiles (and single outputs at the
/// end).
///
/// # Safety
///
/// `V`'s features are enabled; `x` has `m × k`, `w` `n × k` and `bias`
/// (unless null) `n` readable, and `y` `m × n` writable `f32`s.
#[inline(always)]
unsafe fn gemm_nt<V: Simd, const MR: usize, const NR: usize>(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    let mut o0 = 0;
    // SAFETY: the caller's guarantee; every block stays below `n`.
    unsafe {
        while o0 + NR <= n {
            outputs_nt::<V, MR, NR>(x, w, bias, y, (m, n, k), o0);
            o0 += NR;
        }
        while o0 < n {
            outputs_nt::<V, MR, 1>(x, w, bias, y, (m, n, k), o0);
            o0 += 1;
        }
    }
}

/// The operands of `C (+)= A B` for [`tile_ab`]: `A[r][p]` is at
/// `a[r · rs + p · ps]`, so that `A` can be a matrix or its transpose; `B`
/// and `C` are row-major with strides `ldb` and `ldc`.
#[derive(Clone, Copy)]
struct Ab {
    a: *const f32,
    rs: usize,
    ps: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    /// Rows of `C` (and of `A`).
    m: usize,
    /// Columns of `C` (and of `B`).
    cols: usize,
    /// Columns of `A`, rows of `B`: the length of each sum.
    depth: usize,
}

/// One tile of `C (+)= A B`: rows `r0..r0 + MR` of `C`, `NV` vectors of
/// columns from `c0` (with `PART`, one vector of `part` columns). Each
/// element is summed over `p` in order, starting from `C` when `ACC`,
/// from zero otherwise.
///
/// # Safety
///
/// `V`'s features are enabled; the operands are as [`Ab`] says and the
/// tile is inside `C`; with `PART`, `NV == 1` and `c0 + part ≤ cols`.
#[inline(always)]
unsafe fn tile_ab<V: Simd, const MR: usize, const NV: usize, const ACC: bool, const PART: bool>(
    op: Ab,
    r0: usize,
    c0: usize,
    part: usize,
) {
    // SAFETY: rows `r0..r0 + MR ≤ m` of `A` and `C`, rows `p < depth` of
    // `B`, and columns `c0..c0 + NV · LANES ≤ cols` (or `c0 + part ≤ cols`,
    // masked) are in bounds, by the caller's guarantee.
    unsafe {
        let load = |p: *const f32| {
            if PART {
                V::load_part(p, part)
            } else {
                V::load(p)
            }
        };
        let c = op.c.add(r0 * op.ldc + c0);
        let mut acc = [[V::zero(); NV]; MR];
        if ACC {
            for r in 0..MR {
                for j in 0..NV {
                    acc[r][j] = load(c.add(r * op.ldc + j * V::LANES));
                }
            }
        }
        let a = op.a.add(r0 * op.rs);
        let mut bv = [V::zero(); NV];
        for p in 0..op.depth {
            let b = op.b.add(p * op.ldb + c0);
            for j in 0..NV {
                bv[j] = load(b.add(j * V::LANES));
            }
            let ap = a.add(p * op.ps);
            for r in 0..MR {
                let av = V::splat(*ap.add(r * op.rs));
                for j in 0..NV {
                    acc[r][j] = V::mul_add(av, bv[j], acc[r][j]);
                }
            }
        }
        for r in 0..MR {
            for j in 0..NV {
                let p = c.add(r * op.ldc + j * V::LANES);
                if PART {
                    V::store_part(p, part, acc[r][j]);
                } else {
                    V::store(p, acc[r][j]);
                }
            }
        }
    }
}

/// One block of columns of `C (+)= A B` over all rows: tiles of `MR`
/// rows, then single rows.
///
/// # Safety
///
/// As [`tile_ab`].
#[inline(always)]
unsafe fn rows_ab<V: Simd, const MR: usize, const NV: usize, const ACC: bool, const PART: bool>(
    op: Ab,
    c0: usize,
    part: usize,
) {
    let mut r0 = 0;
    // SAFETY: the caller's guarantee; every tile stays below `m`.
    unsafe {
        while r0 + MR <= op.m {
            tile_ab::<V, MR, NV, ACC, PART>(op, r0, c0, part);
            r0 += MR;
        }
        while r0 < op.m {
            tile_ab::<V, 1, NV, ACC, PART>(op, r0, c0, part);
            r0 += 1;
        }
    }
}

/// `C (+)= A B` in blocks of `NV` vectors of columns (then single vectors,
/// then one masked vector), each over all rows in tiles of `MR`.
///
/// # Safety
///
/// `V`'s features are enabled; the operands are as [`Ab`] says.
#[inline(always)]
unsafe fn gemm_ab<V: Simd, const MR: usize, const NV: usize, const ACC: bool>(op: Ab) {
    let width = NV * V::LANES;
    let mut c0 = 0;
    // SAFETY: the caller's guarantee; every block stays below `cols`.
    unsafe {
        while c0 + width <= op.cols {
            rows_ab::<V, MR, NV, ACC, false>(op, c0, 0);
            c0 += width;
        }
        while c0 + V::LANES <= op.cols {
            rows_ab::<V, MR, 1, ACC, false>(op, c0, 0);
            c0 += V::LANES;
        }
        if c0 < op.cols {
            rows_ab::<V, MR, 1, ACC, true>(op, c0, op.cols - c0);
        }
    }
}

/// Whether all `n` values from `p` are finite: `x · 0` is `±0` for a finite
/// `x` and NaN otherwise, and adding it to accumulators that start at zero
/// leaves them zero unless a value was not finite. Four accumulators, so
/// that the adds do not wait on each other.
///
/// # Safety
///
/// `V`'s features are enabled; `p` has `n` readable `f32`s.
#[inline(always)]
unsafe fn all_finite_kernel<V: Simd>(p: *const f32, n: usize) -> bool {
    // SAFETY: every load is of lanes below `n` (the last one masked).
    unsafe {
        let zero = V::zero();
        let mut acc = [zero; 4];
        let mut i = 0;
        while i + 4 * V::LANES <= n {
            for (j, a) in acc.iter_mut().enumerate() {
                *a = V::mul_add(V::load(p.add(i + j * V::LANES)), zero, *a);
            }
            i += 4 * V::LANES;
        }
        while i + V::LANES <= n {
            acc[0] = V::mul_add(V::load(p.add(i)), zero, acc[0]);
            i += V::LANES;
        }
        if i < n {
            acc[0] = V::mul_add(V::load_part(p.add(i), n - i), zero, acc[0]);
        }
        // Zero, or NaN if any lane is NaN.
        V::sum4(acc).iter().sum::<f32>() == 0.0
    }
}

/// `dx = dy w` as `C = A B` with `A = dy` (`m × n`), `B = w` (`n × k`).
#[inline(always)]
fn nn(dy: *const f32, w: *const f32, dx: *mut f32, m: usize, n: usize, k: usize) -> Ab {
    Ab {
        a: dy,
        rs: n,
        ps: 1,
        b: w,
        ldb: k,
        c: dx,
        ldc: k,
        m,
        cols: k,
        depth: n,
    }
}

/// `w += dyᵀ x` as `C += A B` with `A = dyᵀ` (`n × m`), `B = x` (`m × k`).
#[inline(always)]
fn tn(dy: *const f32, x: *const f32, w: *mut f32, m: usize, n: usize, k: usize) -> Ab {
    Ab {
        a: dy,
        rs: 1,
        ps: n,
        b: x,
        ldb: k,
        c: w,
        ldc: k,
        m: n,
        cols: k,
        depth: m,
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    /// 512-bit vectors: AVX-512F.
    pub(super) mod avx512 {
        use core::arch::x86_64::*;

        use super::super::{Simd, all_finite_kernel, gemm_ab, gemm_nt, nn, tn};

        #[derive(Clone, Copy)]
        pub(in crate::simd) struct V(__m512);

        /// The mask of the first `n < 16` lanes.
        #[inline(always)]
        fn mask(n: usize) -> __mmask16 {
            ((1u32 << n) - 1) as __mmask16
        }

        impl Simd for V {
            const LANES: usize = 16;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: the trait's contract: AVX-512F is enabled.
                unsafe { V(_mm512_setzero_ps()) }
            }
            #[inline(always)]
            unsafe fn splat(x: f32) -> Self {
                // SAFETY: as in `zero`.
                unsafe { V(_mm512_set1_ps(x)) }
            }
            #[inline(always)]
            unsafe fn load(p: *const f32) -> Self {
                // SAFETY: AVX-512F is enabled and `p` has 16 readable `f32`s
                // (the trait's contract); the load is unaligned.
                unsafe { V(_mm512_loadu_ps(p)) }
            }
            #[inline(always)]
            unsafe fn load_part(p: *const f32, n: usize) -> Self {
                // SAFETY: AVX-512F is enabled and `p` has `n` readable
                // `f32`s; masked-off lanes are not read (no fault).
                unsafe { V(_mm512_maskz_loadu_ps(mask(n), p)) }
            }
            #[inline(always)]
            unsafe fn store(p: *mut f32, v: Self) {
                // SAFETY: AVX-512F is enabled and `p` has 16 writable `f32`s.
                unsafe { _mm512_storeu_ps(p, v.0) }
            }
            #[inline(always)]
            unsafe fn store_part(p: *mut f32, n: usize, v: Self) {
                // SAFETY: AVX-512F is enabled and `p` has `n` writable
                // `f32`s; masked-off lanes are not written.
                unsafe { _mm512_mask_storeu_ps(p, mask(n), v.0) }
            }
            #[inline(always)]
            unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                // SAFETY: as in `zero`.
                unsafe { V(_mm512_fmadd_ps(a.0, b.0, c.0)) }
            }
            #[inline(always)]
            unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
                // SAFETY: AVX-512F (which implies AVX) is enabled. Each
                // vector is folded to 256 bits (lane i + lane i + 8), then
                // the AVX tree adds the rest.
                unsafe {
                    let fold = |v: V| {
                        let hi = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v.0));
                        _mm256_add_ps(_mm512_castps512_ps256(v.0), _mm256_castpd_ps(hi))
                    };
                    super::sum4_256(fold(v[0]), fold(v[1]), fold(v[2]), fold(v[3]))
                }
            }
        }

        /// [`super::super::matmul_bt`] with AVX-512.
        ///
        /// # Safety
        ///
        /// The processor has AVX-512F, AVX2 and FMA; `x` has `m × k`, `w`
        /// `n × k` and `bias` (unless null) `n` readable, and `y` `m × n`
        /// writable `f32`s.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub(in crate::simd) unsafe fn matmul_bt(
            x: *const f32,
            w: *const f32,
            bias: *const f32,
            y: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            // SAFETY: the caller's guarantee.
            unsafe {
                if m == 1 {
                    gemm_nt::<V, 1, 8>(x, w, bias, y, m, n, k);
                } else {
                    gemm_nt::<V, 4, 4>(x, w, bias, y, m, n, k);
                }
            }
        }

        /// [`super::super::matmul`] with AVX-512.
        ///
        /// # Safety
        ///
        /// The processor has AVX-512F, AVX2 and FMA; `dy` has `m × n`, `w`
        /// `n × k` readable and `dx` `m × k` writable `f32`s.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub(in crate::simd) unsafe fn matmul(
            dy: *const f32,
            w: *const f32,
            dx: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            let op = nn(dy, w, dx, m, n, k);
            // SAFETY: the caller's guarantee.
            unsafe {
                if m == 1 {
                    gemm_ab::<V, 1, 8, false>(op);
                } else {
                    gemm_ab::<V, 4, 4, false>(op);
                }
            }
        }

        /// [`super::super::add_at_b`] with AVX-512.
        ///
        /// # Safety
        ///
        /// The processor has AVX-512F, AVX2 and FMA; `dy` has `m × n`, `x`
        /// `m × k` readable and `w` `n × k` readable and writable `f32`s.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub(in crate::simd) unsafe fn add_at_b(
            dy: *const f32,
            x: *const f32,
            w: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            // SAFETY: the caller's guarantee.
            unsafe { gemm_ab::<V, 8, 3, true>(tn(dy, x, w, m, n, k)) }
        }

        /// [`super::super::all_finite`] with AVX-512.
        ///
        /// # Safety
        ///
        /// The processor has AVX-512F, AVX2 and FMA; `p` has `n` readable `f32`s.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub(in crate::simd) unsafe fn all_finite(p: *const f32, n: usize) -> bool {
            // SAFETY: the caller's guarantee.
            unsafe { all_finite_kernel::<V>(p, n) }
        }
    }

    /// 256-bit vectors: AVX2 and FMA.
    pub(super) mod avx2 {
        use core::arch::x86_64::*;

        use super::super::{Simd, all_finite_kernel, gemm_ab, gemm_nt, nn, tn};

        #[derive(Clone, Copy)]
        pub(in crate::simd) struct V(__m256);

        /// Lanes `8 - n..` are all ones: `MASKS[8 - n..16 - n]` masks the
        /// first `n` lanes.
        static MASKS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

        /// The mask of the first `n < 8` lanes.
        ///
        /// # Safety
        ///
        /// AVX is enabled.
        #[inline(always)]
        unsafe fn mask(n: usize) -> __m256i {
            // SAFETY: `8 - n + 8 ≤ 16` for `n ≤ 8`, so the 8 lanes read are
            // inside `MASKS`.
            unsafe { _mm256_loadu_si256(MASKS.as_ptr().add(8 - n).cast()) }
        }

        impl Simd for V {
            const LANES: usize = 8;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: the trait's contract: AVX2 and FMA are enabled.
                unsafe { V(_mm256_setzero_ps()) }
            }
            #[inline(always)]
            unsafe fn splat(x: f32) -> Self {
                // SAFETY: as in `zero`.
                unsafe { V(_mm256_set1_ps(x)) }
            }
            #[inline(always)]
            unsafe fn load(p: *const f32) -> Self {
                // SAFETY: AVX is enabled and `p` has 8 readable `f32`s.
                unsafe { V(_mm256_loadu_ps(p)) }
            }
            #[inline(always)]
            unsafe fn load_part(p: *const f32, n: usize) -> Self {
                // SAFETY: AVX is enabled and `p` has `n` readable `f32`s;
                // masked-off lanes are not read (no fault).
                unsafe { V(_mm256_maskload_ps(p, mask(n))) }
            }
            #[inline(always)]
            unsafe fn store(p: *mut f32, v: Self) {
                // SAFETY: AVX is enabled and `p` has 8 writable `f32`s.
                unsafe { _mm256_storeu_ps(p, v.0) }
            }
            #[inline(always)]
            unsafe fn store_part(p: *mut f32, n: usize, v: Self) {
                // SAFETY: AVX is enabled and `p` has `n` writable `f32`s;
                // masked-off lanes are not written.
                unsafe { _mm256_maskstore_ps(p, mask(n), v.0) }
            }
            #[inline(always)]
            unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                // SAFETY: as in `zero`.
                unsafe { V(_mm256_fmadd_ps(a.0, b.0, c.0)) }
            }
            #[inline(always)]
            unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
                // SAFETY: as in `zero`.
                unsafe { super::sum4_256(v[0].0, v[1].0, v[2].0, v[3].0) }
            }
        }

        /// [`super::super::matmul_bt`] with AVX2.
        ///
        /// # Safety
        ///
        /// The processor has AVX2 and FMA; `x` has `m × k`, `w` `n × k` and
        /// `bias` (unless null) `n` readable, and `y` `m × n` writable
        /// `f32`s.
        #[target_feature(enable = "avx2,fma")]
        pub(in crate::simd) unsafe fn matmul_bt(
            x: *const f32,
            w: *const f32,
            bias: *const f32,
            y: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            // SAFETY: the caller's guarantee.
            unsafe {
                if m == 1 {
                    gemm_nt::<V, 1, 8>(x, w, bias, y, m, n, k);
                } else {
                    gemm_nt::<V, 2, 4>(x, w, bias, y, m, n, k);
                }
            }
        }

        /// [`super::super::matmul`] with AVX2.
        ///
        /// # Safety
        ///
        /// The processor has AVX2 and FMA; `dy` has `m × n`, `w` `n × k`
        /// readable and `dx` `m × k` writable `f32`s.
        #[target_feature(enable = "avx2,fma")]
        pub(in crate::simd) unsafe fn matmul(
            dy: *const f32,
            w: *const f32,
            dx: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            let op = nn(dy, w, dx, m, n, k);
            // SAFETY: the caller's guarantee.
            unsafe {
                if m == 1 {
                    gemm_ab::<V, 1, 4, false>(op);
                } else {
                    gemm_ab::<V, 4, 2, false>(op);
                }
            }
        }

        /// [`super::super::add_at_b`] with AVX2.
        ///
        /// # Safety
        ///
        /// The processor has AVX2 and FMA; `dy` has `m × n`, `x` `m × k`
        /// readable and `w` `n × k` readable and writable `f32`s.
        #[target_feature(enable = "avx2,fma")]
        pub(in crate::simd) unsafe fn add_at_b(
            dy: *const f32,
            x: *const f32,
            w: *mut f32,
            m: usize,
            n: usize,
            k: usize,
        ) {
            // SAFETY: the caller's guarantee.
            unsafe { gemm_ab::<V, 4, 2, true>(tn(dy, x, w, m, n, k)) }
        }

        /// [`super::super::all_finite`] with AVX2.
        ///
        /// # Safety
        ///
        /// The processor has AVX2 and FMA; `p` has `n` readable `f32`s.
        #[target_feature(enable = "avx2,fma")]
        pub(in crate::simd) unsafe fn all_finite(p: *const f32, n: usize) -> bool {
            // SAFETY: the caller's guarantee.
            unsafe { all_finite_kernel::<V>(p, n) }
        }
    }

    use core::arch::x86_64::*;

    /// The sums of the lanes of four 256-bit vectors, `[Σa, Σb, Σc, Σd]`:
    /// pairs of neighbouring lanes first, then pairs of pairs, then the two
    /// 128-bit halves.
    ///
    /// # Safety
    ///
    /// AVX is enabled.
    #[inline(always)]
    unsafe fn sum4_256(a: __m256, b: __m256, c: __m256, d: __m256) -> [f32; 4] {
        // SAFETY: AVX is enabled (the caller's guarantee); the store writes
        // the 4 `f32`s of `out`.
        unsafe {
            let ab = _mm256_hadd_ps(a, b);
            let cd = _mm256_hadd_ps(c, d);
            let abcd = _mm256_hadd_ps(ab, cd);
            let sum = _mm_add_ps(
                _mm256_castps256_ps128(abcd),
                _mm256_extractf128_ps::<1>(abcd),
            );
            let mut out = [0.0f32; 4];
            _mm_storeu_ps(out.as_mut_ptr(), sum);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each instruction set the processor has against a plain reference,
    //! on sizes that are and are not multiples of the vector widths. (The
    //! integration tests compare the dispatched kernels with the portable
    //! loops; these also reach the set that dispatch does not pick.)

    extern crate std;
    use std::vec::Vec;

    use super::*;

    /// Deterministic values in `[-1, 1)`.
    fn values(seed: u32, len: usize) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// `|a − b| ≤ 1e-5 · scale` elementwise, where `scale[i]` is the sum of
    /// the magnitudes of the products that make element `i`.
    fn assert_close(what: &str, a: &[f32], b: &[f64], scale: &[f64]) {
        for (i, ((&a, &b), &s)) in a.iter().zip(b).zip(scale).enumerate() {
            let err = (f64::from(a) - b).abs();
            assert!(
                err <= 1e-5 * s.max(1e-30),
                "{what}[{i}]: {a} vs {b} (scale {s})"
            );
        }
    }

    type Kernels = [(
        &'static str,
        unsafe fn(*const f32, *const f32, *mut f32, usize, usize, usize),
    ); 3];

    /// `matmul_bt` without a bias, in the shape of the other two kernels.
    #[cfg(target_arch = "x86_64")]
    unsafe fn nt512(x: *const f32, w: *const f32, y: *mut f32, m: usize, n: usize, k: usize) {
        // SAFETY: the caller's guarantee; no bias.
        unsafe { x86::avx512::matmul_bt(x, w, core::ptr::null(), y, m, n, k) }
    }

    /// `matmul_bt` without a bias, in the shape of the other two kernels.
    #[cfg(target_arch = "x86_64")]
    unsafe fn nt256(x: *const f32, w: *const f32, y: *mut f32, m: usize, n: usize, k: usize) {
        // SAFETY: the caller's guarantee; no bias.
        unsafe { x86::avx2::matmul_bt(x, w, core::ptr::null(), y, m, n, k) }
    }

    /// The kernels of each instruction set this processor has.
    fn sets() -> Vec<(&'static str, Kernels)> {
        let mut sets: Vec<(&'static str, Kernels)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
            {
                sets.push((
                    "avx512",
                    [
                        ("matmul_bt", nt512),
                        ("matmul", x86::avx512::matmul),
                        ("add_at_b", x86::avx512::add_at_b),
                    ],
                ));
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                sets.push((
                    "avx2",
                    [
                        ("matmul_bt", nt256),
                        ("matmul", x86::avx2::matmul),
                        ("add_at_b", x86::avx2::add_at_b),
                    ],
                ));
            }
        }
        sets
    }

    #[test]
    fn every_instruction_set_matches_a_plain_reference() {
        let sets = sets();
        std::eprintln!(
            "instruction sets tested: {:?}",
            sets.iter().map(|s| s.0).collect::<Vec<_>>()
        );
        for (name, [(_, nt), (_, nn), (_, tn)]) in sets {
            for &m in &[1, 2, 3, 5, 32, 33] {
                for &n in &[1, 3, 4, 10, 17] {
                    for &k in &[1, 7, 8, 15, 16, 17, 40, 100, 129] {
                        let what = std::format!("{name} m={m} n={n} k={k}");
                        let seed = (m * 10_000 + n * 100 + k) as u32;
                        let x = values(seed, m * k);
                        let w = values(seed + 1, n * k);
                        let dy = values(seed + 2, m * n);
                        let w0 = values(seed + 3, n * k);

                        // y = x wᵀ
                        let mut y = std::vec![f32::NAN; m * n];
                        // SAFETY: the set was detected; the lengths match.
                        unsafe { nt(x.as_ptr(), w.as_ptr(), y.as_mut_ptr(), m, n, k) };
                        let (mut r, mut s) = (std::vec![0.0; m * n], std::vec![0.0; m * n]);
                        for b in 0..m {
                            for o in 0..n {
                                for i in 0..k {
                                    let p = f64::from(x[b * k + i]) * f64::from(w[o * k + i]);
                                    r[b * n + o] += p;
                                    s[b * n + o] += p.abs();
                                }
                            }
                        }
                        assert_close(&std::format!("{what} matmul_bt"), &y, &r, &s);

                        // dx = dy w
                        let mut dx = std::vec![f32::NAN; m * k];
                        // SAFETY: as above.
                        unsafe { nn(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
                        let (mut r, mut s) = (std::vec![0.0; m * k], std::vec![0.0; m * k]);
                        for b in 0..m {
                            for o in 0..n {
                                for i in 0..k {
                                    let p = f64::from(dy[b * n + o]) * f64::from(w[o * k + i]);
                                    r[b * k + i] += p;
                                    s[b * k + i] += p.abs();
                                }
                            }
                        }
                        assert_close(&std::format!("{what} matmul"), &dx, &r, &s);

                        // w += dyᵀ x
                        let mut acc = w0.clone();
                        // SAFETY: as above.
                        unsafe { tn(dy.as_ptr(), x.as_ptr(), acc.as_mut_ptr(), m, n, k) };
                        let mut r: Vec<f64> = w0.iter().map(|&v| f64::from(v)).collect();
                        let mut s: Vec<f64> = w0.iter().map(|&v| f64::from(v).abs()).collect();
                        for b in 0..m {
                            for o in 0..n {
                                for i in 0..k {
                                    let p = f64::from(dy[b * n + o]) * f64::from(x[b * k + i]);
                                    r[o * k + i] += p;
                                    s[o * k + i] += p.abs();
                                }
                            }
                        }
                        assert_close(&std::format!("{what} add_at_b"), &acc, &r, &s);
                    }
                }
            }
        }
    }

    #[test]
    fn all_finite_finds_every_nan_and_infinity() {
        type Check = unsafe fn(*const f32, usize) -> bool;
        #[allow(unused_mut)]
        let mut sets: Vec<(&str, Check)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
            {
                sets.push(("avx512", x86::avx512::all_finite));
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                sets.push(("avx2", x86::avx2::all_finite));
            }
        }
        for (name, all_finite) in sets {
            for n in 0..150 {
                let mut xs = values(n as u32, n);
                xs.iter_mut().step_by(7).for_each(|x| *x *= 1e38); // large but finite
                // SAFETY: the set was detected; `xs` has `n` values.
                assert!(unsafe { all_finite(xs.as_ptr(), n) }, "{name} n={n}");
                for i in 0..n {
                    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                        let mut ys = xs.clone();
                        ys[i] = bad;
                        // SAFETY: as above.
                        let finite = unsafe { all_finite(ys.as_ptr(), n) };
                        assert!(!finite, "{name} n={n}: {bad} at {i} not found");
                    }
                }
            }
        }
    }

    #[test]
    fn a_sample_gives_the_same_bits_alone_and_in_a_batch() {
        let (m, n, k) = (7, 10, 37);
        let x = values(1, m * k);
        let w = values(2, n * k);
        let bias = values(3, n);
        let mut batch = std::vec![0.0; m * n];
        let vectors = matmul_bt(&x, &w, None, &mut batch, (m, n, k));
        assert_eq!(vectors, level() != Level::Portable);
        if !vectors {
            return;
        }
        let mut with_bias = std::vec![0.0; m * n];
        matmul_bt(&x, &w, Some(&bias), &mut with_bias, (m, n, k));
        for b in 0..m {
            let mut one = std::vec![0.0; n];
            matmul_bt(&x[b * k..(b + 1) * k], &w, None, &mut one, (1, n, k));
            assert_eq!(one, batch[b * n..(b + 1) * n]);
            // The bias is added to the finished sum: the same bits as after.
            for o in 0..n {
                assert_eq!(with_bias[b * n + o], one[o] + bias[o]);
            }
        }
    }
}
