// Must fail: A learning rate of `f64` for a network that computes in `f32`.

use constnet::prelude::*;

network! {
    /// A network computing in f32.
    struct Small<f32> { 2 => Dense<4>, Tanh, Dense<1> }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Small::random(&mut rng);
    let lr: f32 = 0.1;
    let mut opt = Sgd::new(lr).unwrap();
    let mut data = [([0.0f32, 1.0], [1.0f32])];
    let _ = net.train_epoch::<1>(&mut data, &Mse, &mut opt, &mut rng);
}
