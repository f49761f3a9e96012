// Must fail: a setting written in `network!` is an `f32` (as in files and
// PyTorch), whatever the network's scalar type; an `f64` constant does not
// convert silently.

use constnet::prelude::*;

const SLOPE: f64 = 0.2;

network! {
    /// A leaky ReLU whose slope is an f64 constant.
    struct Net<f64> { 2 => Dense<8>, LeakyRelu(SLOPE), Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
