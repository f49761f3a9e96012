//! `tanh` for `f32`, written to vectorise.
//!
//! The standard library's (and `libm`'s) `tanhf` is a call per element
//! that no compiler turns into vector code, and a slow one (glibc's takes
//! about 8 ns, against 2 for its `expf`); for a small tanh network it was
//! most of the time of a forward pass. This is a branch-free polynomial
//! evaluation with no table and no call, so a loop over a batch compiles
//! to vector instructions where the compiler finds enough lanes, and to
//! short straight-line code otherwise (and on a micro-controller). In
//! training with one sample per step each activation waits for the one
//! before, so the polynomials are evaluated in Estrin's scheme, for short
//! chains of dependent operations.
//!
//! Accuracy against `f64`'s `tanh`, measured over every `f32`: within
//! 1.98 ulp (glibc promises 2 ulp for its `tanhf`); this module's tests
//! check every 61st `f32` against a bound of 2 ulp. NaN in gives NaN out,
//! the infinities give ±1, and `tanh(-0) = -0`. No input makes a subnormal
//! intermediate (on x86 each costs about a hundred cycles). `f64` networks
//! keep the standard function: theirs are the gradients checked against
//! finite differences.
//!
//! The polynomial coefficients come from `tools/fit_math.py`.

/// `2ᶠ ≈ 1 + f P(f)` for `|f| ≤ 1/2`; `P` highest degree first. Accurate
/// to 1.75 · 2⁻²⁴, enough here: `tanh` damps the error of `F` fourfold.
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

/// `1.5 · 2²³`: adding it to a float below `2²²` in magnitude rounds it to
/// an integer, held in the low bits of the sum.
const ROUND: f32 = 12_582_912.0;

/// Below this, `tanh(x)` rounds to `x`; the polynomial is not evaluated
/// there, as its `x³` would be subnormal (and slow) for tiny inputs.
const TANH_TINY: f32 = 1.0 / 4096.0;

/// Up to this, `tanh` uses its polynomial; above, `(1 − F) / (1 + F)` with
/// `F = e^{−2x}`, which would lose bits to cancellation below.
const TANH_SMALL: f32 = 1.0;

/// Above this, `tanh(x)` rounds to 1.
const TANH_BIG: f32 = 9.1;

/// A polynomial of degree 4 in Estrin's scheme, coefficients highest degree
/// first: independent pairs, combined with `x²` and `x⁴`.
#[inline(always)]
fn estrin4(x: f32, [c4, c3, c2, c1, c0]: [f32; 5]) -> f32 {
    let x2 = x * x;
    ((c0 + c1 * x) + x2 * (c2 + c3 * x)) + (x2 * x2) * c4
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
    // −2q log₂e: its error, at most 2.9 · 2⁻²⁴ of F here, shrinks fourfold
    // or more on the way to tanh. The branch is chosen by the clamped
    // value: a select on `a` would let the compiler drop the lower clamp
    // (see `at_least`).
    let q = if a < TANH_SMALL { TANH_SMALL } else { a };
    let q = if q > TANH_BIG { TANH_BIG } else { q };
    let t = q * (-2.0 * core::f32::consts::LOG2_E);
    let k = t + ROUND;
    let f = t - (k - ROUND);
    let g = 1.0 + f * estrin4(f, EXP2_P);
    // With F = 2ⁿ g, (1 − F) / (1 + F) = (2⁻ⁿ − g) / (2⁻ⁿ + g): scaling by
    // a power of two is exact and commutes with rounding, so this is the
    // same number without a multiplication by 2ⁿ after the polynomial.
    let n = (k.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let unscale = pow2(-n);
    let large = (unscale - g) / (unscale + g);

    let t = if q > TANH_SMALL { large } else { small };
    f32::from_bits(t.to_bits() | (x.to_bits() & 0x8000_0000))
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

    #[test]
    fn tanh_is_within_two_ulp() {
        // Every 61st f32 of each sign up to 20, past where tanh rounds to 1.
        for (from, to) in [(0.0f32, 20.0f32), (-0.0, -20.0)] {
            let (lo, hi) = {
                let (a, b) = (from.to_bits(), to.to_bits());
                (a.min(b), a.max(b))
            };
            let mut worst = (0.0, 0.0);
            for bits in (lo..=hi).step_by(61) {
                let x = f32::from_bits(bits);
                let e = ulps(tanh(x), f64::from(x).tanh());
                if e > worst.0 {
                    worst = (e, x);
                }
            }
            assert!(worst.0 <= 2.0, "tanh: {} ulp at {}", worst.0, worst.1);
        }
    }

    #[test]
    fn special_values() {
        assert!(tanh(f32::NAN).is_nan());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(1e30), 1.0);
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(1e-30), 1e-30);
        assert_eq!(tanh(-1e-30), -1e-30);
        assert_eq!(tanh(f32::MIN_POSITIVE / 2.0), f32::MIN_POSITIVE / 2.0);
        assert!(ulps(tanh(TANH_SMALL), f64::from(TANH_SMALL).tanh()) <= 2.0);
    }
}
