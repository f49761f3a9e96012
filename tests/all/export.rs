//! Export as Rust source, compiled back in: the committed fixtures in
//! `tests/fixtures/export/` were written by `rust_source` from the networks
//! built below, and are compiled into this test with `include!`. The test
//! checks that they are bit-for-bit the networks that were exported, and
//! that exporting again gives the committed text.
//!
//! To rewrite the fixtures after a deliberate change to the export format
//! or to initialisation: `CONSTNET_BLESS=1 cargo test --test all export`.

use constnet::export::{ExportError, Item, rust_source};
use constnet::prelude::*;

network! {
    /// The exported f32 network: every layer kind, a custom leaky slope.
    pub struct Wide<f32> {
        3 => Dense<5>, LeakyRelu, Dense<4>, Tanh, Dense<4>, Sigmoid, Dense<3>, Relu,
        Dense<3>, Identity, Softmax
    }
}

network! {
    /// The exported f64 network.
    pub struct Narrow<f64> { 2 => Dense<3>, Tanh, Dense<1> }
}

mod compiled_f32 {
    include!("../fixtures/export/wide_f32.rs");
}

mod compiled_f64 {
    include!("../fixtures/export/narrow_f64.rs");
}

/// A random `Wide` with awkward values planted: the extremes of `f32`, a
/// subnormal, a negative zero, and numbers without a short decimal form.
fn wide() -> Wide {
    let mut net = Wide::random(&mut SmallRng::seed_from_u64(11));
    net.layers_mut().1.0 = LeakyRelu::new(0.2);
    let awkward = [
        f32::MAX,
        f32::MIN_POSITIVE,
        1.0e-45,
        -0.0,
        1.0 / 3.0,
        -2.0f32.sqrt(),
        16_777_217.0,
    ];
    for (i, v) in awkward.into_iter().enumerate() {
        let tensor = net.layers_mut().tensor_mut(i % 2);
        let len = tensor.len();
        tensor[(3 * i) % len] = v;
    }
    net
}

fn narrow() -> Narrow {
    let mut net = Narrow::random(&mut SmallRng::seed_from_u64(12));
    net.layers_mut().tensor_mut(0)[0] = f64::MIN_POSITIVE / 4.0; // subnormal
    net.layers_mut().tensor_mut(1)[1] = 0.1 + 0.2;
    net
}

fn bits<T: Scalar, L: Tensors<T>>(layers: &L) -> Vec<u64> {
    (0..L::COUNT)
        .flat_map(|i| layers.tensor(i).iter().map(|x| x.as_f64().to_bits()))
        .collect()
}

/// The export of `net`, compared with (or, when blessing, written to) the
/// committed fixture.
pub fn check_fixture<'a, N>(net: &N, type_name: &str, item: impl Into<Item<'a>>, file: &str)
where
    N: Network,
{
    let mut source = String::new();
    rust_source(net, type_name, item, &mut source).unwrap();
    let path = format!(
        "{}/tests/fixtures/export/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var_os("CONSTNET_BLESS").is_some() {
        std::fs::write(&path, &source).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == source,
        "{file} is not what rust_source writes now; rerun with CONSTNET_BLESS=1 and read the diff"
    );
}

#[test]
fn exported_f32_network_compiles_back_bit_for_bit() {
    let net = wide();
    check_fixture(&net, "Wide", "WIDE", "wide_f32.rs");
    let back = &compiled_f32::WIDE;
    assert_eq!(bits(net.layers()), bits(back.layers()));
    assert_eq!(back.layers().1.0.slope, 0.2);
    let mut rng = SmallRng::seed_from_u64(5);
    for _ in 0..100 {
        let x: [f32; 3] = core::array::from_fn(|_| rng.random_range(-3.0..3.0));
        let (a, b) = (net.predict(&x), back.predict(&x));
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
    }
}

#[test]
fn exported_f64_network_compiles_back_bit_for_bit() {
    let net = narrow();
    check_fixture(&net, "Narrow", Item::Const("NARROW"), "narrow_f64.rs");
    let back = &compiled_f64::NARROW;
    assert_eq!(bits(net.layers()), bits(back.layers()));
    let x = [0.25, -1.5];
    assert_eq!(net.predict(&x)[0].to_bits(), back.predict(&x)[0].to_bits());
}

#[test]
fn the_exported_network_is_a_static_or_a_const_built_at_compile_time() {
    // `new` is a `const fn`, so the exported value is built by the compiler;
    // `WIDE` is a `static` (one value in memory), `NARROW` a `const`, which
    // a constant can be made of.
    const AGAIN: compiled_f64::Narrow = compiled_f64::NARROW;
    assert_eq!(bits(AGAIN.layers()), bits(narrow().layers()));
    static REF: &compiled_f32::Wide = &compiled_f32::WIDE;
    assert_eq!(bits(REF.layers()), bits(wide().layers()));
    assert_eq!(compiled_f64::Narrow::PARAMETERS, 2 * 3 + 3 + 3 + 1);
}

network! {
    /// MNIST-sized.
    pub struct Mnist<f32> { 784 => Dense<128>, Relu, Dense<10> }
}

#[test]
fn exported_source_has_one_line_per_neuron() {
    let net = Mnist::random_boxed(&mut SmallRng::seed_from_u64(3));
    let mut source = String::new();
    rust_source(&*net, "Mnist", "MNIST", &mut source).unwrap();
    // Every weight row is its own line: 128 + 10 neurons.
    let rows: Vec<&str> = source.lines().filter(|l| l.starts_with("    [")).collect();
    assert_eq!(rows.len(), 128 + 10);
    assert!(
        rows[..128]
            .iter()
            .all(|row| row.matches(", ").count() == 784 - 1)
    );
    // No line holds more than one neuron's weights, or a layer's biases.
    let longest = source.lines().map(str::len).max().unwrap();
    let longest_row = rows.iter().map(|row| row.len()).max().unwrap();
    assert!(
        longest <= longest_row.max(128 * 16 + 200),
        "a line of {longest} characters"
    );
}

#[test]
fn export_refuses_non_finite_parameters_and_bad_names() {
    let mut net = narrow();
    let mut out = String::new();
    assert_eq!(
        rust_source(&net, "Narrow", "not an identifier", &mut out),
        Err(ExportError::BadName)
    );
    net.layers_mut().tensor_mut(2)[1] = f64::NAN;
    assert_eq!(
        rust_source(&net, "Narrow", "NARROW", &mut out),
        Err(ExportError::NonFinite { tensor: 2 })
    );
}
