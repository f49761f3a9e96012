// Must fail: a network of 0 inputs computes the same output whatever it is
// given. `network!` refuses an input width of 0 where it is written.

use constnet::prelude::*;

network! {
    /// A network without inputs.
    struct Net<f32> { 2 => Dense<4>, Relu, Dense<1> }
}

fn main() {
    let _ = Net::random(&mut SmallRng::seed_from_u64(0));
}
