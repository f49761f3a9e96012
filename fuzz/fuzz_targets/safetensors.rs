//! Fuzzes the PyTorch import (`FromSafetensors`).
//!
//! Each input is tried two ways:
//!
//! 1. as a whole safetensors file;
//! 2. as the JSON header of a file whose data is the fixture's
//!    (`tests/fixtures/pytorch/mlp.safetensors`), with a correct length
//!    prefix, so that the fuzzer works on the header's meaning (names,
//!    dtypes, shapes, offsets) rather than on its length field.
//!
//! Every try asserts that importing does not panic, that a failed
//! `load_safetensors` leaves the network bit-for-bit as it was, and that
//! `from_safetensors` agrees with it.
#![no_main]

use constnet::format::ImportError;
use constnet::Layer;
use constnet::prelude::*;
use libfuzzer_sys::fuzz_target;

network! {
    /// The fixture's model.
    struct Mlp<f32> { 4 => Dense<8>, Relu, Dense<6>, Tanh, Dense<3> }
}

network! {
    /// The same in f64 (the fixture is F32: a dtype mismatch).
    struct Mlp64<f64> { 4 => Dense<8>, Relu, Dense<6>, Tanh, Dense<3> }
}

network! {
    /// With a leaky ReLU, whose slope an import must keep.
    struct Leaky<f32> { 4 => Dense<8>, LeakyRelu, Dense<6>, Tanh, Dense<3> }
}

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/pytorch/mlp.safetensors");

/// Every bit of a network: parameters and settings.
fn bits<N: Network>(net: &N) -> Vec<u64> {
    let layers = net.layers();
    let mut out = Vec::new();
    for t in 0..<N::Layers as Tensors<N::Scalar>>::COUNT {
        out.extend(layers.tensor(t).iter().map(|x| x.as_f64().to_bits()));
    }
    for i in 0..<N::Layers as Layer<N::Input>>::LAYERS {
        out.extend(layers.setting(i).map(|s| u64::from(s.to_bits())));
    }
    out
}

/// An outcome, to compare two loads of the same bytes: the `safetensors`
/// crate's message for a `Container` error can depend on the order of a
/// randomly seeded hash map, so only its variant counts.
fn same(outcome: &Result<(), ImportError>) -> String {
    match outcome {
        Err(ImportError::Container { .. }) => "Container".to_owned(),
        other => format!("{other:?}"),
    }
}

fn check<N: FromSafetensors>(bytes: &[u8], prefix: &str) {
    let mut net = N::random(&mut SmallRng::seed_from_u64(1));
    let before = bits(&net);
    let loaded = net.load_safetensors_under(bytes, prefix);
    match &loaded {
        Ok(()) => {}
        Err(err) => {
            assert_eq!(bits(&net), before, "a failed import changed the network");
            let _ = err.to_string();
        }
    }
    if prefix.is_empty() {
        match N::from_safetensors(bytes) {
            Ok(fresh) => {
                assert!(loaded.is_ok());
                // Parameters only: a new network has the default slopes.
                let count = N::PARAMETERS;
                assert_eq!(bits(&fresh)[..count], bits(&net)[..count]);
            }
            Err(err) => assert_eq!(same(&loaded), same(&Err(err))),
        }
    }
}

fn check_all(bytes: &[u8]) {
    check::<Mlp>(bytes, "");
    check::<Mlp64>(bytes, "");
    check::<Leaky>(bytes, "");
    check::<Mlp>(bytes, "m.");
}

fuzz_target!(|data: &[u8]| {
    check_all(data);

    let n = usize::try_from(u64::from_le_bytes(FIXTURE[..8].try_into().unwrap())).unwrap();
    let mut file = (data.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(data);
    file.extend_from_slice(&FIXTURE[8 + n..]);
    check_all(&file);
});
