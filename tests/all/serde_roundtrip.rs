//! serde support (the `serde` feature): round trips through JSON and
//! postcard, the representation, layers of your own, and deserialisation
//! errors for anything that does not fit the type.
#![cfg(feature = "serde")]

use constnet::prelude::*;

use super::format::{Small32, Small64, bits};

// The example's layers of our own (`Softplus`, `Scale`, `Take`) and its
// networks `Custom` and `WithTanh`.
use crate::custom_layers::{Custom, Scale, Softplus, Take, WithTanh};

network! {
    /// `Small32` with a wider hidden layer.
    pub struct Wider<f32> { 3 => Dense<5>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// `Small32` with a ReLU.
    pub struct WithRelu<f32> { 3 => Dense<4>, Relu, Dense<2>, Softmax }
}

network! {
    /// `Small32` in f64.
    pub struct Small32As64<f64> { 3 => Dense<4>, LeakyRelu, Dense<2>, Softmax }
}

network! {
    /// A network of one layer.
    pub struct Single<f64> { 2 => Dense<2> }
}

network! {
    /// Another network used as a layer: its layers join the list.
    pub struct Nested<f32> { 2 => Single32, Relu }
}

network! {
    /// What was `Chain(Dense, Chain(Tanh, LeakyRelu))` on its own.
    pub struct DenseTanhLeaky<f32> { 2 => Dense<1>, Tanh, LeakyRelu }
}

network! {
    /// `Custom` with a `Scale` where it has `Softplus`: a layer of our own
    /// in the place of another.
    pub struct ScaleTwice<f32> { 2 => Dense<8>, Scale<f32, 8>, Scale<f32, 8>, Take<4>, Dense<1> }
}

network! {
    /// `Custom` keeping 3 values, not 4.
    pub struct TakeThree<f32> { 2 => Dense<8>, Softplus, Scale<f32, 8>, Take<3>, Dense<1> }
}

network! {
    /// A 2 → 2 network used as a layer by `Nested`.
    pub struct Single32<f32> { 2 => Dense<2> }
}

fn small32(seed: u64) -> Small32 {
    let mut net = Small32::random(&mut SmallRng::seed_from_u64(seed));
    net.layers_mut().1.0.slope = 0.2;
    net
}

#[test]
fn json_round_trip_is_bit_identical() {
    for seed in 0..10 {
        let net = small32(seed);
        let json = serde_json::to_string(&net).unwrap();
        let back: Small32 = serde_json::from_str(&json).unwrap();
        assert_eq!(bits(&back), bits(&net));
        let x = [0.5, -1.5, 2.0];
        assert_eq!(back.predict(&x), net.predict(&x));

        let net = Small64::random(&mut SmallRng::seed_from_u64(seed));
        let back: Small64 = serde_json::from_str(&serde_json::to_string(&net).unwrap()).unwrap();
        assert_eq!(bits(&back), bits(&net));
    }
}

#[test]
fn postcard_round_trip_is_bit_identical() {
    for seed in 0..10 {
        let net = small32(seed);
        let bytes = postcard::to_allocvec(&net).unwrap();
        let back: Small32 = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(bits(&back), bits(&net));

        let net = Small64::random(&mut SmallRng::seed_from_u64(seed));
        let bytes = postcard::to_allocvec(&net).unwrap();
        let back: Small64 = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(bits(&back), bits(&net));
    }
    // Without allocating: into a buffer.
    let net = small32(1);
    let mut buf = [0u8; 256];
    let used = postcard::to_slice(&net, &mut buf).unwrap();
    let back: Small32 = postcard::from_bytes(used).unwrap();
    assert_eq!(bits(&back), bits(&net));
}

#[test]
fn json_representation() {
    let net = Single::new(Dense::new([[1.0, -2.0], [0.5, 0.25]], [0.0, 3.0]));
    assert_eq!(
        serde_json::to_string(&net).unwrap(),
        r#"{"scalar":"f64","inputs":2,"outputs":2,"layers":[{"Dense":{"inputs":2,"outputs":2,"weight":[[1.0,-2.0],[0.5,0.25]],"bias":[0.0,3.0]}}]}"#
    );
    let value = serde_json::to_value(small32(1)).unwrap();
    assert_eq!(value["scalar"], "f32");
    assert_eq!(
        value["layers"][1],
        serde_json::json!({"LeakyRelu": {"slope": 0.2f32}})
    );
    assert_eq!(value["layers"][3], "Softmax");
    assert_eq!(
        value["layers"][2]["Dense"]["weight"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Fields in any order.
    let reordered = r#"{"layers":[{"Dense":{"bias":[0.0,3.0],"weight":[[1.0,-2.0],[0.5,0.25]],"outputs":2,"inputs":2}}],"outputs":2,"inputs":2,"scalar":"f64"}"#;
    let back: Single = serde_json::from_str(reordered).unwrap();
    assert!(back == net);
}

#[test]
fn a_network_is_its_list_of_layers() {
    // Single layers and chains have no serde impls of their own (their
    // input width is not in their type); a network of them is the list.
    let dense = Dense::<f32, 2, 1>::new([[1.5, -0.5]], [0.25]);
    let net = DenseTanhLeaky::new(Chain(dense, Chain(Tanh, LeakyRelu::new(0.5))));
    let json = serde_json::to_string(&net).unwrap();
    assert_eq!(
        json,
        r#"{"scalar":"f32","inputs":2,"outputs":1,"layers":[{"Dense":{"inputs":2,"outputs":1,"weight":[[1.5,-0.5]],"bias":[0.25]}},"Tanh",{"LeakyRelu":{"slope":0.5}}]}"#
    );
    let back: DenseTanhLeaky = serde_json::from_str(&json).unwrap();
    assert!(back == net);
}

/// The error of deserialising `json` as `N`, as text.
fn json_error<N: for<'de> serde::Deserialize<'de>>(json: &str) -> String {
    match serde_json::from_str::<N>(json) {
        Ok(_) => panic!("accepted {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shape_mismatches_are_errors() {
    let json = serde_json::to_string(&small32(1)).unwrap();
    let err = json_error::<Wider>(&json);
    assert!(err.starts_with("expected 5 outputs, found 4"), "{err}");
    let err = json_error::<WithRelu>(&json);
    assert!(
        err.starts_with("expected the layer Relu, found a LeakyRelu layer"),
        "{err}"
    );
    let err = json_error::<Small32As64>(&json);
    assert!(
        err.starts_with("invalid value: string \"f32\", expected the scalar type f64"),
        "{err}"
    );
    let err = json_error::<Single>(
        &serde_json::to_string(&Small64::random(&mut SmallRng::seed_from_u64(1))).unwrap(),
    );
    assert!(err.starts_with("expected 2 outputs, found 1"), "{err}");

    // The wrong number of layers, rows, numbers.
    let json = r#"{"scalar":"f64","inputs":2,"outputs":2,"layers":[]}"#;
    assert!(
        json_error::<Single>(json).starts_with("invalid length 0, expected a list of 1 layers")
    );
    let dense =
        r#"{"Dense":{"inputs":2,"outputs":2,"weight":[[1.0,-2.0],[0.5,0.25]],"bias":[0.0,3.0]}}"#;
    let json = format!(r#"{{"scalar":"f64","inputs":2,"outputs":2,"layers":[{dense},"Relu"]}}"#);
    assert!(
        json_error::<Single>(&json).starts_with("invalid length 2, expected a list of 1 layers")
    );
    for (bad, message) in [
        (
            r#"[[1.0,-2.0],[0.5]]"#,
            "invalid length 1, expected a row of 2 finite numbers",
        ),
        (
            r#"[[1.0,-2.0],[0.5,1.0,2.0]]"#,
            "invalid length 3, expected a row of 2 finite numbers",
        ),
        (
            r#"[[1.0,-2.0]]"#,
            "invalid length 1, expected a weight matrix of 2 rows of 2 numbers",
        ),
        (
            r#"[[1.0,-2.0],[0.5,0.25],[1.0,1.0]]"#,
            "invalid length 3, expected a weight matrix of 2 rows of 2 numbers",
        ),
    ] {
        let json = format!(
            r#"{{"scalar":"f64","inputs":2,"outputs":2,"layers":[{{"Dense":{{"inputs":2,"outputs":2,"weight":{bad},"bias":[0.0,3.0]}}}}]}}"#
        );
        let err = json_error::<Single>(&json);
        assert!(err.starts_with(message), "{err}");
    }
}

#[test]
fn missing_unknown_and_repeated_fields_are_errors() {
    let dense = r#""weight":[[1.0,-2.0],[0.5,0.25]],"bias":[0.0,3.0]"#;
    let cases = [
        (
            format!(r#"{{"Dense":{{"inputs":2,"outputs":2,{dense}}}}}"#),
            "",
        ),
        (
            format!(r#"{{"Dense":{{"inputs":2,{dense}}}}}"#),
            "missing field `outputs`",
        ),
        (
            format!(r#"{{"Dense":{{"inputs":2,"outputs":2,"extra":1,{dense}}}}}"#),
            "unknown field `extra`",
        ),
        (
            format!(r#"{{"Dense":{{"inputs":2,"outputs":2,"bias":[0.0,0.0],{dense}}}}}"#),
            "duplicate field `bias`",
        ),
        (
            format!(r#"{{"Dense":{{"inputs":2,"outputs":2,"slope":1.0,{dense}}}}}"#),
            "unknown field `slope`",
        ),
        (
            format!(r#"{{"Dense":{{"inputs":3,"outputs":2,{dense}}}}}"#),
            "expected 2 inputs, found 3",
        ),
        (
            format!(r#"{{"Conv":{{"inputs":3,"outputs":2,{dense}}}}}"#),
            "unknown variant `Conv`",
        ),
    ];
    for (json, message) in cases {
        let layers = format!(r#"{{"scalar":"f64","inputs":2,"outputs":2,"layers":[{json}]}}"#);
        match serde_json::from_str::<Single>(&layers) {
            Ok(_) => assert_eq!(message, "", "accepted {layers}"),
            Err(e) => assert!(e.to_string().starts_with(message), "{e} for {layers}"),
        }
    }
    let json = format!(
        r#"{{"scalar":"f64","inputs":2,"layers":[{{"Dense":{{"inputs":2,"outputs":2,{dense}}}}}]}}"#
    );
    let err = json_error::<Single>(&json);
    assert!(err.starts_with("missing field `outputs`"), "{err}");
    let err = json_error::<Single>(r#"{"scalar":"f64","scalar":"f64"}"#);
    assert!(err.starts_with("duplicate field `scalar`"), "{err}");
}

#[test]
fn non_finite_numbers_are_errors() {
    // JSON has no NaN, postcard has: a NaN weight or slope is refused.
    let mut net = small32(1);
    net.layers_mut().0.weight.0[1][2] = f32::NAN;
    let bytes = postcard::to_allocvec(&net).unwrap();
    let err = postcard::from_bytes::<Small32>(&bytes).unwrap_err();
    assert!(matches!(err, postcard::Error::SerdeDeCustom), "{err:?}");
    let mut net = small32(1);
    net.layers_mut().1.0.slope = f32::INFINITY;
    let bytes = postcard::to_allocvec(&net).unwrap();
    assert!(postcard::from_bytes::<Small32>(&bytes).is_err());
    let json = serde_json::to_string(&small32(1)).unwrap();
    let json = json.replace(r#"{"slope":0.2}"#, r#"{"slope":1e999}"#);
    assert!(json.contains("1e999"));
    assert!(serde_json::from_str::<Small32>(&json).is_err());
}

#[test]
fn postcard_of_another_network_is_an_error_not_a_panic() {
    let bytes = postcard::to_allocvec(&small32(1)).unwrap();
    assert!(postcard::from_bytes::<Wider>(&bytes).is_err());
    assert!(postcard::from_bytes::<WithRelu>(&bytes).is_err());
    assert!(postcard::from_bytes::<Small64>(&bytes).is_err());
    for len in 0..bytes.len() {
        assert!(postcard::from_bytes::<Small32>(&bytes[..len]).is_err());
    }
}

#[test]
fn a_network_used_as_a_layer_adds_its_layers() {
    let net = Nested::random(&mut SmallRng::seed_from_u64(1));
    let value = serde_json::to_value(&net).unwrap();
    assert_eq!(value["layers"].as_array().unwrap().len(), 2);
    assert_eq!(value["layers"][1], "Relu");
    let back: Nested = serde_json::from_value(value).unwrap();
    assert_eq!(bits(&back), bits(&net));
    let back: Nested = postcard::from_bytes(&postcard::to_allocvec(&net).unwrap()).unwrap();
    assert_eq!(bits(&back), bits(&net));
}

/// A `Custom` with random weights and a scale that is not all ones.
fn custom(seed: u64) -> Custom {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut net = Custom::random(&mut rng);
    for s in &mut net.layers_mut().1.1.0.0 {
        *s = rng.random_range(0.5..2.0);
    }
    net
}

#[test]
fn layers_of_our_own_round_trip() {
    for seed in 0..10 {
        let net = custom(seed);
        let json = serde_json::to_string(&net).unwrap();
        let back: Custom = serde_json::from_str(&json).unwrap();
        assert_eq!(bits(&back), bits(&net));
        let bytes = postcard::to_allocvec(&net).unwrap();
        let back: Custom = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(bits(&back), bits(&net));
        let x = [0.25, -0.75];
        assert_eq!(back.predict(&x), net.predict(&x));
    }
}

#[test]
fn layers_of_our_own_follow_the_same_rule() {
    let net = custom(1);
    let value = serde_json::to_value(&net).unwrap();
    let layers = value["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 5);
    // Without tensors or setting: the name alone, even when the width
    // changes (the next dense layer records it).
    assert_eq!(layers[1], "Softplus");
    assert_eq!(layers[3], "Take");
    // With a tensor: its widths, then the tensor under its name.
    let scale = &layers[2]["Scale"];
    assert_eq!(scale["inputs"], 8);
    assert_eq!(scale["outputs"], 8);
    let s = scale["s"].as_array().unwrap();
    assert_eq!(s.len(), 8);
    assert_eq!(s[3], f64::from(net.layers().1.1.0.0[3]));
    assert_eq!(scale.as_object().unwrap().len(), 3);
    assert_eq!(layers[4]["Dense"]["inputs"], 4);
}

#[test]
fn a_layer_of_our_own_in_the_place_of_another_is_refused() {
    let json = serde_json::to_string(&custom(1)).unwrap();
    let err = json_error::<WithTanh>(&json);
    assert!(
        err.starts_with("unknown variant `Softplus`, expected the layer Tanh"),
        "{err}"
    );
    let err = json_error::<ScaleTwice>(&json);
    assert!(
        err.starts_with("unknown variant `Softplus`, expected the layer Scale<8>"),
        "{err}"
    );
    let err = json_error::<TakeThree>(&json);
    assert!(err.starts_with("expected 3 inputs, found 4"), "{err}");
    let tanh = serde_json::to_string(&WithTanh::random(&mut SmallRng::seed_from_u64(1))).unwrap();
    let err = json_error::<Custom>(&tanh);
    assert!(
        err.starts_with("expected the layer Softplus, found a Tanh layer"),
        "{err}"
    );
    // A record of a layer of our own has its widths and tensor, and no
    // other field.
    for (bad, message) in [
        (
            r#""Scale""#,
            "invalid type: unit variant, expected struct variant",
        ),
        (r#"{"Scale":{"inputs":8,"outputs":8}}"#, "missing field `s`"),
        (
            r#"{"Scale":{"inputs":8,"outputs":8,"s":[1,2,3,4,5,6,7,8],"t":[]}}"#,
            "unknown field `t`, expected one of `inputs`, `outputs`, `s`",
        ),
        (
            r#"{"Scale":{"inputs":8,"outputs":8,"s":[1,2,3,4,5,6,7]}}"#,
            "invalid length 7, expected a s of 8 finite numbers",
        ),
        (
            r#"{"Softplus":null}"#,
            "unknown variant `Softplus`, expected the layer Scale<8>",
        ),
    ] {
        let mut value = serde_json::to_value(custom(1)).unwrap();
        value["layers"][2] = serde_json::from_str(bad).unwrap();
        let err = json_error::<Custom>(&value.to_string());
        assert!(err.starts_with(message), "{err} for {bad}");
    }

    // In postcard, which keeps only a variant's index (255 for every
    // layer of our own), the name is a field of the record.
    let bytes = postcard::to_allocvec(&custom(1)).unwrap();
    let softplus = [&[0xFF, 0x01, 8][..], b"Softplus"].concat();
    assert!(bytes.windows(softplus.len()).any(|w| w == softplus));
    assert!(postcard::from_bytes::<WithTanh>(&bytes).is_err());
    assert!(postcard::from_bytes::<ScaleTwice>(&bytes).is_err());
    assert!(postcard::from_bytes::<TakeThree>(&bytes).is_err());
    let tanh = postcard::to_allocvec(&WithTanh::random(&mut SmallRng::seed_from_u64(1))).unwrap();
    assert!(postcard::from_bytes::<Custom>(&tanh).is_err());
    for len in 0..bytes.len() {
        assert!(postcard::from_bytes::<Custom>(&bytes[..len]).is_err());
    }
    // Any byte changed: an error or a network, never a panic.
    for i in 0..bytes.len() {
        for flip in [1u8, 0x80, 0xFF] {
            let mut bytes = bytes.clone();
            bytes[i] ^= flip;
            let _ = postcard::from_bytes::<Custom>(&bytes);
        }
    }
}
