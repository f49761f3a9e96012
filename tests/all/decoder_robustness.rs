//! Random and mutated inputs through both decoders (constnet's format and,
//! with the `safetensors` feature, the PyTorch import): no input panics,
//! a failed load leaves the network bit-for-bit as it was, and an accepted
//! input is exactly the encoding of what was loaded.
//!
//! A fixed number of inputs from a fixed seed, so the run is reproducible
//! and quick; `fuzz/` has the open-ended, coverage-guided version.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use constnet::prelude::*;

use super::format::{Example, Small32, Small64, bits, fix_crc};

/// Inputs per decoder.
const INPUTS: usize = 12_000;

fn encode<N: Save>(net: &N) -> Vec<u8> {
    let mut bytes = vec![0; N::ENCODED_LEN];
    net.encode(&mut bytes).unwrap();
    bytes
}

fn random_bytes(rng: &mut SmallRng, max: usize) -> Vec<u8> {
    let len = rng.random_range(0..=max);
    (0..len).map(|_| rng.random()).collect()
}

/// Flips 1 to 8 random bits.
fn flip_bits(rng: &mut SmallRng, bytes: &mut [u8]) {
    if bytes.is_empty() {
        return;
    }
    for _ in 0..rng.random_range(1..=8) {
        let i = rng.random_range(0..bytes.len());
        bytes[i] ^= 1 << rng.random_range(0..8);
    }
}

/// A 32-bit value that tends to find edge cases.
fn interesting_u32(rng: &mut SmallRng) -> u32 {
    match rng.random_range(0..6) {
        0 => 0,
        1 => 1,
        2 => u32::MAX,
        3 => u32::MAX / 13 + 1,
        4 => rng.random_range(0..64),
        _ => rng.random(),
    }
}

/// One input for constnet's decoder, made from valid encodings.
fn mutated_file(rng: &mut SmallRng, valid: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = valid[rng.random_range(0..valid.len())].clone();
    match rng.random_range(0..10) {
        0 => bytes = random_bytes(rng, 256),
        1 => {
            bytes = constnet::format::MAGIC.to_vec();
            bytes.extend(random_bytes(rng, 256));
        }
        2 => flip_bits(rng, &mut bytes),
        3 => {
            flip_bits(rng, &mut bytes);
            fix_crc(&mut bytes);
        }
        4 => bytes.truncate(rng.random_range(0..bytes.len())),
        5 => bytes.extend(random_bytes(rng, 32)),
        6 => {
            // A header field or a record field set to an edge value.
            let fields = [12, 16, 20, 24 + 1, 24 + 5, 24 + 13 + 9, 24 + 4 * 13];
            let at = fields[rng.random_range(0..fields.len())];
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&interesting_u32(rng).to_le_bytes());
            }
            fix_crc(&mut bytes);
        }
        7 => {
            // A run of random bytes, with a valid checksum.
            let start = rng.random_range(0..bytes.len());
            let end = (start + rng.random_range(1..16)).min(bytes.len());
            for b in &mut bytes[start..end] {
                *b = rng.random();
            }
            fix_crc(&mut bytes);
        }
        8 => {
            // The start of one file and the end of another.
            let other = &valid[rng.random_range(0..valid.len())];
            let cut = rng.random_range(0..bytes.len().min(other.len()));
            bytes.truncate(cut);
            bytes.extend_from_slice(&other[cut..]);
        }
        _ => {
            // A parameter or slope made non-finite, with a valid checksum.
            let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
            let value = specials[rng.random_range(0..specials.len())];
            let at = rng.random_range(24..bytes.len().saturating_sub(4).max(25));
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            fix_crc(&mut bytes);
        }
    }
    bytes
}

/// Loads `input` into a network of type `N`; returns the error's variant
/// name, or `"ok"`.
fn load_checked<N: Save>(input: &[u8], seed: u64) -> String {
    let mut net = N::random(&mut SmallRng::seed_from_u64(seed));
    let before = bits(&net);
    let outcome = catch_unwind(AssertUnwindSafe(|| net.decode_into(input)));
    let Ok(outcome) = outcome else {
        panic!("decode_into panicked on {input:02x?}");
    };
    let fresh = catch_unwind(|| N::decode(input).map(|n| bits(&n)));
    let Ok(fresh) = fresh else {
        panic!("decode panicked on {input:02x?}");
    };
    match outcome {
        Ok(()) => {
            // Accepted: the input is exactly the encoding of the result.
            assert_eq!(encode(&net), input);
            assert_eq!(fresh, Ok(bits(&net)));
            "ok".to_owned()
        }
        Err(err) => {
            assert_eq!(
                bits(&net),
                before,
                "a failed load ({err}) changed the network"
            );
            // (Compared as text: a NaN in an error is not equal to itself.)
            assert_eq!(format!("{:?}", fresh.err()), format!("{:?}", Some(err)));
            let name = format!("{err:?}");
            name.split([' ', '(']).next().unwrap_or("").to_owned()
        }
    }
}

#[test]
fn constnet_decoder_survives_random_and_mutated_inputs() {
    let mut rng = SmallRng::seed_from_u64(2024);
    let mut leaky = Small32::random(&mut SmallRng::seed_from_u64(1));
    leaky.layers_mut().1.0.slope = 0.3;
    let valid = vec![
        encode(&leaky),
        encode(&Small64::random(&mut SmallRng::seed_from_u64(2))),
        encode(&Example::random(&mut SmallRng::seed_from_u64(3))),
    ];
    let mut outcomes = BTreeMap::<String, usize>::new();
    for i in 0..INPUTS {
        let input = mutated_file(&mut rng, &valid);
        let seed = i as u64;
        let outcome = match i % 3 {
            0 => load_checked::<Small32>(&input, seed),
            1 => load_checked::<Small64>(&input, seed),
            _ => load_checked::<Example>(&input, seed),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("constnet format, {INPUTS} inputs: {outcomes:?}");
    // The mutations reach every check, including those after the checksum.
    for variant in [
        "BadMagic",
        "Truncated",
        "TrailingBytes",
        "ChecksumMismatch",
        "ScalarMismatch",
        "Signature",
        "NonFinite",
        "InvalidSetting",
        "ok",
    ] {
        assert!(
            outcomes.contains_key(variant),
            "no {variant} in {outcomes:?}"
        );
    }
}

#[cfg(feature = "safetensors")]
mod safetensors_inputs {
    use super::*;

    use constnet::format::ImportError;

    use super::super::pytorch::{FIXTURE, Mlp};

    /// The JSON header and the data of a safetensors file.
    fn split(file: &[u8]) -> (String, Vec<u8>) {
        let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        let header = String::from_utf8(file[8..8 + n].to_vec()).unwrap();
        (header, file[8 + n..].to_vec())
    }

    fn join(header: &str, data: &[u8]) -> Vec<u8> {
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        file.extend_from_slice(data);
        file
    }

    /// An edit of the JSON header that keeps it about the same text.
    fn edit_header(rng: &mut SmallRng, header: &str) -> String {
        let tokens = [
            "F32",
            "F64",
            "F16",
            "BF16",
            "I64",
            "U8",
            "0.weight",
            "1.weight",
            "2.bias",
            "4.bias",
            "6.weight",
            "0.running_mean",
            "[8,4]",
            "[4,8]",
            "[]",
            "[0]",
            "[3]",
            "null",
            "{}",
            "\"",
            ",",
            ":",
            "[",
            "]",
            "-1",
            "18446744073709551615",
            "99999999999",
        ];
        let mut s = header.to_owned();
        for _ in 0..rng.random_range(1..=3) {
            let chars: Vec<char> = s.chars().collect();
            if chars.is_empty() {
                break;
            }
            let at = rng.random_range(0..chars.len());
            match rng.random_range(0..5) {
                0 => {
                    // A digit changed.
                    let digits: Vec<usize> = (0..chars.len())
                        .filter(|&i| chars[i].is_ascii_digit())
                        .collect();
                    if let Some(&i) = digits.get(rng.random_range(0..digits.len().max(1))) {
                        let mut c = chars.clone();
                        c[i] = char::from(b'0' + rng.random_range(0..10u8));
                        s = c.into_iter().collect();
                    }
                }
                1 => {
                    let token = tokens[rng.random_range(0..tokens.len())];
                    let mut c: String = chars[..at].iter().collect();
                    c.push_str(token);
                    c.extend(&chars[at..]);
                    s = c;
                }
                2 => {
                    let end = (at + rng.random_range(1..8)).min(chars.len());
                    s = chars[..at].iter().chain(&chars[end..]).collect();
                }
                3 => {
                    // A whole token replaced by another.
                    let from = tokens[rng.random_range(0..12)];
                    let to = tokens[rng.random_range(0..tokens.len())];
                    s = s.replacen(from, to, 1);
                }
                _ => {
                    let mut c = chars.clone();
                    c[at] = char::from(rng.random_range(0x20..0x7f_u8));
                    s = c.into_iter().collect();
                }
            }
        }
        s
    }

    /// The tensors of a valid file: name, dtype, shape, data.
    type Tensor = (String, String, Vec<usize>, Vec<u8>);

    fn tensors(file: &[u8]) -> Vec<Tensor> {
        let (header, data) = split(file);
        let header: serde_json::Value = serde_json::from_str(&header).unwrap();
        let mut out: Vec<(usize, Tensor)> = Vec::new();
        for (name, info) in header.as_object().unwrap() {
            if name == "__metadata__" {
                continue;
            }
            let offsets: Vec<usize> = serde_json::from_value(info["data_offsets"].clone()).unwrap();
            let shape: Vec<usize> = serde_json::from_value(info["shape"].clone()).unwrap();
            let dtype = info["dtype"].as_str().unwrap().to_owned();
            let bytes = data[offsets[0]..offsets[1]].to_vec();
            out.push((offsets[0], (name.clone(), dtype, shape, bytes)));
        }
        out.sort_by_key(|(start, _)| *start);
        out.into_iter().map(|(_, t)| t).collect()
    }

    fn rebuild(tensors: &[Tensor]) -> Vec<u8> {
        let borrowed: Vec<(&str, &str, &[usize], &[u8])> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.as_str(), d.as_str(), s.as_slice(), b.as_slice()))
            .collect();
        super::super::pytorch::safetensors(&borrowed)
    }

    /// A valid container whose tensors are changed: renamed, removed,
    /// added, of another dtype or shape.
    fn restructured(rng: &mut SmallRng, file: &[u8]) -> Vec<u8> {
        let mut tensors = tensors(file);
        let names = [
            "0.weight", "1.weight", "2.bias", "3.bias", "4.weight", "6.bias", "x", "",
        ];
        for _ in 0..rng.random_range(1..=2) {
            let i = rng.random_range(0..tensors.len());
            match rng.random_range(0..5) {
                0 => tensors[i].0 = names[rng.random_range(0..names.len())].to_owned(),
                1 => {
                    tensors.remove(i);
                    if tensors.is_empty() {
                        break;
                    }
                }
                2 => {
                    let name = names[rng.random_range(0..names.len())].to_owned();
                    let n = rng.random_range(0..4);
                    tensors.push((name, "F32".into(), vec![n], vec![0; 4 * n]));
                }
                3 => {
                    // Another dtype: of the same size, or F64 with the data doubled.
                    let dtypes = ["I32", "U32", "F64", "BF16"];
                    let dtype = dtypes[rng.random_range(0..dtypes.len())];
                    let t = &mut tensors[i];
                    match dtype {
                        "F64" => t.3 = t.3.repeat(2),
                        "BF16" => t.3.truncate(t.3.len() / 2),
                        _ => {}
                    }
                    t.1 = dtype.to_owned();
                }
                _ => {
                    // Another shape with as many elements.
                    let t = &mut tensors[i];
                    let count: usize = t.2.iter().product();
                    t.2 = match rng.random_range(0..3) {
                        0 => t.2.iter().rev().copied().collect(),
                        1 => vec![count],
                        _ => vec![1, count],
                    };
                }
            }
        }
        rebuild(&tensors)
    }

    fn mutated(rng: &mut SmallRng, file: &[u8]) -> Vec<u8> {
        let (header, data) = split(file);
        let mut bytes = file.to_vec();
        if rng.random_range(0..3) == 0 {
            return restructured(rng, file);
        }
        match rng.random_range(0..8) {
            0 => bytes = random_bytes(rng, 300),
            1 => {
                let text: String = (0..rng.random_range(0..200))
                    .map(|_| char::from(rng.random_range(0x20..0x7f_u8)))
                    .collect();
                bytes = join(&text, &random_bytes(rng, 64));
            }
            2 => flip_bits(rng, &mut bytes),
            3 => bytes.truncate(rng.random_range(0..bytes.len())),
            4 => bytes.extend(random_bytes(rng, 16)),
            5 | 6 => bytes = join(&edit_header(rng, &header), &data),
            _ => {
                // A NaN or infinity in the data.
                let mut data = data;
                let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
                let at = 4 * rng.random_range(0..data.len() / 4);
                let value = specials[rng.random_range(0..3)];
                data[at..at + 4].copy_from_slice(&value.to_le_bytes());
                bytes = join(&header, &data);
            }
        }
        if rng.random_range(0..20) == 0 && bytes.len() >= 8 {
            bytes[..8].copy_from_slice(&u64::from(interesting_u32(rng)).to_le_bytes());
        }
        bytes
    }

    fn variant(err: &ImportError) -> String {
        let name = format!("{err:?}");
        name.split([' ', '(', '{']).next().unwrap_or("").to_owned()
    }

    #[test]
    #[allow(clippy::result_large_err)] // an `ImportError` carries a `LayerInfo`
    fn safetensors_import_survives_random_and_mutated_inputs() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut outcomes = BTreeMap::<String, usize>::new();
        for i in 0..INPUTS {
            let input = mutated(&mut rng, FIXTURE);
            let mut net = Mlp::random(&mut SmallRng::seed_from_u64(i as u64));
            let before = bits(&net);
            let outcome = catch_unwind(AssertUnwindSafe(|| net.load_safetensors(&input)));
            let Ok(outcome) = outcome else {
                panic!("load_safetensors panicked on {input:02x?}");
            };
            let fresh = catch_unwind(|| Mlp::from_safetensors(&input).map(|n| bits(&n)));
            let Ok(fresh) = fresh else {
                panic!("from_safetensors panicked on {input:02x?}");
            };
            let name = match outcome {
                Ok(()) => {
                    assert_eq!(fresh, Ok(bits(&net)));
                    "ok".to_owned()
                }
                Err(err) => {
                    assert_eq!(
                        bits(&net),
                        before,
                        "a failed import ({err}) changed the network"
                    );
                    // The safetensors crate's message for an invalid
                    // container can depend on the order of a randomly
                    // seeded hash map: compare the variant only then.
                    let again = fresh.err().unwrap();
                    if let ImportError::Container { .. } = err {
                        assert!(matches!(again, ImportError::Container { .. }), "{again}");
                    } else {
                        assert_eq!(format!("{again:?}"), format!("{err:?}"));
                    }
                    variant(&err)
                }
            };
            *outcomes.entry(name).or_default() += 1;
        }
        println!("safetensors import, {INPUTS} inputs: {outcomes:?}");
        for variant in [
            "Container",
            "MissingTensor",
            "UnexpectedTensor",
            "DtypeMismatch",
            "ShapeMismatch",
            "NonFinite",
            "ok",
        ] {
            assert!(
                outcomes.contains_key(variant),
                "no {variant} in {outcomes:?}"
            );
        }
    }
}
