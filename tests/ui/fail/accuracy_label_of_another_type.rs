// Must fail: a vector label has the network's output type: 3 wide and
// `f32` here. Labels 4 wide, in `f64`, would never match a prediction.

use constnet::prelude::*;

network! {
    /// Three classes.
    struct Net<f32> { 2 => Dense<8>, Relu, Dense<3> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let data = [([0.5f32, 0.5], [0.0f64, 1.0, 0.0, 0.0])];
    let _ = net.accuracy(&data);
}
