// Must fail: A mini-batch has one row per sample of the input width (2): a batch of
// 3-wide rows does not fit.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let net = Small::random(&mut SmallRng::seed_from_u64(0));
    let batch = [[1.0, 2.0, 3.0]; 4];
    let _ = net.predict_batch(&batch);
}
