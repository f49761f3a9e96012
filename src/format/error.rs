//! What can go wrong when saving or loading in constnet's format.

use core::fmt;

use super::signature::LayerRecord;
use super::{MAGIC, ScalarType};

/// Why bytes could not be loaded into a network.
///
/// Each variant says what was expected and what was found; its `Display`
/// is a sentence for a person. Loading validates everything before it
/// writes anything, so after any of these errors the network is exactly as
/// it was.
///
/// The checks run in this order, and the first failure is reported:
/// magic, version, scalar code, the header's own length (truncated or
/// trailing bytes), checksum, then whether the file fits the network:
/// scalar type, shape signature, settings and parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum LoadError {
    /// The data does not start with [`MAGIC`]: it is not a constnet file.
    BadMagic {
        /// The first bytes of the data (up to 8; see `found_len`).
        found: [u8; 8],
        /// How many bytes of `found` there were.
        found_len: usize,
    },
    /// The file is of a format version this library cannot read, or a
    /// version-2 file without a named layer (which must be version 1).
    UnsupportedVersion {
        /// The newest version this file could have:
        /// [`VERSION`](super::VERSION), or 1 for a file without named
        /// layers.
        expected: u16,
        /// The version in the file.
        found: u16,
    },
    /// The file holds numbers of another scalar type than the network's
    /// (or of an unknown one).
    ScalarMismatch {
        /// The network's scalar type.
        expected: ScalarType,
        /// The scalar code in the file (see [`ScalarType::code`]).
        found: u16,
    },
    /// The file was made for a network of another shape.
    Signature(SignatureMismatch),
    /// The data ends before the file does.
    Truncated {
        /// How many bytes are needed at least: the file's length when its
        /// header could be read, otherwise the end of the field that was
        /// cut off.
        needed: usize,
        /// How many bytes there are.
        found: usize,
    },
    /// There are bytes after the end of the file.
    TrailingBytes {
        /// The file's length, from its header.
        expected: usize,
        /// How many bytes there are.
        found: usize,
    },
    /// The checksum does not match the bytes: the file is corrupt.
    ChecksumMismatch {
        /// The CRC-32 computed over the bytes.
        expected: u32,
        /// The CRC-32 stored in the file.
        found: u32,
    },
    /// A parameter is NaN or infinite.
    NonFinite {
        /// The index of the parameter, counting all tensors in order.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A layer's setting (a leaky ReLU's slope) is NaN or infinite.
    InvalidSetting {
        /// The index of the layer.
        layer: usize,
        /// The setting.
        value: f32,
    },
    /// An int8 network's file holds a value that no quantisation makes
    /// (a scale that is not positive and finite, a zero point, weight or
    /// shift out of range): it was not written by constnet, or damaged
    /// before its checksum was computed.
    InvalidInt8 {
        /// The index of the layer, or `None` for the input's and output's
        /// quantisation.
        layer: Option<usize>,
        /// The field.
        field: &'static str,
    },
}

/// How a file's shape signature differs from the network's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureMismatch {
    /// Another input width.
    Inputs {
        /// The network's input width.
        expected: u32,
        /// The file's.
        found: u32,
    },
    /// Another output width.
    Outputs {
        /// The network's output width.
        expected: u32,
        /// The file's.
        found: u32,
    },
    /// Another number of layers.
    LayerCount {
        /// The network's number of layers.
        expected: u32,
        /// The file's.
        found: u32,
    },
    /// A layer of another kind or width.
    Layer {
        /// The index of the first layer that differs.
        index: u32,
        /// The network's layer.
        expected: LayerRecord,
        /// The file's.
        found: LayerRecord,
    },
    /// Another number of parameters (with the same layers: the file
    /// contradicts itself).
    Parameters {
        /// The network's number of parameters.
        expected: u32,
        /// The file's.
        found: u32,
    },
}

/// Prints up to 8 bytes in hex.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{b:02x}")?;
        }
        Ok(())
    }
}

/// Prints a scalar code as a type name when it is known.
struct Code(u16);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ScalarType::from_code(self.0) {
            Some(t) => write!(f, "{t}"),
            None if self.0 == super::INT8_CODE => {
                f.write_str("int8 (a quantised network: load it as `quant::Quantized`)")
            }
            None => write!(f, "unknown scalar code {}", self.0),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LoadError::BadMagic { found, found_len } => {
                let found = found.get(..found_len).unwrap_or(&found);
                write!(
                    f,
                    "not a constnet file: expected the magic bytes {}, found {} ({} bytes)",
                    Hex(&MAGIC),
                    Hex(found),
                    found.len()
                )
            }
            LoadError::UnsupportedVersion {
                expected: super::INT8_VERSION,
                found,
            } => write!(
                f,
                "not an int8 network's file (format version {found}; int8 networks are \
                 version 3): load a float network's file into the float network and quantise it"
            ),
            LoadError::UnsupportedVersion { expected: 1, found } => write!(
                f,
                "unsupported constnet format version: expected 1, found {found}"
            ),
            LoadError::UnsupportedVersion { expected, found } => write!(
                f,
                "unsupported constnet format version: expected 1 to {expected}, found {found}"
            ),
            LoadError::ScalarMismatch { expected, found } => write!(
                f,
                "the file holds numbers of another type: expected {expected}, found {}",
                Code(found)
            ),
            LoadError::Signature(mismatch) => {
                write!(f, "the file is for another network: {mismatch}")
            }
            LoadError::Truncated { needed, found } => write!(
                f,
                "the data is truncated: expected at least {needed} bytes, found {found}"
            ),
            LoadError::TrailingBytes { expected, found } => write!(
                f,
                "trailing bytes after the file: expected {expected} bytes, found {found}"
            ),
            LoadError::ChecksumMismatch { expected, found } => write!(
                f,
                "the file is corrupt: its CRC-32 is {expected:#010x}, but it says {found:#010x}"
            ),
            LoadError::NonFinite { index, value } => write!(
                f,
                "parameter {index} is not finite: expected a finite number, found {value}"
            ),
            LoadError::InvalidSetting { layer, value } => write!(
                f,
                "the setting of layer {layer} is not finite: expected a finite number, found {value}"
            ),
            LoadError::InvalidInt8 {
                layer: Some(layer),
                field,
            } => write!(
                f,
                "layer {layer}'s int8 `{field}` is out of range: no quantisation makes it"
            ),
            LoadError::InvalidInt8 { layer: None, field } => write!(
                f,
                "the network's int8 `{field}` is out of range: no quantisation makes it"
            ),
        }
    }
}

impl fmt::Display for SignatureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SignatureMismatch::Inputs { expected, found } => {
                write!(f, "expected {expected} inputs, found {found}")
            }
            SignatureMismatch::Outputs { expected, found } => {
                write!(f, "expected {expected} outputs, found {found}")
            }
            SignatureMismatch::LayerCount { expected, found } => {
                write!(f, "expected {expected} layers, found {found}")
            }
            SignatureMismatch::Layer {
                index,
                expected,
                found,
            } => write!(f, "layer {index}: expected {expected}, found {found}"),
            SignatureMismatch::Parameters { expected, found } => {
                write!(f, "expected {expected} parameters, found {found}")
            }
        }
    }
}

impl core::error::Error for LoadError {}
impl core::error::Error for SignatureMismatch {}

impl From<SignatureMismatch> for LoadError {
    fn from(mismatch: SignatureMismatch) -> Self {
        LoadError::Signature(mismatch)
    }
}

/// Why a network could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is shorter than
    /// [`Save::ENCODED_LEN`](super::Save::ENCODED_LEN).
    BufferTooSmall {
        /// The encoded length.
        needed: usize,
        /// The buffer's length.
        found: usize,
    },
    /// A parameter is NaN or infinite: such a file could not be loaded.
    NonFinite {
        /// The index of the parameter, counting all tensors in order.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A layer's setting (a leaky ReLU's slope) is NaN or infinite.
    InvalidSetting {
        /// The index of the layer.
        layer: usize,
        /// The setting.
        value: f32,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::BufferTooSmall { needed, found } => write!(
                f,
                "the buffer is too small: expected at least {needed} bytes, found {found}"
            ),
            EncodeError::NonFinite { index, value } => write!(
                f,
                "cannot save a network with parameter {index} not finite ({value})"
            ),
            EncodeError::InvalidSetting { layer, value } => write!(
                f,
                "cannot save a network whose layer {layer} has a setting that is not finite ({value})"
            ),
        }
    }
}

impl core::error::Error for EncodeError {}
