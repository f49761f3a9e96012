// Must fail: `SoftmaxCrossEntropy` applies softmax to the network's output
// itself, so a network that already ends in `Softmax` would apply it twice
// (and learn far worse, silently). The compiler refuses the pairing.

use constnet::prelude::*;

network! {
    /// A classifier whose last layer is a softmax.
    struct Net<f32> { 2 => Dense<8>, Relu, Dense<3>, Softmax }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut net = Net::random(&mut rng);
    let mut opt = Sgd::new(0.1).unwrap();
    let mut data = [([0.0, 1.0], 2usize), ([1.0, 0.0], 0)];
    let _ = net.train_epoch::<2>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng);
}
