// Must fail: a network with one output is a binary classifier (class 1
// when the output exceeds one half), so its confusion matrix has 2 classes,
// not 1. The compiler refuses a class count below 2 when it builds the code
// (an error of `cargo build`, not of `cargo check`).

use constnet::metrics::ConfusionMatrix;
use constnet::prelude::*;

network! {
    /// A binary classifier.
    struct Net<f32> { 2 => Dense<8>, Relu, Dense<1>, Sigmoid }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let data = [([0.5f32, 0.5], 1usize)];
    let m = ConfusionMatrix::<1>::of(&net, &data);
    let _ = m.accuracy();
}
