//! Integration tests, compiled as one crate to keep link time down.

mod export;
mod fit;
mod gradients;
mod heap;
mod kernels;
mod learning;
mod optimizers;
mod values;
