//! Saving, loading and exchanging trained networks.
//!
//! # constnet's format
//!
//! [`Save`] encodes a network into a caller's `&mut [u8]` and decodes it
//! from a `&[u8]`, without std and without allocating, so firmware can
//! load parameters from flash or a serial line. The encoded length is a
//! constant of the network type, [`Save::ENCODED_LEN`], so the buffer can
//! be an array. With the `std` feature, [`Save::save_file`] and
//! [`Save::load_file`] do the same with files.
//!
//! ```
//! use constnet::prelude::*;
//!
//! network! {
//!     /// A 2-8-1 XOR classifier.
//!     pub struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
//! }
//!
//! let net = Xor::random(&mut SmallRng::seed_from_u64(7));
//! let mut buf = [0u8; Xor::ENCODED_LEN]; // 216 bytes, on the stack
//! let len = net.encode(&mut buf)?;
//! assert_eq!(len, Xor::ENCODED_LEN);
//!
//! let copy = Xor::decode(&buf)?;
//! assert!(copy == net); // bit-identical parameters
//!
//! // Bad bytes are an error, and a failed load changes nothing.
//! let mut other = Xor::random(&mut SmallRng::seed_from_u64(8));
//! let before = other.clone();
//! buf[40] ^= 1;
//! assert!(matches!(other.decode_into(&buf), Err(LoadError::ChecksumMismatch { .. })));
//! assert!(other == before);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A file is, all integers little-endian (`FORMAT.md` in the repository
//! has the full specification, enough to write another implementation):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `89 43 4E 45 54 0D 0A 1A` ([`MAGIC`], `"\x89CNET\r\n\x1a"`) |
//! | 8 | 2 | format version, `u16`: 1, or 2 for a network with a layer of your own ([`VERSION`] = 2, the newest read) |
//! | 10 | 2 | scalar type, `u16`: 1 = `f32`, 2 = `f64` ([`ScalarType`]) |
//! | 12 | 4 | input width, `u32` |
//! | 16 | 4 | output width, `u32` |
//! | 20 | 4 | number of layers `L`, `u32` |
//! | 24 | 13 `L` + `M` | the shape signature: per layer, kind (`u8`: a code, or 0 for a layer known by its name), input and output width (`u32` each), setting (`f32`: a leaky ReLU's slope, 0 otherwise); after a kind 0, the name's length (`u8`) and the name (`M` bytes in all) |
//! | 24 + 13 `L` + `M` | 4 | number of parameters `P`, `u32` |
//! | 28 + 13 `L` + `M` | `P`·`s` | the parameters, tensor by tensor, IEEE 754, `s` = 4 or 8 bytes |
//! | 28 + 13 `L` + `M` + `P`·`s` | 4 | CRC-32 (IEEE, as zlib's) of all bytes before it |
//!
//! Decoding checks everything (magic, version, scalar type, length,
//! checksum, shape signature, parameter count, finiteness) before it
//! writes anything, and never panics: any bytes give either a network or
//! a [`LoadError`] that says what was expected and what was found.
//!
//! A [`LeakyRelu`](crate::LeakyRelu)'s slope is part of what a network
//! computes but not a learned parameter. It is stored in the file, in its
//! layer's record, and loading restores it; it is not compared against the
//! network's, so a file saved with slope 0.2 loads into a network built
//! with the default slope and then computes exactly what the saved one did.
//!
//! # PyTorch
//!
//! With the `safetensors` feature, `FromSafetensors` loads the weights
//! of an `nn.Sequential` of `nn.Linear` layers, activations and modules
//! matching layers of your own, saved by
//! `safetensors.torch.save_file(model.state_dict(), path)`: layer `i`'s
//! tensors are `i.` and the names its description gives them
//! (`0.weight`, `2.s`); see that trait.
//!
//! # serde
//!
//! With the `serde` feature, every network made by
//! [`network!`](crate::network!) implements `serde::Serialize` and
//! `serde::Deserialize`, whatever its layers (layers of your own
//! included), for keeping models in another format (JSON, postcard,
//! bincode). A network is a struct with its scalar type, widths and a list
//! of layers (a network used as a layer adds its layers to the list).
//! Each layer is a variant of an enum, written from the layer's
//! description ([`Layer`], [`Tensors`](crate::Tensors)) by one
//! rule for all layers:
//!
//! - the variant's name is the layer's kind
//!   ([`LayerKind::name`](crate::layer::LayerKind::name): `"Dense"`,
//!   `"Tanh"`, or the name of a layer of your own); its index, which
//!   formats such as postcard store instead, is the kind's code − 1 for
//!   constnet's own layers (`Dense` 0 to `Softmax` 6) and 255 for every
//!   layer of your own;
//! - a layer without tensors and without a setting is a unit variant;
//! - any other layer is a struct variant whose fields are `inputs` and
//!   `outputs` if it has tensors, then its setting under the setting's
//!   name, then each tensor under its name: a matrix (shape `[rows,
//!   columns]`) as a list of rows, a vector as a flat list;
//! - in a format that is not human-readable
//!   (`Serializer::is_human_readable`: postcard, bincode, CBOR), where
//!   the variant may be stored as its index alone, a layer of your own is
//!   always a struct variant whose first field, `name`, holds its name, so
//!   that the name is checked there too.
//!
//! ```text
//! {"scalar":"f32","inputs":2,"outputs":1,"layers":[
//!   {"Dense":{"inputs":2,"outputs":8,"weight":[[…],…],"bias":[…]}},
//!   "Tanh",
//!   {"Dense":{"inputs":8,"outputs":1,"weight":[[…]],"bias":[…]}},
//!   {"LeakyRelu":{"slope":0.01}}]}
//! ```
//!
//! A layer of your own named `"Softplus"`, without tensors, is
//! `"Softplus"`; one named `"Scale"` with a tensor `s` of shape `[8]` is
//! `{"Scale":{"inputs":8,"outputs":8,"s":[…]}}`. A layer of your own
//! should therefore not call a tensor or its setting `inputs`, `outputs`
//! or `name`, and a record is read with at most 32 fields.
//!
//! Deserialising checks all of it: another scalar type, another width,
//! another number of layers, a layer of another kind or name, a row or
//! tensor of another length, a missing, unknown or repeated field, and a
//! parameter or setting that is not finite are errors, never panics. The
//! network is only made once every value has been read, so an error
//! never leaves part of one. (`serde_json` reads every `f64` back exactly
//! only with its `float_roundtrip` feature; `f32` and binary formats such
//! as postcard are always exact.)
//!
//! Single layers and [`Chain`](crate::Chain)s have no serde impls of their
//! own (a chain's input width is not part of its type): a network made of
//! them has.

mod codec;
pub(crate) mod crc32;
mod error;
#[cfg(feature = "std")]
pub(crate) mod file;
#[cfg(feature = "safetensors")]
mod pytorch;
#[doc(hidden)]
pub mod serde_impls;
mod signature;

use core::fmt;

pub(crate) use codec::{Reader, read_magic, read_record, u32_at};
pub use error::{EncodeError, LoadError, SignatureMismatch};
#[cfg(feature = "safetensors")]
pub use pytorch::{FromSafetensors, ImportError};
pub(crate) use signature::records;
pub use signature::{LayerName, LayerRecord};

use crate::layer::Layer;
use crate::network::Network;
use crate::scalar::{Scalar, Vector};

/// A layer as the serde and PyTorch messages name it: with its widths when
/// it has tensors (`Dense<2→8>`), by its kind alone otherwise (`Relu`).
#[cfg(any(feature = "serde", feature = "safetensors"))]
pub(crate) struct ShortLayer(pub(crate) crate::layer::LayerInfo);

#[cfg(any(feature = "serde", feature = "safetensors"))]
impl fmt::Display for ShortLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.tensors > 0 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{}", self.0.kind)
        }
    }
}

/// The first 8 bytes of every file: `"\x89CNET\r\n\x1a"`.
///
/// Like PNG's, the non-ASCII first byte and the line endings make a file
/// that went through a text-mode transfer fail at once.
pub const MAGIC: [u8; 8] = *b"\x89CNET\r\n\x1a";

/// The newest format version, which this library reads along with every
/// earlier one. It writes version 1 for a network of constnet's own
/// layers, and version 2 (which adds names to the layer records) for a
/// network with a layer of your own.
pub const VERSION: u16 = 2;

/// The format version of an int8 network's file
/// ([`Quantized`](crate::quant::Quantized)), whose number code is
/// [`INT8_CODE`]; read and written by `quant` only.
pub const INT8_VERSION: u16 = 3;

/// The number code of an int8 network's file.
pub const INT8_CODE: u16 = 3;

/// The length of the fixed header: magic, version, scalar type, input and
/// output width, number of layers.
pub(crate) const HEADER_LEN: usize = 24;
/// The length of one layer record.
pub(crate) const RECORD_LEN: usize = 13;
/// The length of the parameter count.
const COUNT_LEN: usize = 4;
/// The length of the checksum.
pub(crate) const CHECKSUM_LEN: usize = 4;

/// The scalar type of the numbers in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `f32`, IEEE 754 binary32; code 1.
    F32,
    /// `f64`, IEEE 754 binary64; code 2.
    F64,
}

impl ScalarType {
    /// The scalar type of `T`.
    pub const fn of<T: Scalar>() -> Self {
        // `Scalar` is sealed: it is `f32` or `f64`.
        if core::mem::size_of::<T>() == 4 {
            ScalarType::F32
        } else {
            ScalarType::F64
        }
    }

    /// Its code in a file header.
    pub const fn code(self) -> u16 {
        match self {
            ScalarType::F32 => 1,
            ScalarType::F64 => 2,
        }
    }

    /// The scalar type with this code, if there is one.
    pub const fn from_code(code: u16) -> Option<Self> {
        match code {
            1 => Some(ScalarType::F32),
            2 => Some(ScalarType::F64),
            _ => None,
        }
    }

    /// The size of one number in bytes.
    pub const fn size(self) -> usize {
        match self {
            ScalarType::F32 => 4,
            ScalarType::F64 => 8,
        }
    }

    /// The Rust name of the type, `"f32"` or `"f64"`.
    pub const fn name(self) -> &'static str {
        match self {
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
        }
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The encoded length of a network, checking at compile time that every
/// count and width fits in the file's 32-bit fields.
const fn encoded_len(
    layers: usize,
    names: usize,
    parameters: usize,
    scalar_size: usize,
    max_width: usize,
    inputs: usize,
    outputs: usize,
) -> usize {
    let limit = u32::MAX as usize;
    assert!(
        layers <= limit
            && parameters <= limit
            && max_width <= limit
            && inputs <= limit
            && outputs <= limit,
        "constnet's format stores layer counts, widths and parameter counts as u32"
    );
    let Some(records) = layers.checked_mul(RECORD_LEN) else {
        panic!("the encoded network does not fit in memory")
    };
    let Some(numbers) = parameters.checked_mul(scalar_size) else {
        panic!("the encoded network does not fit in memory")
    };
    let fixed = HEADER_LEN + COUNT_LEN + CHECKSUM_LEN + names;
    match fixed.checked_add(records) {
        Some(len) => match len.checked_add(numbers) {
            Some(len) => len,
            None => panic!("the encoded network does not fit in memory"),
        },
        None => panic!("the encoded network does not fit in memory"),
    }
}

/// Saving and loading a network in constnet's binary format (see the
/// [module documentation](self) and `FORMAT.md`).
///
/// Implemented for every [`Network`]: the file is written from the
/// layers' descriptions ([`Layer`]), so a network with layers of
/// your own saves and loads too (a layer known by its name is refused in
/// the place of another).
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 4-16-3 classifier.
///     pub struct Net<f64> { 4 => Dense<16>, LeakyRelu, Dense<3>, Softmax }
/// }
///
/// let mut net = Net::random(&mut SmallRng::seed_from_u64(1));
/// net.layers_mut().1.0.slope = 0.2;
/// let mut buf = [0u8; Net::ENCODED_LEN];
/// net.encode(&mut buf)?;
///
/// let copy = Net::decode(&buf)?;
/// let x = [0.5, -1.0, 2.0, 0.25];
/// assert_eq!(copy.predict(&x), net.predict(&x));
/// assert_eq!(copy.layers().1.0.slope, 0.2); // restored from the file
///
/// // A file for another architecture is refused.
/// network! { struct Other<f64> { 4 => Dense<16>, Relu, Dense<3>, Softmax } }
/// let err = Other::decode(&buf).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "the file is for another network: layer 1: expected Relu<16>, found LeakyRelu<16>(slope 0.2)"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Save: Network {
    /// The exact length of this network in constnet's format, in bytes:
    /// `32 + 13 L + M + P s` for `L` layers, `M` bytes of layer names (0 for
    /// a network of constnet's own layers) and `P` parameters of `s` bytes.
    ///
    /// Using it (or any method) for a network with more than
    /// `u32::MAX` layers, parameters or inputs in a layer is a compile
    /// error.
    const ENCODED_LEN: usize = encoded_len(
        <Self::Layers as Layer<Self::Input>>::LAYERS,
        <Self::Layers as Layer<Self::Input>>::NAME_BYTES,
        Self::PARAMETERS,
        ScalarType::of::<Self::Scalar>().size(),
        <Self::Layers as Layer<Self::Input>>::MAX_WIDTH,
        <Self::Input as Vector>::LEN,
        <Self::Output as Vector>::LEN,
    );

    /// Writes this network into the first [`ENCODED_LEN`](Save::ENCODED_LEN)
    /// bytes of `out` and returns that length.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BufferTooSmall`] if `out` is shorter, and
    /// [`EncodeError::NonFinite`] or [`EncodeError::InvalidSetting`] if a
    /// parameter or slope is NaN or infinite (such a file could not be
    /// loaded). Nothing is written then.
    fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        codec::encode(self, out)
    }

    /// The network stored in `bytes`, which must be exactly one file.
    ///
    /// The network is returned by value: decoding needs about 12 bytes of
    /// stack per `f32` parameter (measured by `tests/stack.rs`); for a
    /// large network use [`decode_boxed`](Save::decode_boxed) or
    /// [`decode_into`](Save::decode_into).
    ///
    /// # Errors
    ///
    /// A [`LoadError`] for anything but a valid file for this network type.
    fn decode(bytes: &[u8]) -> Result<Self, LoadError> {
        codec::decode(bytes)
    }

    /// Replaces this network's parameters and settings with the ones stored
    /// in `bytes`, which must be exactly one file.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] for anything but a valid file for this network type;
    /// the network is then left bit-for-bit as it was.
    fn decode_into(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        codec::decode_into(self, bytes)
    }

    /// [`decode`](Save::decode), building the network directly on the heap
    /// (with the `alloc` feature): no copy of it passes through the stack,
    /// so it may be larger than the stack (see [`heap`](crate::heap)).
    ///
    /// # Errors
    ///
    /// As [`decode`](Save::decode).
    #[cfg(feature = "alloc")]
    fn decode_boxed(bytes: &[u8]) -> Result<alloc::boxed::Box<Self>, LoadError> {
        codec::decode_boxed(bytes)
    }

    /// This network encoded into a new vector (with the `alloc` feature).
    ///
    /// # Errors
    ///
    /// As [`encode`](Save::encode), except that the buffer is always large
    /// enough.
    #[cfg(feature = "alloc")]
    fn encode_to_vec(&self) -> Result<alloc::vec::Vec<u8>, EncodeError> {
        let mut bytes = alloc::vec![0; Self::ENCODED_LEN];
        self.encode(&mut bytes)?;
        Ok(bytes)
    }

    /// Saves this network to a file. The file is replaced only once the
    /// new one is completely written (through a temporary file beside it),
    /// so a failed save leaves the old file as it was.
    ///
    /// # Errors
    ///
    /// I/O errors, and an error of kind `InvalidInput` wrapping an
    /// [`EncodeError`] if a parameter is not finite.
    #[cfg(feature = "std")]
    fn save_file<P: AsRef<std::path::Path>>(&self, path: P) -> std::io::Result<()> {
        file::save(self, path.as_ref())
    }

    /// Loads a network from a file written by
    /// [`save_file`](Save::save_file).
    ///
    /// It reads no more than [`ENCODED_LEN`](Save::ENCODED_LEN) bytes: a
    /// longer file is refused from its header (wrong magic, version, scalar
    /// type, widths or number of layers, or else trailing bytes), without
    /// reading the rest or checking its checksum.
    ///
    /// # Errors
    ///
    /// I/O errors, and an error of kind `InvalidData` wrapping the
    /// [`LoadError`] if the file is not valid for this network type:
    /// `err.get_ref().and_then(|e| e.downcast_ref::<LoadError>())`.
    #[cfg(feature = "std")]
    fn load_file<P: AsRef<std::path::Path>>(path: P) -> std::io::Result<Self> {
        file::load::<Self, _>(path.as_ref(), codec::decode::<Self>)
    }

    /// [`load_file`](Save::load_file), building the network directly on the
    /// heap, like [`decode_boxed`](Save::decode_boxed).
    ///
    /// # Errors
    ///
    /// As [`load_file`](Save::load_file).
    #[cfg(feature = "std")]
    fn load_file_boxed<P: AsRef<std::path::Path>>(
        path: P,
    ) -> std::io::Result<alloc::boxed::Box<Self>> {
        file::load::<Self, _>(path.as_ref(), codec::decode_boxed::<Self>)
    }

    /// Replaces this network's parameters and settings with the ones in a
    /// file, all or nothing.
    ///
    /// # Errors
    ///
    /// As [`load_file`](Save::load_file); the network is then left
    /// bit-for-bit as it was.
    #[cfg(feature = "std")]
    fn load_file_into<P: AsRef<std::path::Path>>(&mut self, path: P) -> std::io::Result<()> {
        file::load::<Self, _>(path.as_ref(), |bytes| codec::decode_into(self, bytes))
    }
}

impl<N: Network> Save for N {}

/// Saving into and loading from an array of exactly
/// [`ENCODED_LEN`](Save::ENCODED_LEN) bytes, whose type says which
/// network it is for.
///
/// [`Save::encode`] takes any `&mut [u8]`, so a buffer sized for another
/// network compiles and fails when it runs. [`network!`](crate::network!)
/// implements this trait for every network it builds, with
/// [`Bytes`](SaveArray::Bytes) the array `[u8; ENCODED_LEN]`, so the
/// length is checked by the compiler: an array of another length is a type
/// error. Generic code can hold such an array too (`N::Bytes`), which an
/// array length written from `N::ENCODED_LEN` cannot be.
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-8-1 XOR classifier.
///     pub struct Xor<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
/// }
///
/// let net = Xor::random(&mut SmallRng::seed_from_u64(7));
/// let bytes: [u8; Xor::ENCODED_LEN] = net.to_bytes()?; // on the stack
/// assert_eq!(bytes.len(), 216);
/// let copy = Xor::from_bytes(&bytes)?;
/// assert!(copy == net); // bit-identical parameters
///
/// // Or into an array of the caller's, such as a `static` buffer.
/// let mut buf = [0u8; Xor::ENCODED_LEN];
/// net.encode_array(&mut buf)?;
/// assert_eq!(buf, bytes);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The buffer of another network is a compile error, not a run-time one:
///
/// ```compile_fail
/// use constnet::prelude::*;
///
/// network! { struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1> } }
/// network! { struct Big<f32> { 2 => Dense<32>, Tanh, Dense<1> } }
///
/// let big = Big::random(&mut SmallRng::seed_from_u64(7));
/// let mut buf = [0u8; Small::ENCODED_LEN];
/// big.encode_array(&mut buf).unwrap();
/// ```
pub trait SaveArray: Save {
    /// `[u8; Self::ENCODED_LEN]`.
    type Bytes: AsRef<[u8]> + AsMut<[u8]> + bytemuck::Pod;

    /// This network encoded into a new array (on the stack, like the
    /// network itself).
    ///
    /// # Errors
    ///
    /// [`EncodeError::NonFinite`] or [`EncodeError::InvalidSetting`] if a
    /// parameter or slope is NaN or infinite (such a file could not be
    /// loaded).
    fn to_bytes(&self) -> Result<Self::Bytes, EncodeError> {
        let mut bytes = <Self::Bytes as bytemuck::Zeroable>::zeroed();
        self.encode_array(&mut bytes)?;
        Ok(bytes)
    }

    /// Writes this network into `out`, an array of exactly its encoded
    /// length.
    ///
    /// # Errors
    ///
    /// As [`to_bytes`](SaveArray::to_bytes); nothing is written then.
    fn encode_array(&self, out: &mut Self::Bytes) -> Result<(), EncodeError> {
        self.encode(out.as_mut()).map(|_| ())
    }

    /// The network stored in `bytes`.
    ///
    /// # Errors
    ///
    /// As [`decode`](Save::decode).
    fn from_bytes(bytes: &Self::Bytes) -> Result<Self, LoadError> {
        Self::decode(bytes.as_ref())
    }
}
