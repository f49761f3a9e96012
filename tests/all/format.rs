//! constnet's format (`FORMAT.md`): files written by an independent Python
//! implementation, round trips (f32 and f64, small and MNIST-size), every
//! error, and failed loads that leave the network bit-for-bit unchanged.

use constnet::Layer;
use constnet::format::{EncodeError, LayerRecord, MAGIC, ScalarType, SignatureMismatch, VERSION};
use constnet::prelude::*;

network! {
    /// The worked example of FORMAT.md.
    pub struct Example<f32> { 2 => Dense<1>, Sigmoid }
}

network! {
    /// 26 parameters, with a leaky ReLU.
    pub struct Small32<f32> { 3 => Dense<4>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// The same architecture as `Small32`, in f64.
    pub struct Small32As64<f64> { 3 => Dense<4>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// 26 parameters too, 3 inputs and 2 outputs, 4 layers: another
    /// architecture with the same parameter count.
    pub struct SameCount<f32> { 3 => Dense<3>, Dense<2>, LeakyRelu, Dense<2> }
}

network! {
    /// `Small32` with a ReLU instead of the leaky ReLU.
    pub struct OtherActivation<f32> { 3 => Dense<4>, Relu, Dense<2>, Softmax }
}

network! {
    /// `Small32` with one more input.
    pub struct MoreInputs<f32> { 4 => Dense<4>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// `Small32` without its softmax.
    pub struct FewerLayers<f32> { 3 => Dense<4>, LeakyRelu, Dense<2> }
}

network! {
    /// `Small32` with three outputs.
    pub struct MoreOutputs<f32> { 3 => Dense<4>, LeakyRelu, Dense<3>, Softmax }
}

network! {
    /// An f64 network.
    pub struct Small64<f64> { 2 => Dense<3>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// MNIST-size, f32: 101,770 parameters.
    pub struct Mnist32<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

network! {
    /// MNIST-size, f64.
    pub struct Mnist64<f64> { 784 => Dense<128>, Relu, Dense<10> }
}

/// The CRC-32 of FORMAT.md, bit by bit (independent of constnet's table).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites the checksum of a file after its bytes were changed.
pub fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Every bit of a network's value: parameters and settings.
pub fn bits<N: Network>(net: &N) -> Vec<u64> {
    let layers = net.layers();
    let mut out = Vec::new();
    for t in 0..<N::Layers as Tensors<N::Scalar>>::COUNT {
        out.extend(layers.tensor(t).iter().map(|x| x.as_f64().to_bits()));
    }
    for i in 0..<N::Layers as Layer<N::Input>>::LAYERS {
        if let Some(s) = layers.setting(i) {
            out.push(u64::from(s.to_bits()));
        }
    }
    out
}

/// Sets parameter `k` (counting all tensors in order) to `f(k)`.
fn fill<N: Network>(net: &mut N, f: impl Fn(usize) -> f64) {
    let mut k = 0;
    for t in 0..<N::Layers as Tensors<N::Scalar>>::COUNT {
        for x in net.layers_mut().tensor_mut(t) {
            *x = N::Scalar::from_f64(f(k));
            k += 1;
        }
    }
}

fn small32(seed: u64) -> Small32 {
    let mut net = Small32::random(&mut SmallRng::seed_from_u64(seed));
    net.layers_mut().1.0.slope = 0.2;
    net
}

fn encode<N: Save>(net: &N) -> Vec<u8> {
    let mut bytes = vec![0; N::ENCODED_LEN];
    assert_eq!(net.encode(&mut bytes), Ok(N::ENCODED_LEN));
    bytes
}

/// Loads `bytes` into a fresh network, expects `err`, and checks that the
/// network did not change.
fn refused<N: Save>(bytes: &[u8], err: LoadError) {
    let mut net = N::random(&mut SmallRng::seed_from_u64(99));
    let before = bits(&net);
    assert_eq!(net.decode_into(bytes), Err(err));
    assert_eq!(bits(&net), before, "a failed load changed the network");
    assert_eq!(N::decode(bytes).err(), Some(err));
}

#[test]
fn worked_example_of_format_md() {
    let net = Example::new(Chain(Dense::new([[0.5, -1.0]], [0.25]), Sigmoid));
    let file = include_bytes!("../fixtures/format/example.cnet");
    assert_eq!(Example::ENCODED_LEN, 70);
    assert_eq!(encode(&net), file);
    assert!(Example::decode(file).unwrap() == net);
}

#[test]
fn files_written_from_the_specification_alone() {
    // tests/fixtures/format/make_fixture.py, a Python writer made from
    // FORMAT.md, wrote these.
    let mut leaky = Small32::new(Chain(
        Dense::ZERO,
        Chain(LeakyRelu::new(0.2), Chain(Dense::ZERO, Softmax)),
    ));
    fill(&mut leaky, |k| ((7 * k) % 19) as f64 / 16.0 - 9.0 / 16.0);
    let file = include_bytes!("../fixtures/format/leaky_f32.cnet");
    assert_eq!(encode(&leaky), file);
    let loaded = Small32::decode(file).unwrap();
    assert_eq!(bits(&loaded), bits(&leaky));

    let mut tanh = Small64::random(&mut SmallRng::seed_from_u64(0));
    fill(&mut tanh, |k| k as f64 / 3.0 - 1.0);
    let file = include_bytes!("../fixtures/format/tanh_f64.cnet");
    assert_eq!(encode(&tanh), file);
    assert_eq!(bits(&Small64::decode(file).unwrap()), bits(&tanh));
}

#[test]
fn encoded_len_is_a_constant_of_the_type() {
    // 32 + 13 L + s P
    assert_eq!(Small32::ENCODED_LEN, 32 + 13 * 4 + 4 * 26);
    assert_eq!(Small32As64::ENCODED_LEN, 32 + 13 * 4 + 8 * 26);
    assert_eq!(Mnist32::ENCODED_LEN, 32 + 13 * 3 + 4 * 101_770);
    // Usable as an array length, for a buffer on the stack.
    let mut buf = [0u8; Small64::ENCODED_LEN];
    let net = Small64::random(&mut SmallRng::seed_from_u64(1));
    assert_eq!(net.encode(&mut buf), Ok(buf.len()));
    // A larger buffer is fine; only the first ENCODED_LEN bytes are used.
    let mut big = [0xAAu8; Small64::ENCODED_LEN + 5];
    assert_eq!(net.encode(&mut big), Ok(Small64::ENCODED_LEN));
    assert_eq!(&big[..Small64::ENCODED_LEN], &buf[..]);
    assert_eq!(&big[Small64::ENCODED_LEN..], &[0xAA; 5]);
}

/// The array API: `to_bytes` gives the same bytes as `encode`, in an array
/// of the type's own length, and `from_bytes` gives the network back bit
/// for bit, in generic code as well as for a concrete type.
#[test]
fn array_round_trip() {
    fn generic<N: SaveArray>(net: &N) -> N {
        let bytes: N::Bytes = net.to_bytes().unwrap();
        assert_eq!(bytes.as_ref(), &encode(net)[..]);
        N::from_bytes(&bytes).unwrap()
    }
    for seed in 0..5 {
        let net = small32(seed);
        let bytes: [u8; Small32::ENCODED_LEN] = net.to_bytes().unwrap();
        let copy = Small32::from_bytes(&bytes).unwrap();
        assert_eq!(bits(&copy), bits(&net));
        assert_eq!(copy.layers().1.0.slope, 0.2);
        assert_eq!(bits(&generic(&net)), bits(&net));

        let net = Small64::random(&mut SmallRng::seed_from_u64(seed));
        let mut buf = [0xAAu8; Small64::ENCODED_LEN];
        net.encode_array(&mut buf).unwrap();
        assert_eq!(&buf[..], &encode(&net)[..]);
        assert_eq!(bits(&Small64::from_bytes(&buf).unwrap()), bits(&net));
        assert_eq!(bits(&generic(&net)), bits(&net));
    }
    // Errors are those of `encode` and `decode`; nothing is written on one.
    let mut net = small32(1);
    net.layers_mut().0.bias[2] = f32::NAN;
    let mut buf = [7u8; Small32::ENCODED_LEN];
    assert!(matches!(
        net.encode_array(&mut buf),
        Err(EncodeError::NonFinite { .. })
    ));
    assert_eq!(buf, [7u8; Small32::ENCODED_LEN]);
    assert!(matches!(
        Small32::from_bytes(&buf),
        Err(LoadError::BadMagic { .. })
    ));
}

/// Save → load: bit-identical parameters and identical predictions.
fn round_trip<N: Save>(net: &N, inputs: &[N::Input]) {
    let bytes = encode(net);
    let copy = N::decode(&bytes).unwrap();
    assert_eq!(bits(&copy), bits(net));
    let mut into = N::random(&mut SmallRng::seed_from_u64(12345));
    into.decode_into(&bytes).unwrap();
    assert_eq!(bits(&into), bits(net));
    for x in inputs {
        let (a, b) = (net.predict(x), copy.predict(x));
        let same = a
            .as_slice()
            .iter()
            .zip(b.as_slice())
            .all(|(p, q)| p.as_f64().to_bits() == q.as_f64().to_bits());
        assert!(same, "{a:?} != {b:?}");
    }
    assert_eq!(encode(&copy), bytes);
}

fn random_inputs<V: Vector>(rng: &mut SmallRng, n: usize) -> Vec<V> {
    (0..n)
        .map(|_| {
            let mut x = V::ZERO;
            for v in x.as_mut_slice() {
                *v = V::Scalar::from_f64(rng.random_range(-2.0..2.0));
            }
            x
        })
        .collect()
}

#[test]
fn round_trip_small_f32_and_f64() {
    let mut rng = SmallRng::seed_from_u64(5);
    for seed in 0..20 {
        let net = small32(seed);
        round_trip(&net, &random_inputs(&mut rng, 8));
        let net = Small64::random(&mut SmallRng::seed_from_u64(seed));
        round_trip(&net, &random_inputs(&mut rng, 8));
    }
    // Special values that must survive exactly: -0.0, subnormals, extremes.
    let mut net = small32(1);
    let special = [
        -0.0,
        f32::MIN_POSITIVE / 2.0,
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
    ];
    fill(&mut net, |k| f64::from(special[k % special.len()]));
    round_trip(&net, &random_inputs(&mut rng, 4));
}

#[test]
fn round_trip_mnist_size_f32_and_f64() {
    // 101,770 parameters; the f64 network is 814 kB, so run where the
    // stack is large and keep the networks in boxes.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut rng = SmallRng::seed_from_u64(9);
            let net = Box::new(Mnist32::random(&mut SmallRng::seed_from_u64(1)));
            round_trip(&*net, &random_inputs(&mut rng, 3));
            let net = Box::new(Mnist64::random(&mut SmallRng::seed_from_u64(2)));
            round_trip(&*net, &random_inputs(&mut rng, 3));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_leaky_relu_slope_is_restored() {
    let net = small32(3);
    let bytes = encode(&net);
    // A network built with the default slope takes the file's.
    let mut other = Small32::random(&mut SmallRng::seed_from_u64(4));
    assert_eq!(other.layers().1.0.slope, LeakyRelu::DEFAULT_SLOPE);
    other.decode_into(&bytes).unwrap();
    assert_eq!(other.layers().1.0.slope, 0.2);
    assert_eq!(Small32::decode(&bytes).unwrap().layers().1.0.slope, 0.2);
    // It is stored in the LeakyRelu record's setting field.
    let record = 24 + 13;
    assert_eq!(bytes[record], 4);
    assert_eq!(bytes[record + 9..record + 13], 0.2f32.to_le_bytes());
}

#[test]
fn header_fields() {
    let bytes = encode(&small32(1));
    assert_eq!(bytes[..8], MAGIC);
    // Version 1: all layers are constnet's own (see `custom_layers` for 2).
    assert_eq!(bytes[8..10], 1u16.to_le_bytes());
    assert_eq!(bytes[10..12], 1u16.to_le_bytes());
    assert_eq!(bytes[12..16], 3u32.to_le_bytes());
    assert_eq!(bytes[16..20], 2u32.to_le_bytes());
    assert_eq!(bytes[20..24], 4u32.to_le_bytes());
    assert_eq!(bytes[24 + 52..24 + 56], 26u32.to_le_bytes());
    let end = bytes.len() - 4;
    assert_eq!(bytes[end..], crc32(&bytes[..end]).to_le_bytes());
}

#[test]
fn wrong_magic() {
    let mut found = [0; 8];
    found.copy_from_slice(b"GIF89a\0\0");
    refused::<Small32>(
        b"GIF89a\0\0 and more",
        LoadError::BadMagic {
            found,
            found_len: 8,
        },
    );
    let mut found = [0; 8];
    found[..3].copy_from_slice(b"{\"a");
    refused::<Small32>(
        b"{\"a",
        LoadError::BadMagic {
            found,
            found_len: 3,
        },
    );
    let err = Small32::decode(b"{\"a").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a constnet file: expected the magic bytes 89 43 4e 45 54 0d 0a 1a, found 7b 22 61 (3 bytes)"
    );
}

#[test]
fn unsupported_version() {
    let mut bytes = encode(&small32(1));
    bytes[8] = 3;
    let err = LoadError::UnsupportedVersion {
        expected: VERSION,
        found: 3,
    };
    refused::<Small32>(&bytes, err);
    assert_eq!(
        err.to_string(),
        "unsupported constnet format version: expected 1 to 2, found 3"
    );
    bytes[8] = 0;
    refused::<Small32>(
        &bytes,
        LoadError::UnsupportedVersion {
            expected: VERSION,
            found: 0,
        },
    );
    // Version 2 is for networks with a named layer: this one's file is
    // version 1 only (one network, one encoding).
    bytes[8] = 2;
    fix_crc(&mut bytes);
    let err = LoadError::UnsupportedVersion {
        expected: 1,
        found: 2,
    };
    refused::<Small32>(&bytes, err);
    assert_eq!(
        err.to_string(),
        "unsupported constnet format version: expected 1, found 2"
    );
}

#[test]
fn another_scalar_type() {
    let bytes = encode(&Small32As64::random(&mut SmallRng::seed_from_u64(1)));
    let err = LoadError::ScalarMismatch {
        expected: ScalarType::F32,
        found: 2,
    };
    refused::<Small32>(&bytes, err);
    assert_eq!(
        err.to_string(),
        "the file holds numbers of another type: expected f32, found f64"
    );
    let mut bytes = encode(&small32(1));
    bytes[10] = 9;
    refused::<Small32>(
        &bytes,
        LoadError::ScalarMismatch {
            expected: ScalarType::F32,
            found: 9,
        },
    );
    assert!(
        Small32::decode(&bytes)
            .unwrap_err()
            .to_string()
            .ends_with("expected f32, found unknown scalar code 9")
    );
}

#[test]
fn another_architecture_with_the_same_parameter_count() {
    assert_eq!(SameCount::PARAMETERS, Small32::PARAMETERS);
    assert_eq!(SameCount::ENCODED_LEN, Small32::ENCODED_LEN);
    let bytes = encode(&small32(1));
    let err = LoadError::Signature(SignatureMismatch::Layer {
        index: 0,
        expected: LayerRecord {
            code: 1,
            inputs: 3,
            outputs: 3,
            setting: 0,
            ..LayerRecord::default()
        },
        found: LayerRecord {
            code: 1,
            inputs: 3,
            outputs: 4,
            setting: 0,
            ..LayerRecord::default()
        },
    });
    refused::<SameCount>(&bytes, err);
    assert_eq!(
        err.to_string(),
        "the file is for another network: layer 0: expected Dense<3→3>, found Dense<3→4>"
    );
    let err = OtherActivation::decode(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is for another network: layer 1: expected Relu<4>, found LeakyRelu<4>(slope 0.2)"
    );
    refused::<OtherActivation>(&bytes, err);
}

#[test]
fn other_widths_and_layer_counts() {
    let bytes = encode(&small32(1));
    refused::<MoreInputs>(
        &bytes,
        SignatureMismatch::Inputs {
            expected: 4,
            found: 3,
        }
        .into(),
    );
    refused::<MoreOutputs>(
        &bytes,
        SignatureMismatch::Outputs {
            expected: 3,
            found: 2,
        }
        .into(),
    );
    let err = FewerLayers::decode(&bytes).unwrap_err();
    assert_eq!(
        err,
        SignatureMismatch::LayerCount {
            expected: 3,
            found: 4
        }
        .into()
    );
    assert_eq!(
        err.to_string(),
        "the file is for another network: expected 3 layers, found 4"
    );
}

#[test]
fn unknown_layer_kinds_and_stray_settings() {
    let mut bytes = encode(&small32(1));
    let softmax = 24 + 3 * 13;
    bytes[softmax] = 42;
    fix_crc(&mut bytes);
    let err = Small32::decode(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is for another network: layer 3: expected Softmax<2>, found a layer of unknown kind 42<2→2>"
    );
    refused::<Small32>(&bytes, err);

    let mut bytes = encode(&small32(1));
    bytes[softmax + 9..softmax + 13].copy_from_slice(&1.0f32.to_le_bytes());
    fix_crc(&mut bytes);
    let err = Small32::decode(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is for another network: layer 3: expected Softmax<2>, found Softmax<2> with setting bits 0x3f800000"
    );
}

#[test]
fn a_file_that_contradicts_its_own_signature() {
    // One parameter too many, with a consistent length and checksum.
    let mut bytes = encode(&small32(1));
    let crc_at = bytes.len() - 4;
    bytes.truncate(crc_at);
    bytes.extend_from_slice(&1.5f32.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    let count = 24 + 4 * 13;
    bytes[count..count + 4].copy_from_slice(&27u32.to_le_bytes());
    fix_crc(&mut bytes);
    refused::<Small32>(
        &bytes,
        SignatureMismatch::Parameters {
            expected: 26,
            found: 27,
        }
        .into(),
    );
}

#[test]
fn truncated_at_every_length() {
    let bytes = encode(&small32(1));
    for len in 0..bytes.len() {
        let mut net = small32(2);
        let before = bits(&net);
        let err = net.decode_into(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, LoadError::Truncated { found, .. } if found == len),
            "{len}: {err}"
        );
        assert_eq!(bits(&net), before);
    }
    // Once the header is complete, the exact length is known.
    let len = bytes.len() - 1;
    refused::<Small32>(
        &bytes[..len],
        LoadError::Truncated {
            needed: bytes.len(),
            found: len,
        },
    );
    assert_eq!(
        Small32::decode(&bytes[..len]).unwrap_err().to_string(),
        "the data is truncated: expected at least 188 bytes, found 187"
    );
    refused::<Small32>(
        &[],
        LoadError::Truncated {
            needed: 8,
            found: 0,
        },
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = encode(&small32(1));
    bytes.push(0);
    refused::<Small32>(
        &bytes,
        LoadError::TrailingBytes {
            expected: 188,
            found: 189,
        },
    );
}

#[test]
fn checksum_mismatch_for_every_single_bit_flip() {
    let bytes = encode(&small32(1));
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    // Flipping any bit after the fields that decide the layout is caught
    // by the checksum.
    for byte in 24..bytes.len() {
        if (24 + 52..24 + 56).contains(&byte) {
            continue; // the parameter count: changes the length instead
        }
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[byte] ^= 1 << bit;
            let mut net = small32(2);
            let before = bits(&net);
            let err = net.decode_into(&bad).unwrap_err();
            assert!(
                matches!(err, LoadError::ChecksumMismatch { .. }),
                "{byte}.{bit}: {err}"
            );
            assert_eq!(bits(&net), before);
        }
    }
    let mut bad = bytes.clone();
    bad[100] ^= 0x10;
    let computed = crc32(&bad[..bad.len() - 4]);
    let err = LoadError::ChecksumMismatch {
        expected: computed,
        found: stored,
    };
    refused::<Small32>(&bad, err);
    assert_eq!(
        err.to_string(),
        format!("the file is corrupt: its CRC-32 is {computed:#010x}, but it says {stored:#010x}")
    );
}

#[test]
fn non_finite_parameters_and_slopes() {
    let bytes = encode(&small32(1));
    let first = 24 + 4 * 13 + 4;
    for (k, value) in [(0, f32::NAN), (7, f32::INFINITY), (25, f32::NEG_INFINITY)] {
        let mut bad = bytes.clone();
        bad[first + 4 * k..first + 4 * k + 4].copy_from_slice(&value.to_le_bytes());
        fix_crc(&mut bad);
        let mut net = small32(2);
        let before = bits(&net);
        let err = net.decode_into(&bad).unwrap_err();
        assert!(
            matches!(err, LoadError::NonFinite { index, value: v } if index == k && v.to_bits() == f64::from(value).to_bits()),
            "{err}"
        );
        assert_eq!(bits(&net), before);
    }
    let mut bad = bytes.clone();
    let slope = 24 + 13 + 9;
    bad[slope..slope + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    fix_crc(&mut bad);
    let err = Small32::decode(&bad).unwrap_err();
    assert!(matches!(err, LoadError::InvalidSetting { layer: 1, value } if value.is_nan()));
    assert_eq!(
        err.to_string(),
        "the setting of layer 1 is not finite: expected a finite number, found NaN"
    );
    assert_eq!(
        Small32::decode(&{
            let mut b = bytes.clone();
            b[first..first + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
            fix_crc(&mut b);
            b
        })
        .unwrap_err()
        .to_string(),
        "parameter 0 is not finite: expected a finite number, found inf"
    );
}

#[test]
fn encode_errors() {
    let net = small32(1);
    let mut short = [0u8; 100];
    assert_eq!(
        net.encode(&mut short),
        Err(EncodeError::BufferTooSmall {
            needed: 188,
            found: 100
        })
    );
    assert_eq!(short, [0; 100], "nothing is written on error");
    let mut nan = net.clone();
    nan.layers_mut().0.bias[2] = f32::NAN;
    let mut buf = [0u8; Small32::ENCODED_LEN];
    assert!(matches!(
        nan.encode(&mut buf),
        Err(EncodeError::NonFinite { index: 14, value }) if value.is_nan()
    ));
    let mut slope = net.clone();
    slope.layers_mut().1.0.slope = f32::INFINITY;
    assert_eq!(
        slope.encode(&mut buf),
        Err(EncodeError::InvalidSetting {
            layer: 1,
            value: f32::INFINITY
        })
    );
}

/// A path in the system's temporary directory, unique to this test run.
fn temporary(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("constnet-{}-{name}", std::process::id()))
}

#[test]
fn files() {
    let path = temporary("small.cnet");
    let net = small32(1);
    net.save_file(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), encode(&net));
    assert_eq!(bits(&Small32::load_file(&path).unwrap()), bits(&net));

    // A save that fails leaves the old file as it was.
    let mut nan = net.clone();
    nan.layers_mut().0.bias[0] = f32::NAN;
    let err = nan.save_file(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(std::fs::read(&path).unwrap(), encode(&net));

    // A file for another network: InvalidData wrapping the LoadError, and
    // the network is unchanged.
    let mut other = OtherActivation::random(&mut SmallRng::seed_from_u64(1));
    let before = bits(&other);
    let err = other.load_file_into(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let inner = err.get_ref().and_then(|e| e.downcast_ref::<LoadError>());
    assert!(matches!(inner, Some(LoadError::Signature(_))), "{err}");
    assert_eq!(bits(&other), before);

    let mut into = small32(7);
    into.load_file_into(&path).unwrap();
    assert_eq!(bits(&into), bits(&net));
    std::fs::remove_file(&path).unwrap();
    let missing = Small32::load_file(&path).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
}

/// A file longer than the network's is refused from its first bytes, with
/// the error its header gives (tests/alloc.rs shows that no more is read).
#[test]
fn files_longer_than_the_network_are_refused_from_their_header() {
    let load = |bytes: &[u8]| {
        let path = temporary("long.cnet");
        std::fs::write(&path, bytes).unwrap();
        let mut net = small32(2);
        let before = bits(&net);
        let err = net.load_file_into(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(bits(&net), before);
        *err.get_ref()
            .and_then(|e| e.downcast_ref::<LoadError>())
            .unwrap()
    };
    // This network's file with bytes after it.
    let mut bytes = encode(&small32(1));
    bytes.extend_from_slice(&[0; 100]);
    assert_eq!(
        load(&bytes),
        LoadError::TrailingBytes {
            expected: Small32::ENCODED_LEN,
            found: Small32::ENCODED_LEN + 100
        }
    );
    // A longer network's file: its header says which.
    let bigger = encode(&MoreInputs::random(&mut SmallRng::seed_from_u64(1)));
    assert!(bigger.len() > Small32::ENCODED_LEN);
    assert_eq!(
        load(&bigger),
        SignatureMismatch::Inputs {
            expected: 3,
            found: 4
        }
        .into()
    );
    // Not a constnet file at all, and long.
    let text = vec![b'#'; 10 * Small32::ENCODED_LEN];
    assert!(matches!(load(&text), LoadError::BadMagic { .. }));
    // An unknown version comes before anything else, as in `decode`.
    let mut future = bigger.clone();
    future[8] = 9;
    assert!(matches!(
        load(&future),
        LoadError::UnsupportedVersion { found: 9, .. }
    ));
}

network! {
    /// Slopes written in place, and one left at the default.
    pub struct Slopes<f32> {
        3 => Dense<4>, LeakyRelu(0.2), Dense<4>, LeakyRelu, Dense<2>, LeakyRelu(0.5)
    }
}

network! {
    /// `Slopes` used as a layer, with a slope of its own.
    pub struct AroundSlopes<f32> { 3 => Slopes, LeakyRelu(0.3), Dense<1> }
}

/// A setting written in `network!` is the network's from the start, on
/// the stack, on the heap and inside another network, and a file keeps
/// what the network had when it was saved.
#[test]
fn settings_written_in_the_macro() {
    let slopes = |net: &Slopes| {
        [
            net.layer::<1>().slope,
            net.layer::<3>().slope,
            net.layer::<5>().slope,
        ]
    };
    let expected = [0.2, LeakyRelu::DEFAULT_SLOPE, 0.5];
    let net = Slopes::random(&mut SmallRng::seed_from_u64(1));
    assert_eq!(slopes(&net), expected);
    assert_eq!(
        slopes(&Slopes::random_with(
            &mut SmallRng::seed_from_u64(1),
            Init::He
        )),
        expected
    );
    assert_eq!(
        slopes(&Slopes::random_boxed(&mut SmallRng::seed_from_u64(1))),
        expected
    );
    let around = AroundSlopes::random(&mut SmallRng::seed_from_u64(2));
    assert_eq!(slopes(around.layer::<0>()), expected);
    assert_eq!(around.layer::<1>().slope, 0.3);

    // Changed after creation and saved: the file keeps the change.
    let mut changed = net.clone();
    changed.layer_mut::<1>().slope = 0.7;
    let copy = Slopes::decode(&encode(&changed)).unwrap();
    assert_eq!(slopes(&copy), [0.7, LeakyRelu::DEFAULT_SLOPE, 0.5]);
}
