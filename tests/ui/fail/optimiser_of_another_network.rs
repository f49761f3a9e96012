// Must fail: An optimiser's state has the shape of the network it was made for: an
// `Sgd<Other>` cannot train a `Small`.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// Another network, 3 inputs.
    struct Other<f32> { 3 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Small::random(&mut rng);
    let mut opt: Sgd<Other> = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut data = [([0.0, 1.0], [1.0])];
    let _ = net.train_epoch::<1>(&mut data, &Mse, &mut opt, &mut rng);
}
