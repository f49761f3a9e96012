//! Int8 inference: a trained `f32` network turned into one that computes
//! with 8-bit integers only (post-training quantisation), for
//! micro-controllers without a floating-point unit and for flash a quarter
//! the size.
//!
//! [`Quantized::calibrate`] takes a trained network and a representative
//! data set, measures the range of every layer's output on it, and gives a
//! [`Quantized<N>`]: the same layers in int8, a type derived from `N`, so
//! its input and output widths are still checked by the compiler. It is
//! `no_std`, allocation-free, and `const`-constructible, so an exported one
//! ([`export::quantized_source`](crate::export::quantized_source)) is a
//! `static` in flash.
//!
//! ```
//! use constnet::prelude::*;
//! use constnet::quant::Quantized;
//!
//! network! {
//!     /// A 16-64-10 classifier.
//!     struct Net<f32> { 16 => Dense<64>, Relu, Dense<10> }
//! }
//!
//! let mut rng = SmallRng::seed_from_u64(3);
//! let net = Net::random(&mut rng);
//! let data: Vec<[f32; 16]> = (0..300).map(|_| core::array::from_fn(|_| rng.random())).collect();
//! let int8: Quantized<Net> = Quantized::calibrate(&net, &data)?;
//! assert!(Quantized::<Net>::PARAMETER_BYTES < size_of::<Net>() / 3);
//! let same = data.iter().filter(|x| int8.classify(x) == net.classify(x)).count();
//! assert!(same >= 290, "{same} of 300");
//! # Ok::<(), constnet::quant::QuantError>(())
//! ```
//!
//! # The scheme
//!
//! The one TensorFlow Lite Micro and CMSIS-NN use, with two differences
//! noted below:
//!
//! - a real value `r` is stored as `q` with `r = scale · (q − zero)`
//!   ([`Quant`]); activations are asymmetric, with a scale and zero point
//!   from the measured range (widened to hold 0, so that 0 is exact);
//! - weights are symmetric (`zero = 0`) with one scale per output channel
//!   ([`QuantDense`]); a channel's scale is the layer's divided by a power
//!   of two (difference 1), so all channels share one fixed-point
//!   mantissa and a channel costs 5 bytes beside its weights;
//! - a dense layer sums `w · x` exactly in `i32`, adds an `i32` bias that
//!   holds the input's zero point, and rescales the sum by
//!   `M = scale_x · scale_w / scale_y`, written once as `M = m · 2^shift`
//!   with `m` a Q31 fixed-point number in `[0.5, 1)` ([`Multiplier`]),
//!   applied with a 64-bit multiply and one rounding shift (difference 2:
//!   TensorFlow Lite rounds twice);
//! - a ReLU or identity after a layer is folded into it ([`Quantize::FOLDS`]);
//!   other element-wise layers, a user's own made with
//!   [`elementwise!`](crate::elementwise!) among them, become a 256-entry
//!   [`Table`]; softmax is an integer softmax with a table of exponentials
//!   ([`QuantSoftmax`]).
//!
//! A layer of your own takes part by implementing [`Quantize`] (and, for
//! its int8 form, [`QuantLayer`]).
//!
//! Everything here is exact integer arithmetic: the same inputs give the
//! same bits on every processor. On Cortex-M4 and M7 the dot products use
//! the DSP extension's two-way multiply-add; the result is the same.

mod activation;
mod dense;
mod format;
mod kernel;
mod layer;
mod network;

pub use activation::{QuantRelu, QuantSoftmax, Table};
pub use dense::QuantDense;
pub use layer::{Measured, QuantLayer, Quantize, observe_one, output_quant};
pub use network::{QuantizeNetwork, Quantized};

use core::fmt::{self, Debug};

use num_traits::Float;

/// A vector of int8 codes, `[i8; N]`: what a quantised layer takes and
/// gives. Its width is in its type, as for [`Vector`](crate::Vector).
pub trait Codes: Copy + PartialEq + Debug + 'static {
    /// The width.
    const LEN: usize;
    /// All codes 0.
    const ZERO: Self;
    /// The codes, in order.
    fn as_slice(&self) -> &[i8];
    /// The codes, in order, mutably.
    fn as_mut_slice(&mut self) -> &mut [i8];
}

impl<const N: usize> Codes for [i8; N] {
    const LEN: usize = N;
    const ZERO: Self = [0; N];

    #[inline]
    fn as_slice(&self) -> &[i8] {
        self
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [i8] {
        self
    }
}

/// The smallest and largest values seen at one point of a network while
/// calibrating, and whether anything not finite was seen there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    min: f32,
    max: f32,
    non_finite: bool,
}

impl Range {
    /// Nothing seen yet.
    pub const EMPTY: Range = Range {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
        non_finite: false,
    };

    /// Widens the range to hold `values`.
    pub fn widen(&mut self, values: &[f32]) {
        for &v in values {
            if v.is_finite() {
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            } else {
                self.non_finite = true;
            }
        }
    }

    /// The smallest and largest value seen, or `None` if nothing was.
    pub fn bounds(self) -> Option<(f32, f32)> {
        (self.min <= self.max).then_some((self.min, self.max))
    }

    /// The int8 quantisation of this range ([`Quant::from_range`]).
    ///
    /// # Errors
    ///
    /// [`QuantError::NoData`] if nothing was seen, and
    /// [`QuantError::Range`] if a value seen was NaN or infinite.
    pub fn quant(self) -> Result<Quant, QuantError> {
        if self.non_finite {
            return Err(QuantError::Range {
                min: f32::NAN,
                max: f32::NAN,
            });
        }
        let (min, max) = self.bounds().ok_or(QuantError::NoData)?;
        Quant::from_range(min, max)
    }
}

impl Default for Range {
    fn default() -> Self {
        Range::EMPTY
    }
}

/// How a real number is stored in an `i8`: `r = scale · (q − zero)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    /// The real value of one step of `q`; positive.
    pub scale: f32,
    /// The `q` that stands for 0.
    pub zero: i32,
}

impl Quant {
    /// The asymmetric int8 quantisation of the range `[min, max]` (widened
    /// to hold 0, so that 0 is exact, as zero padding and ReLU need):
    /// `min` maps to −128 and `max` to 127.
    ///
    /// # Errors
    ///
    /// [`QuantError::Range`] if `min` or `max` is not finite or `min > max`.
    pub fn from_range(min: f32, max: f32) -> Result<Quant, QuantError> {
        if !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(QuantError::Range { min, max });
        }
        let (min, max) = (min.min(0.0), max.max(0.0));
        // A range of a single value (all zero) still needs a positive scale.
        let scale = if max > min { (max - min) / 255.0 } else { 1.0 };
        let zero = Float::round(-128.0 - min / scale).clamp(-128.0, 127.0) as i32;
        Ok(Quant { scale, zero })
    }

    /// The symmetric int8 quantisation of values in `[−max_abs, max_abs]`:
    /// zero point 0, `max_abs` maps to 127.
    ///
    /// # Errors
    ///
    /// [`QuantError::Range`] if `max_abs` is not finite or negative.
    pub fn symmetric(max_abs: f32) -> Result<Quant, QuantError> {
        if !(max_abs.is_finite() && max_abs >= 0.0) {
            return Err(QuantError::Range {
                min: -max_abs,
                max: max_abs,
            });
        }
        let scale = if max_abs > 0.0 { max_abs / 127.0 } else { 1.0 };
        Ok(Quant { scale, zero: 0 })
    }

    /// `r` stored in 8 bits: rounded to the nearest step, saturated.
    pub fn quantize(self, r: f32) -> i8 {
        let q = Float::round(r / self.scale) + self.zero as f32;
        // `as` saturates, and turns NaN into 0.
        q.clamp(-128.0, 127.0) as i8
    }

    /// The real value `q` stands for.
    pub fn dequantize(self, q: i8) -> f32 {
        self.scale * (i32::from(q) - self.zero) as f32
    }
}

/// A positive real multiplier `M` as `m · 2^shift`, with `m` a Q31
/// fixed-point number in `[0.5, 1)` (TensorFlow Lite's
/// `QuantizeMultiplier`), applied to an `i32` with integer operations
/// only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Multiplier {
    /// `m · 2^31`, in `[2^30, 2^31)`; 0 for `M = 0`.
    pub mantissa: i32,
    /// The power of two: positive shifts left, negative shifts right.
    pub shift: i32,
}

impl Multiplier {
    /// `M` to 31 bits of precision.
    ///
    /// # Errors
    ///
    /// [`QuantError::Multiplier`] if `M` is negative, not finite, or so
    /// large that `m · 2^shift` would need a left shift past 30 bits.
    pub fn new(m: f64) -> Result<Multiplier, QuantError> {
        if !(m.is_finite() && m >= 0.0) {
            return Err(QuantError::Multiplier(m));
        }
        if m == 0.0 {
            return Ok(Multiplier {
                mantissa: 0,
                shift: 0,
            });
        }
        // m = fraction · 2^shift with fraction in [0.5, 1).
        let mut shift = Float::floor(Float::log2(m)) as i32 + 1;
        let mut fraction = m / Float::powi(2f64, shift);
        // log2 may be off by one at the edges of a binade.
        if fraction >= 1.0 {
            fraction /= 2.0;
            shift += 1;
        } else if fraction < 0.5 {
            fraction *= 2.0;
            shift -= 1;
        }
        let mut mantissa = Float::round(fraction * 2_147_483_648.0) as i64;
        if mantissa == 1 << 31 {
            mantissa /= 2;
            shift += 1;
        }
        if shift > 30 {
            return Err(QuantError::Multiplier(m));
        }
        if shift < -31 {
            // Below 2^-32: every i32 rounds to 0.
            return Ok(Multiplier {
                mantissa: 0,
                shift: 0,
            });
        }
        Ok(Multiplier {
            mantissa: mantissa as i32,
            shift,
        })
    }

    /// `x · M` rounded to the nearest integer (halves upward), saturated
    /// to `i32`, with integer operations only: one 32 × 32 → 64-bit
    /// multiply by the mantissa, and one rounding right shift by
    /// `31 − shift`. Rounding once, the result is within 0.5 of
    /// `x · m · 2^shift` exactly. (TensorFlow Lite rounds twice, in the
    /// multiply and in the shift, and may differ from this by one.)
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        let product = i64::from(x) * i64::from(self.mantissa);
        if self.shift <= -2 {
            // The usual case, M < 1/4, in 32-bit operations on the high
            // word (one multiply on Cortex-M4). With `product = hi · 2³² +
            // lo` and a right shift by `32 + k`, `k ≥ 1`:
            // `⌊(product + 2^(31+k)) / 2^(32+k)⌋ = ⌊(hi + 2^(k−1)) / 2^k⌋`,
            // as `lo / 2³² < 1` cannot carry past a multiple of 2^k, and
            // that is `⌊(⌊hi / 2^(k−1)⌋ + 1) / 2⌋`. `new` makes shifts
            // of at least −31, so k − 1 ≤ 30; a shift written by hand
            // below that is taken modulo 32, without a panic.
            let k_less_one = (-2i32).wrapping_sub(self.shift) as u32;
            ((((product >> 32) as i32).wrapping_shr(k_less_one)) + 1) >> 1
        } else {
            // `new` keeps shift ≤ 30: a right shift of at least 1.
            let right = (31 - self.shift).max(1) as u32;
            // |product| < 2⁶², so adding half of 2^right cannot overflow.
            let sum = (product + (1i64 << (right - 1))) >> right;
            sum.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
        }
    }
}

/// Why a quantisation could not be made. Nothing the caller had (the
/// float network, its parameters) is changed by a failed quantisation.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum QuantError {
    /// A calibration range that is not finite, or whose minimum is above
    /// its maximum (no data, or NaN in it).
    Range {
        /// Its minimum.
        min: f32,
        /// Its maximum.
        max: f32,
    },
    /// A rescaling factor that is negative, not finite or too large for
    /// 32-bit fixed point (a layer whose output range is tiny next to its
    /// input's and weights').
    Multiplier(f64),
    /// No calibration data: a range was never measured.
    NoData,
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantError::Range { min, max } if min.is_nan() || max.is_nan() => f.write_str(
                "a value that is NaN or infinite was met while quantising: calibrate on data \
                 without NaN or infinities, and quantise a network whose parameters are finite",
            ),
            QuantError::Range { min, max } => write!(
                f,
                "the calibration range [{min}, {max}] is not a finite range: \
                 calibrate on data without NaN or infinities"
            ),
            QuantError::Multiplier(m) => write!(
                f,
                "the rescaling factor {m} cannot be written as a 32-bit fixed-point \
                 multiplier and shift"
            ),
            QuantError::NoData => f.write_str(
                "no calibration data: pass at least one representative input to calibrate on",
            ),
        }
    }
}

impl core::error::Error for QuantError {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn multipliers_by_hand() {
        // 0.5 = 2^30 / 2^31 · 2^0.
        assert_eq!(
            Multiplier::new(0.5).unwrap(),
            Multiplier {
                mantissa: 1 << 30,
                shift: 0
            }
        );
        // 0.75 = 0.75 · 2^0; 3 = 0.75 · 2^2; 0.1875 = 0.75 · 2^-2.
        let m = 3 << 29;
        assert_eq!(
            Multiplier::new(0.75).unwrap(),
            Multiplier {
                mantissa: m,
                shift: 0
            }
        );
        assert_eq!(
            Multiplier::new(3.0).unwrap(),
            Multiplier {
                mantissa: m,
                shift: 2
            }
        );
        assert_eq!(
            Multiplier::new(0.1875).unwrap(),
            Multiplier {
                mantissa: m,
                shift: -2
            }
        );
        assert_eq!(Multiplier::new(0.0).unwrap().apply(12345), 0);
        // 100 · 0.75 = 75; ±101 · 0.5 = ±50.5, halves upward in the
        // multiply: 51 and −50.
        assert_eq!(Multiplier::new(0.75).unwrap().apply(100), 75);
        assert_eq!(Multiplier::new(0.5).unwrap().apply(101), 51);
        assert_eq!(Multiplier::new(0.5).unwrap().apply(-101), -50);
        // 0.25 = 0.5 · 2^-1: ±6 · 0.25 = ±1.5, halves upward: 2 and −1.
        assert_eq!(Multiplier::new(0.25).unwrap().apply(6), 2);
        assert_eq!(Multiplier::new(0.25).unwrap().apply(-6), -1);
        // Saturated: 2³⁰ · 2⁴ does not fit.
        assert_eq!(Multiplier::new(16.0).unwrap().apply(1 << 30), i32::MAX);
        assert_eq!(Multiplier::new(16.0).unwrap().apply(-(1 << 30)), i32::MIN);
        // Shifts written by hand far outside what `new` makes: a value,
        // not a panic (the tests run with overflow checks).
        for shift in [i32::MIN, -1000, -40, 31, 1000, i32::MAX] {
            let _ = Multiplier {
                mantissa: 1 << 30,
                shift,
            }
            .apply(-12345);
        }
        assert!(Multiplier::new(f64::NAN).is_err() && Multiplier::new(-0.1).is_err());
        assert!(Multiplier::new(2f64.powi(40)).is_err());
    }

    #[test]
    fn applying_a_multiplier_is_rounding_to_nearest() {
        // Against f64, which holds these products to far better than a
        // step: within 0.5 of the exact product (one rounding), plus the
        // error of the multiplier's own 31 bits.
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..100_000 {
            let m = 2f64.powf(rng.random_range(-20.0..4.0));
            let x: i32 = rng.random_range(-(1 << 24)..(1 << 24));
            let multiplier = Multiplier::new(m).unwrap();
            let exact = f64::from(x) * m;
            let got = f64::from(multiplier.apply(x));
            let bound = 0.5 + exact.abs() * 2f64.powi(-30) + 1e-9;
            assert!((got - exact).abs() <= bound, "{x} · {m}: {got}");
        }
    }

    #[test]
    fn quantize_round_trips_within_half_a_step() {
        let q = Quant::from_range(-1.5, 3.0).unwrap();
        assert_eq!(q.quantize(-1.5), -128);
        assert_eq!(q.quantize(3.0), 127);
        assert_eq!(q.dequantize(q.quantize(0.0)), 0.0); // 0 is exact
        assert_eq!(q.quantize(1e9), 127); // saturates
        assert_eq!(q.quantize(f32::NAN), 0);
        let mut rng = SmallRng::seed_from_u64(2);
        for _ in 0..10_000 {
            let r: f32 = rng.random_range(-1.5..3.0);
            assert!((q.dequantize(q.quantize(r)) - r).abs() <= q.scale / 2.0 + 1e-6);
        }
        // Only positive values: the range is widened to hold 0.
        let relu = Quant::from_range(0.5, 2.0).unwrap();
        assert_eq!(relu.quantize(0.0), -128);
        assert!(Quant::from_range(1.0, -1.0).is_err());
        assert!(Quant::from_range(f32::NAN, 1.0).is_err());
        let w = Quant::symmetric(0.5).unwrap();
        assert_eq!((w.quantize(0.5), w.quantize(-0.5), w.zero), (127, -127, 0));
    }
}
