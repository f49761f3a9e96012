// The fixed twin of fail/scalar_type_mismatch.rs; must compile.
// What the fail case shows: An `f64` network takes `f64` data: `f32` inputs do not convert silently.

use constnet::prelude::*;

network! {
    /// A network computing in f64.
    struct Wide<f64> { 2 => Dense<8>, Tanh, Dense<1> }
}

fn main() {
    let net = Wide::random(&mut SmallRng::seed_from_u64(0));
    let x: [f64; 2] = [1.0, 2.0];
    let _ = net.predict(&x);
}
