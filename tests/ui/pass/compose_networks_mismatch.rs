// The fixed twin of fail/compose_networks_mismatch.rs; must compile.
// What the fail case shows: Networks are layers, so they compose, but only when the first one's output
// width (1) equals the second one's input width (2).

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// 1 input, 1 output, as the second stage.
    struct Stage<f32> { 1 => Dense<4>, Relu, Dense<1> }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let both = Small::random(&mut rng).then(Stage::random(&mut rng));
    let mut y = [[0.0f32; 1]; 1];
    both.forward(&[[1.0, 2.0]], &mut y);
}
