// Must fail: A dense layer whose input width is written out (`Dense<4, 1>`) must equal
// the width before it (8). The mistake is a layer that expects 4 inputs.

use constnet::prelude::*;

network! {
    /// The last layer expects 4 inputs but the layer before gives 8.
    struct Broken<f32> { 2 => Dense<8>, Relu, Dense<4, 1> }
}

fn main() {
    let _ = Broken::random(&mut SmallRng::seed_from_u64(0));
}
