// Must fail: A training call takes samples of the network's input width (2), not 3.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut net = Small::random(&mut SmallRng::seed_from_u64(0));
    let mut opt = Sgd::new(0.1).unwrap();
    let batch = [([1.0, 2.0, 3.0], [1.0])];
    let _ = net.train_batch(&batch, &Mse, &mut opt);
}
