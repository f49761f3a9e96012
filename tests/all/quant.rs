//! Int8 networks: each quantised layer against its float layer, whole
//! networks against theirs, and calibration's errors.

use constnet::prelude::*;
use constnet::quant::{Quant, QuantError, QuantLayer, QuantSoftmax, Quantize, Quantized, Table};

network! {
    /// Every activation with an int8 form, between dense layers.
    struct Mixed<f32> {
        4 => Dense<16>, Relu, Dense<12>, Tanh, Dense<10>, LeakyRelu(0.1), Dense<8>, Sigmoid,
        Dense<6>, Identity, Dense<5>, Softmax
    }
}

constnet::elementwise! {
    /// softplus(x) = ln(1 + eˣ): a layer of the user's own.
    struct Softplus = "Softplus";
    f(x) = (T::ONE + x.exp()).ln();
    df(_x, y) = T::ONE - (-y).exp();
}

network! {
    /// A user's element-wise layer in a network to quantise.
    struct WithSoftplus<f32> { 3 => Dense<8>, Softplus, Dense<2> }
}

network! {
    /// A classifier like the digits one.
    struct Classifier<f32> { 8 => Dense<24>, Relu, Dense<24>, Relu, Dense<4> }
}

fn samples<const N: usize>(seed: u64, n: usize) -> Vec<[f32; N]> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| core::array::from_fn(|_| rng.random_range(-1.0..1.0)))
        .collect()
}

#[test]
fn tables_follow_their_function_within_one_step() {
    // The table of tanh, sigmoid and a leaky ReLU, against the float
    // functions at every one of the 256 input codes: at most half a step
    // of the output plus the float function's own rounding.
    // (A leaky ReLU's output range below covers only up to 4.0: the
    // largest input code, 4.016, saturates.)
    let input = Quant::from_range(-4.0, 4.0).unwrap();
    let check = |table: &Table, output: Quant, f: &dyn Fn(f32) -> f32| {
        for q in -128i8..=127 {
            let got = output.dequantize(table.forward(&[q])[0]);
            // Saturated where the output's range ends.
            let (lo, hi) = (output.dequantize(-128), output.dequantize(127));
            let exact = f(input.dequantize(q)).clamp(lo, hi);
            assert!(
                (got - exact).abs() <= output.scale * 0.5 + 1e-6,
                "at {q}: {got} vs {exact}"
            );
        }
    };
    let unit = Quant::from_range(-1.0, 1.0).unwrap();
    let (tanh, out) =
        Quantize::<[f32; 1]>::quantize(&Tanh, input, &range_of(-1.0, 1.0), None).unwrap();
    assert_eq!(out, unit);
    check(&tanh, unit, &|x: f32| x.tanh());
    let (sigmoid, out) =
        Quantize::<[f32; 1]>::quantize(&Sigmoid, input, &range_of(0.0, 1.0), None).unwrap();
    check(&sigmoid, out, &|x: f32| 1.0 / (1.0 + (-x).exp()));
    let leaky = LeakyRelu::new(0.25);
    let (table, out) =
        Quantize::<[f32; 1]>::quantize(&leaky, input, &range_of(-1.0, 4.0), None).unwrap();
    check(&table, out, &|x: f32| if x > 0.0 { x } else { 0.25 * x });
}

fn range_of(min: f32, max: f32) -> constnet::quant::Range {
    let mut r = constnet::quant::Range::EMPTY;
    r.widen(&[min, max]);
    r
}

#[test]
fn int8_softmax_is_a_distribution_close_to_the_float_one() {
    let input = Quant::from_range(-6.0, 6.0).unwrap();
    let (softmax, out) =
        Quantize::<[f32; 7]>::quantize(&Softmax, input, &range_of(0.0, 1.0), None).unwrap();
    assert_eq!(out, QuantSoftmax::OUTPUT);
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..1000 {
        let x: [f32; 7] = core::array::from_fn(|_| rng.random_range(-6.0..6.0));
        let codes = x.map(|v| input.quantize(v));
        let y = softmax.forward(&codes);
        // Independently: the float softmax of the dequantised input.
        let real = codes.map(|q| input.dequantize(q));
        let max = real.iter().fold(f32::MIN, |m, &v| m.max(v));
        let e = real.map(|v| (v - max).exp());
        let sum: f32 = e.iter().sum();
        for (got, e) in y.iter().zip(e) {
            let p = out.dequantize(*got);
            // One step of 1/256 for rounding, one for the 16-bit table.
            assert!((p - e / sum).abs() <= 2.0 / 256.0, "{p} vs {}", e / sum);
        }
        let total: f32 = y.iter().map(|&q| out.dequantize(q)).sum();
        assert!((total - 1.0).abs() <= 7.0 / 256.0, "sum {total}");
    }
}

#[test]
fn a_network_of_every_activation_agrees_with_its_float_form() {
    let mut rng = SmallRng::seed_from_u64(11);
    let net = Mixed::random(&mut rng);
    let data = samples::<4>(1, 500);
    let int8 = Quantized::calibrate(&net, &data).unwrap();
    let test = samples::<4>(2, 500);
    let mut worst = 0f32;
    for x in &test {
        let (y, q) = (net.predict(x), int8.predict(x));
        for (a, b) in y.iter().zip(&q) {
            worst = worst.max((a - b).abs());
        }
    }
    // Probabilities after six int8 layers: within a few hundredths.
    assert!(worst < 0.05, "largest difference {worst}");
}

#[test]
fn a_classifier_keeps_its_classes() {
    let mut rng = SmallRng::seed_from_u64(5);
    let net = Classifier::random(&mut rng);
    let int8 = Quantized::calibrate(&net, &samples::<8>(3, 300)).unwrap();
    let test = samples::<8>(4, 2000);
    let same = test
        .iter()
        .filter(|x| int8.classify(x) == net.classify(x))
        .count();
    assert!(same >= 1940, "{same} of 2000 classes kept");
    // The int8 output codes' argmax is the class, and the labelled
    // accuracy is computed from it.
    let labelled: Vec<([f32; 8], usize)> = test.iter().map(|x| (*x, net.classify(x))).collect();
    assert_eq!(int8.accuracy(&labelled), same as f64 / 2000.0);
    // ReLUs fold into the dense layer before: real 0 is the smallest code.
    let relu = &int8.layers.1.0;
    assert_eq!(relu.zero, -128);
}

#[test]
fn a_layer_of_your_own_made_with_elementwise_quantises() {
    let mut rng = SmallRng::seed_from_u64(9);
    let net = WithSoftplus::random(&mut rng);
    let int8 = Quantized::calibrate(&net, &samples::<3>(5, 300)).unwrap();
    for x in samples::<3>(6, 100) {
        let (y, q) = (net.predict(&x), int8.predict(&x));
        for (a, b) in y.iter().zip(&q) {
            assert!((a - b).abs() < 0.05, "{a} vs {b}");
        }
    }
}

#[test]
fn bad_calibration_is_an_error_and_leaves_the_network_alone() {
    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Classifier::random(&mut rng);
    let before = net.clone();
    let none: [[f32; 8]; 0] = [];
    assert_eq!(
        Quantized::calibrate(&net, &none).unwrap_err(),
        QuantError::NoData
    );
    let mut data = samples::<8>(1, 10);
    data[3][2] = f32::NAN;
    let e = Quantized::calibrate(&net, &data).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    data[3][2] = f32::INFINITY;
    assert!(Quantized::calibrate(&net, &data).is_err());
    assert!(net == before);

    // A parameter that is not finite.
    data[3][2] = 0.0;
    net.layers_mut().0.weight.0[0][0] = f32::NAN;
    assert!(Quantized::calibrate(&net, &data).is_err());
}

network! {
    /// Small enough to write out by hand.
    struct Tiny<f32> { 2 => Dense<2>, Relu, Dense<2> }
}

/// A network built at compile time from its parts.
static TINY: Quantized<Tiny> = Quantized::new(
    Chain(
        constnet::quant::QuantDense::new([[64, -64], [127, 0]], [0, 100], 1 << 30, [0, 0], -128),
        Chain(
            constnet::quant::QuantRelu { zero: -128 },
            constnet::quant::QuantDense::new([[127, 0], [0, 127]], [0, 0], 1 << 30, [-6, -6], 0),
        ),
    ),
    Quant {
        scale: 1.0 / 128.0,
        zero: 0,
    },
    Quant {
        scale: 1.0 / 128.0,
        zero: 0,
    },
);

#[test]
fn an_int8_network_can_be_a_static() {
    // Worked by hand. Layer 1, row 0: 64·100 − 64·(−50) = 9600, times
    // 2³⁰/2³¹ = 4800, plus the zero point −128: 4672, saturated to 127.
    // Row 1: 127·100 + 100 = 12800 → 6400 − 128 → 127. The ReLU's zero is
    // −128: nothing changes. Layer 2, each row: 127·127 = 16129, times
    // ½ · 2⁻⁶: 126.01 → 126.
    let y = TINY.forward(&[100, -50]);
    assert_eq!(y, [126, 126]);
    assert_eq!(
        Quantized::<Tiny>::PARAMETER_BYTES,
        core::mem::size_of_val(&TINY.layers)
    );
}

/// A file of `int8` with the checksum made right again after `change`.
fn edited(bytes: &[u8], change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    change(&mut bytes);
    let body = bytes.len() - 4;
    let sum = super::format::crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&sum.to_le_bytes());
    bytes
}

#[test]
fn int8_networks_round_trip_through_the_file_format() {
    let mut rng = SmallRng::seed_from_u64(21);
    let net = Mixed::random(&mut rng);
    let int8 = Quantized::calibrate(&net, &samples::<4>(7, 300)).unwrap();
    let mut bytes = vec![0u8; Quantized::<Mixed>::ENCODED_LEN];
    assert_eq!(int8.encode(&mut bytes), Ok(bytes.len()));
    // Version 3, number code 3.
    assert_eq!(&bytes[8..12], &[3, 0, 3, 0]);
    let back = Quantized::<Mixed>::decode(&bytes).unwrap();
    for x in samples::<4>(8, 200) {
        let codes = int8.quantize_input(&x);
        assert_eq!(back.forward(&codes), int8.forward(&codes));
    }
    assert_eq!((back.input, back.output), (int8.input, int8.output));
    // One network, one encoding.
    assert_eq!(back.encode_to_vec(), bytes);

    // A layer of the user's own is stored by its name, as in version 2.
    let net = WithSoftplus::random(&mut rng);
    let int8 = Quantized::calibrate(&net, &samples::<3>(9, 100)).unwrap();
    let bytes = int8.encode_to_vec();
    assert!(bytes.windows(8).any(|w| w == b"Softplus"));
    let back = Quantized::<WithSoftplus>::decode(&bytes).unwrap();
    assert_eq!(back.forward(&[5, -7, 100]), int8.forward(&[5, -7, 100]));

    // Through a file.
    let dir = std::env::temp_dir().join(format!("constnet-int8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.cnet");
    int8.save_file(&path).unwrap();
    let loaded = Quantized::<WithSoftplus>::load_file(&path).unwrap();
    assert_eq!(loaded.encode_to_vec(), bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_int8_file_is_a_clear_error() {
    use constnet::format::{LoadError, SignatureMismatch};
    let mut rng = SmallRng::seed_from_u64(22);
    let net = Classifier::random(&mut rng);
    let int8 = Quantized::calibrate(&net, &samples::<8>(1, 200)).unwrap();
    let bytes = int8.encode_to_vec();
    let decode = Quantized::<Classifier>::decode;

    // Every prefix is truncated, a byte more is trailing.
    for n in 0..bytes.len() {
        assert!(
            matches!(decode(&bytes[..n]), Err(LoadError::Truncated { .. })),
            "{n} bytes"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        decode(&longer),
        Err(LoadError::TrailingBytes { .. })
    ));
    // A flipped bit anywhere after the header's counts is caught.
    let mut flipped = bytes.clone();
    flipped[200] ^= 4;
    assert!(matches!(
        decode(&flipped),
        Err(LoadError::ChecksumMismatch { .. })
    ));

    // Another network's int8 file; a float network's file; this file
    // loaded as the float network.
    let other = Quantized::calibrate(&Mixed::random(&mut rng), &samples::<4>(2, 50)).unwrap();
    let e = decode(&other.encode_to_vec()).unwrap_err();
    assert_eq!(
        e,
        LoadError::Signature(SignatureMismatch::Inputs {
            expected: 8,
            found: 4
        })
    );
    let float = net.encode_to_vec().unwrap();
    let e = decode(&float).unwrap_err();
    assert_eq!(
        e,
        LoadError::UnsupportedVersion {
            expected: 3,
            found: 1
        }
    );
    assert!(e.to_string().contains("not an int8 network"), "{e}");
    let e = Classifier::decode(&bytes).unwrap_err();
    assert!(
        matches!(e, LoadError::ScalarMismatch { found: 3, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("int8"), "{e}");

    // Values no quantisation makes, with a right checksum. The payload
    // starts after the header, the 5 records and its length.
    let payload = 24 + 13 * 5 + 4;
    let dense = payload + 16; // the first layer's bytes
    let shifts = dense + 8 * 24 + 4 * 24 + 4;
    let cases: [(usize, u8, LoadError); 4] = [
        (payload, 0, invalid(None, "input quantisation")), // scale 0
        (dense, 0x80, invalid(Some(0), "weight")),         // −128
        (shifts, 40, invalid(Some(0), "shift")),
        (shifts - 1, 0, invalid(Some(0), "mantissa")), // below 2³⁰
    ];
    for (at, value, error) in cases {
        let bad = edited(&bytes, |b| {
            if at == payload {
                b[at..at + 4].copy_from_slice(&0f32.to_le_bytes());
            } else {
                b[at] = value;
            }
        });
        assert_eq!(decode(&bad).unwrap_err(), error, "byte {at}");
    }
    // Random damage with a right checksum: an error or a network, never a
    // panic.
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..2000 {
        let bad = edited(&bytes, |b| {
            let at = rng.random_range(0..b.len() - 4);
            b[at] = rng.random();
        });
        let _ = decode(&bad);
    }
}

fn invalid(layer: Option<usize>, field: &'static str) -> constnet::format::LoadError {
    constnet::format::LoadError::InvalidInt8 { layer, field }
}

/// `y = clamp(x, −1, 1)`: a layer of the user's own written by hand, with
/// an int8 form of its own (a clamp in the input's codes), which
/// calibrates, runs, and saves like constnet's layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
struct Clip;

impl<T: Scalar> Tensors<T> for Clip {}

impl<T: Scalar, const N: usize> Layer<[T; N]> for Clip {
    const KIND: LayerKind = LayerKind::named("Clip");
    type Output = [T; N];
    type Trace<const B: usize> = ();
    fn map(&self, x: &[T; N]) -> [T; N] {
        x.map(|v| v.max(-T::ONE).min(T::ONE))
    }
    fn grad(&self, x: &[T; N], _: &[T; N], dy: &[T; N], _: &mut Self) -> [T; N] {
        core::array::from_fn(|i| if x[i].abs() < T::ONE { dy[i] } else { T::ZERO })
    }
}

/// `Clip` in int8: the codes of −1 and 1 in the input's quantisation.
#[derive(Clone, Copy, Debug, PartialEq)]
struct QuantClip {
    lo: i8,
    hi: i8,
}

impl<const N: usize> QuantLayer<[i8; N]> for QuantClip {
    type Output = [i8; N];
    fn forward(&self, x: &[i8; N]) -> [i8; N] {
        x.map(|v| v.clamp(self.lo, self.hi))
    }
    fn write_value(&self, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        write!(out, "QuantClip {{ lo: {}, hi: {} }}", self.lo, self.hi)
    }
    const BYTES: usize = 2;
    fn write_bytes(&self, out: &mut dyn FnMut(&[u8])) {
        out(&[self.lo as u8, self.hi as u8]);
    }
    fn read_bytes(bytes: &[u8], index: usize) -> Result<Self, constnet::format::LoadError> {
        let (lo, hi) = (bytes[0] as i8, bytes[1] as i8);
        if lo > hi {
            return Err(invalid(Some(index), "clip bounds"));
        }
        Ok(QuantClip { lo, hi })
    }
}

impl<const N: usize> Quantize<[f32; N]> for Clip {
    type Quantized = QuantClip;
    type Ranges = constnet::quant::Range;
    const EMPTY: constnet::quant::Range = constnet::quant::Range::EMPTY;
    // Like a ReLU: it only clamps, in the input's scale.
    const FOLDS: bool = true;
    fn observe(&self, x: &[f32; N], range: &mut constnet::quant::Range) -> [f32; N] {
        constnet::quant::observe_one(self, x, range)
    }
    fn quantize(
        &self,
        input: Quant,
        _: &constnet::quant::Range,
        _: Option<Quant>,
    ) -> Result<(QuantClip, Quant), QuantError> {
        let (lo, hi) = (input.quantize(-1.0), input.quantize(1.0));
        Ok((QuantClip { lo, hi }, input))
    }
}

network! {
    /// A hand-written layer between dense layers.
    struct WithClip<f32> { 6 => Dense<12>, Clip, Dense<3> }
}

#[test]
fn a_hand_written_layer_quantises_runs_and_saves() {
    let mut rng = SmallRng::seed_from_u64(30);
    let net = WithClip::random(&mut rng);
    let data: Vec<[f32; 6]> = (0..300)
        .map(|_| core::array::from_fn(|_| rng.random_range(-3.0..3.0)))
        .collect();
    let int8 = Quantized::calibrate(&net, &data).unwrap();
    // The dense layer before writes in Clip's range (it folds): real ±1
    // are the extreme codes, so the clamp changes nothing there.
    let clip = int8.layers.1.0;
    assert!(clip.lo <= -126 && clip.hi >= 126, "{clip:?}");
    let same = data
        .iter()
        .filter(|x| int8.classify(x) == net.classify(x))
        .count();
    assert!(same >= 285, "{same} of 300");
    for x in &data[..50] {
        for (a, b) in net.predict(x).iter().zip(int8.predict(x)) {
            assert!((a - b).abs() < 0.06, "{a} vs {b}");
        }
    }
    // Saved by its name, loaded back the same.
    let bytes = int8.encode_to_vec();
    assert!(bytes.windows(4).any(|w| w == b"Clip"));
    let back = Quantized::<WithClip>::decode(&bytes).unwrap();
    assert_eq!(back.layers.1.0, clip);
    assert_eq!(back.encode_to_vec(), bytes);
    // Its own check of its bytes is reported as any other.
    let at = bytes.len() - 4 - QuantDense3::BYTES - 2;
    let bad = edited(&bytes, |b| b.swap(at, at + 1));
    assert_eq!(
        Quantized::<WithClip>::decode(&bad).unwrap_err(),
        invalid(Some(1), "clip bounds")
    );
}

type QuantDense3 = constnet::quant::QuantDense<12, 3>;
