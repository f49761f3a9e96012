// Must fail: `predict` takes an input of the network's input width (2), not 3.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let net = Small::random(&mut SmallRng::seed_from_u64(0));
    let _ = net.predict(&[1.0, 2.0, 3.0]);
}
