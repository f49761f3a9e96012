//! Integer arithmetic for int8 inference: how a real number is stored in
//! 8 bits, and how an `i32` sum of products is brought back to 8 bits with
//! an integer multiplier and a shift, without a float operation.
//!
//! The scheme is the one TensorFlow Lite Micro and CMSIS-NN use, so that a
//! network quantised here computes what those engines compute:
//!
//! - a real value `r` is stored as `q` with `r = scale · (q − zero)`
//!   ([`Quant`]); weights are symmetric (`zero = 0`) with one scale per
//!   output channel, activations asymmetric with a scale and zero point
//!   measured on data;
//! - a dense layer sums `w · (x − zero_x)` exactly in `i32`, adds an `i32`
//!   bias (stored with scale `scale_x · scale_w`), and rescales the sum by
//!   `M = scale_x · scale_w / scale_y`, a real number below 1 in practice,
//!   written once as `M = m · 2^shift` with `m` a Q31 fixed-point number
//!   in `[0.5, 1)` ([`Multiplier`]), then applied with a rounding
//!   doubling high multiply and a rounding right shift ([`Multiplier::apply`]).
//!
//! Everything here is `no_std`, allocation-free and exact: the same inputs
//! give the same bits on every processor.

mod dense;

pub use dense::QuantDense;

use core::fmt;

use num_traits::Float;

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

    /// `x · M` rounded, saturated to `i32`, with integer operations only:
    /// a left shift for `shift > 0`, the rounding doubling high multiply
    /// by the mantissa (halves upward), then a rounding right shift for
    /// `shift < 0` (halves away from zero), as TensorFlow Lite computes
    /// it. Rounding twice, the result is within 0.75 of `x · M` (within
    /// 0.5 without a right shift).
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        let left = self.shift.max(0) as u32;
        let right = (-self.shift).max(0) as u32;
        let x = x.saturating_mul(1 << left);
        rounding_shift_right(doubling_high_mul(x, self.mantissa), right)
    }
}

/// `a · b / 2^31` rounded to nearest, halves upward, saturated: the high
/// half of the doubled product (`SaturatingRoundingDoublingHighMul`).
#[inline]
fn doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let product = i64::from(a) * i64::from(b);
    let nudge = if product >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncates toward zero; with the nudge, the result is the
    // nearest integer, an exact half going up.
    ((product + nudge) / (1 << 31)) as i32
}

/// `round(x / 2^exponent)`, halves away from zero
/// (`RoundingDivideByPOT`).
#[inline]
fn rounding_shift_right(x: i32, exponent: u32) -> i32 {
    if exponent == 0 {
        return x;
    }
    let exponent = exponent.min(31);
    let mask = (1i64 << exponent) - 1;
    let remainder = i64::from(x) & mask;
    let threshold = (mask >> 1) + i64::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// Why a quantisation could not be made.
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
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
        // 0.25 = 0.5 · 2^-1: the multiply gives 3, the shift rounds 1.5
        // away from zero: ±2.
        assert_eq!(Multiplier::new(0.25).unwrap().apply(6), 2);
        assert_eq!(Multiplier::new(0.25).unwrap().apply(-6), -2);
        assert!(Multiplier::new(f64::NAN).is_err() && Multiplier::new(-0.1).is_err());
        assert!(Multiplier::new(2f64.powi(40)).is_err());
    }

    #[test]
    fn applying_a_multiplier_is_rounding_to_nearest() {
        // Against f64, which holds these products to far better than a
        // step: within 0.5 of the exact product without a right shift,
        // 0.75 with one (two roundings), plus the error of the
        // multiplier's own 31 bits.
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..100_000 {
            let m = 2f64.powf(rng.random_range(-20.0..4.0));
            let x: i32 = rng.random_range(-(1 << 24)..(1 << 24));
            let multiplier = Multiplier::new(m).unwrap();
            let exact = f64::from(x) * m;
            let got = f64::from(multiplier.apply(x));
            let rounding = if multiplier.shift < 0 { 0.75 } else { 0.5 };
            let bound = rounding + exact.abs() * 2f64.powi(-30) + 1e-9;
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
