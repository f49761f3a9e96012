//! What a layer needs to take part in int8 inference: [`Quantize`] on the
//! float layer (how it is measured and turned into integers) and
//! [`QuantLayer`] on what it becomes (what it computes in integers).

use core::fmt::{self, Debug, Write};

use super::{Codes, Quant, QuantError, Range};
use crate::format::LoadError;
use crate::layer::{Chain, Layer};
use crate::scalar::Vector;

/// A layer of int8 inference: `y = f(x)` on int8 codes, with integer
/// operations only. Made by [`Quantize::quantize`] from a float layer.
pub trait QuantLayer<X: Codes>: Clone + Debug {
    /// The codes this layer produces for one sample.
    type Output: Codes;

    /// `y = f(x)` for one sample.
    fn forward(&self, x: &X) -> Self::Output;

    /// Writes a `const` expression that builds this layer, for
    /// [`export`](crate::export::quantized_source).
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result;

    /// How many layers of the float network this is: 1, or for a chain
    /// the sum of its parts.
    const LAYERS: usize = 1;

    /// The bytes of this layer in an int8 network's file (see
    /// `FORMAT.md`, version 3).
    const BYTES: usize;

    /// Writes the layer's [`BYTES`](QuantLayer::BYTES) bytes, in pieces,
    /// to `out`.
    fn write_bytes(&self, out: &mut dyn FnMut(&[u8]));

    /// The layer from its [`BYTES`](QuantLayer::BYTES) bytes (exactly
    /// that many), as layer `index` of the network.
    ///
    /// # Errors
    ///
    /// [`LoadError::InvalidInt8`] for a value no quantisation makes.
    fn read_bytes(bytes: &[u8], index: usize) -> Result<Self, LoadError>;
}

/// A float layer that has an int8 form: how calibration measures it and
/// how it is turned into integers.
///
/// constnet implements it for [`Dense`](crate::Dense) (into
/// [`QuantDense`](super::QuantDense)), [`Relu`](crate::Relu) and
/// [`Identity`](crate::Identity) (a clamp and nothing, folded into the
/// layer before), [`Softmax`](crate::Softmax) (an integer softmax with a
/// table of exponentials), [`LeakyRelu`](crate::LeakyRelu) and every layer
/// made with [`elementwise!`](crate::elementwise!) (a 256-entry
/// [`Table`](super::Table) of the function), so a layer of your own made
/// with `elementwise!` quantises with no code of yours.
///
/// A layer of your own written by hand implements it the way those do:
/// `Ranges = Range`, [`observe`](Quantize::observe) maps the sample and
/// widens the range with the output, and [`quantize`](Quantize::quantize)
/// builds the int8 layer from the input's quantisation and the output's.
pub trait Quantize<X: Vector<Scalar = f32>>: Layer<X> {
    /// The layer in int8.
    type Quantized: QuantLayer<X::Codes, Output = <Self::Output as Vector>::Codes>;

    /// What calibration measures: the range of this layer's output
    /// ([`Range`]); for a chain, one range per layer.
    type Ranges: Measured;

    /// Nothing measured yet.
    const EMPTY: Self::Ranges;

    /// Whether the int8 form of this layer only passes values through or
    /// clamps them at real 0, keeping their scale ([`Relu`](crate::Relu),
    /// [`Identity`](crate::Identity)). The layer before then writes its
    /// output straight in this layer's output range, so a ReLU costs no
    /// precision (the TensorFlow Lite "fused activation").
    const FOLDS: bool = false;

    /// `y = f(x)` for one calibration sample, widening `ranges` with what
    /// each layer produced.
    fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> Self::Output;

    /// The int8 layer for inputs stored as `input`, given the measured
    /// `ranges`, and how its output is stored: as `output` when the layer
    /// after folds into this one, otherwise as this layer chooses from its
    /// range.
    ///
    /// # Errors
    ///
    /// A [`QuantError`] when a range is empty or not finite or a
    /// parameter is not finite or does not fit in integers.
    fn quantize(
        &self,
        input: Quant,
        ranges: &Self::Ranges,
        output: Option<Quant>,
    ) -> Result<(Self::Quantized, Quant), QuantError>;
}

/// The first `K` bytes of `bytes` (zeros where it is shorter, which
/// callers rule out: they pass exactly a layer's bytes).
pub(crate) fn fixed<const K: usize>(bytes: &[u8]) -> [u8; K] {
    let mut out = [0; K];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// [`Quantize::observe`] for a single layer: the output, and its range.
#[inline]
pub fn observe_one<X: Vector<Scalar = f32>, L: Layer<X>>(
    layer: &L,
    x: &X,
    range: &mut Range,
) -> L::Output {
    let y = layer.map(x);
    range.widen(y.as_slice());
    y
}

/// The output quantisation of a single layer: `output` if the layer after
/// folds into it, otherwise the one of its measured range.
pub fn output_quant(range: &Range, output: Option<Quant>) -> Result<Quant, QuantError> {
    match output {
        Some(q) => Ok(q),
        None => range.quant(),
    }
}

/// A chain runs its two parts one after the other in integers too.
impl<X: Codes, A: QuantLayer<X>, B: QuantLayer<A::Output>> QuantLayer<X> for Chain<A, B> {
    type Output = B::Output;

    #[inline]
    fn forward(&self, x: &X) -> B::Output {
        self.1.forward(&self.0.forward(x))
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("::constnet::Chain(")?;
        self.0.write_value(out)?;
        out.write_str(", ")?;
        self.1.write_value(out)?;
        out.write_str(")")
    }

    const LAYERS: usize = A::LAYERS + B::LAYERS;
    const BYTES: usize = A::BYTES + B::BYTES;

    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        self.0.write_bytes(out);
        self.1.write_bytes(out);
    }

    fn read_bytes(bytes: &[u8], index: usize) -> Result<Self, LoadError> {
        let (a, b) = bytes.split_at(A::BYTES.min(bytes.len()));
        Ok(Chain(
            A::read_bytes(a, index)?,
            B::read_bytes(b, index + A::LAYERS)?,
        ))
    }
}

/// A chain is measured and quantised part by part; the first part writes
/// its output in the second's range when the second folds.
impl<X, A, B> Quantize<X> for Chain<A, B>
where
    X: Vector<Scalar = f32>,
    A: Quantize<X>,
    B: Quantize<A::Output>,
    A::Output: Vector<Scalar = f32>,
{
    type Quantized = Chain<A::Quantized, B::Quantized>;
    type Ranges = (A::Ranges, B::Ranges);
    const EMPTY: Self::Ranges = (A::EMPTY, B::EMPTY);
    const FOLDS: bool = A::FOLDS;

    #[inline]
    fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> B::Output {
        let mid = self.0.observe(x, &mut ranges.0);
        self.1.observe(&mid, &mut ranges.1)
    }

    fn quantize(
        &self,
        input: Quant,
        ranges: &Self::Ranges,
        output: Option<Quant>,
    ) -> Result<(Self::Quantized, Quant), QuantError> {
        let mid = if B::FOLDS {
            Some(ranges.1.first().quant()?)
        } else {
            None
        };
        let (a, mid) = self.0.quantize(input, &ranges.0, mid)?;
        let (b, out) = self.1.quantize(mid, &ranges.1, output)?;
        Ok((Chain(a, b), out))
    }
}

/// What calibration measured for a layer or a list of layers: a
/// [`Range`], or a pair of them for a chain.
pub trait Measured: Copy + Debug {
    /// The range of the first layer's output.
    fn first(&self) -> Range;
}

impl Measured for Range {
    fn first(&self) -> Range {
        *self
    }
}

impl<A: Measured, B: Measured> Measured for (A, B) {
    fn first(&self) -> Range {
        self.0.first()
    }
}
