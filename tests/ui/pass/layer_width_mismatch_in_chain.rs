// The fixed twin of fail/layer_width_mismatch_in_chain.rs; must compile.
// What the fail case shows: Two layers composed by hand with `.then` must fit: a 2 → 3 layer cannot
// feed a layer that expects 4 inputs.

use constnet::prelude::*;

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let layers = Dense::<f32, 2, 3>::random(&mut rng, Init::He)
        .then(Relu)
        .then(Dense::<f32, 3, 1>::random(&mut rng, Init::Xavier));
    let mut y = [[0.0f32; 1]; 1];
    layers.forward(&[[0.5, -0.5]], &mut y);
}
