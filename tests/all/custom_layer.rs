//! Layers defined outside the crate (`examples/custom_layer.rs`: `Softplus`,
//! `Scale<T, N>`, `Take<K>`) are as first-class as constnet's own: their
//! gradients are right, and a network of them trains, saves and loads,
//! exports as Rust source that compiles back, builds on the heap, and is
//! refused where another layer stands. Also: a network used as a layer in
//! the middle of another, and a network of activations only.

use crate::custom_layers::{self, Custom, Scale, Softplus, Take, WithTanh};
use constnet::format::{LayerRecord, SignatureMismatch};
use constnet::layer::LayerKind;
use constnet::prelude::*;

use crate::export::check_fixture;
use crate::format::bits;
use crate::gradients::{check_network, samples};

network! {
    /// The custom layers in f64, for the finite-difference checks.
    pub struct Custom64<f64> { 3 => Dense<6>, Softplus, Scale<f64, 6>, Take<4>, Dense<2>, Tanh }
}

network! {
    /// `Custom` used as a layer in the middle of another network.
    pub struct Outer<f32> { 2 => Custom, Tanh, Dense<3>, Take<2> }
}

network! {
    /// A network of activations only.
    pub struct OnlySoftmax<f32> { 4 => Softmax }
}

mod compiled {
    use crate::custom_layers::{Scale, Softplus, Take};
    include!("../fixtures/export/custom_f32.rs");
}

/// A trained `Custom`, the same every run.
fn trained() -> Custom {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut net = Custom::random(&mut rng);
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let mut data = custom_layers::data();
    for _ in 0..100 {
        net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)
            .unwrap();
    }
    net
}

#[test]
fn the_example_runs() {
    custom_layers::main().unwrap();
}

#[test]
fn gradients_of_the_custom_layers_match_finite_differences() {
    let mut rng = SmallRng::seed_from_u64(5);
    let mut net = Custom64::random(&mut rng);
    // Scales away from one, so that their gradient matters.
    net.layer_mut::<2>().0 = [0.5, -1.5, 2.0, 0.75, -0.25, 1.25];
    let batch = samples::<Custom64, [f64; 2]>(
        &mut rng,
        [
            [0.5, -0.5],
            [1.0, 0.0],
            [-0.25, 0.75],
            [0.0, 0.3],
            [0.9, -0.9],
        ],
    );
    check_network("Custom64/Mse", &net, &batch, &Mse);
}

#[test]
fn scale_starts_at_one_and_take_keeps_the_first_inputs() {
    let net = Custom::random(&mut SmallRng::seed_from_u64(1));
    assert_eq!(net.layer::<2>().0, [1.0; 8]);
    // The long way to the same layer.
    assert_eq!(net.layers().1.1.0.0, [1.0; 8]);
    let take = Take::<2>;
    let y: [f32; 2] = take.map(&[1.0, 2.0, 3.0]);
    assert_eq!(y, [1.0, 2.0]);
    let dx = take.grad(&[1.0, 2.0, 3.0], &y, &[5.0, 7.0], &mut Take);
    assert_eq!(dx, [5.0, 7.0, 0.0]);
}

#[test]
fn layers_are_described_by_name_and_width() {
    assert_eq!(
        format!("{:?}", Custom::random(&mut SmallRng::seed_from_u64(1))),
        "Custom[Dense<2→8> → Softplus<8> → Scale<8> → Take<8→4> → Dense<4→1>]"
    );
    let scale = <Custom as Network>::Layers::layer(2).unwrap();
    assert_eq!(scale.kind, LayerKind::named("Scale"));
    assert_eq!(scale.tensors, 1);
    let info = <Custom as Network>::Layers::tensor_info(2, 0).unwrap();
    assert_eq!((info.name, info.shape), ("s", &[8][..]));
    // A network inside another adds its layers to the list, and is one
    // layer of it as written.
    let outer = Outer::random(&mut SmallRng::seed_from_u64(1));
    let inner: &Custom = outer.layer::<0>();
    assert_eq!(inner.layer::<3>(), &Take::<4>);
    assert_eq!(<Outer as Network>::Layers::LAYERS, 5 + 3);
    assert_eq!(Outer::PARAMETERS, Custom::PARAMETERS + 3 + 3);
}

#[test]
fn saved_and_loaded_bit_for_bit() {
    let net = trained();
    let bytes = net.encode_to_vec().unwrap();
    assert_eq!(bytes.len(), Custom::ENCODED_LEN);
    // Version 2: the records of the three layers carry their names.
    assert_eq!(bytes[8..10], 2u16.to_le_bytes());
    let names = 3 + "Softplus".len() + "Scale".len() + "Take".len();
    assert_eq!(
        Custom::ENCODED_LEN,
        32 + 13 * 5 + names + 4 * Custom::PARAMETERS
    );
    let copy = Custom::decode(&bytes).unwrap();
    assert_eq!(bits(&copy), bits(&net));
    let x = [0.3, -0.8];
    assert_eq!(copy.predict(&x), net.predict(&x));

    let mut other = Custom::random(&mut SmallRng::seed_from_u64(9));
    other.decode_into(&bytes).unwrap();
    assert_eq!(bits(&other), bits(&net));
}

#[test]
fn a_file_is_refused_where_another_layer_stands() {
    let bytes = trained().encode_to_vec().unwrap();
    let err = WithTanh::decode(&bytes).unwrap_err();
    let LoadError::Signature(SignatureMismatch::Layer {
        index,
        expected,
        found,
    }) = err
    else {
        panic!("expected a layer mismatch, got {err:?}");
    };
    assert_eq!(index, 1);
    assert_eq!(expected.code, LayerKind::TANH.code());
    assert_eq!((found.code, found.name.as_bytes()), (0, &b"Softplus"[..]));
    assert_eq!(
        err.to_string(),
        "the file is for another network: layer 1: expected Tanh<8>, found \"Softplus\"<8>"
    );
    // And the other way round, with the network untouched.
    let tanh = WithTanh::random(&mut SmallRng::seed_from_u64(2));
    let mut custom = trained();
    let before = bits(&custom);
    let err = custom
        .decode_into(&tanh.encode_to_vec().unwrap())
        .unwrap_err();
    assert!(matches!(
        err,
        LoadError::Signature(SignatureMismatch::Layer { index: 1, .. })
    ));
    assert_eq!(bits(&custom), before);
    // A layer known by one name does not load into a layer of another.
    let record = LayerRecord::default();
    assert_eq!(record.name.as_bytes(), b"");
}

#[test]
fn exported_source_compiles_back_with_identical_predictions() {
    // Random, not trained, so that the committed text is the same on every
    // processor; the scales away from one, so that they are exported.
    let mut net = Custom::random(&mut SmallRng::seed_from_u64(13));
    net.layer_mut::<2>().0 = [
        0.5,
        -1.25,
        3.0,
        f32::MIN_POSITIVE,
        -0.0,
        1.0 / 3.0,
        7.5,
        1e-3,
    ];
    check_fixture(&net, "Trained", "TRAINED", "custom_f32.rs");
    assert_eq!(bits(&compiled::TRAINED), bits(&net));
    for x in custom_layers::data() {
        assert_eq!(compiled::TRAINED.predict(&x.0), net.predict(&x.0));
    }
}

#[test]
fn built_on_the_heap_like_on_the_stack() {
    let mut rng = SmallRng::seed_from_u64(4);
    let mut boxed: Box<Custom> = Custom::random_boxed(&mut rng);
    let stack = Custom::random(&mut SmallRng::seed_from_u64(4));
    assert_eq!(bits(&*boxed), bits(&stack));
    let mut opt = Sgd::boxed(0.05).unwrap().momentum(0.9).unwrap();
    let mut data = custom_layers::data();
    let first = boxed.mean_loss(&data, &Mse).unwrap();
    for _ in 0..100 {
        boxed
            .train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)
            .unwrap();
    }
    assert!(boxed.mean_loss(&data, &Mse).unwrap() < first / 5.0);
}

#[test]
fn a_network_inside_another_trains() {
    let mut rng = SmallRng::seed_from_u64(6);
    let mut net = Outer::random(&mut rng);
    let mut data: Vec<([f32; 2], [f32; 2])> = custom_layers::data()
        .into_iter()
        .map(|(x, [y])| (x, [y, -y]))
        .collect();
    let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
    let first = net.mean_loss(&data, &Mse).unwrap();
    for _ in 0..200 {
        net.train_epoch::<4>(&mut data, &Mse, &mut opt, &mut rng)
            .unwrap();
    }
    assert!(net.mean_loss(&data, &Mse).unwrap() < first / 3.0);
    let bytes = net.encode_to_vec().unwrap();
    assert_eq!(bits(&Outer::decode(&bytes).unwrap()), bits(&net));
}

#[test]
fn a_network_of_activations_only() {
    let net = OnlySoftmax::random(&mut SmallRng::seed_from_u64(0));
    assert_eq!(OnlySoftmax::PARAMETERS, 0);
    let y = net.predict(&[1.0, 2.0, 3.0, 4.0]);
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    let bytes = net.encode_to_vec().unwrap();
    assert!(OnlySoftmax::decode(&bytes).unwrap() == net);
}

#[test]
fn version_2_files_written_from_the_specification_alone() {
    // tests/fixtures/format/make_fixture.py, a Python writer made from
    // FORMAT.md, wrote this file for `Custom` with parameter k equal to
    // ((5 k) mod 13 - 6) / 8.
    let mut net = Custom::random(&mut SmallRng::seed_from_u64(0));
    let mut k = 0;
    net.for_each_tensor_mut(&mut |_, tensor| {
        for x in tensor {
            *x = ((5 * k) % 13 - 6) as f32 / 8.0;
            k += 1;
        }
    });
    let file = include_bytes!("../fixtures/format/named_f32.cnet");
    assert_eq!(net.encode_to_vec().unwrap(), file);
    assert_eq!(bits(&Custom::decode(file).unwrap()), bits(&net));
}
