//! A dense layer in int8: `y = W x + b` with `i8` weights and activations,
//! an `i32` sum, and integer rescaling.

use core::fmt::{self, Write};

use num_traits::Float;

use super::layer::{fixed, observe_one, output_quant};
use super::{Multiplier, Quant, QuantError, QuantLayer, Quantize, Range};
use crate::format::LoadError;
use crate::layer::Dense;

/// A dense layer computed in integers only, made from a trained
/// [`Dense`] by [`QuantDense::from_dense`] (or by quantising a whole
/// network, see [`Quantized`](super::Quantized)).
///
/// Output `o` is
/// `clamp(M₀ · 2^shift[o] · (bias[o] + Σᵢ weight[o][i] · x[i]) + output_zero, −128, 127)`:
/// a dot product of `i8`s summed in `i32`, one integer multiply-and-shift
/// ([`Multiplier::apply`]) and a clamp. A ReLU after it is folded in: the
/// layer then writes its output in the ReLU's range, where −128 is real 0,
/// so the clamp is the ReLU.
///
/// Weights are symmetric per output channel, with scales that are the
/// layer's largest scale divided by a power of two: a row whose largest
/// weight is a quarter of the layer's uses at least half of the int8 range,
/// and the rescaling factors of all rows share one mantissa `M₀`, so a
/// channel costs 5 bytes (its bias and shift) beside its weights.
#[derive(Clone, PartialEq)]
pub struct QuantDense<const I: usize, const O: usize> {
    /// The weights, one row per output, in `[−127, 127]`: row `o` stands
    /// for `W[o] ≈ s_w · 2^−k[o] · weight[o]`.
    pub weight: [[i8; I]; O],
    /// The bias in units of `s_x · s_w · 2^−k[o]`, with the input's zero
    /// point folded in (`b[o] / (s_x s_w 2^−k[o]) − zero_x Σᵢ weight[o][i]`),
    /// so that the inner loop is a plain dot product.
    pub bias: [i32; O],
    /// The mantissa of the rescaling factor `s_x · s_w / s_y`, shared by
    /// every output (see [`Multiplier`]).
    pub mantissa: i32,
    /// Each output's power of two: the factor's exponent minus `k[o]`.
    pub shift: [i8; O],
    /// The output's zero point.
    pub output_zero: i8,
}

impl<const I: usize, const O: usize> QuantDense<I, O> {
    /// The int8 form of `dense`, for inputs stored as `input` and outputs
    /// as `output` (both measured on representative data). Give the range
    /// after a ReLU as `output` to fold the ReLU in.
    ///
    /// ```
    /// use constnet::prelude::*;
    /// use constnet::quant::{Quant, QuantDense, QuantLayer};
    ///
    /// let dense = Dense::new([[0.5f32, -0.25], [1.0, 0.75]], [0.1, -0.2]);
    /// let (input, output) = (Quant::from_range(-1.0, 1.0)?, Quant::from_range(-2.0, 2.0)?);
    /// let q = QuantDense::from_dense(&dense, input, output)?;
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
    /// [`QuantError::Range`] for a weight or bias that is not finite, and
    /// [`QuantError::Multiplier`] if the rescaling factor or a bias does
    /// not fit 32-bit integers.
    pub fn from_dense(
        dense: &Dense<f32, I, O>,
        input: Quant,
        output: Quant,
    ) -> Result<Self, QuantError> {
        let rows = &dense.weight.0;
        if rows
            .iter()
            .flatten()
            .chain(&dense.bias)
            .any(|w| !w.is_finite())
        {
            return Err(QuantError::Range {
                min: f32::NAN,
                max: f32::NAN,
            });
        }
        let max_abs = |row: &[f32; I]| row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let largest = rows.iter().map(max_abs).fold(0.0f32, f32::max);
        let layer = Quant::symmetric(largest)?;
        let unit = f64::from(input.scale) * f64::from(layer.scale);
        let factor = Multiplier::new(unit / f64::from(output.scale))?;

        let mut weight = [[0i8; I]; O];
        let mut bias = [0i32; O];
        let mut shift = [0i8; O];
        for o in 0..O {
            // k: the largest power of two by which this row's scale can be
            // below the layer's with its largest weight still at most 127.
            let row_max = max_abs(&rows[o]);
            let k = if row_max > 0.0 {
                Float::floor(Float::log2(largest / row_max)).clamp(0.0, 24.0) as i32
            } else {
                0
            };
            let row_quant = Quant {
                scale: layer.scale / (1u32 << k) as f32,
                zero: 0,
            };
            for (q, &w) in weight[o].iter_mut().zip(&rows[o]) {
                *q = row_quant.quantize(w);
            }
            let unit = unit / f64::from(1u32 << k);
            let sum: i64 = weight[o].iter().map(|&w| i64::from(w)).sum();
            let folded =
                Float::round(f64::from(dense.bias[o]) / unit) as i64 - i64::from(input.zero) * sum;
            // The bias plus the largest possible dot product must fit i32.
            let headroom = 128 * 127 * I as i64;
            if folded.abs() > i64::from(i32::MAX) - headroom {
                return Err(QuantError::Multiplier(folded as f64));
            }
            bias[o] = folded as i32;
            shift[o] = (factor.shift - k).max(-31) as i8;
        }
        Ok(QuantDense {
            weight,
            bias,
            mantissa: factor.mantissa,
            shift,
            output_zero: output.zero.clamp(-128, 127) as i8,
        })
    }

    /// A layer from its parts. `const`, for a `static`.
    pub const fn new(
        weight: [[i8; I]; O],
        bias: [i32; O],
        mantissa: i32,
        shift: [i8; O],
        output_zero: i8,
    ) -> Self {
        QuantDense {
            weight,
            bias,
            mantissa,
            shift,
            output_zero,
        }
    }

    /// Output `o` from its sum of products.
    #[inline]
    fn rescale(&self, o: usize, dot: i32) -> i8 {
        // `from_dense` left room for any dot product beside the bias.
        let sum = self.bias[o].saturating_add(dot);
        let factor = Multiplier {
            mantissa: self.mantissa,
            shift: i32::from(self.shift[o]),
        };
        let y = factor
            .apply(sum)
            .saturating_add(i32::from(self.output_zero));
        y.clamp(-128, 127) as i8
    }
}

impl<const I: usize, const O: usize> fmt::Debug for QuantDense<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QuantDense<{I}, {O}>")
    }
}

/// Weights from which a layer's products run in `simd::vectorized`.
const VECTORIZED: usize = 1024;

impl<const I: usize, const O: usize> QuantDense<I, O> {
    /// `y`: the rescaled products of the weights and `x`.
    #[inline(always)]
    fn products(&self, x: &[i8; I], y: &mut [i8; O]) {
        super::kernel::dots(&self.weight, x, |o, dot| y[o] = self.rescale(o, dot));
    }
}

impl<const I: usize, const O: usize> QuantLayer<[i8; I]> for QuantDense<I, O> {
    type Output = [i8; O];

    /// The layer on one int8 input: integer operations only.
    #[inline]
    fn forward(&self, x: &[i8; I]) -> [i8; O] {
        let mut y = [0i8; O];
        // A large layer's products are compiled for the widest vector
        // instructions the processor has (on x86-64; the sums are exact, so
        // the results are the same on every level): 784-256-10 on AVX-512,
        // 38 µs a sample on SSE2, 10 µs so. A small one's stay inline,
        // where the call would cost more than it saves.
        if I * O >= VECTORIZED {
            crate::simd::vectorized(
                #[inline(always)]
                || self.products(x, &mut y),
            );
        } else {
            self.products(x, &mut y);
        }
        y
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("::constnet::quant::QuantDense::new([\n")?;
        for row in &self.weight {
            writeln!(out, "    {row:?},")?;
        }
        write!(
            out,
            "], {:?}, {}, {:?}, {})",
            self.bias, self.mantissa, self.shift, self.output_zero
        )
    }

    /// Weights row by row, biases, mantissa, shifts, output zero point.
    const BYTES: usize = I * O + 4 * O + 4 + O + 1;

    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        for row in &self.weight {
            out(&row.map(|w| w as u8));
        }
        for b in self.bias {
            out(&b.to_le_bytes());
        }
        out(&self.mantissa.to_le_bytes());
        out(&self.shift.map(|s| s as u8));
        out(&self.output_zero.to_le_bytes());
    }

    fn read_bytes(bytes: &[u8], index: usize) -> Result<Self, LoadError> {
        let invalid = |field| LoadError::InvalidInt8 {
            layer: Some(index),
            field,
        };
        let (weights, rest) = bytes.split_at((I * O).min(bytes.len()));
        let (biases, rest) = rest.split_at((4 * O).min(rest.len()));
        let (mantissa, rest) = rest.split_at(4.min(rest.len()));
        let (shifts, zero) = rest.split_at(O.min(rest.len()));
        let mut layer = QuantDense::new(
            [[0; I]; O],
            [0; O],
            i32::from_le_bytes(fixed(mantissa)),
            [0; O],
            i8::from_le_bytes(fixed(zero)),
        );
        for (row, bytes) in layer.weight.iter_mut().zip(weights.chunks_exact(I.max(1))) {
            *row = fixed::<I>(bytes).map(|b| b as i8);
        }
        // Symmetric weights: −128 is never made.
        if layer.weight.iter().flatten().any(|&w| w == -128) {
            return Err(invalid("weight"));
        }
        let headroom = 128 * 127 * I as i64;
        for (b, bytes) in layer.bias.iter_mut().zip(biases.chunks_exact(4)) {
            *b = i32::from_le_bytes(fixed(bytes));
            if i64::from(*b).abs() > i64::from(i32::MAX) - headroom {
                return Err(invalid("bias"));
            }
        }
        if layer.mantissa != 0 && !(1 << 30..).contains(&layer.mantissa) {
            return Err(invalid("mantissa"));
        }
        layer.shift = fixed::<O>(shifts).map(|b| b as i8);
        if layer.shift.iter().any(|s| !(-31..=30).contains(s)) {
            return Err(invalid("shift"));
        }
        Ok(layer)
    }
}

impl<const I: usize, const O: usize> Quantize<[f32; I]> for Dense<f32, I, O> {
    type Quantized = QuantDense<I, O>;
    type Ranges = Range;
    const EMPTY: Range = Range::EMPTY;

    fn observe(&self, x: &[f32; I], range: &mut Range) -> [f32; O] {
        observe_one(self, x, range)
    }

    fn quantize(
        &self,
        input: Quant,
        range: &Range,
        output: Option<Quant>,
    ) -> Result<(QuantDense<I, O>, Quant), QuantError> {
        let output = output_quant(range, output)?;
        Ok((QuantDense::from_dense(self, input, output)?, output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;
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
                let y = Layer::<[f32; I]>::map(dense, x);
                if relu { y.map(|v| v.max(0.0)) } else { y }
            })
            .collect()
    }

    fn check(relu: bool) {
        let mut rng = SmallRng::seed_from_u64(if relu { 1 } else { 2 });
        let mut dense = Dense::<f32, 16, 8>::random(&mut rng, Init::He);
        dense.bias = core::array::from_fn(|_| rng.random_range(-0.5..0.5));
        // Rows of very different sizes, so that their scales differ.
        for (row, factor) in dense
            .weight
            .0
            .iter_mut()
            .zip([1.0, 0.3, 0.05, 0.7, 0.01, 1.0, 0.5, 0.26])
        {
            row.iter_mut().for_each(|w| *w *= factor);
        }
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
        let q = QuantDense::from_dense(&dense, input, output).unwrap();
        if relu {
            assert_eq!(output.zero, -128, "real 0 is the smallest code");
        }
        let row_max = |o: usize| dense.weight.0[o].iter().fold(0f32, |m, w| m.max(w.abs()));
        let largest = (0..8).map(row_max).fold(0f32, f32::max);
        for o in 0..8 {
            // Every row uses at least half of the int8 range.
            let used = q.weight[o].iter().map(|w| w.unsigned_abs()).max().unwrap();
            assert!((64..=127).contains(&used), "row {o} uses ±{used}");
        }

        for (x, y) in xs.iter().zip(&ys) {
            let xq = x.map(|v| input.quantize(v));
            let got = q.forward(&xq);
            for o in 0..8 {
                // Independently, from the definitions: the sum of
                // w · (x − zero_x) and the bias in units of s_x · s_w,
                // rescaled in f64 and rounded; the fixed-point multiplier
                // may differ from it by one step at a rounding edge.
                // The row's scale, as documented: the layer's, divided by
                // the largest power of two that keeps the row within ±127.
                let k = (largest / row_max(o)).log2().floor();
                let s_w = largest / 127.0 / 2f32.powf(k);
                let unit = f64::from(input.scale) * f64::from(s_w);
                let shifted: i64 = (0..16)
                    .map(|i| i64::from(q.weight[o][i]) * (i64::from(xq[i]) - i64::from(input.zero)))
                    .sum();
                let sum = (f64::from(dense.bias[o]) / unit).round() as i64 + shifted;
                let m = unit / f64::from(output.scale);
                let reference =
                    ((sum as f64 * m).round() as i64 + i64::from(output.zero)).clamp(-128, 127);
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
        assert!(QuantDense::from_dense(&dense, q, q).is_err());
        dense.weight.0[0][1] = 0.25;
        assert!(QuantDense::from_dense(&dense, q, q).is_ok());
        dense.bias[0] = f32::INFINITY;
        assert!(QuantDense::from_dense(&dense, q, q).is_err());
    }
}
