//! Fuzzes constnet's decoder (`Save::decode`, `Save::decode_into`).
//!
//! Each input is tried three ways, so that the fuzzer reaches the checks
//! after the checksum as easily as those before it:
//!
//! 1. as it is;
//! 2. with its CRC-32 appended (an input that is a file without its
//!    checksum becomes a file with a valid one);
//! 3. as edits to a valid file (version 1, with a leaky ReLU's slope, and
//!    version 2, with a named layer): pairs of a 16-bit position and a
//!    byte to XOR there, then a valid checksum.
//!
//! Every try asserts that decoding does not panic, that a failed
//! `decode_into` leaves the network bit-for-bit as it was, that an accepted
//! input is exactly the encoding of what was loaded, and that `decode`
//! agrees with `decode_into`.
#![no_main]

use constnet::prelude::*;
use libfuzzer_sys::fuzz_target;

network! {
    /// f32, with a leaky ReLU (a setting in the file).
    struct Small32<f32> { 3 => Dense<4>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// f64.
    struct Small64<f64> { 2 => Dense<3>, Tanh, Dense<1>, Sigmoid }
}

constnet::elementwise! {
    /// A layer known by its name.
    struct Softplus = "Softplus";
    f(x) = (T::ONE + x.exp()).ln();
    df(_x, y) = T::ONE - (-y).exp();
}

network! {
    /// f32 with a named layer: a version-2 file.
    struct Named<f32> { 3 => Dense<4>, Softplus, Dense<2> }
}

fn crc32(bytes: &[u8]) -> u32 {
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

fn encode<N: Save>(net: &N) -> Vec<u8> {
    let mut bytes = vec![0; N::ENCODED_LEN];
    net.encode(&mut bytes).expect("a random network encodes");
    bytes
}

fn check<N: Save>(bytes: &[u8]) {
    let mut net = N::random(&mut SmallRng::seed_from_u64(1));
    let before = encode(&net);
    let into = net.decode_into(bytes);
    match &into {
        Ok(()) => assert_eq!(encode(&net), bytes, "accepted a non-canonical file"),
        Err(err) => {
            assert_eq!(encode(&net), before, "a failed load changed the network");
            let _ = err.to_string();
        }
    }
    match N::decode(bytes) {
        Ok(fresh) => {
            assert!(into.is_ok());
            assert_eq!(encode(&fresh), bytes);
        }
        Err(err) => assert_eq!(format!("{:?}", into), format!("{:?}", Err::<(), _>(err))),
    }
}

fn check_all(bytes: &[u8]) {
    check::<Small32>(bytes);
    check::<Small64>(bytes);
    check::<Named>(bytes);
}

/// `file`, a valid file, with the edits in `data` applied: pairs of a
/// 16-bit position and a byte to XOR there, then a valid checksum.
fn edited(mut file: Vec<u8>, data: &[u8]) -> Vec<u8> {
    for edit in data.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % file.len();
        file[at] ^= edit[2];
    }
    let end = file.len() - 4;
    let crc = crc32(&file[..end]);
    file[end..].copy_from_slice(&crc.to_le_bytes());
    file
}

fuzz_target!(|data: &[u8]| {
    check_all(data);

    let mut with_crc = data.to_vec();
    with_crc.extend_from_slice(&crc32(data).to_le_bytes());
    check_all(&with_crc);

    let mut net = Small32::random(&mut SmallRng::seed_from_u64(2));
    net.layers_mut().1.0.slope = 0.25;
    check_all(&edited(encode(&net), data));
    let named = Named::random(&mut SmallRng::seed_from_u64(3));
    check_all(&edited(encode(&named), data));
});
