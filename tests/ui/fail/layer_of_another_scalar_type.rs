// Must fail: every layer of a network computes in the network's scalar
// type. A dense layer written in full with `f64` in an `f32` network is
// one error that names both types.

use constnet::prelude::*;

network! {
    /// An f32 network with an f64 layer.
    struct Mixed<f32> { 2 => Dense<8>, Relu, Dense<f64, 8, 1> }
}

fn main() {
    let net = Mixed::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
