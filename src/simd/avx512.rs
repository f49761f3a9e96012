//! 512-bit vectors: AVX-512F.

use core::arch::x86_64::*;

use super::avx2::sum4_256;
use super::tile::{
    COPY_COLUMNS, Simd, all_finite_kernel, default_store_sums, gemm_ab, gemm_nt, gemm_nt_copied,
    nn, tn,
};

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
            sum4_256(fold(v[0]), fold(v[1]), fold(v[2]), fold(v[3]))
        }
    }
    #[inline(always)]
    unsafe fn store_sums<const MR: usize, const NR: usize>(
        acc: &[[Self; NR]; MR],
        y: *mut f32,
        ldy: usize,
        bias: *const f32,
    ) {
        // SAFETY: AVX-512F is enabled, and by the caller's guarantee rows
        // `0..MR` of `y` have `NR` writable `f32`s and `bias` (unless null)
        // `NR` readable ones: with `MR = NR = 4`, the four 128-bit stores
        // and the 128-bit load of `bias` stay inside them.
        unsafe {
            if MR == 4 && NR == 4 {
                let sums = sums16(core::array::from_fn(|i| acc[i / 4][i % 4].0));
                let sums = if bias.is_null() {
                    sums
                } else {
                    _mm512_add_ps(sums, _mm512_broadcast_f32x4(_mm_loadu_ps(bias)))
                };
                _mm_storeu_ps(y, _mm512_castps512_ps128(sums));
                _mm_storeu_ps(y.add(ldy), _mm512_extractf32x4_ps::<1>(sums));
                _mm_storeu_ps(y.add(2 * ldy), _mm512_extractf32x4_ps::<2>(sums));
                _mm_storeu_ps(y.add(3 * ldy), _mm512_extractf32x4_ps::<3>(sums));
            } else {
                default_store_sums(acc, y, ldy, bias);
            }
        }
    }
}

/// The sums of the lanes of 16 vectors: lane `i` of the result is the sum
/// of `v[i]`'s lanes, added by [`V::sum4`]'s tree (lanes `l` and `l + 8`,
/// then neighbours, neighbouring pairs, the two halves), for 16 vectors at
/// once: each level pairs lanes across two vectors with two permutes and
/// adds them, with no horizontal add and no scalar.
///
/// # Safety
///
/// AVX-512F is enabled.
#[inline(always)]
unsafe fn sums16(v: [__m512; 16]) -> __m512 {
    // SAFETY: AVX-512F is enabled (the caller's guarantee).
    unsafe {
        // Lanes 0..8 of a and of b, beside lanes 8..16 of each: the sum is
        // a's eight folded lanes, then b's.
        let fold = |a: __m512, b: __m512| {
            _mm512_add_ps(
                _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b),
                _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b),
            )
        };
        // Lanes 2i and 2i + 1 of the 32 lanes of a then b, added: lane i.
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let pairs = |a: __m512, b: __m512| {
            _mm512_add_ps(
                _mm512_permutex2var_ps(a, even, b),
                _mm512_permutex2var_ps(a, odd, b),
            )
        };
        // 8 lanes a vector, two vectors each.
        let f: [__m512; 8] = core::array::from_fn(|i| fold(v[2 * i], v[2 * i + 1]));
        // 4 lanes a vector, four vectors each.
        let g: [__m512; 4] = core::array::from_fn(|i| pairs(f[2 * i], f[2 * i + 1]));
        // 2 lanes a vector, eight vectors each.
        let h = [pairs(g[0], g[1]), pairs(g[2], g[3])];
        pairs(h[0], h[1])
    }
}

/// [`super::matmul_bt`] with AVX-512.
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
        if m == 1 && k >= LONG_ROWS {
            gemm_nt::<V, 1, 4>(x, w, bias, y, m, n, k);
        } else if m == 1 {
            gemm_nt::<V, 1, 8>(x, w, bias, y, m, n, k);
        } else if m >= 4
            && k <= COPY_COLUMNS
            && !((x as usize).is_multiple_of(64) && k.is_multiple_of(16))
        {
            // Rows of `x` off 64-byte lines (the base, or the stride):
            // copied, a tile at a time, in a frame of their own.
            matmul_bt_copied(x, w, bias, y, m, n, k);
        } else {
            gemm_nt::<V, 4, 4>(x, w, bias, y, m, n, k);
        }
    }
}

/// The fewest inputs for which one sample's forward product takes its
/// outputs 4 at a time instead of 8. Each tile reads one weight row per
/// output, from L2 when the matrix is larger than L1, and fewer rows read
/// together stream faster (a probe on an Intel Xeon, family 6 model 167,
/// reading 401 KB from L2 in 512-bit loads: 166 GB/s from 8 rows at a
/// time, 172 from 4, 182 in one sequence); short rows gain nothing, as the
/// sums' final additions, shared by a tile's outputs, then weigh more.
/// `cargo bench --bench workloads -- "predict b1"` on that machine, two
/// runs alternating the builds: W3 (784 inputs) 677.7, 673.1 → 643.8,
/// 649.5 µs per 256 samples; W4 (256 inputs) 1.293, 1.294 → 1.298,
/// 1.300 ms and W2 (64) 23.1, 23.0 → 24.8, 24.1 µs with 4 outputs a
/// tile, hence 8 below this width. Each output's sum is the same either
/// way (one accumulator per output, the same pairwise tree).
const LONG_ROWS: usize = 512;

/// [`matmul_bt`] on tiles of `x` copied to rows on 64-byte lines (a
/// 512-bit load across two lines costs two): out of line, so that the
/// copy's 16 KB of stack is taken only on this path.
///
/// # Safety
///
/// As [`matmul_bt`], with `m ≥ 4` and `k ≤ COPY_COLUMNS`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline(never)]
unsafe fn matmul_bt_copied(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    // SAFETY: the caller's guarantee.
    unsafe { gemm_nt_copied::<V, 4, 4>(x, w, bias, y, m, n, k) }
}

/// [`super::matmul`] with AVX-512.
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

/// [`super::add_at_b`] with AVX-512: `w += dyᵀ x` with `ACC`, `w = dyᵀ x`
/// without (whatever `w` held).
///
/// # Safety
///
/// The processor has AVX-512F, AVX2 and FMA; `dy` has `m × n`, `x`
/// `m × k` readable and `w` `n × k` readable and writable `f32`s.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(in crate::simd) unsafe fn add_at_b<const ACC: bool>(
    dy: *const f32,
    x: *const f32,
    w: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    // Tiles of 4 weight rows × 4 vectors: 16 accumulators fed by 4 loads
    // and 4 broadcasts per step, and 256-wide rows end without a narrower
    // block (8 × 3 left one vector in 16 to a tile of 8 broadcasts per 8
    // multiply-adds). 32 × 256 × 256 on Zen 4: 44.8 -> 37.4 us.
    // SAFETY: the caller's guarantee.
    unsafe { gemm_ab::<V, 4, 4, ACC>(tn(dy, x, w, m, n, k)) }
}

/// [`super::all_finite`] with AVX-512.
///
/// # Safety
///
/// The processor has AVX-512F, AVX2 and FMA; `p` has `n` readable `f32`s.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(in crate::simd) unsafe fn all_finite(p: *const f32, n: usize) -> bool {
    // SAFETY: the caller's guarantee.
    unsafe { all_finite_kernel::<V>(p, n) }
}

/// Runs `f` compiled for AVX-512: the element-wise loops inlined into it
/// (an optimiser's update) vectorise for 512-bit registers. With VL, the
/// narrower vectors of a small network's pass (a tanh over 8 values) take
/// their constants as embedded broadcasts rather than one load each.
///
/// # Safety
///
/// The processor has AVX-512F, AVX-512VL, AVX2 and FMA.
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
#[inline]
pub(in crate::simd) unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
    f()
}
