// Must fail: a network of three layers has layers 0, 1 and 2; asking for
// layer 3 is caught by the compiler, which names the network and the index.

use constnet::prelude::*;

network! {
    /// Three layers: 0 Dense, 1 LeakyRelu, 2 Dense.
    struct Net<f32> { 2 => Dense<8>, LeakyRelu, Dense<1> }
}

fn main() {
    let mut net = Net::random(&mut SmallRng::seed_from_u64(0));
    net.layer_mut::<3>().slope = 0.2;
}
