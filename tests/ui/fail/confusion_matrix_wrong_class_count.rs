// Must fail: a network with 3 outputs classifies into 3 classes; a
// confusion matrix of 5 classes for it does not compile.

use constnet::metrics::ConfusionMatrix;
use constnet::prelude::*;

network! {
    /// Three classes.
    struct Net<f32> { 2 => Dense<8>, Relu, Dense<3> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let data = [([0.5f32, 0.5], 2usize)];
    let m = ConfusionMatrix::<5>::of(&net, &data);
    let _ = m.accuracy();
}
