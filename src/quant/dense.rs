//! A dense layer in int8: `y = W x + b` with `i8` weights and activations,
//! an `i32` sum, and integer rescaling.

use num_traits::Float;

use super::{Multiplier, Quant, QuantError};
use crate::layer::Dense;

/// A dense layer computed in integers only, made from a trained
/// [`Dense`] by [`QuantDense::from_dense`].
///
/// Output `o` is
/// `clamp(rescale[o](bias[o] + Σᵢ weight[o][i] · x[i]) + output_zero, output_min, 127)`:
/// a dot product of `i8`s summed in `i32`, one integer multiply-and-shift
/// ([`Multiplier::apply`]) and a clamp, which is also the fused ReLU when
/// `output_min` is the output's zero point.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantDense<const I: usize, const O: usize> {
    /// The weights, one row per output, each row symmetric with its own
    /// scale `s_w[o]`: `W[o][i] ≈ s_w[o] · weight[o][i]`, in `[−127, 127]`.
    pub weight: [[i8; I]; O],
    /// The bias in units of `s_x · s_w[o]`, with the input's zero point
    /// folded in (`b[o] / (s_x s_w[o]) − zero_x Σᵢ weight[o][i]`), so that
    /// the inner loop is a plain dot product.
    pub bias: [i32; O],
    /// `s_x · s_w[o] / s_y`, per output.
    pub rescale: [Multiplier; O],
    /// The output's zero point.
    pub output_zero: i32,
    /// The smallest output: −128, or the output's zero point (real 0) for
    /// a fused ReLU.
    pub output_min: i8,
}

impl<const I: usize, const O: usize> QuantDense<I, O> {
    /// The int8 form of `dense`, for inputs stored as `input` and outputs
    /// as `output` (both measured on representative data), with a ReLU
    /// fused after it if `relu`.
    ///
    /// ```
    /// use constnet::prelude::*;
    /// use constnet::quant::{Quant, QuantDense};
    ///
    /// let dense = Dense::new([[0.5f32, -0.25], [1.0, 0.75]], [0.1, -0.2]);
    /// let (input, output) = (Quant::from_range(-1.0, 1.0)?, Quant::from_range(-2.0, 2.0)?);
    /// let q = QuantDense::from_dense(&dense, input, output, false)?;
    ///
    /// let x = [0.5f32, -1.0];
    /// let y = q.forward(&x.map(|v| input.quantize(v)));
    /// let exact = dense.map(&x); // [0.6, -0.45]
    /// for (y, exact) in y.iter().zip(exact) {
    ///     assert!((output.dequantize(*y) - exact).abs() < 0.03);
    /// }
    /// # Ok::<(), constnet::quant::QuantError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`QuantError::Range`] for a weight that is not finite, and
    /// [`QuantError::Multiplier`] if a rescaling factor or a bias does not
    /// fit 32-bit integers.
    pub fn from_dense(
        dense: &Dense<f32, I, O>,
        input: Quant,
        output: Quant,
        relu: bool,
    ) -> Result<Self, QuantError> {
        let mut weight = [[0i8; I]; O];
        let mut bias = [0i32; O];
        let mut rescale = [Multiplier {
            mantissa: 0,
            shift: 0,
        }; O];
        for o in 0..O {
            let row = &dense.weight.0[o];
            let max_abs = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            let rows_quant = Quant::symmetric(max_abs)?;
            if row.iter().any(|w| !w.is_finite()) || !dense.bias[o].is_finite() {
                return Err(QuantError::Range {
                    min: f32::NAN,
                    max: f32::NAN,
                });
            }
            for (q, &w) in weight[o].iter_mut().zip(row) {
                *q = rows_quant.quantize(w);
            }
            let unit = f64::from(input.scale) * f64::from(rows_quant.scale);
            let sum: i64 = weight[o].iter().map(|&w| i64::from(w)).sum();
            let folded =
                Float::round(f64::from(dense.bias[o]) / unit) as i64 - i64::from(input.zero) * sum;
            // The bias plus the largest possible dot product must fit i32.
            let headroom = 128 * 255 * I as i64;
            if folded.abs() > i64::from(i32::MAX) - headroom {
                return Err(QuantError::Multiplier(folded as f64));
            }
            bias[o] = folded as i32;
            rescale[o] = Multiplier::new(unit / f64::from(output.scale))?;
        }
        let output_min = if relu {
            output.zero.clamp(-128, 127) as i8
        } else {
            -128
        };
        Ok(QuantDense {
            weight,
            bias,
            rescale,
            output_zero: output.zero,
            output_min,
        })
    }

    /// The layer on one int8 input: integer operations only.
    pub fn forward(&self, x: &[i8; I]) -> [i8; O] {
        core::array::from_fn(|o| {
            let dot = self.weight[o]
                .iter()
                .zip(x)
                .fold(0i32, |acc, (&w, &x)| acc + i32::from(w) * i32::from(x));
            // `from_dense` left room for any dot product beside the bias.
            let sum = self.bias[o].saturating_add(dot);
            let y = self.rescale[o].apply(sum).saturating_add(self.output_zero);
            y.clamp(i32::from(self.output_min), 127) as i8
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Init;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};
    use std::vec::Vec;

    /// Float outputs of `dense` (with a ReLU if `relu`) for `xs`.
    fn float_outputs<const I: usize, const O: usize>(
        dense: &Dense<f32, I, O>,
        xs: &[[f32; I]],
        relu: bool,
    ) -> Vec<[f32; O]> {
        xs.iter()
            .map(|x| {
                let y = crate::Layer::<[f32; I]>::map(dense, x);
                if relu { y.map(|v| v.max(0.0)) } else { y }
            })
            .collect()
    }

    fn check(relu: bool) {
        let mut rng = SmallRng::seed_from_u64(if relu { 1 } else { 2 });
        let mut dense = Dense::<f32, 16, 8>::random(&mut rng, Init::He);
        dense.bias = core::array::from_fn(|_| rng.random_range(-0.5..0.5));
        // An input range that is not symmetric (the output of a ReLU,
        // and a little below), so that the input's zero point matters.
        let xs: Vec<[f32; 16]> = (0..300)
            .map(|_| core::array::from_fn(|_| rng.random_range(-0.25..1.0)))
            .collect();
        let ys = float_outputs(&dense, &xs, relu);
        let (lo, hi) = ys
            .iter()
            .flatten()
            .fold((0f32, 0f32), |(a, b), &v| (a.min(v), b.max(v)));
        let input = Quant::from_range(-0.25, 1.0).unwrap();
        assert!(input.zero < -50, "{input:?}");
        let output = Quant::from_range(lo, hi).unwrap();
        let q = QuantDense::from_dense(&dense, input, output, relu).unwrap();

        for (x, y) in xs.iter().zip(&ys) {
            let xq = x.map(|v| input.quantize(v));
            let got = q.forward(&xq);
            for o in 0..8 {
                // Independently, from the definitions: the sum of
                // w · (x − zero_x) and the bias in units of s_x · s_w,
                // rescaled in f64 and rounded; the fixed-point multiplier
                // may differ from it by one step at a rounding edge.
                let s_w = dense.weight.0[o].iter().fold(0f32, |m, w| m.max(w.abs())) / 127.0;
                let unit = f64::from(input.scale) * f64::from(s_w);
                let shifted: i64 = (0..16)
                    .map(|i| i64::from(q.weight[o][i]) * (i64::from(xq[i]) - i64::from(input.zero)))
                    .sum();
                let sum = (f64::from(dense.bias[o]) / unit).round() as i64 + shifted;
                let m = unit / f64::from(output.scale);
                let reference = ((sum as f64 * m).round() as i64 + i64::from(output.zero))
                    .clamp(i64::from(q.output_min), 127);
                assert!(
                    (i64::from(got[o]) - reference).abs() <= 1,
                    "{o}: {} vs {reference}",
                    got[o]
                );

                // Against the float layer: the error of the input's and the
                // weights' rounding, carried through, and the output's.
                let weights_abs: f32 = dense.weight.0[o].iter().map(|w| w.abs()).sum();
                let x_abs: f32 = x.iter().map(|v| v.abs()).sum();
                let bound =
                    input.scale / 2.0 * weights_abs + s_w / 2.0 * x_abs + output.scale * 1.5;
                let error = (output.dequantize(got[o]) - y[o]).abs();
                assert!(error <= bound, "{o}: error {error} > {bound}");
            }
        }
    }

    #[test]
    fn int8_dense_agrees_with_the_float_layer_and_an_independent_reference() {
        check(false);
    }

    #[test]
    fn fused_relu_clamps_at_real_zero() {
        check(true);
    }

    #[test]
    fn non_finite_weights_are_refused() {
        let mut dense = Dense::<f32, 2, 1>::new([[0.5, f32::NAN]], [0.0]);
        let q = Quant::from_range(-1.0, 1.0).unwrap();
        assert!(QuantDense::from_dense(&dense, q, q, false).is_err());
        dense.weight.0[0][1] = 0.25;
        assert!(QuantDense::from_dense(&dense, q, q, false).is_ok());
    }
}
