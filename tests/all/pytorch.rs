//! The PyTorch import (the `safetensors` feature): the committed fixture
//! made by `tests/fixtures/pytorch/make_fixture.py` against the outputs
//! stored in it, how tensor names map to layers, and every error.
#![cfg(feature = "safetensors")]

use constnet::format::{ImportError, ScalarType};
use constnet::prelude::*;

use super::format::bits;

/// The weights of `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8,
/// 6), nn.Tanh(), nn.Linear(6, 3))`, with inputs and expected outputs in
/// the metadata.
pub const FIXTURE: &[u8] = include_bytes!("../fixtures/pytorch/mlp.safetensors");

network! {
    /// The fixture's model.
    pub struct Mlp<f32> { 4 => Dense<8>, Relu, Dense<6>, Tanh, Dense<3> }
}

network! {
    /// The fixture's model in f64.
    pub struct Mlp64<f64> { 4 => Dense<8>, Relu, Dense<6>, Tanh, Dense<3> }
}

network! {
    /// With a leaky ReLU, whose slope a state_dict does not hold.
    pub struct Leaky<f32> { 2 => Dense<3>, LeakyRelu, Dense<1> }
}

/// A metadata entry of the fixture: a JSON list of rows of numbers.
fn metadata(key: &str) -> Vec<Vec<f64>> {
    let n = u64::from_le_bytes(FIXTURE[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&FIXTURE[8..8 + n]).unwrap();
    let text = header["__metadata__"][key].as_str().unwrap();
    serde_json::from_str(text).unwrap()
}

#[test]
fn matches_pytorch_outputs_stored_in_the_fixture() {
    let net = Mlp::from_safetensors(FIXTURE).unwrap();
    let inputs = metadata("inputs");
    let expected = metadata("outputs");
    assert_eq!(inputs.len(), 6);
    let mut worst = 0.0f64;
    for (x, e) in inputs.iter().zip(&expected) {
        let x: [f32; 4] = std::array::from_fn(|i| x[i] as f32);
        let y = net.predict(&x);
        for (&y, &e) in y.iter().zip(e) {
            let e = e as f32;
            let error = f64::from((y - e).abs()) / f64::from(e.abs());
            worst = worst.max(error);
            assert!(
                error <= 1e-6,
                "{y} against PyTorch's {e}: relative error {error:e}"
            );
        }
    }
    println!("largest relative error in f32: {worst:e}");

    // The same weights in f64 against the float64 forward pass: the
    // import put every number where PyTorch has it.
    let mut net64 = Mlp64::random(&mut SmallRng::seed_from_u64(0));
    for t in 0..<Mlp as Tensors<f32>>::COUNT {
        for (d, &s) in net64.tensor_mut(t).iter_mut().zip(net.tensor(t)) {
            *d = f64::from(s);
        }
    }
    for (x, e) in inputs.iter().zip(metadata("outputs_f64")) {
        let x: [f64; 4] = std::array::from_fn(|i| x[i]);
        for (y, e) in net64.predict(&x).iter().zip(e) {
            assert!((y - e).abs() <= 1e-12 * e.abs(), "{y} against {e}");
        }
    }
}

/// A safetensors file: tensors in order, little-endian data.
pub fn safetensors(tensors: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let start = data.len();
        data.extend_from_slice(bytes);
        entries.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    }
    let header = format!("{{{}}}", entries.join(","));
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&data);
    file
}

fn f32s(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// The tensors of `Leaky` (positions 0 and 2), parameter k being k / 4.
fn leaky_tensors(prefix: &str) -> Vec<(String, &'static str, Vec<usize>, Vec<u8>)> {
    let mut k = 0..;
    let mut next = |n: usize| f32s((&mut k).take(n).map(|k| k as f32 / 4.0));
    vec![
        (format!("{prefix}0.weight"), "F32", vec![3, 2], next(6)),
        (format!("{prefix}0.bias"), "F32", vec![3], next(3)),
        (format!("{prefix}2.weight"), "F32", vec![1, 3], next(3)),
        (format!("{prefix}2.bias"), "F32", vec![1], next(1)),
    ]
}

fn build(tensors: &[(String, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &str, &[usize], &[u8])> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.as_str(), *d, s.as_slice(), b.as_slice()))
        .collect();
    safetensors(&borrowed)
}

/// Imports `file` into a `Leaky`, expects an error, checks the network is
/// unchanged and returns the error.
fn refused(file: &[u8]) -> ImportError {
    let mut net = Leaky::random(&mut SmallRng::seed_from_u64(3));
    let before = bits(&net);
    let err = net.load_safetensors(file).unwrap_err();
    assert_eq!(bits(&net), before, "a failed import changed the network");
    // Compared as text, as a NaN in an error is not equal to itself; the
    // safetensors crate's message for an invalid container can depend on
    // hash order, so only the variant counts then.
    let again = Leaky::from_safetensors(file).unwrap_err();
    if let ImportError::Container { .. } = err {
        assert!(matches!(again, ImportError::Container { .. }));
    } else {
        assert_eq!(format!("{again:?}"), format!("{err:?}"));
    }
    err
}

#[test]
fn tensor_names_are_layer_positions_and_weights_are_out_by_in() {
    let file = build(&leaky_tensors(""));
    let mut net = Leaky::random(&mut SmallRng::seed_from_u64(1));
    net.layers_mut().1.0.slope = 0.2;
    net.load_safetensors(&file).unwrap();
    let (dense0, rest) = (&net.layers().0, &net.layers().1);
    // `0.weight` is [out, in] = [3, 2], row-major: W[o][i] = (2 o + i) / 4.
    assert_eq!(dense0.weight.0, [[0.0, 0.25], [0.5, 0.75], [1.0, 1.25]]);
    assert_eq!(dense0.bias, [1.5, 1.75, 2.0]);
    assert_eq!(rest.1.weight.0, [[2.25, 2.5, 2.75]]);
    assert_eq!(rest.1.bias, [3.0]);
    // The slope is not in a state_dict: loading keeps it, a new network
    // gets PyTorch's default.
    assert_eq!(rest.0.slope, 0.2);
    let fresh = Leaky::from_safetensors(&file).unwrap();
    assert_eq!(fresh.layers().1.0.slope, LeakyRelu::DEFAULT_SLOPE);
    assert_eq!(bits(&fresh)[..13], bits(&net)[..13]);
}

#[test]
fn a_submodule_is_loaded_by_its_prefix() {
    let mut tensors = leaky_tensors("body.");
    tensors.push(("head.weight".into(), "F32", vec![2, 2], f32s([1.0; 4])));
    let file = build(&tensors);
    let mut net = Leaky::random(&mut SmallRng::seed_from_u64(1));
    net.load_safetensors_under(&file, "body.").unwrap();
    assert_eq!(net.layers().1.1.bias, [3.0]);
    let err = refused(&file);
    assert_eq!(
        err.to_string(),
        "unexpected tensor `body.0.bias`: no layer of the network has it (for a network \
         inside a larger model, give the prefix of its tensors to `load_safetensors_under`)"
    );
}

#[test]
fn missing_tensor() {
    let mut tensors = leaky_tensors("");
    tensors.remove(3);
    let err = refused(&build(&tensors));
    assert_eq!(
        err,
        ImportError::MissingTensor {
            name: "2.bias".into(),
            layer: 2,
            spec: <Dense<f32, 3, 1> as Layer<[f32; 3]>>::layer(0).unwrap(),
        }
    );
    assert_eq!(
        err.to_string(),
        "tensor `2.bias` is missing: expected it for layer 2, Dense<3→1>"
    );
}

#[test]
fn unexpected_tensors() {
    // A model without the activation: its second Linear is module 1.
    let mut tensors = leaky_tensors("");
    tensors[2].0 = "1.weight".into();
    tensors[3].0 = "1.bias".into();
    let err = refused(&build(&tensors));
    assert_eq!(
        err.to_string(),
        "unexpected tensor `1.bias`: layer 1 of the network is LeakyRelu, which has no `bias`"
    );
    // A model with more layers.
    let mut tensors = leaky_tensors("");
    tensors.push(("4.weight".into(), "F32", vec![1, 1], f32s([1.0])));
    let err = refused(&build(&tensors));
    assert_eq!(
        err,
        ImportError::UnexpectedTensor {
            name: "4.weight".into(),
            position: Some(4),
            spec: None,
            layers: 3,
        }
    );
    assert_eq!(
        err.to_string(),
        "unexpected tensor `4.weight`: the network has 3 layers (0 to 2)"
    );
    // A buffer of a layer the network does not have (BatchNorm).
    let mut tensors = leaky_tensors("");
    tensors.push(("0.running_mean".into(), "F32", vec![3], f32s([0.0; 3])));
    let err = refused(&build(&tensors));
    assert_eq!(
        err.to_string(),
        "unexpected tensor `0.running_mean`: layer 0 of the network is Dense<2→3>, which has no `running_mean`"
    );
}

/// The example's layers of our own and its network `Custom`.

#[test]
fn layers_of_our_own_take_the_tensors_they_describe() {
    use crate::custom_layers::Custom;

    // `2 => Dense<8>, Softplus, Scale<f32, 8>, Take<4>, Dense<1>`: the
    // scale is `2.s`, of shape [8].
    let mut k = 0..;
    let mut next = |n: usize| f32s((&mut k).take(n).map(|k| k as f32 / 8.0));
    let tensors: Vec<(String, &str, Vec<usize>, Vec<u8>)> = vec![
        ("0.weight".into(), "F32", vec![8, 2], next(16)),
        ("0.bias".into(), "F32", vec![8], next(8)),
        ("2.s".into(), "F32", vec![8], next(8)),
        ("4.weight".into(), "F32", vec![1, 4], next(4)),
        ("4.bias".into(), "F32", vec![1], next(1)),
    ];
    let net = Custom::from_safetensors(&build(&tensors)).unwrap();
    assert_eq!(
        net.layers().1.1.0.0,
        std::array::from_fn(|i| (24 + i) as f32 / 8.0)
    );
    assert_eq!(net.tensor(4), [36.0 / 8.0]);

    let mut missing = tensors.clone();
    missing.remove(2);
    let err = Custom::from_safetensors(&build(&missing)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `2.s` is missing: expected it for layer 2, Scale<8>"
    );
    let mut misplaced = tensors.clone();
    misplaced[2].0 = "1.s".into();
    let err = Custom::from_safetensors(&build(&misplaced)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected tensor `1.s`: layer 1 of the network is Softplus, which has no `s`"
    );
    let mut wrong = tensors;
    wrong[2].2 = vec![1, 8];
    let err = Custom::from_safetensors(&build(&wrong)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `2.s` (layer 2, Scale<8>) has the wrong shape: expected [8], found [1, 8]"
    );
}

#[test]
fn wrong_dtype() {
    let mut tensors = leaky_tensors("");
    tensors[0].1 = "F64";
    tensors[0].3 = (0..6).flat_map(|k| f64::from(k).to_le_bytes()).collect();
    let err = refused(&build(&tensors));
    assert_eq!(
        err,
        ImportError::DtypeMismatch {
            name: "0.weight".into(),
            expected: ScalarType::F32,
            found: "F64".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "tensor `0.weight` has the wrong dtype: expected F32 for an f32 network, found F64 \
         (convert with model.float() before saving)"
    );
    // An f64 network wants F64.
    let err = Mlp64::from_safetensors(FIXTURE).unwrap_err();
    assert!(matches!(
        err,
        ImportError::DtypeMismatch {
            expected: ScalarType::F64,
            ..
        }
    ));
}

#[test]
fn wrong_shape() {
    let mut tensors = leaky_tensors("");
    tensors[0].2 = vec![2, 3]; // [in, out]: the transpose
    let err = refused(&build(&tensors));
    assert_eq!(
        err.to_string(),
        "tensor `0.weight` (layer 0, Dense<2→3>) has the wrong shape: expected [3, 2], found [2, 3] \
         (the transpose: nn.Linear stores its weight as [out_features, in_features])"
    );
    let mut tensors = leaky_tensors("");
    tensors[1].2 = vec![3, 1];
    let err = refused(&build(&tensors));
    assert!(matches!(
        err,
        ImportError::ShapeMismatch { ref expected, ref found, .. } if *expected == [3] && *found == [3, 1]
    ));
    // Another architecture.
    network! { struct Wider<f32> { 4 => Dense<9>, Relu, Dense<6>, Tanh, Dense<3> } }
    let err = Wider::from_safetensors(FIXTURE).unwrap_err();
    assert!(err.to_string().starts_with(
        "tensor `0.weight` (layer 0, Dense<4→9>) has the wrong shape: expected [9, 4], found [8, 4]"
    ));
}

#[test]
fn non_finite_values() {
    let mut tensors = leaky_tensors("");
    tensors[2].3 = f32s([0.0, f32::NAN, 1.0]);
    let err = refused(&build(&tensors));
    assert!(matches!(
        err,
        ImportError::NonFinite { ref name, index: 1, value } if name == "2.weight" && value.is_nan()
    ));
    assert_eq!(
        err.to_string(),
        "tensor `2.weight` value 1 is not finite: expected a finite number, found NaN"
    );
}

#[test]
fn not_a_safetensors_file() {
    let err = refused(b"definitely not safetensors");
    assert!(matches!(err, ImportError::Container { .. }));
    assert!(
        err.to_string()
            .starts_with("not a valid safetensors file: "),
        "{err}"
    );
    let err = refused(&FIXTURE[..FIXTURE.len() - 1]);
    assert!(matches!(err, ImportError::Container { .. }), "{err}");
}

#[test]
fn from_a_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch/mlp.safetensors");
    let net = Mlp::from_safetensors_file(&path).unwrap();
    assert_eq!(bits(&net), bits(&Mlp::from_safetensors(FIXTURE).unwrap()));
    let err = Leaky::from_safetensors_file(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn an_invalid_container_is_always_a_container_error() {
    // Found by fuzzing: for two tensors with the same data offsets, the
    // safetensors crate reports one of two errors, depending on the order
    // of its randomly seeded hash map. The message may vary; the variant
    // does not, and neither does the network.
    let zeros = f32s([0.0; 8]);
    let file = safetensors(&[("a", "F32", &[8], &zeros), ("b", "F32", &[2, 4], &zeros)]);
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(file[8..8 + n].to_vec()).unwrap();
    let header = header.replace("[32,64]", "[0,32]");
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&zeros);
    for _ in 0..20 {
        let err = refused(&bytes);
        assert!(matches!(err, ImportError::Container { .. }), "{err}");
    }
}
