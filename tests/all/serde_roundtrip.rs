//! serde support (the `serde` feature): round trips through JSON and
//! postcard, the representation, and deserialisation errors for anything
//! that does not fit the type.
#![cfg(feature = "serde")]

use constnet::prelude::*;

use super::format::{Small32, Small64, bits};

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
    /// Another network used as a layer: it has no serde support as a
    /// layer, so `Nested` is not serialisable, but it still compiles with
    /// the `serde` feature on.
    pub struct Nested<f32> { 2 => Single32, Relu }
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
fn layers_and_chains_on_their_own() {
    let dense = Dense::<f32, 2, 1>::new([[1.5, -0.5]], [0.25]);
    let json = serde_json::to_string(&dense).unwrap();
    assert_eq!(
        json,
        r#"{"Dense":{"inputs":2,"outputs":1,"weight":[[1.5,-0.5]],"bias":[0.25]}}"#
    );
    assert!(serde_json::from_str::<Dense<f32, 2, 1>>(&json).unwrap() == dense);
    let chain = Chain(dense, Chain(Tanh, LeakyRelu::new(0.5)));
    let json = serde_json::to_string(&chain).unwrap();
    assert!(
        json.ends_with(r#","Tanh",{"LeakyRelu":{"slope":0.5}}]"#),
        "{json}"
    );
    let back: Chain<Dense<f32, 2, 1>, Chain<Tanh, LeakyRelu>> =
        serde_json::from_str(&json).unwrap();
    assert!(back == chain);
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
    let json = r#"{"LeakyRelu":{"slope":1e999}}"#;
    assert!(serde_json::from_str::<LeakyRelu>(json).is_err());
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
fn a_network_with_a_layer_without_serde_still_compiles() {
    // `Nested` has no serde impls (its first layer is another network),
    // and defining it with the `serde` feature on is not an error.
    let net = Nested::random(&mut SmallRng::seed_from_u64(1));
    assert_eq!(net.predict(&[1.0, 2.0]).len(), 2);
}
