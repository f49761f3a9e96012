// Must compile: the twin of the fail fixture, with one-hot labels of the
// network.s output type.

use constnet::prelude::*;

network! {
    /// Three classes.
    struct Net<f32> { 2 => Dense<8>, Relu, Dense<3> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let data = [([0.5f32, 0.5], [0.0f32, 1.0, 0.0])];
    let _ = net.accuracy(&data);
}
