// The fixed twin of fail/assign_layer_of_other_shape.rs; must compile.
// What the fail case shows: A layer of one shape cannot be assigned into a network's slot of another:
// the first layer of `Small` is 2 → 8, not 3 → 8.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Small::random(&mut rng);
    net.layers_mut().0 = Dense::<f32, 2, 8>::random(&mut rng, Init::Xavier);
}
