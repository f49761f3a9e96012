// The fixed twin of fail/forward_input_wrong_width.rs; must compile.
// What the fail case shows: A layer's forward pass takes a batch of inputs of its input width (2), not 3.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let net = Small::random(&mut SmallRng::seed_from_u64(0));
    let mut y = [[0.0f32; 1]; 1];
    net.layers().forward(&[[1.0, 2.0]], &mut y);
}
