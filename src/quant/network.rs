//! A whole network in int8: [`Quantized<N>`], made from a trained `N` and
//! calibration data.

use core::fmt;

use super::{Codes, Measured, Quant, QuantError, QuantLayer, Quantize, Range};
use crate::network::{Label, Network};
use crate::scalar::{Vector, Zeroed};

/// A network of `f32` whose every layer has an int8 form ([`Quantize`]):
/// implemented for every such network, nothing to write.
pub trait QuantizeNetwork: Network<Scalar = f32> {
    /// Its layers in int8.
    type Int8: QuantLayer<<Self::Input as Vector>::Codes, Output = <Self::Output as Vector>::Codes>;

    /// The int8 layers and how the input and output are stored,
    /// calibrated on `data`. Use [`Quantized::calibrate`].
    #[doc(hidden)]
    fn quantize_layers<'a, D>(&self, data: D) -> Result<(Self::Int8, Quant, Quant), QuantError>
    where
        D: IntoIterator<Item = &'a Self::Input>;
}

impl<N> QuantizeNetwork for N
where
    N: Network<Scalar = f32>,
    N::Layers: Quantize<N::Input>,
{
    type Int8 = <N::Layers as Quantize<N::Input>>::Quantized;

    fn quantize_layers<'a, D>(&self, data: D) -> Result<(Self::Int8, Quant, Quant), QuantError>
    where
        D: IntoIterator<Item = &'a Self::Input>,
    {
        let layers = self.layers();
        let mut input = Range::EMPTY;
        let mut ranges = <N::Layers as Quantize<N::Input>>::EMPTY;
        for x in data {
            input.widen(x.as_slice());
            layers.observe(x, &mut ranges);
        }
        let input = if <N::Layers as Quantize<N::Input>>::FOLDS {
            // A ReLU first: store the input in its range.
            ranges.first().quant()?
        } else {
            input.quant()?
        };
        let (int8, output) = layers.quantize(input, &ranges, None)?;
        Ok((int8, input, output))
    }
}

/// The int8 form of a trained network `N`: the same layers, computed with
/// integer operations only, with parameters a quarter the size.
///
/// Made by [`calibrate`](Quantized::calibrate) from the float network and
/// a representative data set (post-training quantisation, the scheme of
/// TensorFlow Lite Micro and CMSIS-NN; see [`quant`](super)); its input
/// and output are `[i8; I]` and `[i8; O]` codes of `N`'s widths, so
/// feeding it the wrong width does not compile, as for `N`.
/// [`forward`](Quantized::forward) and
/// [`classify_codes`](Quantized::classify_codes) use no float operation
/// at all; [`predict`](Quantized::predict) and
/// [`classify`](Quantized::classify) take and give floats, converting at
/// the edges.
///
/// ```
/// use constnet::prelude::*;
/// use constnet::quant::Quantized;
///
/// network! {
///     /// A 2-16-3 classifier.
///     struct Net<f32> { 2 => Dense<16>, Relu, Dense<3> }
/// }
///
/// let mut rng = SmallRng::seed_from_u64(1);
/// let net = Net::random(&mut rng);
/// let data: Vec<[f32; 2]> = (0..200).map(|_| [rng.random(), rng.random()]).collect();
///
/// let int8 = Quantized::calibrate(&net, &data)?;
/// let agree = data.iter().filter(|x| int8.classify(x) == net.classify(x)).count();
/// assert!(agree >= 190, "{agree} of 200");
///
/// // Integers in, integers out: no float operation.
/// let codes: [i8; 2] = int8.quantize_input(&data[0]);
/// let logits: [i8; 3] = int8.forward(&codes);
/// assert_eq!(int8.classify_codes(&codes), int8.classify(&data[0]));
/// # let _ = logits;
/// # Ok::<(), constnet::quant::QuantError>(())
/// ```
///
/// It is `const`-constructible ([`new`](Quantized::new)), so an exported
/// int8 network is a `static` in flash (see
/// [`export::quantized_source`](crate::export::quantized_source)).
pub struct Quantized<N: QuantizeNetwork> {
    /// The layers in int8.
    pub layers: N::Int8,
    /// How the input is stored.
    pub input: Quant,
    /// How the output is stored.
    pub output: Quant,
}

type InputCodes<N> = <<N as Network>::Input as Vector>::Codes;
type OutputCodes<N> = <<N as Network>::Output as Vector>::Codes;

impl<N: QuantizeNetwork> Quantized<N> {
    /// The size of the int8 layers, in bytes: what they take in flash.
    pub const PARAMETER_BYTES: usize = core::mem::size_of::<N::Int8>();

    /// A network from its int8 layers and the storage of its input and
    /// output. `const`, so that an exported network is a `static`.
    pub const fn new(layers: N::Int8, input: Quant, output: Quant) -> Self {
        Quantized {
            layers,
            input,
            output,
        }
    }

    /// The int8 form of `net`, calibrated on `data`: the range of every
    /// layer's output over the data sets how it is stored, so `data`
    /// should be like what the network will see (a few hundred training
    /// samples are usually enough). `net` is not changed.
    ///
    /// # Errors
    ///
    /// [`QuantError::NoData`] for no data, [`QuantError::Range`] for data
    /// or parameters that are not finite (or a layer that makes them so),
    /// and [`QuantError::Multiplier`] for a layer whose scales do not fit
    /// 32-bit integers.
    pub fn calibrate<'a, D>(net: &N, data: D) -> Result<Self, QuantError>
    where
        D: IntoIterator<Item = &'a N::Input>,
    {
        let (layers, input, output) = net.quantize_layers(data)?;
        Ok(Quantized::new(layers, input, output))
    }

    /// The network on one sample of int8 codes: integer operations only.
    #[inline]
    pub fn forward(&self, x: &InputCodes<N>) -> OutputCodes<N> {
        self.layers.forward(x)
    }

    /// `x` stored as the network's input codes.
    pub fn quantize_input(&self, x: &N::Input) -> InputCodes<N> {
        let mut codes = <InputCodes<N> as Codes>::ZERO;
        for (q, &v) in codes.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *q = self.input.quantize(v);
        }
        codes
    }

    /// The real values output codes `y` stand for.
    pub fn dequantize_output(&self, y: &OutputCodes<N>) -> N::Output {
        let mut out = N::Output::ZERO;
        for (v, &q) in out.as_mut_slice().iter_mut().zip(y.as_slice()) {
            *v = self.output.dequantize(q);
        }
        out
    }

    /// The network's output for one float sample, computed in int8.
    pub fn predict(&self, x: &N::Input) -> N::Output {
        self.dequantize_output(&self.forward(&self.quantize_input(x)))
    }

    /// The class of one float sample, computed in int8 (as
    /// [`Network::classify`] decides it).
    pub fn classify(&self, x: &N::Input) -> usize {
        self.classify_codes(&self.quantize_input(x))
    }

    /// The class of one sample of int8 codes: the first largest output
    /// code, or for a network with a single output, whether it stands for
    /// more than 0.5. Integer operations only for more than one output.
    pub fn classify_codes(&self, x: &InputCodes<N>) -> usize {
        let y = self.forward(x);
        match y.as_slice() {
            [p] => usize::from(self.output.dequantize(*p) > 0.5),
            // The first largest: later ones must be strictly larger; all
            // −128 gives 0.
            codes => {
                let first_largest =
                    |(best, top), (i, &c)| if c > top { (i, c) } else { (best, top) };
                codes.iter().enumerate().fold((0, i8::MIN), first_largest).0
            }
        }
    }

    /// The fraction of samples whose class, computed in int8, equals
    /// their label (`0.0` for an empty data set).
    pub fn accuracy<L: Label<N::Output>>(&self, data: &[(N::Input, L)]) -> f64 {
        let correct = data
            .iter()
            .filter(|(x, label)| self.classify(x) == label.class())
            .count();
        correct as f64 / data.len().max(1) as f64
    }
}

impl<N: QuantizeNetwork> Clone for Quantized<N> {
    fn clone(&self) -> Self {
        Quantized::new(self.layers.clone(), self.input, self.output)
    }
}

impl<N: QuantizeNetwork> fmt::Debug for Quantized<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quantized")
            .field("layers", &self.layers)
            .field("input", &self.input)
            .field("output", &self.output)
            .finish()
    }
}
