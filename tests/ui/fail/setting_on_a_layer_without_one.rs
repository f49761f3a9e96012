// Must fail: only a layer with a setting (such as `LeakyRelu`'s slope) can
// have it written in `network!`; `Relu` has none.

use constnet::prelude::*;

network! {
    /// A setting written on a ReLU.
    struct Net<f32> { 2 => Dense<8>, Relu(0.2), Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[0.5, 0.5]);
}
