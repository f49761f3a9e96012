// Must fail: `net.layer::<K>()` has the type of layer `K` as written in
// `network!`: layer 1 is the `LeakyRelu`, not the last `Dense`.

use constnet::prelude::*;

network! {
    /// Three layers: 0 Dense, 1 LeakyRelu, 2 Dense.
    struct Net<f32> { 2 => Dense<8>, LeakyRelu, Dense<1> }
}

fn main() {
    let net = Net::random(&mut SmallRng::seed_from_u64(0));
    let last: &Dense<f32, 8, 1> = net.layer::<2>();
    let _ = last.bias;
}
