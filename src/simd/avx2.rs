//! 256-bit vectors: AVX2 and FMA.

use core::arch::x86_64::*;

use super::tile::{Simd, all_finite_kernel, gemm_ab, gemm_nt, nn, tn};

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
        unsafe { sum4_256(v[0].0, v[1].0, v[2].0, v[3].0) }
    }
}

/// [`super::matmul_bt`] with AVX2.
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

/// [`super::matmul`] with AVX2.
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

/// [`super::add_at_b`] with AVX2: `w += dyᵀ x` with `ACC`, `w = dyᵀ x`
/// without (whatever `w` held).
///
/// # Safety
///
/// The processor has AVX2 and FMA; `dy` has `m × n`, `x` `m × k`
/// readable and `w` `n × k` readable and writable `f32`s.
#[target_feature(enable = "avx2,fma")]
pub(in crate::simd) unsafe fn add_at_b<const ACC: bool>(
    dy: *const f32,
    x: *const f32,
    w: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    // SAFETY: the caller's guarantee.
    unsafe { gemm_ab::<V, 4, 2, ACC>(tn(dy, x, w, m, n, k)) }
}

/// [`super::all_finite`] with AVX2.
///
/// # Safety
///
/// The processor has AVX2 and FMA; `p` has `n` readable `f32`s.
#[target_feature(enable = "avx2,fma")]
pub(in crate::simd) unsafe fn all_finite(p: *const f32, n: usize) -> bool {
    // SAFETY: the caller's guarantee.
    unsafe { all_finite_kernel::<V>(p, n) }
}

/// The sums of the lanes of four 256-bit vectors, `[Σa, Σb, Σc, Σd]`:
/// pairs of neighbouring lanes first, then pairs of pairs, then the two
/// 128-bit halves.
/// AVX-512 uses it too, after folding each vector to 256 bits.
///
/// # Safety
///
/// AVX is enabled.
#[inline(always)]
pub(super) unsafe fn sum4_256(a: __m256, b: __m256, c: __m256, d: __m256) -> [f32; 4] {
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

/// Runs `f` compiled for AVX2: the element-wise loops inlined into it
/// (an optimiser's update) vectorise for 256-bit registers.
///
/// # Safety
///
/// The processor has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(in crate::simd) unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
    f()
}
