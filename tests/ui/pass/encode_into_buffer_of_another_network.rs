// Must fail: `encode_array` takes an array of exactly the network's encoded
// length, so a buffer sized for `Small` cannot receive a `Big` (`encode`,
// which takes any slice, would fail only when it runs).

use constnet::prelude::*;

network! {
    /// 2-8-1.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1> }
}

network! {
    /// 2-32-1.
    struct Big<f32> { 2 => Dense<32>, Tanh, Dense<1> }
}

fn main() {
    let big = Big::random(&mut SmallRng::seed_from_u64(0));
    let mut buf = [0u8; Big::ENCODED_LEN];
    let _ = big.encode_array(&mut buf);
}
