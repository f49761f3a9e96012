// Must compile: the twin of the fail fixture, with the setting written on
// a leaky ReLU, which has one.

use constnet::prelude::*;

network! {
    /// A setting written on a leaky ReLU.
    struct Net<f32> { 2 => Dense<8>, LeakyRelu(0.2), Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
