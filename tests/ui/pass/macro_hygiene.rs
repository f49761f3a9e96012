// Must compile: the names the macros use for their own generic parameters
// (`B`, `X`, `N`, `T`, `I`, `O`) cannot clash with the caller's types,
// constants and networks of those names in the same module.

#![allow(dead_code)]

use constnet::prelude::*;

struct B {}
struct X {}
type N = u8;
const T: usize = 3;
const I: f32 = 0.5;

constnet::elementwise! {
    /// A layer of the caller's, defined beside all of these.
    struct Square = "Square";
    f(x) = x * x;
    df(x, _y) = x + x;
}

network! {
    /// A network named `O`.
    struct O<f32> { 2 => Dense<4>, Square, Relu, Dense<1> }
}

network! {
    /// `O` used as a layer, then a layer whose width comes from its type.
    struct Outer<f32> { 2 => O, Square, Dense<T>, Softmax }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(0);
    let net = Outer::random(&mut rng);
    let y: [f32; T] = net.predict(&[I, 1.0]);
    let _ = (B {}, X {}, N::MAX, y);
}
