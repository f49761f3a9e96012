//! The pieces of a layer's description of itself: its kind
//! ([`LayerKind`]), its setting ([`Setting`]) and what the formats read
//! ([`LayerInfo`]); its tensors are described in
//! [`tensors`](crate::tensors) ([`Tensor`](crate::tensors::Tensor)).
//!
//! Saving in constnet's format, serde, the PyTorch import, Rust-source
//! export, random initialisation, zero construction and printing are each
//! written once, over this description (the description items of
//! [`Layer`] and [`Tensors::TENSORS`](crate::Tensors::TENSORS)); none of
//! them keeps a list of layers, so a layer of your own gets all of them.

use core::fmt::{self, Write};

use super::Layer;
use crate::scalar::{Scalar, Vector};

/// What kind of layer a type is: its identity in a file, in serde and in
/// messages.
///
/// A layer of your own is [`LayerKind::named`]: a file (or a serde record)
/// made for a layer of another name is refused. constnet's own layers
/// also have a one-byte code in constnet's format, which never changes
/// (see `FORMAT.md`).
///
/// ```
/// use constnet::layer::LayerKind;
///
/// assert_eq!(LayerKind::DENSE.code(), 1);
/// assert_eq!(LayerKind::from_code(3), Some(LayerKind::RELU));
/// assert_eq!(LayerKind::LEAKY_RELU.to_string(), "LeakyRelu");
/// assert_eq!(LayerKind::named("Softplus").code(), 0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerKind {
    code: u8,
    name: &'static str,
}

/// The longest name a layer of your own may have, in bytes.
pub const MAX_NAME_LEN: usize = 32;

impl LayerKind {
    /// A layer of your own, known by `name`: a non-empty string of at most
    /// [`MAX_NAME_LEN`] bytes, ASCII letters, digits, `_`, `:` and `.`
    /// (a longer or empty name is a compile error where the kind is a
    /// `const`). Choose one no other layer uses, such as the type's name
    /// with your crate's in front (`"mycrate::Softplus"`); the names of
    /// constnet's own layers are taken.
    pub const fn named(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        assert!(
            !bytes.is_empty() && bytes.len() <= MAX_NAME_LEN,
            "a layer's name must have 1 to 32 bytes"
        );
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            assert!(
                b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'.',
                "a layer's name may only have ASCII letters, digits, `_`, `:` and `.`"
            );
            i += 1;
        }
        LayerKind { code: 0, name }
    }

    /// One of constnet's own layers, with its code in constnet's format.
    pub(crate) const fn builtin(code: u8, name: &'static str) -> Self {
        LayerKind { code, name }
    }

    /// The code of this kind in constnet's format (`FORMAT.md`): `1` to
    /// `7` for constnet's own layers, `0` for a layer known by its name.
    pub const fn code(self) -> u8 {
        self.code
    }

    /// The name (`"Dense"`, `"Relu"`, or the name a layer of your own was
    /// given).
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// Whether this is a layer known by its name rather than a code.
    pub const fn is_named(self) -> bool {
        self.code == 0
    }

    /// constnet's own layer with this code, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        BUILTIN.iter().copied().find(|kind| kind.code == code)
    }
}

/// constnet's own layers, by code: adding one is one line here (and its
/// file, and a row in `FORMAT.md`).
const BUILTIN: &[LayerKind] = &[
    LayerKind::DENSE,
    LayerKind::IDENTITY,
    LayerKind::RELU,
    LayerKind::LEAKY_RELU,
    LayerKind::SIGMOID,
    LayerKind::TANH,
    LayerKind::SOFTMAX,
];

impl fmt::Debug for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A layer's setting: a number that is part of what the layer computes
/// but is not learned, such as a leaky ReLU's slope. Files, serde and the
/// export keep it; training leaves it alone.
pub struct Setting<L> {
    name: &'static str,
    default: f32,
    get: fn(&L) -> f32,
    set: fn(&mut L, f32),
}

impl<L> Setting<L> {
    /// A setting named `name`, `default` in a new layer, read by `get`
    /// and written by `set`.
    pub const fn new(
        name: &'static str,
        default: f32,
        get: fn(&L) -> f32,
        set: fn(&mut L, f32),
    ) -> Self {
        Setting {
            name,
            default,
            get,
            set,
        }
    }

    /// Its name (`"slope"`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Its value in a new layer.
    pub const fn default(&self) -> f32 {
        self.default
    }

    /// Its value in `layer`.
    pub fn get(&self, layer: &L) -> f32 {
        (self.get)(layer)
    }

    /// Sets it in `layer`.
    pub fn set(&self, layer: &mut L, value: f32) {
        (self.set)(layer, value)
    }
}

/// Writes `(setting, tensor, …)` for a layer that has any, with every
/// number in its shortest round-trip form.
pub fn write_arguments<X: Vector, L: Layer<X>>(layer: &L, out: &mut dyn Write) -> fmt::Result {
    if L::SETTING.is_none() && L::COUNT == 0 {
        return Ok(());
    }
    out.write_char('(')?;
    let mut first = true;
    if let Some(setting) = &L::SETTING {
        write!(out, "{:?}", setting.get(layer))?;
        first = false;
    }
    for tensor in L::TENSORS {
        if !first {
            out.write_str(", ")?;
        }
        first = false;
        write_tensor(out, tensor.get(layer), tensor.info().shape)?;
    }
    out.write_char(')')
}

/// Writes a tensor as a Rust array literal: nested by rows for a matrix,
/// one row (a neuron's weights) per line, so that a review or a diff of
/// exported source reads neuron by neuron.
pub(crate) fn write_tensor<T: Scalar>(
    out: &mut dyn Write,
    values: &[T],
    shape: &[usize],
) -> fmt::Result {
    match shape {
        [rows, cols] if *rows > 0 && *cols > 0 => {
            out.write_str("[\n")?;
            for row in values.chunks(*cols) {
                out.write_str("    ")?;
                write_floats(out, row)?;
                out.write_str(",\n")?;
            }
            out.write_char(']')
        }
        _ => write_floats(out, values),
    }
}

/// Writes `[a, b, …]` with every value in its shortest round-trip form.
fn write_floats<T: Scalar>(out: &mut dyn Write, values: &[T]) -> fmt::Result {
    out.write_char('[')?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.write_str(", ")?;
        }
        // `Debug` for floats is the shortest string that parses back to
        // the same bits, and always has a `.` or an exponent.
        write!(out, "{v:?}")?;
    }
    out.write_char(']')
}

/// Writes a type name with every module path taken off each of its paths
/// (`a::b::Scale<f32, 4>` → `Scale<f32, 4>`), except that constnet's own
/// types keep `::constnet::`.
pub fn write_short_type_name(name: &str, out: &mut dyn Write) -> fmt::Result {
    let mut rest = name;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let (path, tail) = rest.split_at(end);
        if !path.is_empty() {
            let last = path.rsplit("::").next().unwrap_or(path);
            if path.starts_with("constnet::") {
                out.write_str("::constnet::")?;
            }
            out.write_str(last)?;
        }
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            out.write_char(c)?;
        }
        rest = chars.as_str();
    }
    Ok(())
}

/// What a layer is, for a given input width: the description the formats
/// read, without the layer's type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerInfo {
    /// Its kind.
    pub kind: LayerKind,
    /// Its input width.
    pub inputs: usize,
    /// Its output width.
    pub outputs: usize,
    /// How many parameter tensors it has.
    pub tensors: usize,
    /// Its setting's name and default, if it has one.
    pub setting: Option<(&'static str, f32)>,
}

impl fmt::Display for LayerInfo {
    /// As the layer is written, with its widths: `Dense<4→8>`, `Relu<8>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inputs == self.outputs && self.kind != LayerKind::DENSE {
            write!(f, "{}<{}>", self.kind, self.inputs)
        } else {
            write!(f, "{}<{}→{}>", self.kind, self.inputs, self.outputs)
        }
    }
}
