//! Encoding and decoding constnet's format, without std or alloc.
//!
//! Decoding is split in two: [`check`] validates every byte and every fact
//! about the file without touching a network, and [`commit`] then copies
//! the settings and parameters in. A network is only ever written after a
//! successful check, so a failed load leaves it exactly as it was. Nothing
//! here indexes or slices without a bounds check, unwraps, or does
//! unchecked arithmetic on a length taken from the input.

use super::crc32::{Crc32, crc32};
use super::error::{EncodeError, LoadError, SignatureMismatch};
use super::signature::{LayerName, LayerRecord, records, to_u32};
use super::{
    CHECKSUM_LEN, HEADER_LEN, INT8_CODE, INT8_VERSION, MAGIC, RECORD_LEN, Save, ScalarType, VERSION,
};
use num_traits::Float;

use crate::layer::Layer;
use crate::network::Network;
use crate::scalar::{Scalar, Vector};
use crate::tensors::Tensors;

/// The version of a file of network `N`: 1 when all its layers are
/// constnet's own, 2 when any is known by its name.
pub(crate) fn version_of<N: Network>() -> u16 {
    if <N::Layers as Layer<N::Input>>::NAME_BYTES == 0 {
        1
    } else {
        2
    }
}

/// Writes bytes one field at a time into a buffer that is known to be
/// large enough; a write past the end is dropped and remembered.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    crc: Crc32,
    overflow: bool,
}

impl Writer<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        match self.buf.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.crc.update(bytes);
                self.pos = end;
            }
            None => self.overflow = true,
        }
    }
    fn u16(&mut self, x: u16) {
        self.bytes(&x.to_le_bytes());
    }
    fn u32(&mut self, x: u32) {
        self.bytes(&x.to_le_bytes());
    }
    fn scalar<T: Scalar>(&mut self, x: T) {
        match ScalarType::of::<T>() {
            ScalarType::F32 => self.bytes(&(x.as_f64() as f32).to_le_bytes()),
            ScalarType::F64 => self.bytes(&x.as_f64().to_le_bytes()),
        }
    }
}

/// Encodes `net` into the start of `out`; see [`Save::encode`].
pub(crate) fn encode<N: Save>(net: &N, out: &mut [u8]) -> Result<usize, EncodeError> {
    let len = N::ENCODED_LEN;
    let layers = net.layers();
    for index in 0..<N::Layers as Layer<N::Input>>::LAYERS {
        if let Some(value) = layers.setting(index)
            && !value.is_finite()
        {
            return Err(EncodeError::InvalidSetting {
                layer: index,
                value,
            });
        }
    }
    let mut index = 0;
    for t in 0..<N::Layers as Tensors<N::Scalar>>::COUNT {
        for &x in layers.tensor(t) {
            if !x.is_finite() {
                let value = x.as_f64();
                return Err(EncodeError::NonFinite { index, value });
            }
            index += 1;
        }
    }
    let found = out.len();
    let Some(buf) = out.get_mut(..len) else {
        return Err(EncodeError::BufferTooSmall { needed: len, found });
    };

    let mut w = Writer {
        buf,
        pos: 0,
        crc: Crc32::new(),
        overflow: false,
    };
    w.bytes(&MAGIC);
    w.u16(version_of::<N>());
    w.u16(ScalarType::of::<N::Scalar>().code());
    w.u32(to_u32(<N::Input as Vector>::LEN));
    w.u32(to_u32(<N::Output as Vector>::LEN));
    w.u32(to_u32(<N::Layers as Layer<N::Input>>::LAYERS));
    for (record, _) in records(Some(layers)) {
        w.bytes(&[record.code]);
        w.u32(record.inputs);
        w.u32(record.outputs);
        w.u32(record.setting);
        if record.code == 0 {
            let name = record.name.as_bytes();
            w.bytes(&[name.len() as u8]);
            w.bytes(name);
        }
    }
    w.u32(to_u32(N::PARAMETERS));
    layers.for_each_tensor(&mut |_, tensor| {
        for &x in tensor {
            w.scalar(x);
        }
    });
    let crc = w.crc.finish();
    w.u32(crc);
    if w.overflow || w.pos != len {
        // `ENCODED_LEN` and the writes above describe the same layout;
        // this is unreachable, but reported rather than panicking.
        return Err(EncodeError::BufferTooSmall {
            needed: w.pos.max(len),
            found,
        });
    }
    Ok(len)
}

/// Reads fields from the input, reporting truncation.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        let end = self.pos.saturating_add(n);
        let field = self.bytes.get(self.pos..end).ok_or(LoadError::Truncated {
            needed: end,
            found: self.bytes.len(),
        })?;
        self.pos = end;
        Ok(field)
    }
    fn array<const K: usize>(&mut self) -> Result<[u8; K], LoadError> {
        let field = self.take(K)?;
        Ok(field.first_chunk::<K>().copied().unwrap_or([0; K]))
    }
    pub(crate) fn u16(&mut self) -> Result<u16, LoadError> {
        self.array().map(u16::from_le_bytes)
    }
    pub(crate) fn u32(&mut self) -> Result<u32, LoadError> {
        self.array().map(u32::from_le_bytes)
    }
}

/// The `u16` at `offset`, if the bytes reach that far.
fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let b = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// A little-endian `u32` at `offset` in `bytes` (0 when out of range).
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    bytes
        .get(offset..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |b| u32::from_le_bytes(*b))
}

/// Reads one layer record: `RECORD_LEN` bytes and, from version 2 on for
/// code 0, the length and bytes of the layer's name.
pub(crate) fn read_record(r: &mut Reader<'_>, version: u16) -> Result<LayerRecord, LoadError> {
    let fixed = r.take(RECORD_LEN)?;
    let mut record = LayerRecord {
        code: fixed.first().copied().unwrap_or(0),
        inputs: u32_at(fixed, 1),
        outputs: u32_at(fixed, 5),
        setting: u32_at(fixed, 9),
        name: LayerName::NONE,
    };
    if version >= 2 && record.code == 0 {
        let [len] = r.array::<1>()?;
        record.name = LayerName::new(r.take(usize::from(len))?);
    }
    Ok(record)
}

/// The records stored in `bytes` (all of them checked by [`check`]).
fn stored_records(bytes: &[u8], version: u16) -> impl Iterator<Item = LayerRecord> + '_ {
    let mut r = Reader { bytes, pos: 0 };
    core::iter::from_fn(move || read_record(&mut r, version).ok())
}

/// A scalar of type `T` from its little-endian bytes (0 when there are too
/// few). Exact: `f32` and `f64` go through `f64` without rounding.
pub(crate) fn scalar_at<T: Scalar>(bytes: &[u8]) -> T {
    match ScalarType::of::<T>() {
        ScalarType::F32 => bytes
            .first_chunk::<4>()
            .map_or(T::ZERO, |b| T::from_f64(f64::from(f32::from_le_bytes(*b)))),
        ScalarType::F64 => bytes
            .first_chunk::<8>()
            .map_or(T::ZERO, |b| T::from_f64(f64::from_le_bytes(*b))),
    }
}

/// Where the parts of a checked file start, and its version.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    /// The first layer record.
    records: usize,
    /// The first parameter.
    parameters: usize,
    /// The format version.
    version: u16,
}

/// Reads the magic at the start of a file: a prefix of it is a truncated
/// file, anything else is not ours.
pub(crate) fn read_magic(r: &mut Reader<'_>) -> Result<(), LoadError> {
    let bytes = r.bytes;
    let head = bytes.get(..MAGIC.len()).unwrap_or(bytes);
    if head != MAGIC {
        if MAGIC.starts_with(head) {
            return Err(LoadError::Truncated {
                needed: MAGIC.len(),
                found: bytes.len(),
            });
        }
        let mut found = [0; 8];
        for (dst, &src) in found.iter_mut().zip(head) {
            *dst = src;
        }
        return Err(LoadError::BadMagic {
            found,
            found_len: head.len(),
        });
    }
    r.take(MAGIC.len()).map(|_| ())
}

/// Validates `bytes` as a file for network type `N`, without writing
/// anything: every check listed on [`LoadError`], in that order.
pub(crate) fn check<N: Save>(bytes: &[u8]) -> Result<Checked, LoadError> {
    // Evaluates the compile-time limits of `ENCODED_LEN` for `N`.
    let _ = N::ENCODED_LEN;
    let len = bytes.len();
    let mut r = Reader { bytes, pos: 0 };

    read_magic(&mut r)?;

    let version = r.u16()?;
    if version == INT8_VERSION && u16_at(bytes, r.pos) == Some(INT8_CODE) {
        // An int8 network's file (`quant::Quantized::decode`).
        return Err(LoadError::ScalarMismatch {
            expected: ScalarType::of::<N::Scalar>(),
            found: INT8_CODE,
        });
    }
    if !(1..=VERSION).contains(&version) {
        return Err(LoadError::UnsupportedVersion {
            expected: VERSION,
            found: version,
        });
    }
    let ours = ScalarType::of::<N::Scalar>();
    let code = r.u16()?;
    let Some(scalar) = ScalarType::from_code(code) else {
        return Err(LoadError::ScalarMismatch {
            expected: ours,
            found: code,
        });
    };

    // The file's own layout: header, records, count, parameters, CRC.
    let inputs = r.u32()?;
    let outputs = r.u32()?;
    let layer_count = r.u32()?;
    debug_assert_eq!(r.pos, HEADER_LEN);
    let records_at = r.pos;
    let mut named = false;
    for _ in 0..layer_count {
        named |= read_record(&mut r, version)?.code == 0;
    }
    // Files are canonical: version 2 only for a network with a named layer.
    if version == 2 && !named {
        return Err(LoadError::UnsupportedVersion {
            expected: 1,
            found: version,
        });
    }
    let records_end = r.pos;
    let parameter_count = r.u32()?;
    let parameters_at = r.pos;
    let parameter_bytes = usize::try_from(parameter_count)
        .unwrap_or(usize::MAX)
        .saturating_mul(scalar.size());
    let total = parameters_at
        .saturating_add(parameter_bytes)
        .saturating_add(CHECKSUM_LEN);
    if len < total {
        return Err(LoadError::Truncated {
            needed: total,
            found: len,
        });
    }
    if len > total {
        return Err(LoadError::TrailingBytes {
            expected: total,
            found: len,
        });
    }
    let body_len = total.saturating_sub(CHECKSUM_LEN);
    let computed = crc32(bytes.get(..body_len).unwrap_or(&[]));
    let stored = u32_at(bytes, body_len);
    if computed != stored {
        return Err(LoadError::ChecksumMismatch {
            expected: computed,
            found: stored,
        });
    }

    // Does the file fit the network?
    if scalar != ours {
        return Err(LoadError::ScalarMismatch {
            expected: ours,
            found: code,
        });
    }
    let expected_inputs = to_u32(<N::Input as Vector>::LEN);
    if inputs != expected_inputs {
        return Err(SignatureMismatch::Inputs {
            expected: expected_inputs,
            found: inputs,
        }
        .into());
    }
    let expected_outputs = to_u32(<N::Output as Vector>::LEN);
    if outputs != expected_outputs {
        return Err(SignatureMismatch::Outputs {
            expected: expected_outputs,
            found: outputs,
        }
        .into());
    }
    let expected_layers = to_u32(<N::Layers as Layer<N::Input>>::LAYERS);
    if layer_count != expected_layers {
        return Err(SignatureMismatch::LayerCount {
            expected: expected_layers,
            found: layer_count,
        }
        .into());
    }
    let stored = bytes.get(records_at..records_end).unwrap_or(&[]);
    let expected_records = records::<N::Input, N::Layers>(None);
    let found_records = stored_records(stored, version);
    for (index, ((expected, has_setting), found)) in expected_records.zip(found_records).enumerate()
    {
        if !expected.same_shape(&found, has_setting) {
            return Err(SignatureMismatch::Layer {
                index: to_u32(index),
                expected,
                found,
            }
            .into());
        }
        let value = f32::from_bits(found.setting);
        if has_setting && !value.is_finite() {
            return Err(LoadError::InvalidSetting {
                layer: index,
                value,
            });
        }
    }
    let expected_parameters = to_u32(N::PARAMETERS);
    if parameter_count != expected_parameters {
        return Err(SignatureMismatch::Parameters {
            expected: expected_parameters,
            found: parameter_count,
        }
        .into());
    }
    let parameters = bytes.get(parameters_at..body_len).unwrap_or(&[]);
    for (index, chunk) in parameters.chunks_exact(scalar.size()).enumerate() {
        let value: N::Scalar = scalar_at(chunk);
        if !value.is_finite() {
            let value = value.as_f64();
            return Err(LoadError::NonFinite { index, value });
        }
    }
    Ok(Checked {
        records: records_at,
        parameters: parameters_at,
        version,
    })
}

/// The error for data longer than network `N`'s files, from its first
/// [`Save::ENCODED_LEN`] bytes `head` (or fewer) and its length `len`: what
/// the header says is wrong (magic, version, scalar type, input and output
/// widths, number of layers), and otherwise trailing bytes. The rest of
/// the data is never needed, so a file loader reads no more than a good
/// file's length; its checksum goes unchecked, since the data is refused
/// either way.
#[cfg(feature = "std")]
pub(crate) fn refuse_longer<N: Save>(head: &[u8], len: usize) -> LoadError {
    if let Err(
        err @ (LoadError::BadMagic { .. }
        | LoadError::UnsupportedVersion { .. }
        | LoadError::ScalarMismatch { .. }),
    ) = check::<N>(head)
    {
        return err;
    }
    let field = |offset| u32_at(head, offset);
    let ours = ScalarType::of::<N::Scalar>();
    let code = head
        .get(10..)
        .and_then(<[u8]>::first_chunk::<2>)
        .map_or(0, |b| u16::from_le_bytes(*b));
    if ScalarType::from_code(code) != Some(ours) {
        return LoadError::ScalarMismatch {
            expected: ours,
            found: code,
        };
    }
    let expected = [
        to_u32(<N::Input as Vector>::LEN),
        to_u32(<N::Output as Vector>::LEN),
        to_u32(<N::Layers as Layer<N::Input>>::LAYERS),
    ];
    let found = [field(12), field(16), field(20)];
    let mismatch = match (expected, found) {
        ([e, ..], [f, ..]) if e != f => Some(SignatureMismatch::Inputs {
            expected: e,
            found: f,
        }),
        ([_, e, _], [_, f, _]) if e != f => Some(SignatureMismatch::Outputs {
            expected: e,
            found: f,
        }),
        ([.., e], [.., f]) if e != f => Some(SignatureMismatch::LayerCount {
            expected: e,
            found: f,
        }),
        _ => None,
    };
    match mismatch {
        Some(mismatch) => mismatch.into(),
        None => LoadError::TrailingBytes {
            expected: N::ENCODED_LEN,
            found: len,
        },
    }
}

/// Copies the settings and parameters of a file that [`check`] accepted
/// for `N` into `layers`, replacing all of them.
pub(crate) fn commit<N: Save>(layers: &mut N::Layers, bytes: &[u8], at: Checked) {
    let stored = bytes.get(at.records..).unwrap_or(&[]);
    let count = <N::Layers as Layer<N::Input>>::LAYERS;
    for (index, record) in stored_records(stored, at.version).take(count).enumerate() {
        let has_setting =
            <N::Layers as Layer<N::Input>>::layer(index).is_some_and(|info| info.setting.is_some());
        if has_setting {
            layers.set_setting(index, f32::from_bits(record.setting));
        }
    }
    let size = ScalarType::of::<N::Scalar>().size();
    let mut chunks = bytes.get(at.parameters..).unwrap_or(&[]).chunks_exact(size);
    layers.for_each_tensor_mut(&mut |_, tensor| {
        for (dst, chunk) in tensor.iter_mut().zip(&mut chunks) {
            *dst = scalar_at(chunk);
        }
    });
}

/// Decodes a new network; see [`Save::decode`].
pub(crate) fn decode<N: Save>(bytes: &[u8]) -> Result<N, LoadError> {
    let at = check::<N>(bytes)?;
    // Zeroed in place and filled there: no second copy of the network.
    let mut net: N = bytemuck::Zeroable::zeroed();
    commit::<N>(net.layers_mut(), bytes, at);
    Ok(net)
}

/// Decodes a new network directly on the heap; see [`Save::decode_boxed`].
#[cfg(feature = "alloc")]
pub(crate) fn decode_boxed<N: Save>(bytes: &[u8]) -> Result<alloc::boxed::Box<N>, LoadError> {
    let at = check::<N>(bytes)?;
    let mut net = crate::heap::zeroed_box::<N>();
    commit::<N>(net.layers_mut(), bytes, at);
    Ok(net)
}

/// Decodes into an existing network, all or nothing; see
/// [`Save::decode_into`].
pub(crate) fn decode_into<N: Save>(net: &mut N, bytes: &[u8]) -> Result<(), LoadError> {
    let at = check::<N>(bytes)?;
    commit::<N>(net.layers_mut(), bytes, at);
    Ok(())
}
