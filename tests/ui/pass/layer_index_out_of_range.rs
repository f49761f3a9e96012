// Must compile: the twin of the fail fixture, asking for layer 1 (the leaky
// ReLU) of a network of three layers.

use constnet::prelude::*;

network! {
    /// Three layers: 0 Dense, 1 LeakyRelu, 2 Dense.
    struct Net<f32> { 2 => Dense<8>, LeakyRelu, Dense<1> }
}

fn main() {
    let mut net = Net::random(&mut SmallRng::seed_from_u64(0));
    net.layer_mut::<1>().slope = 0.2;
}
