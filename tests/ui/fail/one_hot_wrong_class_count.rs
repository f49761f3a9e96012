// Must fail: A one-hot target for softmax cross-entropy has one entry per class: the
// network has 3 outputs, the target 4.

use constnet::prelude::*;

network! {
    /// 3 classes.
    struct Classifier<f32> { 2 => Dense<8>, Relu, Dense<3> }
}

fn main() {
    let mut net = Classifier::random(&mut SmallRng::seed_from_u64(0));
    let mut opt = Sgd::new(0.1).unwrap();
    let batch = [([1.0, 2.0], [0.0, 1.0, 0.0, 0.0])];
    let _ = net.train_batch(&batch, &SoftmaxCrossEntropy, &mut opt);
}
