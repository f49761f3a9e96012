// Must fail: The training loop takes a data set whose samples have the network's input
// width (2); these have 3.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Small::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap();
    let mut data = [([0.0, 1.0, 2.0], [1.0]), ([1.0, 0.0, 2.0], [0.0])];
    let _ = net.train_epoch::<2>(&mut data, &Mse, &mut opt, &mut rng);
}
