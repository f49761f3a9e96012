//! Integration tests, compiled as one crate to keep link time down.

mod activations;
mod caller_buffer;
mod custom_layer;
/// The layers defined outside the crate by the `custom_layer` example.
#[path = "../../examples/custom_layer.rs"]
#[allow(dead_code)]
mod custom_layers;
mod decoder_robustness;
mod export;
mod fit;
mod format;
mod gradients;
mod guard;
mod heap;
mod kernels;
mod learning;
mod nan;
mod optimizers;
#[cfg(feature = "parallel")]
mod parallel;
mod pytorch;
mod quant;
mod serde_roundtrip;
mod summary;
mod tensors;
mod values;
