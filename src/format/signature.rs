//! Shape signatures: what each layer of a network is, in order, as a file
//! records it.
//!
//! A file records the kind and widths of every layer, so that a file made
//! for another architecture is refused even when it happens to hold the
//! same number of parameters. The records come from the layers'
//! descriptions ([`Layer`](crate::Layer)), so every layer that describes itself
//! has one.

use core::fmt;

use crate::layer::{Layer, LayerKind, MAX_NAME_LEN};
use crate::scalar::Vector;

/// The name of a layer known by its name, as a file stores it (at most
/// [`MAX_NAME_LEN`] bytes; empty for constnet's own layers).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerName {
    bytes: [u8; MAX_NAME_LEN],
    len: u8,
}

impl LayerName {
    /// No name: a layer with a code.
    pub const NONE: LayerName = LayerName {
        bytes: [0; MAX_NAME_LEN],
        len: 0,
    };

    /// A name from its bytes (cut at [`MAX_NAME_LEN`]).
    pub fn new(name: &[u8]) -> Self {
        let mut bytes = [0; MAX_NAME_LEN];
        let len = name.len().min(MAX_NAME_LEN);
        for (dst, &src) in bytes.iter_mut().zip(name) {
            *dst = src;
        }
        LayerName {
            bytes,
            len: len as u8,
        }
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Default for LayerName {
    fn default() -> Self {
        LayerName::NONE
    }
}

impl fmt::Debug for LayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}

impl fmt::Display for LayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_bytes().escape_ascii())
    }
}

/// One layer record of a file's shape signature, as stored: the kind's
/// code (0 for a layer known by its name), the layer's input and output
/// widths, the bits of its setting (`f32`, a [`LeakyRelu`](crate::LeakyRelu)'s
/// slope; `0` for a layer without one) and the name of a layer known by
/// its name.
///
/// It prints as the layer would be written: `Dense<8→3>`, `Relu<8>`,
/// `LeakyRelu<8>(slope 0.01)`, `"Softplus"<8>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LayerRecord {
    /// The kind's code (see [`LayerKind::code`]).
    pub code: u8,
    /// The input width.
    pub inputs: u32,
    /// The output width.
    pub outputs: u32,
    /// The setting, as `f32` bits.
    pub setting: u32,
    /// The name, for code 0.
    pub name: LayerName,
}

impl LayerRecord {
    /// Whether this record (the network's) describes the same layer as
    /// `found` (the file's), setting aside the value of a setting, which
    /// is a value, not a shape.
    pub(crate) fn same_shape(&self, found: &LayerRecord, has_setting: bool) -> bool {
        self.code == found.code
            && self.name == found.name
            && self.inputs == found.inputs
            && self.outputs == found.outputs
            && (has_setting || self.setting == found.setting)
    }
}

impl fmt::Display for LayerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (inputs, outputs) = (self.inputs, self.outputs);
        match LayerKind::from_code(self.code) {
            Some(LayerKind::DENSE) => write!(f, "Dense<{inputs}→{outputs}>")?,
            Some(kind) if inputs == outputs => write!(f, "{kind}<{inputs}>")?,
            Some(kind) => write!(f, "{kind}<{inputs}→{outputs}>")?,
            None if self.code == 0 && inputs == outputs => {
                write!(f, "\"{}\"<{inputs}>", self.name)?
            }
            None if self.code == 0 => write!(f, "\"{}\"<{inputs}→{outputs}>", self.name)?,
            None => write!(
                f,
                "a layer of unknown kind {}<{inputs}→{outputs}>",
                self.code
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

/// The records of layers `L` taking `X`, in order, with the settings of
/// `layers` (or the defaults when it is `None`), each with whether the
/// layer has a setting.
pub(crate) fn records<X: Vector, L: Layer<X>>(
    layers: Option<&L>,
) -> impl Iterator<Item = (LayerRecord, bool)> + '_ {
    (0..L::LAYERS).filter_map(move |index| {
        let info = L::layer(index)?;
        let setting = match layers {
            Some(layers) => layers.setting(index),
            None => info.setting.map(|(_, default)| default),
        };
        let name = if info.kind.is_named() {
            LayerName::new(info.kind.name().as_bytes())
        } else {
            LayerName::NONE
        };
        let record = LayerRecord {
            code: info.kind.code(),
            inputs: to_u32(info.inputs),
            outputs: to_u32(info.outputs),
            setting: setting.map_or(0, f32::to_bits),
            name,
        };
        Some((record, info.setting.is_some()))
    })
}

/// `x` as a `u32`, saturating. Encoding checks at compile time that every
/// width fits (see `Save::ENCODED_LEN`), so this never saturates there.
pub(crate) fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}
