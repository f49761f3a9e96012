// Must fail: MSE compares the output with a target of the same width: the network has
// one output, the target has two.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let net = Small::random(&mut SmallRng::seed_from_u64(0));
    let y = net.predict(&[1.0, 2.0]);
    let _ = Mse.loss(&y, &[1.0, 0.0]);
}
