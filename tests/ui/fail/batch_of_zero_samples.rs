// Must fail: a mini-batch of 0 samples trains nothing. The batch size is a
// const generic, so the compiler refuses it when it builds the training
// step (an error of `cargo build`, not of `cargo check`).

use constnet::prelude::*;

network! {
    /// A 2-4-1 regressor.
    struct Net<f32> { 2 => Dense<4>, Tanh, Dense<1> }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap();
    let mut data = [([0.0, 1.0], [1.0]), ([1.0, 0.0], [0.0])];
    let _ = net.train_epoch::<0>(&mut data, &Mse, &mut opt, &mut rng);
}
