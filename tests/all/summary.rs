//! `Network::summary` against totals computed by hand.

use constnet::prelude::*;
use constnet::summary::Summary;

network! {
    /// f32: 784-256-10, the MNIST example's network.
    struct Mnist<f32> { 784 => Dense<256>, Relu, Dense<10> }
}

network! {
    /// f64, with a setting and a softmax.
    struct Small<f64> { 3 => Dense<5>, LeakyRelu(0.25), Dense<2>, Softmax }
}

#[test]
fn summary_of_an_f32_network() {
    // 784·256 + 256 = 200,960; 256·10 + 10 = 2,570; 203,530 in all,
    // 814,120 bytes of f32; gradients alone the same again, momentum
    // twice, Adam three times.
    assert_eq!(Summary::<Mnist>::layer_parameters(0), 200_960);
    assert_eq!(Summary::<Mnist>::layer_parameters(1), 0);
    assert_eq!(Summary::<Mnist>::layer_parameters(2), 2_570);
    assert_eq!(Summary::<Mnist>::PARAMETER_BYTES, 814_120);
    assert_eq!(
        Summary::<Mnist>::TRAINING_BYTES,
        [814_120, 1_628_240, 2_442_360]
    );
    let net = Mnist::random_boxed(&mut SmallRng::seed_from_u64(1));
    let text = net.summary().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Mnist: 3 layers, 784 → 10, f32");
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["0", "Dense", "784", "→", "256", "200,960"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["1", "Relu", "256", "→", "256", "0"]
    );
    assert_eq!(
        lines[4].split_whitespace().collect::<Vec<_>>(),
        ["2", "Dense", "256", "→", "10", "2,570"]
    );
    assert_eq!(lines[5], "parameters: 203,530 (814,120 B of f32)");
    assert!(
        lines[6].contains(
            "814,120 B with SGD, 1,628,240 B with momentum or RMSprop, 2,442,360 B with Adam"
        ),
        "{}",
        lines[6]
    );
    // Whatever the byte counts' source, they are the types' sizes, but for
    // x86-64's padding of each dense layer to 64 bytes: 803,840 is a
    // multiple of 64; 10,280 rounds up to 10,304.
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(size_of::<Mnist>(), Summary::<Mnist>::PARAMETER_BYTES);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(size_of::<Mnist>(), 803_840 + 10_304);
}

#[test]
fn summary_of_an_f64_network() {
    // 3·5 + 5 = 20; 5·2 + 2 = 12; 32 parameters, 256 bytes of f64.
    let net = Small::random(&mut SmallRng::seed_from_u64(2));
    let text = net.summary().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 4 + 2, "{text}");
    assert_eq!(lines[0], "Small: 4 layers, 3 → 2, f64");
    assert!(lines[3].contains("LeakyRelu (slope 0.25)"), "{}", lines[3]);
    assert_eq!(lines[4].split_whitespace().last(), Some("12"));
    assert_eq!(lines[5].split_whitespace().last(), Some("0"));
    assert_eq!(lines[6], "parameters: 32 (256 B of f64)");
    assert!(lines[7].contains("256 B with SGD, 512 B with momentum or RMSprop, 768 B with Adam"));
    // In memory the network also holds the leaky ReLU's slope (an f32,
    // padded to 8): a setting, not a parameter. On x86-64 each dense layer
    // is padded to 64 bytes (160 to 192, 96 to 128) and so is the whole.
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(size_of::<Small>(), 256 + 8);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(size_of::<Small>(), 192 + 128 + 64);
}
