//! Shape signatures: what each layer of a network is, in order.
//!
//! A file records the kind and widths of every layer, so that a file made
//! for another architecture is refused even when it happens to hold the
//! same number of parameters. [`Architecture`] gives that description for
//! a layer type; it is implemented for [`Dense`], every activation and
//! [`Chain`], so every network built from them with
//! [`network!`](crate::network!) has it.

use core::fmt;

use crate::layer::{Chain, Dense, Identity, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
use crate::scalar::{Scalar, Zeroed};

/// The kind of a layer: its code in a file's layer record.
///
/// The kinds are constants rather than an enum with variants named after
/// the layer types, so that the compiler keeps calling [`Dense`], [`Relu`]
/// and the others by their short names in its messages.
///
/// ```
/// use constnet::format::LayerKind;
///
/// assert_eq!(LayerKind::DENSE.code(), 1);
/// assert_eq!(LayerKind::from_code(3), Some(LayerKind::RELU));
/// assert_eq!(LayerKind::LEAKY_RELU.to_string(), "LeakyRelu");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerKind(u8);

impl LayerKind {
    /// [`Dense`], code 1.
    pub const DENSE: LayerKind = LayerKind(1);
    /// [`Identity`], code 2.
    pub const IDENTITY: LayerKind = LayerKind(2);
    /// [`Relu`], code 3.
    pub const RELU: LayerKind = LayerKind(3);
    /// [`LeakyRelu`], code 4; its slope is a setting of the layer's value,
    /// not part of its kind.
    pub const LEAKY_RELU: LayerKind = LayerKind(4);
    /// [`Sigmoid`], code 5.
    pub const SIGMOID: LayerKind = LayerKind(5);
    /// [`Tanh`], code 6.
    pub const TANH: LayerKind = LayerKind(6);
    /// [`Softmax`], code 7.
    pub const SOFTMAX: LayerKind = LayerKind(7);

    /// The code of this kind in a file's layer record (see `FORMAT.md`).
    pub const fn code(self) -> u8 {
        self.0
    }

    /// The kind with this code, if there is one.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1..=7 => Some(LayerKind(code)),
            _ => None,
        }
    }

    /// The name of the layer type, as in `network!` (`"Dense"`, `"Relu"`).
    pub const fn name(self) -> &'static str {
        name_of_code(self.0)
    }
}

impl fmt::Debug for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The layer type whose record code is `code`, or `"unknown"`.
pub(crate) const fn name_of_code(code: u8) -> &'static str {
    match code {
        1 => "Dense",
        2 => "Identity",
        3 => "Relu",
        4 => "LeakyRelu",
        5 => "Sigmoid",
        6 => "Tanh",
        7 => "Softmax",
        _ => "unknown",
    }
}

/// What a layer type is: its kind and, for a dense layer, its widths.
///
/// It prints as the layer is written in `network!`, with the widths of a
/// dense layer: `Dense<4→8>`, `Relu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerSpec {
    /// The kind.
    pub kind: LayerKind,
    /// `(inputs, outputs)` for a [`Dense`] layer; `None` for an
    /// activation, which works at any width.
    pub widths: Option<(usize, usize)>,
}

impl LayerSpec {
    /// A dense layer with these widths.
    pub const fn dense(inputs: usize, outputs: usize) -> Self {
        LayerSpec {
            kind: LayerKind::DENSE,
            widths: Some((inputs, outputs)),
        }
    }

    /// An activation of this kind.
    pub const fn activation(kind: LayerKind) -> Self {
        LayerSpec { kind, widths: None }
    }
}

impl fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.widths {
            Some((inputs, outputs)) => write!(f, "{}<{inputs}→{outputs}>", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// A layer type that can say what it is, for shape signatures, file
/// formats and the PyTorch import.
///
/// A [`Chain`] is a flat list of layers: layer `i` of `Chain<A, B>` is
/// layer `i` of `A` when `i < A::LAYERS` and layer `i - A::LAYERS` of `B`
/// otherwise. For a network made by `network!` the list is the layers as
/// written, so layer `i` is module `i` of the equivalent `nn.Sequential`.
///
/// Implemented for [`Dense`], [`Identity`], [`Relu`], [`LeakyRelu`],
/// [`Sigmoid`], [`Tanh`], [`Softmax`] and [`Chain`]. A network with a
/// layer of its own (or another network used as a layer) does not have it,
/// so it cannot be saved in constnet's format.
///
/// ```
/// use constnet::format::{Architecture, LayerKind, LayerSpec};
/// use constnet::prelude::*;
///
/// type Layers = Chain<Dense<f32, 4, 8>, Chain<Relu, Dense<f32, 8, 3>>>;
/// assert_eq!(<Layers as Architecture>::LAYERS, 3);
/// assert_eq!(Layers::layer(1), Some(LayerSpec::activation(LayerKind::RELU)));
/// assert_eq!(Layers::layer(2), Some(LayerSpec::dense(8, 3)));
/// assert_eq!(Layers::layer(3), None);
/// assert_eq!(Layers::layer(0).unwrap().to_string(), "Dense<4→8>");
/// ```
pub trait Architecture: Sized {
    /// How many layers there are (1 for a single layer).
    const LAYERS: usize;
    /// The largest width of any dense layer (0 without one). A file stores
    /// widths as 32-bit numbers.
    const MAX_WIDTH: usize;

    /// What layer `index` is, or `None` when `index ≥ LAYERS`.
    fn layer(index: usize) -> Option<LayerSpec>;

    /// The setting of layer `index` that is part of its value but not a
    /// learned parameter: a [`LeakyRelu`]'s slope. `None` for layers
    /// without one and for `index ≥ LAYERS`.
    fn setting(&self, index: usize) -> Option<f32>;

    /// Sets the setting of layer `index` (see
    /// [`setting`](Architecture::setting)); returns whether that layer has
    /// one. Other layers are left as they are.
    fn set_setting(&mut self, index: usize, value: f32) -> bool;

    /// Layers with every parameter zero and every setting at its default
    /// (a [`LeakyRelu`] gets [`LeakyRelu::DEFAULT_SLOPE`]): the value a
    /// decoder fills in.
    fn zeroed() -> Self;
}

impl<T: Scalar, const I: usize, const O: usize> Architecture for Dense<T, I, O> {
    const LAYERS: usize = 1;
    const MAX_WIDTH: usize = if I > O { I } else { O };

    fn layer(index: usize) -> Option<LayerSpec> {
        (index == 0).then_some(LayerSpec::dense(I, O))
    }
    fn setting(&self, _: usize) -> Option<f32> {
        None
    }
    fn set_setting(&mut self, _: usize, _: f32) -> bool {
        false
    }
    fn zeroed() -> Self {
        Zeroed::ZERO
    }
}

/// `Architecture` for an activation without settings.
macro_rules! plain_activation {
    ($name:ident, $kind:ident) => {
        impl Architecture for $name {
            const LAYERS: usize = 1;
            const MAX_WIDTH: usize = 0;

            fn layer(index: usize) -> Option<LayerSpec> {
                (index == 0).then_some(LayerSpec::activation(LayerKind::$kind))
            }
            fn setting(&self, _: usize) -> Option<f32> {
                None
            }
            fn set_setting(&mut self, _: usize, _: f32) -> bool {
                false
            }
            fn zeroed() -> Self {
                $name
            }
        }
    };
}

plain_activation!(Identity, IDENTITY);
plain_activation!(Relu, RELU);
plain_activation!(Sigmoid, SIGMOID);
plain_activation!(Tanh, TANH);
plain_activation!(Softmax, SOFTMAX);

/// The slope is the leaky ReLU's setting: a file records it, and loading
/// restores it.
impl Architecture for LeakyRelu {
    const LAYERS: usize = 1;
    const MAX_WIDTH: usize = 0;

    fn layer(index: usize) -> Option<LayerSpec> {
        (index == 0).then_some(LayerSpec::activation(LayerKind::LEAKY_RELU))
    }
    fn setting(&self, index: usize) -> Option<f32> {
        (index == 0).then_some(self.slope)
    }
    fn set_setting(&mut self, index: usize, value: f32) -> bool {
        if index == 0 {
            self.slope = value;
        }
        index == 0
    }
    fn zeroed() -> Self {
        LeakyRelu::new(LeakyRelu::DEFAULT_SLOPE)
    }
}

impl<A: Architecture, B: Architecture> Architecture for Chain<A, B> {
    const LAYERS: usize = A::LAYERS + B::LAYERS;
    const MAX_WIDTH: usize = if A::MAX_WIDTH > B::MAX_WIDTH {
        A::MAX_WIDTH
    } else {
        B::MAX_WIDTH
    };

    fn layer(index: usize) -> Option<LayerSpec> {
        match index.checked_sub(A::LAYERS) {
            None => A::layer(index),
            Some(rest) => B::layer(rest),
        }
    }
    fn setting(&self, index: usize) -> Option<f32> {
        match index.checked_sub(A::LAYERS) {
            None => self.0.setting(index),
            Some(rest) => self.1.setting(rest),
        }
    }
    fn set_setting(&mut self, index: usize, value: f32) -> bool {
        match index.checked_sub(A::LAYERS) {
            None => self.0.set_setting(index, value),
            Some(rest) => self.1.set_setting(rest, value),
        }
    }
    fn zeroed() -> Self {
        Chain(A::zeroed(), B::zeroed())
    }
}

/// One layer record of a file's shape signature, as stored: the kind's
/// code, the layer's input and output widths and the bits of its setting
/// (`f32`, a [`LeakyRelu`]'s slope; `0` for other kinds).
///
/// It prints as the layer would be written: `Dense<8→3>`, `Relu<8>`,
/// `LeakyRelu<8>(slope 0.01)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerRecord {
    /// The kind's code (see [`LayerKind::code`]).
    pub code: u8,
    /// The input width.
    pub inputs: u32,
    /// The output width.
    pub outputs: u32,
    /// The setting, as `f32` bits.
    pub setting: u32,
}

impl LayerRecord {
    /// Whether this record describes the same layer as `other`, setting
    /// aside a [`LeakyRelu`]'s slope, which is a value, not a shape.
    pub(crate) fn same_shape(&self, other: &LayerRecord) -> bool {
        let settings_agree =
            self.code == LayerKind::LEAKY_RELU.code() || self.setting == other.setting;
        self.code == other.code
            && self.inputs == other.inputs
            && self.outputs == other.outputs
            && settings_agree
    }
}

impl fmt::Display for LayerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = name_of_code(self.code);
        match self.code {
            1 => write!(f, "Dense<{}→{}>", self.inputs, self.outputs)?,
            2..=7 if self.inputs == self.outputs => write!(f, "{name}<{}>", self.inputs)?,
            2..=7 => write!(f, "{name}<{}→{}>", self.inputs, self.outputs)?,
            code => write!(
                f,
                "a layer of unknown kind {code}<{}→{}>",
                self.inputs, self.outputs
            )?,
        }
        if self.code == LayerKind::LEAKY_RELU.code() {
            write!(f, "(slope {})", f32::from_bits(self.setting))
        } else if self.setting != 0 {
            write!(f, " with setting bits {:#010x}", self.setting)
        } else {
            Ok(())
        }
    }
}

/// The records of layers `L` taking `input` values wide, in order, with
/// the settings of `layers` (or the defaults when it is `None`). A dense
/// layer's widths are its own; an activation keeps the width so far.
pub(crate) fn records<L: Architecture>(
    layers: Option<&L>,
    input: usize,
) -> impl Iterator<Item = LayerRecord> + '_ {
    let mut width = input;
    (0..L::LAYERS).filter_map(move |index| {
        let spec = L::layer(index)?;
        let (inputs, outputs) = spec.widths.unwrap_or((width, width));
        width = outputs;
        let setting = match layers {
            Some(layers) => layers.setting(index),
            None => (spec.kind == LayerKind::LEAKY_RELU).then_some(LeakyRelu::DEFAULT_SLOPE),
        };
        Some(LayerRecord {
            code: spec.kind.code(),
            inputs: to_u32(inputs),
            outputs: to_u32(outputs),
            setting: setting.map_or(0, f32::to_bits),
        })
    })
}

/// `x` as a `u32`, saturating. Encoding checks at compile time that every
/// width fits (see `Save::ENCODED_LEN`), so this never saturates there.
pub(crate) fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}
