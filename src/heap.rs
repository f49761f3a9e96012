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
//! | a network from a file | [`Save::decode_boxed`](crate::Save::decode_boxed), [`Save::load_file_boxed`](crate::Save::load_file_boxed) |
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
//!     let mut opt = Sgd::boxed(0.01).unwrap().momentum(0.9).unwrap();
//!     let mut data = vec![([0.5f32; 784], 3usize); 16];
//!     net.train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng).unwrap();
//! }).unwrap().join().unwrap();
//! ```
//!
//! When to switch: a network built on the stack, SGD's velocity and
//! training's gradient buffer take three copies of the parameters plus a
//! batch's activations; measured (`tests/stack.rs`, optimised build, a
//! 669,706-parameter network), training needs about 14.4 bytes of stack
//! per `f32` parameter (at most 15) and `decode` 12. The main thread's
//! 8 MiB then trains at most about 550,000 parameters and a spawned
//! thread's 2 MiB about 140,000; well before that, use these constructors
//! (or a bigger stack).
//!
//! Every value is made zero first, directly in the allocation, which is
//! what [`Zeroable`](bytemuck::Zeroable) promises is valid: layers derive
//! it (see [`layer`](crate::layer#writing-your-own-layer)), and `network!` types,
//! chains and gradients have it when their layers do.

/// A `Box<T>` whose bytes are all zero, allocated zeroed: no value of `T`
/// is built on the stack.
#[cfg(feature = "alloc")]
pub fn zeroed_box<T: bytemuck::Zeroable>() -> alloc::boxed::Box<T> {
    bytemuck::zeroed_box()
}
