//! `exp`, `tanh` and the sigmoid for `f32`, written to vectorise.
//!
//! The standard library's (and `libm`'s) `f32` functions are calls, one per
//! element, that no compiler turns into vector code; for a small network
//! they are most of the time of a forward pass. These are branch-free
//! polynomial evaluations with no table and no call, so a loop over a
//! batch compiles to vector instructions on any target that has them, and
//! to short straight-line code on a micro-controller. In training with one
//! sample per step, each activation waits for the one before, so the
//! polynomials are evaluated in Estrin's scheme, for short chains of
//! dependent operations.
//!
//! Accuracy against the `f64` functions, measured over every `f32` of each
//! domain: `exp` within 0.97 ulp, `tanh` within 1.98 ulp, `sigmoid` within
//! 2.40 ulp (glibc promises 1–2 ulp for its `f32` functions); this module's
//! tests check every 61st `f32` against bounds of 1, 2 and 2.5 ulp. NaN
//! in gives NaN out, infinities give the limits, and `tanh(-0) = -0`.
//! No input makes a subnormal intermediate (on x86 each costs about a
//! hundred cycles), except where the result itself is subnormal.
//! `f64` networks keep the standard functions: theirs are the gradients
//! checked against finite differences.
//!
//! The polynomial coefficients come from `tools/fit_math.py`.

/// `eʳ ≈ 1 + r + r² P(r)` for `|r| ≤ ln 2 / 2`; `P` highest degree first.
const EXP_P: [f32; 6] = [
    0.00019826496,
    0.0013946021,
    0.00833343,
    0.04166627,
    0.16666666,
    0.5,
];

/// `2ᶠ ≈ 1 + f P(f)` for `|f| ≤ 1/2`; `P` highest degree first. Accurate
/// to 1.75 · 2⁻²⁴, enough for `tanh`, which damps its error fourfold.
const EXP2_P: [f32; 5] = [0.0013218672, 0.009671698, 0.05550893, 0.24022238, 0.6931469];

/// `tanh(x) ≈ x + x³ Q(x²)` for `|x| ≤ 1`; `Q` highest degree first.
const TANH_Q: [f32; 7] = [
    -0.00035964366,
    0.0023058576,
    -0.007952825,
    0.021491693,
    -0.05388176,
    0.1333238,
    -0.333333,
];

/// `ln 2` in two parts: `LN2_HI` has 9 significant bits, so `n · LN2_HI`
/// is exact for every `n` the reduction meets, and `LN2_LO` is the rest.
const LN2_HI: f32 = f32::from_bits(0x3F31_8000); // 0.693359375
const LN2_LO: f32 = (core::f64::consts::LN_2 - LN2_HI as f64) as f32;

/// `1.5 · 2²³`: adding it to a float below `2²²` in magnitude rounds it to
/// an integer, held in the low bits of the sum.
const ROUND: f32 = 12_582_912.0;

/// `exp` is computed for inputs clamped to this range: below it the result
/// rounds to zero, and no caller here needs more than `e^88`.
const EXP_MIN: f32 = -104.0;
const EXP_MAX: f32 = 88.0;

/// Below this, `eˣ` rounds to 1.
const EXP_TINY: f32 = 1.0 / 67_108_864.0;

/// Below this, `tanh(x)` rounds to `x`; the polynomial is not evaluated
/// there, as its `x³` would be subnormal (and slow) for tiny inputs.
const TANH_TINY: f32 = 1.0 / 4096.0;

/// Up to this, `tanh` uses its polynomial; above, `(1 − F) / (1 + F)` with
/// `F = e^{−2x}`, which would lose bits to cancellation below.
const TANH_SMALL: f32 = 1.0;

/// Above this, `tanh(x)` rounds to 1.
const TANH_BIG: f32 = 9.1;

/// Below this, the sigmoid rounds to `1/2`.
const SIGMOID_TINY: f32 = EXP_TINY;

/// A polynomial of degree 4 in Estrin's scheme, coefficients highest degree
/// first: independent pairs, combined with `x²` and `x⁴`.
#[inline(always)]
fn estrin4(x: f32, [c4, c3, c2, c1, c0]: [f32; 5]) -> f32 {
    let x2 = x * x;
    ((c0 + c1 * x) + x2 * (c2 + c3 * x)) + (x2 * x2) * c4
}

/// A polynomial of degree 5 in Estrin's scheme.
#[inline(always)]
fn estrin5(x: f32, [c5, c4, c3, c2, c1, c0]: [f32; 6]) -> f32 {
    let x2 = x * x;
    let x4 = x2 * x2;
    (c0 + c1 * x) + x2 * (c2 + c3 * x) + x4 * (c4 + c5 * x)
}

/// A polynomial of degree 6 in Estrin's scheme.
#[inline(always)]
fn estrin6(x: f32, [c6, c5, c4, c3, c2, c1, c0]: [f32; 7]) -> f32 {
    let x2 = x * x;
    let x4 = x2 * x2;
    ((c0 + c1 * x) + x2 * (c2 + c3 * x)) + x4 * ((c4 + c5 * x) + x2 * c6)
}

/// `|x|`, by clearing the sign bit.
#[inline(always)]
fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7FFF_FFFF)
}

/// `max(a, lo)` for `a ≥ 0` (NaN stays NaN), compared as integers: the
/// bits of non-negative floats are ordered as the floats are, and NaN's are
/// above all of them. A select on a float comparison would not survive:
/// where a later select on the same comparison discards the clamped lanes,
/// the compiler removes the clamp, and those lanes compute on tiny inputs
/// whose powers are subnormal, which costs many cycles.
#[inline(always)]
fn at_least(a: f32, lo: f32) -> f32 {
    f32::from_bits((a.to_bits() as i32).max(lo.to_bits() as i32) as u32)
}

/// `2ⁿ` for `-126 ≤ n ≤ 127`, built from its exponent bits.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) << 23) as u32)
}

/// The integer `n` held in the low bits of `k = n + ROUND`.
#[inline(always)]
fn rounded(k: f32) -> i32 {
    (k.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32)
}

/// `eˣ` for `x ≤ 88` (larger inputs give `e^88`), NaN for NaN.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Written as selects so that NaN passes through (`min`/`max` would
    // replace it). Below 2⁻²⁶ in magnitude eˣ rounds to 1, which is also
    // what 0 gives, without the subnormal `r⁴` of a tiny `r`.
    let x = if abs(x) < EXP_TINY { 0.0 } else { x };
    let x = if x < EXP_MIN { EXP_MIN } else { x };
    let x = if x > EXP_MAX { EXP_MAX } else { x };
    exp_in_range(x)
}

/// `eˣ` for NaN or `EXP_MIN ≤ x ≤ EXP_MAX`, `x = 0` or `|x| ≥ 2⁻²⁶`: the
/// callers clamp, each only as far as it needs to.
#[inline(always)]
fn exp_in_range(x: f32) -> f32 {
    // x = n ln 2 + r with n an integer and |r| ≤ ln 2 / 2 (or barely more),
    // r computed in two steps (Cody and Waite) so that it keeps its bits
    // for large n.
    let k = x * core::f32::consts::LOG2_E + ROUND;
    let n = k - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let e = 1.0 + (r + r * r * estrin5(r, EXP_P));
    // 2ⁿ as a product of two powers in range, so that n down to -149
    // (subnormal results, where 2ⁿ is still exact) works; computed beside
    // the polynomial, leaving one multiplication after it.
    let n = rounded(k);
    let half = n >> 1;
    e * (pow2(half) * pow2(n - half))
}

/// The hyperbolic tangent.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    // Computed for |x|; tanh is odd, so the sign of x is put back last
    // (which also keeps tanh(-0) = -0). Both branches are computed; each
    // clamps its input to the range where it is used, so that the lanes a
    // select throws away make no subnormals either.
    let a = abs(x);
    let p = at_least(a, TANH_TINY);
    let z = p * p;
    let small = p + p * z * estrin6(z, TANH_Q);
    let small = if a < TANH_TINY { a } else { small };

    // (1 − F) / (1 + F) with F = e^{−2q} = 2^{n + f}, on q = |x| clamped to
    // [TANH_SMALL, TANH_BIG]. The reduction is a single rounding of
    // −2q log₂e (no Cody–Waite step): its error, at most 2.9 · 2⁻²⁴ of F
    // here, shrinks fourfold or more on the way to tanh. The branch is
    // chosen by the clamped value: a select on `a` would let the compiler
    // drop the lower clamp (see `at_least`).
    let q = if a < TANH_SMALL { TANH_SMALL } else { a };
    let q = if q > TANH_BIG { TANH_BIG } else { q };
    // With F = 2ⁿ g, (1 − F) / (1 + F) = (2⁻ⁿ − g) / (2⁻ⁿ + g): scaling by
    // a power of two is exact and commutes with rounding, so this is the
    // same number without the multiplication by 2ⁿ after the polynomial.
    let t = q * (-2.0 * core::f32::consts::LOG2_E);
    let k = t + ROUND;
    let f = t - (k - ROUND);
    let g = 1.0 + f * estrin4(f, EXP2_P);
    let unscale = pow2(-rounded(k));
    let large = (unscale - g) / (unscale + g);

    let t = if q > TANH_SMALL { large } else { small };
    f32::from_bits(t.to_bits() | (x.to_bits() & 0x8000_0000))
}

/// The logistic sigmoid `1 / (1 + e⁻ˣ)`, as `1 / (1 + e^{-|x|})` for
/// `x ≥ 0` and `e^{-|x|} / (1 + e^{-|x|})` below, so that nothing
/// overflows.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    let a = abs(x);
    let a = if a < SIGMOID_TINY { SIGMOID_TINY } else { a };
    let a = if a > -EXP_MIN { -EXP_MIN } else { a };
    let e = exp_in_range(-a);
    // NaN fails the comparison and takes `e`, which is NaN.
    let numerator = if x >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// The distance from `approx` to `exact` in units of the last place of
    /// the `f32` nearest `exact`.
    fn ulps(approx: f32, exact: f64) -> f64 {
        let nearest = exact as f32;
        let ulp = if nearest == 0.0 || !nearest.is_normal() {
            f64::from(f32::from_bits(1))
        } else {
            let bits = abs(nearest).to_bits();
            f64::from(f32::from_bits(bits + 1)) - f64::from(f32::from_bits(bits))
        };
        (f64::from(approx) - exact).abs() / ulp
    }

    /// The worst error of `f` against `reference` over every 61st `f32`
    /// from `from` to `to` (both of one sign), and where it is.
    fn worst(f: fn(f32) -> f32, reference: fn(f64) -> f64, from: f32, to: f32) -> (f64, f32) {
        let (lo, hi) = {
            let (a, b) = (from.to_bits(), to.to_bits());
            (a.min(b), a.max(b))
        };
        let mut worst = (0.0, 0.0);
        for bits in (lo..=hi).step_by(61) {
            let x = f32::from_bits(bits);
            let e = ulps(f(x), reference(f64::from(x)));
            if e > worst.0 {
                worst = (e, x);
            }
        }
        worst
    }

    fn sigmoid64(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    #[test]
    fn exp_is_within_one_ulp() {
        for (from, to) in [(0.0, EXP_MAX), (-0.0, EXP_MIN)] {
            let (err, at) = worst(exp, f64::exp, from, to);
            assert!(err <= 1.0, "exp: {err} ulp at {at}");
        }
    }

    #[test]
    fn tanh_is_within_two_ulp() {
        for (from, to) in [(0.0, 20.0), (-0.0, -20.0)] {
            let (err, at) = worst(tanh, f64::tanh, from, to);
            assert!(err <= 2.0, "tanh: {err} ulp at {at}");
        }
    }

    #[test]
    fn sigmoid_is_within_two_and_a_half_ulp() {
        for (from, to) in [(0.0, 40.0), (-0.0, -110.0)] {
            let (err, at) = worst(sigmoid, sigmoid64, from, to);
            assert!(err <= 2.5, "sigmoid: {err} ulp at {at}");
        }
    }

    #[test]
    fn special_values() {
        assert!(exp(f32::NAN).is_nan() && tanh(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(1e30), 1.0);
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(1e-30), 1e-30);
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(-1e-30), 0.5);
        assert_eq!(tanh(-1e-30), -1e-30);
        assert_eq!(tanh(f32::MIN_POSITIVE / 2.0), f32::MIN_POSITIVE / 2.0);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
    }
}
