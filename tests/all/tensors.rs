//! The tensor views of networks and gradients: `for_each_tensor` (which
//! optimisers and training go through) against `tensor(i)`, and the
//! finiteness check against a value planted in each tensor.

use constnet::prelude::*;
use constnet::{Gradients, Tensors};

network! {
    /// Three dense layers, two activations between them.
    struct Net<f32> { 3 => Dense<4>, Relu, Dense<5>, Tanh, Dense<2> }
}

/// The tensors as `for_each_tensor` gives them: index, start, length.
fn visited<V: Tensors<f32>>(value: &V) -> Vec<(usize, usize, usize)> {
    let mut seen = Vec::new();
    value.for_each_tensor(&mut |i, t| seen.push((i, t.as_ptr() as usize, t.len())));
    seen
}

/// The same from `tensor(i)`.
fn indexed<V: Tensors<f32>>(value: &V) -> Vec<(usize, usize, usize)> {
    (0..V::COUNT)
        .map(|i| (i, value.tensor(i).as_ptr() as usize, value.tensor(i).len()))
        .collect()
}

#[test]
fn for_each_tensor_visits_the_indexed_tensors_in_order() {
    let mut net = Net::random(&mut SmallRng::seed_from_u64(1));
    assert_eq!(visited(&net), indexed(&net));
    assert_eq!(visited(net.layers()), indexed(net.layers()));
    let grads = <Gradients<Net> as Zeroed>::ZERO;
    assert_eq!(visited(&grads), indexed(&grads));
    let mut lengths = Vec::new();
    net.for_each_tensor_mut(&mut |i, t| lengths.push((i, t.len())));
    assert_eq!(lengths, [(0, 12), (1, 4), (2, 20), (3, 5), (4, 10), (5, 2)]);
}

#[test]
fn all_finite_finds_one_bad_value_in_any_tensor() {
    let mut grads = <Gradients<Net> as Zeroed>::ZERO;
    assert!(grads.all_finite());
    for i in 0..Net::COUNT {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, grads.tensor(i).len() - 1] {
                grads.tensor_mut(i)[at] = bad;
                assert!(!grads.all_finite(), "tensor {i}[{at}] = {bad}");
                grads.tensor_mut(i)[at] = 1.0;
                assert!(grads.all_finite());
            }
        }
    }
}
