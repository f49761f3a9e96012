//! The scalar type of a network, zero values without `Default`, and vectors.
//!
//! Every network is generic over its scalar through [`Scalar`], which is
//! implemented for `f32` and `f64`. Float functions (`exp`, `tanh`, `ln`)
//! come from `std` with the `std` feature and from the pure-Rust `libm` crate
//! with the `libm` feature, through [`num_traits::Float`], except `f32`'s
//! `tanh`, which is constnet's own: it vectorises, and is within 2 ulp of
//! the exact value.

use core::fmt::{Debug, Display};
use core::ops::{AddAssign, MulAssign, SubAssign};

use num_traits::Float;

#[cfg(not(any(feature = "std", feature = "libm")))]
compile_error!(
    "constnet needs float functions: enable the `std` feature (the default) or, \
     for no_std targets, the `libm` feature (`--no-default-features --features libm`)"
);

/// A value with a zero that is known at compile time.
///
/// `[T; N]: Default` stops at `N = 32`, and `Default::default` is not `const`;
/// this trait gives zeroed parameters, gradients and buffers of any size,
/// also in `const` context.
///
/// It is implemented for every [`Zeroable`](bytemuck::Zeroable) type (a
/// type whose all-zero bytes are a valid value), which is how constnet
/// builds every zero value: derive `Zeroable` for a layer of your own and
/// it has a `ZERO` too.
pub trait Zeroed: Sized {
    /// The zero value: every number in it is `0`.
    const ZERO: Self;
}

impl<Z: bytemuck::Zeroable> Zeroed for Z {
    const ZERO: Self = bytemuck::zeroed();
}

mod sealed {
    use num_traits::Float;

    /// Seals [`Scalar`](super::Scalar), and carries the functions whose
    /// implementation depends on the type: `f32`'s `tanh` is constnet's own,
    /// which vectorises (see `crate::math`); `f64` uses the standard one.
    ///
    /// It also chooses the matrix kernels. The `simd_` methods take
    /// row-major matrices as flat slices, with the dimensions of
    /// `crate::simd`'s entry points; each returns `false` (or `None`),
    /// leaving its output alone, when it declines, and the caller then runs
    /// its portable loops. They decline unless a type overrides them: `f32`
    /// calls the vector kernels (`crate::simd`), which decline in turn when
    /// no instruction set of theirs is available. All are
    /// `#[inline(always)]`, so that the choice is made at compile time.
    pub trait Sealed: Sized {
        fn tanh_(self) -> Self;

        /// `y = x wᵀ (+ bias)`: `x` is `m × k`, `w` `n × k`, `y` `m × n`.
        #[inline(always)]
        fn simd_matmul_bt(
            _x: &[Self],
            _w: &[Self],
            _bias: Option<&[Self]>,
            _y: &mut [Self],
            _mnk: (usize, usize, usize),
        ) -> bool {
            false
        }
        /// `dx = dy w`: `dy` is `m × n`, `w` `n × k`, `dx` `m × k`.
        #[inline(always)]
        fn simd_matmul(
            _dy: &[Self],
            _w: &[Self],
            _dx: &mut [Self],
            _m: usize,
            _n: usize,
            _k: usize,
        ) -> bool {
            false
        }
        /// `w += dyᵀ x` with `ACC`, `w = dyᵀ x` without: `dy` is
        /// `m × n`, `x` `m × k`, `w` `n × k`.
        #[inline(always)]
        fn simd_add_at_b<const ACC: bool>(
            _dy: &[Self],
            _x: &[Self],
            _w: &mut [Self],
            _mnk: (usize, usize, usize),
        ) -> bool {
            false
        }
        /// Whether every value of `xs` is finite.
        #[inline(always)]
        fn simd_all_finite(_xs: &[Self]) -> Option<bool> {
            None
        }
        /// `Σ a[i] b[i]` over whole chunks of 8 (`a` and `b` of the same
        /// length, a positive multiple of 8), summed as `matrix::dot`'s
        /// Arm loop sums them.
        #[cfg(constnet_arm_fpu)]
        #[inline(always)]
        fn arm_dot(_a: &[Self], _b: &[Self]) -> Option<Self> {
            None
        }
    }

    impl Sealed for f32 {
        #[inline(always)]
        fn tanh_(self) -> Self {
            crate::math::tanh(self)
        }
        #[inline(always)]
        fn simd_matmul_bt(
            x: &[f32],
            w: &[f32],
            bias: Option<&[f32]>,
            y: &mut [f32],
            mnk: (usize, usize, usize),
        ) -> bool {
            crate::simd::matmul_bt(x, w, bias, y, mnk)
        }
        #[inline(always)]
        fn simd_matmul(
            dy: &[f32],
            w: &[f32],
            dx: &mut [f32],
            m: usize,
            n: usize,
            k: usize,
        ) -> bool {
            crate::simd::matmul(dy, w, dx, m, n, k)
        }
        #[inline(always)]
        fn simd_add_at_b<const ACC: bool>(
            dy: &[f32],
            x: &[f32],
            w: &mut [f32],
            mnk: (usize, usize, usize),
        ) -> bool {
            crate::simd::add_at_b::<ACC>(dy, x, w, mnk)
        }
        #[inline(always)]
        fn simd_all_finite(xs: &[f32]) -> Option<bool> {
            crate::simd::all_finite(xs)
        }
        #[cfg(constnet_arm_fpu)]
        #[inline(always)]
        fn arm_dot(a: &[f32], b: &[f32]) -> Option<f32> {
            Some(crate::simd::arm::dot_f32(a, b))
        }
    }

    /// `f64` declines the kernels (the trait's defaults).
    impl Sealed for f64 {
        #[inline]
        fn tanh_(self) -> Self {
            Float::tanh(self)
        }
    }
}

/// A floating-point scalar a network computes with: `f32` or `f64`.
///
/// This trait is sealed: the kernels are written and tested for these two.
pub trait Scalar:
    Float
    + bytemuck::Pod
    + bytemuck::Zeroable
    + Zeroed
    + AddAssign
    + SubAssign
    + MulAssign
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// One.
    const ONE: Self;
    /// The name of the type, as in a file header or a message (`"f32"`).
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` exactly. (Named apart from `num_traits`'
    /// `to_f64`, which returns an `Option`.)
    fn as_f64(self) -> f64;
}

impl Scalar for f32 {
    const ONE: Self = 1.0;
    const NAME: &'static str = "f32";

    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    const ONE: Self = 1.0;
    const NAME: &'static str = "f64";

    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
}

/// `x` as an `f64`, exactly, in `const` context (where [`Scalar::as_f64`],
/// a trait method, cannot be called). `T` is `f32` or `f64`, the only
/// scalars: its bytes are read as the one of the two that has its size.
pub(crate) const fn const_as_f64<T: Scalar>(x: T) -> f64 {
    let b: &[u8] = bytemuck::must_cast_slice(core::slice::from_ref(&x));
    if let [b0, b1, b2, b3] = *b {
        f32::from_ne_bytes([b0, b1, b2, b3]) as f64
    } else if let [b0, b1, b2, b3, b4, b5, b6, b7] = *b {
        f64::from_ne_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
    } else {
        panic!("a scalar is an f32 or an f64")
    }
}

/// `x` as a `T`, rounded to nearest, in `const` context (where
/// [`Scalar::from_f64`] cannot be called): for an `f32`, an `f64` whose
/// first four bytes in memory are those of `x as f32`, read as `T`.
pub(crate) const fn const_from_f64<T: Scalar>(x: f64) -> T {
    let wide = if size_of::<T>() == size_of::<f32>() {
        let [b0, b1, b2, b3] = (x as f32).to_ne_bytes();
        f64::from_ne_bytes([b0, b1, b2, b3, 0, 0, 0, 0])
    } else {
        x
    };
    let values: &[T] = bytemuck::must_cast_slice(core::slice::from_ref(&wide));
    values[0]
}

/// A fixed-width vector of scalars: the input or output of one sample.
///
/// Implemented for `[T; N]`; its width is part of its type, so feeding a
/// network a vector of the wrong width is a type error.
pub trait Vector:
    Copy + bytemuck::Zeroable + Zeroed + PartialEq + Debug + Send + Sync + 'static
{
    /// The scalar in the vector.
    type Scalar: Scalar;
    /// The width.
    const LEN: usize;
    /// The same vector in int8 codes, `[i8; LEN]`, for a quantised
    /// network (see [`quant`](crate::quant)).
    type Codes: crate::quant::Codes;
    /// The scalars, in order.
    fn as_slice(&self) -> &[Self::Scalar];
    /// The scalars, in order, mutably.
    fn as_mut_slice(&mut self) -> &mut [Self::Scalar];
}

impl<T: Scalar, const N: usize> Vector for [T; N] {
    type Scalar = T;
    const LEN: usize = N;
    type Codes = [i8; N];

    #[inline]
    fn as_slice(&self) -> &[T] {
        self
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
}

/// The index of the largest value (the first one on ties; `0` for an empty
/// slice). NaN never wins.
pub fn argmax<T: Scalar>(xs: &[T]) -> usize {
    let mut best = 0;
    let mut best_value = T::neg_infinity();
    for (i, &x) in xs.iter().enumerate() {
        if x > best_value {
            best = i;
            best_value = x;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_of_large_arrays() {
        let z: [[f32; 40]; 3] = Zeroed::ZERO;
        assert!(z.iter().flatten().all(|&x| x == 0.0));
        assert_eq!(<[f64; 7] as Vector>::LEN, 7);
    }

    #[test]
    fn const_conversions_are_as_f64_and_from_f64() {
        const THIRD: f32 = const_from_f64(1.0 / 3.0);
        const BACK: f64 = const_as_f64(THIRD);
        assert_eq!(THIRD.to_bits(), f32::from_f64(1.0 / 3.0).to_bits());
        assert_eq!(BACK.to_bits(), THIRD.as_f64().to_bits());
        for x in [0.1, -2.5e-40, 1e300, f64::INFINITY, f64::MIN_POSITIVE, -0.0] {
            let single: f32 = const_from_f64(x);
            assert_eq!(single.to_bits(), f32::from_f64(x).to_bits(), "{x}");
            assert_eq!(const_as_f64(single).to_bits(), single.as_f64().to_bits());
            let double: f64 = const_from_f64(x);
            assert_eq!(double.to_bits(), x.to_bits());
            assert_eq!(const_as_f64(double).to_bits(), x.to_bits());
        }
        assert!(const_as_f64(const_from_f64::<f32>(f64::NAN)).is_nan());
    }

    #[test]
    fn argmax_picks_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0f32, 3.0, 3.0, -1.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5, 0.25]), 1);
        assert_eq!(argmax::<f64>(&[]), 0);
    }
}
