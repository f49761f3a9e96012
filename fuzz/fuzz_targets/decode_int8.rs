//! Fuzzes the int8 decoder (`quant::Quantized::decode`).
//!
//! Each input is tried as it is, with its CRC-32 appended, and as edits to
//! a valid file (pairs of a 16-bit position and a byte to XOR there, then
//! a valid checksum), so that the fuzzer reaches the checks after the
//! checksum. Every try asserts that decoding does not panic and that an
//! accepted input is exactly the encoding of what was loaded.
#![no_main]

use constnet::prelude::*;
use constnet::quant::Quantized;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

network! {
    /// Every int8 layer form: dense, folded ReLU, tables, identity,
    /// softmax.
    struct Net<f32> { 3 => Dense<4>, Relu, Dense<4>, Tanh, Dense<3>, Identity, Dense<2>, Softmax }
}

fn valid() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let mut rng = SmallRng::seed_from_u64(1);
        let net = Net::random(&mut rng);
        let data: Vec<[f32; 3]> = (0..64)
            .map(|_| core::array::from_fn(|_| rng.random_range(-1.0..1.0)))
            .collect();
        Quantized::calibrate(&net, &data).unwrap().encode_to_vec()
    })
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn try_decode(bytes: &[u8]) {
    if let Ok(net) = Quantized::<Net>::decode(bytes) {
        assert_eq!(net.encode_to_vec(), bytes, "an accepted file is canonical");
    }
}

fuzz_target!(|data: &[u8]| {
    try_decode(data);
    let mut with_crc = data.to_vec();
    with_crc.extend_from_slice(&crc32(data).to_le_bytes());
    try_decode(&with_crc);
    let mut edited = valid().to_vec();
    let body = edited.len() - 4;
    for edit in data.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % body;
        edited[at] ^= edit[2];
    }
    let sum = crc32(&edited[..body]);
    edited[body..].copy_from_slice(&sum.to_le_bytes());
    try_decode(&edited);
});
