// Must fail: a dense layer with 0 outputs computes nothing (the network's
// output would be constant). The compiler refuses it when it builds the
// layer's passes.

use constnet::prelude::*;

network! {
    /// A hidden layer of width 0.
    struct Net<f32> { 2 => Dense<0>, Relu, Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
