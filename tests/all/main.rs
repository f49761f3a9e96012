//! Integration tests, compiled as one crate to keep link time down.

mod export;
mod gradients;
mod learning;
mod values;
