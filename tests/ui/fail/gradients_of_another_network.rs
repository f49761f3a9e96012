// Must fail: Gradients are typed by their network: the gradients of `Other` cannot
// update a `Small`, even through an optimiser.

use constnet::prelude::*;

network! {
    /// 2 inputs, 1 output.
    struct Small<f32> { 2 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

network! {
    /// Another network, 3 inputs.
    struct Other<f32> { 3 => Dense<8>, Tanh, Dense<1>, Sigmoid }
}

fn main() {
    let mut net = Small::random(&mut SmallRng::seed_from_u64(0));
    let mut other = Other::random(&mut SmallRng::seed_from_u64(1));
    let mut grads = Gradients::<Other>::ZERO;
    other.loss_and_gradients(&[([1.0, 2.0, 3.0], [1.0])], &Mse, &mut grads);
    let mut opt = Sgd::new(0.1).unwrap();
    opt.step(&mut net, &grads).unwrap();
    let _ = net.predict(&[0.0, 0.0]);
}
