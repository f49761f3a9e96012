//! Activations in int8: a clamp for ReLU, nothing for the identity, a
//! 256-entry table for any other element-wise function, and an integer
//! softmax.

use core::fmt::{self, Write};

use num_traits::Float;

use super::layer::{fixed, observe_one, output_quant};
use super::{Quant, QuantError, QuantLayer, Quantize, Range};
use crate::format::LoadError;
use crate::layer::{Identity, Layer, Relu, Softmax};

/// ReLU in int8: `max(x, zero)`, the code of real 0. After a layer that
/// folds it (a dense layer or a table writing in the ReLU's own range) it
/// changes nothing, and costs one comparison per value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantRelu {
    /// The code of real 0.
    pub zero: i8,
}

impl<const N: usize> QuantLayer<[i8; N]> for QuantRelu {
    type Output = [i8; N];

    #[inline]
    fn forward(&self, x: &[i8; N]) -> [i8; N] {
        if self.zero == -128 {
            // Folded into the layer before (its usual place): a copy.
            return *x;
        }
        x.map(|v| v.max(self.zero))
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        write!(
            out,
            "::constnet::quant::QuantRelu {{ zero: {} }}",
            self.zero
        )
    }

    const BYTES: usize = 1;

    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        out(&self.zero.to_le_bytes());
    }

    fn read_bytes(bytes: &[u8], _: usize) -> Result<Self, LoadError> {
        Ok(QuantRelu {
            zero: i8::from_le_bytes(fixed(bytes)),
        })
    }
}

impl<const N: usize> Quantize<[f32; N]> for Relu {
    type Quantized = QuantRelu;
    type Ranges = Range;
    const EMPTY: Range = Range::EMPTY;
    const FOLDS: bool = true;

    fn observe(&self, x: &[f32; N], range: &mut Range) -> [f32; N] {
        observe_one(self, x, range)
    }

    fn quantize(
        &self,
        input: Quant,
        _: &Range,
        _: Option<Quant>,
    ) -> Result<(QuantRelu, Quant), QuantError> {
        let zero = input.zero.clamp(-128, 127) as i8;
        Ok((QuantRelu { zero }, input))
    }
}

/// The identity is the identity in int8 too.
impl<const N: usize> QuantLayer<[i8; N]> for Identity {
    type Output = [i8; N];

    #[inline]
    fn forward(&self, x: &[i8; N]) -> [i8; N] {
        *x
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("::constnet::Identity")
    }

    const BYTES: usize = 0;

    fn write_bytes(&self, _: &mut dyn FnMut(&[u8])) {}

    fn read_bytes(_: &[u8], _: usize) -> Result<Self, LoadError> {
        Ok(Identity)
    }
}

impl<const N: usize> Quantize<[f32; N]> for Identity {
    type Quantized = Identity;
    type Ranges = Range;
    const EMPTY: Range = Range::EMPTY;
    const FOLDS: bool = true;

    fn observe(&self, x: &[f32; N], range: &mut Range) -> [f32; N] {
        observe_one(self, x, range)
    }

    fn quantize(
        &self,
        input: Quant,
        _: &Range,
        _: Option<Quant>,
    ) -> Result<(Identity, Quant), QuantError> {
        Ok((Identity, input))
    }
}

/// Any element-wise function in int8: a table of its 256 possible
/// outputs, `y = table[x + 128]`, computed from the float function when
/// the network is quantised (so it costs a load per value and 256 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The output code for each input code, input −128 first.
    pub table: [i8; 256],
}

impl Table {
    /// The table of `f` for inputs stored as `input` and outputs as
    /// `output`: `table[q + 128] = output.quantize(f(input.dequantize(q)))`.
    ///
    /// # Errors
    ///
    /// [`QuantError::Range`] if `f` is NaN for one of the 256 inputs.
    pub fn of(input: Quant, output: Quant, f: impl Fn(f32) -> f32) -> Result<Table, QuantError> {
        let mut table = [0i8; 256];
        for (q, entry) in (-128i32..=127).zip(&mut table) {
            let y = f(input.dequantize(q as i8));
            if y.is_nan() {
                return Err(QuantError::Range {
                    min: f32::NAN,
                    max: f32::NAN,
                });
            }
            *entry = output.quantize(y);
        }
        Ok(Table { table })
    }

    /// A table from its 256 entries. `const`, for a `static`.
    pub const fn new(table: [i8; 256]) -> Table {
        Table { table }
    }

    /// [`Quantize::quantize`] for an element-wise layer `layer`: the table
    /// of its function, from its one-wide [`map`](Layer::map).
    ///
    /// # Errors
    ///
    /// As [`Table::of`], and as [`Range::quant`] for the output.
    pub fn quantize<L: Layer<[f32; 1], Output = [f32; 1]>>(
        layer: &L,
        input: Quant,
        range: &Range,
        output: Option<Quant>,
    ) -> Result<(Table, Quant), QuantError> {
        let output = output_quant(range, output)?;
        let table = Table::of(input, output, |x| layer.map(&[x])[0])?;
        Ok((table, output))
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Table(256 entries)")
    }
}

impl<const N: usize> QuantLayer<[i8; N]> for Table {
    type Output = [i8; N];

    #[inline]
    fn forward(&self, x: &[i8; N]) -> [i8; N] {
        // −128 is entry 0 and 127 entry 255: flip the sign bit.
        x.map(|v| self.table[usize::from(v as u8 ^ 0x80)])
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "::constnet::quant::Table::new({:?})", self.table)
    }

    const BYTES: usize = 256;

    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        out(&self.table.map(|q| q as u8));
    }

    fn read_bytes(bytes: &[u8], _: usize) -> Result<Self, LoadError> {
        Ok(Table::new(fixed::<256>(bytes).map(|b| b as i8)))
    }
}

/// Softmax in int8: `y = round(256 · e^{s (xᵢ − max)} / Σⱼ e^{s (xⱼ − max)}) − 128`,
/// with the exponentials read from a table of the 256 possible
/// differences (`s` is the input's scale) in 16 bits, and one integer
/// division per output. Its output is stored with scale 1/256 and zero
/// point −128, as TensorFlow Lite's, so probability 1 is the code 127
/// (saturated from 128).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QuantSoftmax {
    /// `round(65535 · e^{−s d})` for each difference `d = max − x`.
    pub exp: [u16; 256],
}

impl QuantSoftmax {
    /// How the output is stored: scale 1/256, zero point −128.
    pub const OUTPUT: Quant = Quant {
        scale: 1.0 / 256.0,
        zero: -128,
    };

    /// A softmax from its table. `const`, for a `static`.
    pub const fn new(exp: [u16; 256]) -> QuantSoftmax {
        QuantSoftmax { exp }
    }
}

impl fmt::Debug for QuantSoftmax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QuantSoftmax(256 entries)")
    }
}

impl<const N: usize> QuantLayer<[i8; N]> for QuantSoftmax {
    type Output = [i8; N];

    #[inline]
    fn forward(&self, x: &[i8; N]) -> [i8; N] {
        let max = x.iter().copied().max().unwrap_or(0);
        let e = x.map(|v| u32::from(self.exp[(i32::from(max) - i32::from(v)) as usize]));
        // At least one term is e⁰ = 65535, so the sum is not 0; it
        // saturates only past 65,000 outputs. 256 e < 2²⁴ and sum / 2 <
        // 2³¹: the rounded quotient fits `u32`.
        let sum = e.iter().fold(0u32, |s, &v| s.saturating_add(v));
        e.map(|e| {
            let p = (e * 256 + sum / 2) / sum;
            (p as i32 - 128).min(127) as i8
        })
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "::constnet::quant::QuantSoftmax::new({:?})", self.exp)
    }

    const BYTES: usize = 512;

    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        for e in self.exp {
            out(&e.to_le_bytes());
        }
    }

    fn read_bytes(bytes: &[u8], index: usize) -> Result<Self, LoadError> {
        let mut exp = [0u16; 256];
        for (e, b) in exp.iter_mut().zip(bytes.chunks_exact(2)) {
            *e = u16::from_le_bytes(fixed(b));
        }
        // e⁰ is the largest entry, and the sum of a softmax's entries must
        // not be 0.
        if exp[0] == 0 || exp.iter().any(|&e| e > exp[0]) {
            return Err(LoadError::InvalidInt8 {
                layer: Some(index),
                field: "exp",
            });
        }
        Ok(QuantSoftmax { exp })
    }
}

impl<const N: usize> Quantize<[f32; N]> for Softmax {
    type Quantized = QuantSoftmax;
    type Ranges = Range;
    const EMPTY: Range = Range::EMPTY;

    fn observe(&self, x: &[f32; N], range: &mut Range) -> [f32; N] {
        observe_one(self, x, range)
    }

    /// Its output is always stored as [`QuantSoftmax::OUTPUT`].
    fn quantize(
        &self,
        input: Quant,
        _: &Range,
        _: Option<Quant>,
    ) -> Result<(QuantSoftmax, Quant), QuantError> {
        let mut exp = [0u16; 256];
        for (d, e) in exp.iter_mut().enumerate() {
            let v = Float::exp(-f64::from(input.scale) * d as f64);
            *e = Float::round(v * 65535.0) as u16;
        }
        Ok((QuantSoftmax { exp }, QuantSoftmax::OUTPUT))
    }
}
