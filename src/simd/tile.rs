//! The generic kernels: the [`Simd`] trait, the few operations they need
//! from a vector of `f32` lanes, and the register-blocked tiles and loops
//! written once over it. Each instruction set compiles them inside its own
//! `#[target_feature]` functions (`avx512.rs`, `avx2.rs`).

/// The operations the kernels need from a vector of `f32` lanes.
///
/// # Safety
///
/// Every method may only be called from code compiled with the type's
/// target features (the kernels are `#[inline(always)]` into a
/// `#[target_feature]` function) on a processor that has them. Loads and
/// stores take pointers to `LANES` (or, for the `_part` forms, `n`)
/// readable or writable `f32`s.
pub(super) trait Simd: Copy {
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

    /// Writes the sums of the lanes of a tile of accumulators:
    /// `y[r · ldy + j] = Σ acc[r][j] (+ bias[j])`. Every sum is added up by
    /// [`sum4`](Simd::sum4)'s tree, whatever the tile; without a bias the
    /// sum is stored as it is (adding `0.0` would turn a `-0.0` into
    /// `0.0`). The default sums four vectors at a time with `sum4`; a set
    /// may write a whole tile at once, by the same tree.
    ///
    /// # Safety
    ///
    /// As the trait's; rows `0..MR` of `y` (stride `ldy`) have `NR`
    /// writable `f32`s, and `bias` (unless null) `NR` readable ones.
    #[inline(always)]
    unsafe fn store_sums<const MR: usize, const NR: usize>(
        acc: &[[Self; NR]; MR],
        y: *mut f32,
        ldy: usize,
        bias: *const f32,
    ) {
        // SAFETY: the caller's guarantee.
        unsafe { default_store_sums(acc, y, ldy, bias) }
    }
}

/// [`Simd::store_sums`]'s default: four vectors at a time by
/// [`Simd::sum4`], each sum stored (with its bias added) on its own.
///
/// # Safety
///
/// As [`Simd::store_sums`].
#[inline(always)]
pub(super) unsafe fn default_store_sums<V: Simd, const MR: usize, const NR: usize>(
    acc: &[[V; NR]; MR],
    y: *mut f32,
    ldy: usize,
    bias: *const f32,
) {
    // SAFETY: the caller's guarantee: `y.add(r · ldy + j)` and
    // `bias.add(j)` are in bounds for `r < MR`, `j < NR`.
    unsafe {
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
                        let out = y.add(r * ldy + j + i);
                        *out = if bias.is_null() {
                            sums[i]
                        } else {
                            sums[i] + *bias.add(j + i)
                        };
                    }
                }
                j += 4;
            }
        }
    }
}

/// Dot products of `MR` rows of `x` (stride `ldx`) with `NR` rows of `w`
/// (stride `ldw`), over `k` columns, as vectors of partial sums: the lanes
/// of `acc[r][j]` add up to `x[r] · w[j]`.
///
/// Each lane sums every `LANES`-th product in order; the lanes are then
/// added by the same tree whatever `MR` and `NR` are
/// ([`Simd::store_sums`]).
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
) -> [[V; NR]; MR] {
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
        acc
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
        let bias = if bias.is_null() { bias } else { bias.add(o0) };
        let mut b0 = 0;
        while b0 + MR <= m {
            let acc = tile_nt::<V, MR, NR>(x.add(b0 * k), k, w, k, k);
            V::store_sums(&acc, y.add(b0 * n + o0), n, bias);
            b0 += MR;
        }
        while b0 < m {
            let acc = tile_nt::<V, 1, NR>(x.add(b0 * k), k, w, k, k);
            V::store_sums(&acc, y.add(b0 * n + o0), n, bias);
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
pub(super) unsafe fn gemm_nt<V: Simd, const MR: usize, const NR: usize>(
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

/// The most inputs [`gemm_nt_copied`] copies a tile of samples of.
pub(super) const COPY_COLUMNS: usize = 1024;

/// [`gemm_nt`] for an `x` whose rows do not start on 64-byte lines (a
/// caller's array): each tile of `MR` samples is first copied to rows that
/// do, on the stack, and then multiplied by every block of outputs, so
/// that its vector loads do not straddle two lines. The samples left over
/// (fewer than `MR`) are read in place. Each output's sum is the same
/// tile sum as [`gemm_nt`]'s, so the bits are the same.
///
/// # Safety
///
/// As [`gemm_nt`], with `MR ≤ 4` and `k ≤ COPY_COLUMNS`.
#[inline(always)]
pub(super) unsafe fn gemm_nt_copied<V: Simd, const MR: usize, const NR: usize>(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    const { assert!(MR <= 4, "the copy holds 4 rows") };
    debug_assert!(k <= COPY_COLUMNS);
    // Rows of the copy start on lines: its stride is `k` rounded up to 16.
    let ld = k.next_multiple_of(16);
    // Written before it is read, and only where written (`tile_nt` reads
    // columns below `k`): no need to zero it.
    let mut rows = super::Aligned(core::mem::MaybeUninit::<[f32; 4 * COPY_COLUMNS]>::uninit());
    let tile = rows.0.as_mut_ptr().cast::<f32>();
    let at = |o: usize| {
        if bias.is_null() {
            bias
        } else {
            bias.wrapping_add(o)
        }
    };
    // SAFETY: the caller's guarantee: samples `b0..b0 + MR ≤ m` of `x`
    // have `k` readable columns, outputs `o0..o0 + NR ≤ n` of `w` (and of
    // `bias`) are readable and of `y` writable; the copy holds `MR ≤ 4`
    // rows of `ld ≤ COPY_COLUMNS` columns.
    unsafe {
        let mut b0 = 0;
        while b0 + MR <= m {
            for r in 0..MR {
                core::ptr::copy_nonoverlapping(x.add((b0 + r) * k), tile.add(r * ld), k);
            }
            let mut o0 = 0;
            while o0 + NR <= n {
                let acc = tile_nt::<V, MR, NR>(tile, ld, w.add(o0 * k), k, k);
                V::store_sums(&acc, y.add(b0 * n + o0), n, at(o0));
                o0 += NR;
            }
            while o0 < n {
                let acc = tile_nt::<V, MR, 1>(tile, ld, w.add(o0 * k), k, k);
                V::store_sums(&acc, y.add(b0 * n + o0), n, at(o0));
                o0 += 1;
            }
            b0 += MR;
        }
        if b0 < m {
            // The samples left, one at a time, in place.
            let rest = m - b0;
            gemm_nt::<V, 1, NR>(x.add(b0 * k), w, bias, y.add(b0 * n), rest, n, k);
        }
    }
}

/// The operands of `C (+)= A B` for [`tile_ab`]: `A[r][p]` is at
/// `a[r · rs + p · ps]`, so that `A` can be a matrix or its transpose; `B`
/// and `C` are row-major with strides `ldb` and `ldc`.
#[derive(Clone, Copy)]
pub(super) struct Ab {
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
pub(super) unsafe fn gemm_ab<V: Simd, const MR: usize, const NV: usize, const ACC: bool>(op: Ab) {
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
pub(super) unsafe fn all_finite_kernel<V: Simd>(p: *const f32, n: usize) -> bool {
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
pub(super) fn nn(dy: *const f32, w: *const f32, dx: *mut f32, m: usize, n: usize, k: usize) -> Ab {
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
pub(super) fn tn(dy: *const f32, x: *const f32, w: *mut f32, m: usize, n: usize, k: usize) -> Ab {
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
