//! The const-generic matrix and the kernels the layers are made of.
//!
//! A [`Matrix<T, R, C>`] is a plain `[[T; C]; R]`: `R` rows of `C` scalars,
//! **row-major**. A dense layer with `I` inputs and `O` outputs keeps its
//! weights as a `Matrix<T, O, I>` (the layout of PyTorch's `nn.Linear.weight`,
//! `[out, in]`), and row-major is the layout in which all three of its kernels
//! read memory contiguously:
//!
//! | kernel | formula | inner loop |
//! |---|---|---|
//! | [`Matrix::matvec`] | `y = W x` | dot product of a row with `x` |
//! | [`Matrix::matvec_t`] | `dx = Wᵀ dy` | `dx += dy[o] · row o` (axpy) |
//! | [`Matrix::add_outer`] | `W += a bᵀ` | `row o += a[o] · b` (axpy) |
//!
//! A column-major layout would turn the forward pass into strided reads
//! instead. The mini-batch forms keep one sample per row of a
//! `[[T; C]; B]` and reuse each weight row across the whole batch:
//! [`Matrix::matmul_bt`] (`Y = X Wᵀ`), [`Matrix::matmul`] (`dX = dY W`) and
//! [`Matrix::add_at_b`] (`W += dYᵀ X`).

use core::fmt;

use crate::scalar::Scalar;
use crate::simd;

/// An instruction set the `f32` products of dense layers can use. Each
/// output's summation order depends on it, so results computed at two
/// levels differ by rounding (see the README's Reproducibility section);
/// `f64` always runs the portable loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KernelLevel {
    /// The portable loops, on every target.
    Portable,
    /// 256-bit AVX2 with FMA (x86-64).
    Avx2,
    /// 512-bit AVX-512F, on processors that also have AVX-512VL (x86-64).
    Avx512,
}

/// The level the kernels use now: the widest the processor has (with
/// `std`, detected once; otherwise the build's target features), unless
/// [`set_kernel_level`] chose another.
pub fn kernel_level() -> KernelLevel {
    from_simd(simd::level())
}

/// The widest level this processor (and build) can use.
pub fn widest_kernel_level() -> KernelLevel {
    from_simd(simd::widest())
}

/// Makes every `f32` product in the process use `level` from now on, for
/// results that do not depend on the processor a program runs on (every
/// x86-64 processor with AVX2 gives the same bits at
/// [`KernelLevel::Avx2`]), or to compare levels.
///
/// ```
/// use constnet::matrix::{KernelLevel, kernel_level, set_kernel_level};
///
/// set_kernel_level(KernelLevel::Portable)?;
/// assert_eq!(kernel_level(), KernelLevel::Portable);
/// # Ok::<(), constnet::matrix::UnsupportedLevel>(())
/// ```
///
/// # Errors
///
/// [`UnsupportedLevel`] if the processor does not have `level`; the level
/// in use is then unchanged.
pub fn set_kernel_level(level: KernelLevel) -> Result<(), UnsupportedLevel> {
    let wanted = match level {
        KernelLevel::Portable => Some(simd::Level::Portable),
        #[cfg(target_arch = "x86_64")]
        KernelLevel::Avx2 => Some(simd::Level::Avx2),
        #[cfg(target_arch = "x86_64")]
        KernelLevel::Avx512 => Some(simd::Level::Avx512),
        #[cfg(not(target_arch = "x86_64"))]
        _ => None,
    };
    match wanted {
        Some(wanted) if simd::set(wanted) => Ok(()),
        _ => Err(UnsupportedLevel {
            wanted: level,
            widest: widest_kernel_level(),
        }),
    }
}

/// The internal level as the public one.
fn from_simd(level: simd::Level) -> KernelLevel {
    match level {
        simd::Level::Portable => KernelLevel::Portable,
        #[cfg(target_arch = "x86_64")]
        simd::Level::Avx2 => KernelLevel::Avx2,
        #[cfg(target_arch = "x86_64")]
        simd::Level::Avx512 => KernelLevel::Avx512,
    }
}

/// A kernel level the processor does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedLevel {
    /// The level asked for.
    pub wanted: KernelLevel,
    /// The widest level available.
    pub widest: KernelLevel,
}

impl fmt::Display for UnsupportedLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this processor has no {:?} kernels: expected a level up to {:?}",
            self.wanted, self.widest
        )
    }
}

impl core::error::Error for UnsupportedLevel {}

/// An `R × C` matrix stored as `R` rows of `C` scalars (row-major).
///
/// ```
/// use constnet::Matrix;
///
/// let w = Matrix::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]); // 3 × 2
/// let mut y = [0.0; 3];
/// w.matvec(&[1.0, -1.0], &mut y);
/// assert_eq!(y, [-1.0, -1.0, -1.0]);
/// ```
#[derive(Clone, Copy, PartialEq, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct Matrix<T, const R: usize, const C: usize>(pub [[T; C]; R]);

impl<T, const R: usize, const C: usize> Matrix<T, R, C> {
    /// The number of rows.
    pub const ROWS: usize = R;
    /// The number of columns.
    pub const COLS: usize = C;

    /// A matrix from its rows. `const`, so a matrix can live in a `static`.
    pub const fn new(rows: [[T; C]; R]) -> Self {
        Matrix(rows)
    }

    /// The rows.
    pub const fn rows(&self) -> &[[T; C]; R] {
        &self.0
    }

    /// The scalars in row-major order, as one slice.
    pub fn as_flat(&self) -> &[T] {
        self.0.as_flattened()
    }

    /// The scalars in row-major order, as one mutable slice.
    pub fn as_flat_mut(&mut self) -> &mut [T] {
        self.0.as_flattened_mut()
    }
}

impl<T: Scalar, const R: usize, const C: usize> Matrix<T, R, C> {
    /// `y = W x`.
    #[inline]
    pub fn matvec(&self, x: &[T; C], y: &mut [T; R]) {
        self.matmul_bt(core::array::from_ref(x), core::array::from_mut(y));
    }

    /// `dx = Wᵀ dy` (the transposed product, used to carry a gradient back).
    #[inline]
    pub fn matvec_t(&self, dy: &[T; R], dx: &mut [T; C]) {
        self.matmul(core::array::from_ref(dy), core::array::from_mut(dx));
    }

    /// `W += a bᵀ` (outer-product accumulation).
    #[inline]
    pub fn add_outer(&mut self, a: &[T; R], b: &[T; C]) {
        self.add_at_b(core::array::from_ref(a), core::array::from_ref(b));
    }

    /// `Y = X Wᵀ` for a batch `X` with one sample per row: `Y[b] = W X[b]`.
    #[inline]
    pub fn matmul_bt<const B: usize>(&self, x: &[[T; C]; B], y: &mut [[T; R]; B]) {
        if vectorised(R, C)
            && T::simd_matmul_bt(
                x.as_flattened(),
                self.0.as_flattened(),
                None,
                y.as_flattened_mut(),
                (B, R, C),
            )
        {
            return;
        }
        portable::matmul_bt(self, x, y);
    }

    /// `Y = X Wᵀ + b`, the bias added to each row: a dense layer's forward
    /// pass. The vector kernels add the bias as they store each sum, with
    /// the same result as adding it afterwards.
    #[inline]
    pub(crate) fn matmul_bt_bias<const B: usize>(
        &self,
        x: &[[T; C]; B],
        bias: &[T; R],
        y: &mut [[T; R]; B],
    ) {
        if vectorised(R, C)
            && T::simd_matmul_bt(
                x.as_flattened(),
                self.0.as_flattened(),
                Some(bias),
                y.as_flattened_mut(),
                (B, R, C),
            )
        {
            return;
        }
        portable::matmul_bt(self, x, y);
        for yb in y.iter_mut() {
            for (v, &b) in yb.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }

    /// `dX = dY W` for a batch with one sample per row: `dX[b] = Wᵀ dY[b]`.
    #[inline]
    pub fn matmul<const B: usize>(&self, dy: &[[T; R]; B], dx: &mut [[T; C]; B]) {
        if vectorised(R, C)
            && T::simd_matmul(
                dy.as_flattened(),
                self.0.as_flattened(),
                dx.as_flattened_mut(),
                B,
                R,
                C,
            )
        {
            return;
        }
        portable::matmul(self, dy, dx);
    }

    /// `W += dYᵀ X`: the sum over the batch of the outer products `dY[b] X[b]ᵀ`.
    #[inline]
    pub fn add_at_b<const B: usize>(&mut self, dy: &[[T; R]; B], x: &[[T; C]; B]) {
        self.at_b::<B, true>(dy, x);
    }

    /// `W = dYᵀ X`, whatever `W` held: [`add_at_b`](Matrix::add_at_b) on a
    /// zero matrix, with the same values, without reading `W` (a zero may
    /// differ in sign: the portable loops start each sum from the first
    /// sample's product rather than from zero).
    #[inline]
    pub fn set_at_b<const B: usize>(&mut self, dy: &[[T; R]; B], x: &[[T; C]; B]) {
        self.at_b::<B, false>(dy, x);
    }

    /// `W += dYᵀ X` with `ACC`, `W = dYᵀ X` without.
    #[inline(always)]
    fn at_b<const B: usize, const ACC: bool>(&mut self, dy: &[[T; R]; B], x: &[[T; C]; B]) {
        if vectorised(R, C)
            && T::simd_add_at_b::<ACC>(
                dy.as_flattened(),
                x.as_flattened(),
                self.0.as_flattened_mut(),
                (B, R, C),
            )
        {
            return;
        }
        if ACC {
            portable::add_at_b(self, dy, x);
        } else {
            portable::set_at_b(self, dy, x);
        }
    }
}

/// Whether an `R × C` matrix is offered to the vector kernels, which
/// `T` then takes (`f32`) or declines (`f64`): only when the matrix is
/// large enough for vectors to pay. All three kernels run their vectors
/// along the `C` inputs, so narrow matrices and small ones (a 2-8-1
/// network) stay in the portable loops, which the compiler unrolls for the
/// exact widths. Decided at compile time.
#[inline(always)]
fn vectorised(rows: usize, cols: usize) -> bool {
    cols >= SIMD_MIN_COLS && rows * cols >= SIMD_MIN_LEN
}

/// The fewest columns (inputs) the vector kernels take: one AVX-512 vector.
const SIMD_MIN_COLS: usize = 16;
/// The fewest scalars the vector kernels take.
const SIMD_MIN_LEN: usize = 256;

/// The portable kernels: plain loops for any [`Scalar`], used for `f64`,
/// on targets without vector kernels and for small matrices. The
/// [`Matrix`] methods call the vector kernels instead where they can; these
/// are public (hidden) so that tests can compare the two.
///
/// Each reads the weights once per batch: the outer loop is over weight
/// rows, the inner over samples. Every output is summed in the same order
/// as by the per-sample kernels ([`dot`] for the forward product, rows in
/// order for the other two), so a sample's result does not depend on the
/// batch around it.
#[doc(hidden)]
pub mod portable {
    use super::{Matrix, axpy, dot};
    use crate::scalar::{Scalar, Zeroed};

    /// `Y = X Wᵀ`.
    #[inline]
    pub fn matmul_bt<T: Scalar, const R: usize, const C: usize, const B: usize>(
        w: &Matrix<T, R, C>,
        x: &[[T; C]; B],
        y: &mut [[T; R]; B],
    ) {
        for (o, row) in w.0.iter().enumerate() {
            for (xb, yb) in x.iter().zip(y.iter_mut()) {
                yb[o] = dot(row, xb);
            }
        }
    }

    /// `dX = dY W`.
    #[inline]
    pub fn matmul<T: Scalar, const R: usize, const C: usize, const B: usize>(
        w: &Matrix<T, R, C>,
        dy: &[[T; R]; B],
        dx: &mut [[T; C]; B],
    ) {
        // The first row sets dX, the others add to it: no sums from zero.
        let Some((first, rest)) = w.0.split_first() else {
            *dx = Zeroed::ZERO;
            return;
        };
        for (db, xb) in dy.iter().zip(dx.iter_mut()) {
            for (v, &wv) in xb.iter_mut().zip(first) {
                *v = db[0] * wv;
            }
        }
        for (o, row) in rest.iter().enumerate() {
            for (db, xb) in dy.iter().zip(dx.iter_mut()) {
                axpy(db[o + 1], row, xb);
            }
        }
    }

    /// `W = dYᵀ X`: [`add_at_b`] from the first sample's products instead
    /// of from zero (an addition of zero is a step on a single sample's
    /// chain of dependent operations).
    #[inline]
    pub fn set_at_b<T: Scalar, const R: usize, const C: usize, const B: usize>(
        w: &mut Matrix<T, R, C>,
        dy: &[[T; R]; B],
        x: &[[T; C]; B],
    ) {
        let (Some((d0, dy)), Some((x0, x))) = (dy.split_first(), x.split_first()) else {
            *w = Zeroed::ZERO;
            return;
        };
        for (o, row) in w.0.iter_mut().enumerate() {
            for (v, &xv) in row.iter_mut().zip(x0) {
                *v = d0[o] * xv;
            }
            for (db, xb) in dy.iter().zip(x) {
                axpy(db[o], xb, row);
            }
        }
    }

    /// `W += dYᵀ X`.
    #[inline]
    pub fn add_at_b<T: Scalar, const R: usize, const C: usize, const B: usize>(
        w: &mut Matrix<T, R, C>,
        dy: &[[T; R]; B],
        x: &[[T; C]; B],
    ) {
        for (o, row) in w.0.iter_mut().enumerate() {
            for (db, xb) in dy.iter().zip(x) {
                axpy(db[o], xb, row);
            }
        }
    }
}

/// Products per step of [`dot`]'s loop.
const CHUNK: usize = 8;

/// Independent partial sums in [`dot`]: 8 keep a vector register busy
/// without `-ffast-math` where there are vector registers.
#[cfg(not(target_arch = "arm"))]
const LANES: usize = 8;

/// Independent partial sums in [`dot`] on 32-bit Arm: 2, which stay in the
/// FPU's registers at `opt-level = "s"`, where 8 spilled to the stack
/// (digits 64-32-10 on a Cortex-M4F: 12.4 instructions per multiply-add
/// with 8, 4.02 with 2; `tools/count_instructions.py`). On
/// `thumbv7em-none-eabihf` the same sums, in the same order, are an
/// assembly loop (`simd::arm`): 2.14.
#[cfg(target_arch = "arm")]
const LANES: usize = 2;

/// The dot product `Σ a[i] b[i]`, `CHUNK` products per step summed into
/// `LANES` interleaved partial sums (product `k` of a step into sum
/// `k mod LANES`), so that it vectorises; the summation order depends only
/// on `N` and the target's `LANES`.
#[inline]
pub fn dot<T: Scalar, const N: usize>(a: &[T; N], b: &[T; N]) -> T {
    let (ac, at) = a.as_chunks::<CHUNK>();
    let (bc, bt) = b.as_chunks::<CHUNK>();
    // Sums start from the first product, not from zero: for a short
    // vector the additions of zero would be most of the dependency chain.
    let tail = at.iter().zip(bt).map(|(&x, &y)| x * y).reduce(|s, p| s + p);
    let (Some((a0, ac)), Some((b0, bc))) = (ac.split_first(), bc.split_first()) else {
        return tail.unwrap_or(T::ZERO);
    };
    // The same sums in assembly on the Cortex-M4F (see `simd::arm`).
    #[cfg(constnet_arm_fpu)]
    if let Some(sum) = T::arm_dot(&a[..N - at.len()], &b[..N - bt.len()]) {
        return match tail {
            Some(t) => sum + t,
            None => sum,
        };
    }
    let mut acc = first_step(a0, b0);
    for (x, y) in ac.iter().zip(bc) {
        step(&mut acc, x, y);
    }
    let sum = sum_lanes(acc);
    match tail {
        Some(t) => sum + t,
        None => sum,
    }
}

/// The partial sums of [`dot`]'s first step: one product each.
#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn first_step<T: Scalar>(x: &[T; CHUNK], y: &[T; CHUNK]) -> [T; LANES] {
    core::array::from_fn(|k| x[k] * y[k])
}

/// One step of [`dot`]: product `k` into partial sum `k`.
#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn step<T: Scalar>(acc: &mut [T; LANES], x: &[T; CHUNK], y: &[T; CHUNK]) {
    for k in 0..CHUNK {
        acc[k] += x[k] * y[k];
    }
}

/// The partial sums of [`dot`], added pairwise.
#[cfg(not(target_arch = "arm"))]
#[inline(always)]
fn sum_lanes<T: Scalar>([a0, a1, a2, a3, a4, a5, a6, a7]: [T; LANES]) -> T {
    ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))
}

/// The partial sums of [`dot`]'s first step: even products into the first,
/// odd into the second. Written out, because at `opt-level = "s"` a loop
/// over `k` is not unrolled and the sums would live in memory.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn first_step<T: Scalar>(x: &[T; CHUNK], y: &[T; CHUNK]) -> [T; LANES] {
    let mut acc = [x[0] * y[0], x[1] * y[1]];
    acc[0] += x[2] * y[2];
    acc[1] += x[3] * y[3];
    acc[0] += x[4] * y[4];
    acc[1] += x[5] * y[5];
    acc[0] += x[6] * y[6];
    acc[1] += x[7] * y[7];
    acc
}

/// One step of [`dot`]: even products into the first sum, odd into the
/// second, written out as [`first_step`] is.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn step<T: Scalar>(acc: &mut [T; LANES], x: &[T; CHUNK], y: &[T; CHUNK]) {
    let [mut s0, mut s1] = *acc;
    s0 += x[0] * y[0];
    s1 += x[1] * y[1];
    s0 += x[2] * y[2];
    s1 += x[3] * y[3];
    s0 += x[4] * y[4];
    s1 += x[5] * y[5];
    s0 += x[6] * y[6];
    s1 += x[7] * y[7];
    *acc = [s0, s1];
}

/// The partial sums of [`dot`], added.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn sum_lanes<T: Scalar>([a0, a1]: [T; LANES]) -> T {
    a0 + a1
}

/// `y += a x` over the common length.
#[inline]
pub fn axpy<T: Scalar>(a: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

impl<T: fmt::Debug, const R: usize, const C: usize> fmt::Debug for Matrix<T, R, C> {
    /// Prints the shape and, for matrices of up to 64 scalars, the rows;
    /// larger matrices print their first row's first values only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matrix<{R}×{C}>")?;
        if R * C <= 64 {
            f.debug_list().entries(self.0.iter()).finish()
        } else {
            let first = self.0.first().map(|r| &r[..C.min(4)]).unwrap_or(&[]);
            write!(f, "[{first:?}…]")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Zeroed;

    // A 3 × 2 matrix and vectors small enough to check by hand.
    const W: Matrix<f64, 3, 2> = Matrix::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);

    #[test]
    fn matvec_by_hand() {
        let mut y = [0.0; 3];
        W.matvec(&[2.0, -1.0], &mut y);
        assert_eq!(y, [0.0, 2.0, 4.0]);
    }

    #[test]
    fn matvec_t_by_hand() {
        let mut dx = [9.0; 2]; // overwritten, not accumulated
        W.matvec_t(&[1.0, 0.0, -1.0], &mut dx);
        assert_eq!(dx, [-4.0, -4.0]);
    }

    #[test]
    fn add_outer_by_hand() {
        let mut w = W;
        w.add_outer(&[1.0, 0.0, 2.0], &[10.0, 100.0]);
        assert_eq!(w.0, [[11.0, 102.0], [3.0, 4.0], [25.0, 206.0]]);
    }

    #[test]
    fn batch_forms_equal_per_sample_forms() {
        let x = [[2.0, -1.0], [0.5, 3.0]];
        let dy = [[1.0, 0.0, -1.0], [0.25, 2.0, 1.0]];
        let mut y = [[0.0; 3]; 2];
        W.matmul_bt(&x, &mut y);
        let mut dx = [[0.0; 2]; 2];
        W.matmul(&dy, &mut dx);
        let mut acc = Matrix::<f64, 3, 2>::ZERO;
        acc.add_at_b(&dy, &x);
        let mut expected = Matrix::<f64, 3, 2>::ZERO;
        for b in 0..2 {
            let (mut yb, mut dxb) = ([0.0; 3], [0.0; 2]);
            W.matvec(&x[b], &mut yb);
            W.matvec_t(&dy[b], &mut dxb);
            expected.add_outer(&dy[b], &x[b]);
            assert_eq!(y[b], yb);
            assert_eq!(dx[b], dxb);
        }
        assert_eq!(acc, expected);
    }

    #[test]
    fn dot_handles_lanes_and_tail() {
        let a: [f64; 19] = core::array::from_fn(|i| i as f64);
        let b: [f64; 19] = core::array::from_fn(|i| 1.0 - i as f64 * 0.5);
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-12);
        assert_eq!(dot::<f32, 0>(&[], &[]), 0.0);
    }
}
