//! Networks too big for the stack: values built directly on the heap.
//!
//! A `Dense<784, 512>` alone is 1.6 MB, and a network, its gradients and
//! its optimiser state together can exceed a thread's stack (2 MiB for a
//! spawned thread, 8 MiB for the main one). `Box::new(Net::random(rng))`
//! builds the network on the stack first. With the `alloc` feature, these
//! build it where it will live instead, and train it with the same API:
//!
//! | value | on the heap |
//! |---|---|
//! | a network | [`Network::random_boxed`](crate::Network::random_boxed) |
//! | its gradients | [`Gradients::boxed`](crate::Gradients::boxed) |
//! | optimiser state | [`Sgd::boxed`](crate::Sgd::boxed), [`Adam::boxed`](crate::Adam::boxed), [`RmsProp::boxed`](crate::RmsProp::boxed) |
//!
//! An optimiser made with `boxed` also gives training its gradient buffer
//! on the heap, so `train_epoch` and `train_batch` keep only one batch's
//! activations on the stack.
//!
//! ```
//! use constnet::prelude::*;
//!
//! network! {
//!     /// 784-512-512-10: 669,706 parameters, 2.7 MB.
//!     struct Big<f32> { 784 => Dense<512>, Relu, Dense<512>, Relu, Dense<10> }
//! }
//!
//! // A thread with a 2 MiB stack, smaller than the network.
//! std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
//!     let mut rng = SmallRng::seed_from_u64(1);
//!     let mut net: Box<Big> = Big::random_boxed(&mut rng);
//!     let mut opt = Sgd::boxed(0.01).momentum(0.9);
//!     let mut data = vec![([0.5f32; 784], 3usize); 16];
//!     net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng).unwrap();
//! }).unwrap().join().unwrap();
//! ```
//!
//! When to switch: a network, its gradients and SGD's velocity on the stack
//! take three copies of the parameters, 12 bytes per `f32` parameter, plus a
//! batch's activations. The main thread's 8 MiB then holds at most about
//! 700,000 parameters and a spawned thread's 2 MiB about 175,000; well
//! before that, use these constructors (or a bigger stack).

#![allow(unsafe_code)]

/// A type for which a value whose bytes are all zero is valid: the float
/// parameters and buffers of layers, networks, gradients and optimisers.
///
/// # Safety
///
/// An all-zero bit pattern must be a valid value of the type, with no
/// invariant broken (no references, no `NonZero`, no enum without a
/// variant whose discriminant and fields are all zero).
pub unsafe trait ZeroBits {}

// SAFETY: 0.0 is a valid float; a unit is zero-sized; arrays and the layer
// and gradient types hold only such fields.
unsafe impl ZeroBits for f32 {}
// SAFETY: as above.
unsafe impl ZeroBits for f64 {}
// SAFETY: as above.
unsafe impl ZeroBits for () {}
// SAFETY: an array of zero-valid elements.
unsafe impl<T: ZeroBits, const N: usize> ZeroBits for [T; N] {}
// SAFETY: `Matrix` is a transparent array.
unsafe impl<T: ZeroBits, const R: usize, const C: usize> ZeroBits for crate::Matrix<T, R, C> {}
// SAFETY: a matrix and an array.
unsafe impl<T: ZeroBits, const I: usize, const O: usize> ZeroBits for crate::Dense<T, I, O> {}
// SAFETY: two zero-valid fields.
unsafe impl<A: ZeroBits, B: ZeroBits> ZeroBits for crate::Chain<A, B> {}
// SAFETY: a single `f32` (a slope of 0 is valid; `randomize` sets the default).
unsafe impl ZeroBits for crate::LeakyRelu {}
// SAFETY: zero-sized unit structs.
unsafe impl ZeroBits for crate::Identity {}
// SAFETY: as above.
unsafe impl ZeroBits for crate::Relu {}
// SAFETY: as above.
unsafe impl ZeroBits for crate::Sigmoid {}
// SAFETY: as above.
unsafe impl ZeroBits for crate::Tanh {}
// SAFETY: as above.
unsafe impl ZeroBits for crate::Softmax {}
// SAFETY: a transparent wrapper around the layers' gradient type.
unsafe impl<N> ZeroBits for crate::Gradients<N>
where
    N: crate::Network,
    <N::Layers as crate::Parameters<N::Scalar>>::Grad: ZeroBits,
{
}

/// A `Box<T>` whose bytes are all zero, allocated zeroed: no value of `T`
/// is built on the stack.
#[cfg(feature = "alloc")]
pub fn zeroed_box<T: ZeroBits>() -> alloc::boxed::Box<T> {
    let zeroed = alloc::boxed::Box::<T>::new_zeroed();
    // SAFETY: `T: ZeroBits` makes all-zero bytes a valid `T`.
    unsafe { zeroed.assume_init() }
}
