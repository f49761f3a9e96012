//! An int8 network in constnet's file format, version 3 (`FORMAT.md`):
//! the header and layer records of the float network it was made from,
//! then the int8 payload, then the CRC-32. Without std or alloc; decoding
//! checks every byte before it builds anything.

use super::{Quant, QuantLayer, QuantizeNetwork, Quantized};
use crate::format::crc32::{Crc32, crc32};
use crate::format::{
    CHECKSUM_LEN, EncodeError, HEADER_LEN, INT8_CODE, INT8_VERSION, LoadError, MAGIC, RECORD_LEN,
    Reader, SignatureMismatch, read_magic, read_record, records, u32_at,
};
use crate::layer::Layer;
use crate::network::Network;
use crate::scalar::Vector;

/// The payload's fixed part: the input's and the output's scale and zero
/// point.
const QUANTS_LEN: usize = 16;

impl<N: QuantizeNetwork> Quantized<N> {
    /// The bytes of the int8 payload: the two quantisations, then every
    /// layer's bytes.
    const PAYLOAD_LEN: usize = QUANTS_LEN + <N::Int8 as QuantLayer<InputCodes<N>>>::BYTES;

    /// The length of this network's file.
    pub const ENCODED_LEN: usize = HEADER_LEN
        + RECORD_LEN * <N::Layers as Layer<N::Input>>::LAYERS
        + <N::Layers as Layer<N::Input>>::NAME_BYTES
        + 4
        + Self::PAYLOAD_LEN
        + CHECKSUM_LEN;

    /// Writes the network's file into the start of `out` and returns its
    /// length, [`ENCODED_LEN`](Quantized::ENCODED_LEN). No std, no alloc.
    ///
    /// ```
    /// use constnet::prelude::*;
    /// use constnet::quant::Quantized;
    ///
    /// network! {
    ///     /// A 4-8-3 classifier.
    ///     struct Net<f32> { 4 => Dense<8>, Relu, Dense<3> }
    /// }
    ///
    /// let mut rng = SmallRng::seed_from_u64(2);
    /// let net = Net::random(&mut rng);
    /// let data: Vec<[f32; 4]> = (0..100).map(|_| core::array::from_fn(|_| rng.random())).collect();
    /// let int8 = Quantized::calibrate(&net, &data)?;
    ///
    /// let mut bytes = [0u8; Quantized::<Net>::ENCODED_LEN];
    /// int8.encode(&mut bytes)?;
    /// let back = Quantized::<Net>::decode(&bytes)?;
    /// assert_eq!(back.forward(&[1, 2, 3, 4]), int8.forward(&[1, 2, 3, 4]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EncodeError::BufferTooSmall`] if `out` is shorter than
    /// `ENCODED_LEN`; nothing is written then.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let (len, found) = (Self::ENCODED_LEN, out.len());
        let Some(buf) = out.get_mut(..len) else {
            return Err(EncodeError::BufferTooSmall { needed: len, found });
        };
        let mut pos = 0;
        let mut crc = Crc32::new();
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = buf.get_mut(pos..pos + bytes.len()) {
                dst.copy_from_slice(bytes);
                crc.update(bytes);
            }
            pos += bytes.len();
        };
        put(&MAGIC);
        put(&INT8_VERSION.to_le_bytes());
        put(&INT8_CODE.to_le_bytes());
        put(&u32le(<N::Input as Vector>::LEN));
        put(&u32le(<N::Output as Vector>::LEN));
        put(&u32le(<N::Layers as Layer<N::Input>>::LAYERS));
        for (record, _) in records::<N::Input, N::Layers>(None) {
            // The int8 form has any setting built in: 0 in the record.
            put(&[record.code]);
            put(&record.inputs.to_le_bytes());
            put(&record.outputs.to_le_bytes());
            put(&[0; 4]);
            if record.code == 0 {
                let name = record.name.as_bytes();
                put(&[name.len() as u8]);
                put(name);
            }
        }
        put(&u32le(Self::PAYLOAD_LEN));
        for q in [self.input, self.output] {
            put(&q.scale.to_le_bytes());
            put(&q.zero.to_le_bytes());
        }
        self.layers.write_bytes(&mut put);
        let sum = crc.finish();
        if let Some(dst) = buf.get_mut(pos..pos + CHECKSUM_LEN) {
            dst.copy_from_slice(&sum.to_le_bytes());
        }
        Ok(len)
    }

    /// The file as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn encode_to_vec(&self) -> alloc::vec::Vec<u8> {
        let mut bytes = alloc::vec![0; Self::ENCODED_LEN];
        // The buffer has the length `encode` needs.
        let _ = self.encode(&mut bytes);
        bytes
    }

    /// The int8 network in `bytes`, a file written by
    /// [`encode`](Quantized::encode) for a network of the same type.
    ///
    /// # Errors
    ///
    /// The first failure of: the magic ([`LoadError::BadMagic`]); the
    /// version, which is 3 for an int8 network ([`LoadError::UnsupportedVersion`]:
    /// a float network's file, version 1 or 2, names its type);
    /// the file's own length ([`LoadError::Truncated`],
    /// [`LoadError::TrailingBytes`]); the checksum
    /// ([`LoadError::ChecksumMismatch`]); the shape, which must be `N`'s
    /// ([`LoadError::Signature`]); every stored value in the range a
    /// quantisation makes ([`LoadError::InvalidInt8`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, LoadError> {
        let _ = Self::ENCODED_LEN;
        let mut r = Reader { bytes, pos: 0 };
        read_magic(&mut r)?;
        let version = r.u16()?;
        if version != INT8_VERSION {
            return Err(LoadError::UnsupportedVersion {
                expected: INT8_VERSION,
                found: version,
            });
        }
        if r.u16()? != INT8_CODE {
            return Err(LoadError::InvalidInt8 {
                layer: None,
                field: "number type",
            });
        }
        // The file's own layout.
        let inputs = r.u32()?;
        let outputs = r.u32()?;
        let count = r.u32()?;
        let records_at = r.pos;
        for _ in 0..count {
            read_record(&mut r, INT8_VERSION)?;
        }
        let payload_len = r.u32()?;
        let payload_at = r.pos;
        let total = payload_at
            .saturating_add(usize::try_from(payload_len).unwrap_or(usize::MAX))
            .saturating_add(CHECKSUM_LEN);
        if bytes.len() < total {
            return Err(LoadError::Truncated {
                needed: total,
                found: bytes.len(),
            });
        }
        if bytes.len() > total {
            return Err(LoadError::TrailingBytes {
                expected: total,
                found: bytes.len(),
            });
        }
        let body = total - CHECKSUM_LEN;
        let computed = crc32(&bytes[..body]);
        let stored = u32_at(bytes, body);
        if computed != stored {
            return Err(LoadError::ChecksumMismatch {
                expected: computed,
                found: stored,
            });
        }

        // Does it fit `N`?
        let mismatch = |m: SignatureMismatch| Err(LoadError::Signature(m));
        let expected = u32le_value(<N::Input as Vector>::LEN);
        if inputs != expected {
            return mismatch(SignatureMismatch::Inputs {
                expected,
                found: inputs,
            });
        }
        let expected = u32le_value(<N::Output as Vector>::LEN);
        if outputs != expected {
            return mismatch(SignatureMismatch::Outputs {
                expected,
                found: outputs,
            });
        }
        let expected = u32le_value(<N::Layers as Layer<N::Input>>::LAYERS);
        if count != expected {
            return mismatch(SignatureMismatch::LayerCount {
                expected,
                found: count,
            });
        }
        let mut r = Reader {
            bytes,
            pos: records_at,
        };
        for (index, (mut ours, _)) in records::<N::Input, N::Layers>(None).enumerate() {
            ours.setting = 0;
            let found = read_record(&mut r, INT8_VERSION)?;
            if found != ours {
                return mismatch(SignatureMismatch::Layer {
                    index: u32le_value(index),
                    expected: ours,
                    found,
                });
            }
        }
        let expected = u32le_value(Self::PAYLOAD_LEN);
        if payload_len != expected {
            return mismatch(SignatureMismatch::Parameters {
                expected,
                found: payload_len,
            });
        }

        // The payload.
        let payload = &bytes[payload_at..body];
        let (quants, layers) = payload.split_at(QUANTS_LEN);
        let quant = |at: usize, field| {
            let scale = f32::from_le_bytes(super::layer::fixed(&quants[at..]));
            let zero = i32::from_le_bytes(super::layer::fixed(&quants[at + 4..]));
            if !(scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero)) {
                return Err(LoadError::InvalidInt8 { layer: None, field });
            }
            Ok(Quant { scale, zero })
        };
        let input = quant(0, "input quantisation")?;
        let output = quant(8, "output quantisation")?;
        let layers = <N::Int8 as QuantLayer<InputCodes<N>>>::read_bytes(layers, 0)?;
        Ok(Quantized::new(layers, input, output))
    }

    /// Writes the network's file to `path`, replacing it only once it is
    /// whole (through a temporary file beside it, renamed over it).
    ///
    /// # Errors
    ///
    /// I/O errors.
    #[cfg(feature = "std")]
    pub fn save_file<P: AsRef<std::path::Path>>(&self, path: P) -> std::io::Result<()> {
        crate::format::file::write_whole(&self.encode_to_vec(), path.as_ref())
    }

    /// The int8 network in the file at `path`.
    ///
    /// # Errors
    ///
    /// I/O errors, and [`decode`](Quantized::decode)'s as
    /// [`InvalidData`](std::io::ErrorKind::InvalidData) with the
    /// [`LoadError`] inside. A file longer than this network's is refused
    /// without being read whole.
    #[cfg(feature = "std")]
    pub fn load_file<P: AsRef<std::path::Path>>(path: P) -> std::io::Result<Self> {
        use std::io::Read;
        let file = std::fs::File::open(path)?;
        let mut bytes = alloc::vec::Vec::new();
        file.take(Self::ENCODED_LEN as u64 + 1)
            .read_to_end(&mut bytes)?;
        Self::decode(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

type InputCodes<N> = <<N as Network>::Input as Vector>::Codes;

/// A count as the file's little-endian `u32` (compile-time sizes, which
/// fit).
fn u32le(x: usize) -> [u8; 4] {
    u32le_value(x).to_le_bytes()
}

fn u32le_value(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}
