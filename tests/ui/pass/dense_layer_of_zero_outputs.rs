// Must compile: the twin of the fail fixture, with a hidden layer of 4.

use constnet::prelude::*;

network! {
    /// A hidden layer of width 4.
    struct Net<f32> { 2 => Dense<4>, Relu, Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
