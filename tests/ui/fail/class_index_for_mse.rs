// Must fail: MSE needs a target vector; a class index (`usize`) is only accepted by the
// cross-entropy losses.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut net = Small::random(&mut SmallRng::seed_from_u64(0));
    let mut opt = Sgd::new(0.1).unwrap();
    let batch = [([1.0, 2.0], 1usize)];
    let _ = net.train_batch(&batch, &Mse, &mut opt);
}
