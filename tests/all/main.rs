//! Integration tests, compiled as one crate to keep link time down.

mod activations;
mod custom_layer;
mod decoder_robustness;
mod export;
mod fit;
mod format;
mod gradients;
mod heap;
mod kernels;
mod learning;
mod optimizers;
mod pytorch;
mod serde_roundtrip;
mod tensors;
mod values;
