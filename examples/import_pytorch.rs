//! Import a model trained in PyTorch, check it computes what PyTorch
//! computed, and save it in constnet's own format for a program or
//! firmware to load.
//!
//! On the PyTorch side, the model is an `nn.Sequential` of `nn.Linear`
//! layers and activations, saved with safetensors:
//!
//! ```python
//! model = nn.Sequential(
//!     nn.Linear(4, 8), nn.ReLU(),
//!     nn.Linear(8, 6), nn.Tanh(),
//!     nn.Linear(6, 3),
//! )
//! # ... train ...
//! safetensors.torch.save_file(model.state_dict(), "mlp.safetensors")
//! ```
//!
//! On this side, a `network!` type with the same layers in the same order
//! (module `i` of the `nn.Sequential` is layer `i`, so the tensors
//! `0.weight`, `0.bias`, `2.weight`, … go to the dense layers).
//!
//! Run it with `cargo run --example import_pytorch --features safetensors`,
//! or give it a file of your own as the first argument. Without an
//! argument it loads `tests/fixtures/pytorch/mlp.safetensors`, made by
//! `make_fixture.py` beside it, whose metadata also holds inputs and the
//! outputs PyTorch computes for them.

use std::error::Error;
use std::path::PathBuf;

use constnet::prelude::*;

network! {
    /// `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3))`
    struct Mlp<f32> { 4 => Dense<8>, Relu, Dense<6>, Tanh, Dense<3> }
}

network! {
    /// The same model with a 5-wide hidden layer: not what the file holds.
    struct Other<f32> { 4 => Dense<8>, Relu, Dense<5>, Tanh, Dense<3> }
}

/// A list of rows of numbers from the file's metadata, if it has it.
fn metadata(bytes: &[u8], key: &str) -> Option<Vec<Vec<f64>>> {
    let len = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Value = serde_json::from_slice(bytes.get(8..8 + len)?).ok()?;
    serde_json::from_str(header["__metadata__"][key].as_str()?).ok()
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch/mlp.safetensors"),
        PathBuf::from,
    );
    let bytes = std::fs::read(&path)?;

    // 1. Import: every tensor's name, dtype and shape is checked against
    //    the network type before anything is copied.
    let net = Mlp::from_safetensors(&bytes)?;
    println!(
        "imported {net:?} ({} parameters) from {}",
        Mlp::PARAMETERS,
        path.display()
    );

    // 2. Compare with PyTorch's outputs, when the file has them.
    if let (Some(inputs), Some(expected)) =
        (metadata(&bytes, "inputs"), metadata(&bytes, "outputs"))
    {
        let mut worst = 0.0f64;
        for (x, e) in inputs.iter().zip(&expected) {
            let x: [f32; 4] = std::array::from_fn(|i| x[i] as f32);
            let y = net.predict(&x);
            println!("{x:>10.4?} -> {y:>10.6?}  (PyTorch {e:.6?})");
            for (&y, &e) in y.iter().zip(e) {
                worst = worst.max((f64::from(y) - e).abs() / e.abs());
            }
        }
        println!("largest relative difference from PyTorch: {worst:.1e}");
    }

    // 3. A network of another shape is refused, with the reason.
    match Other::from_safetensors(&bytes) {
        Ok(_) => println!("unexpected: the file fit another architecture"),
        Err(err) => println!("as `Other`: {err}"),
    }

    // 4. Save in constnet's format (no std or alloc needed to read it back:
    //    `Mlp::decode` takes a `&[u8]`, from flash for instance).
    let out = std::env::temp_dir().join("constnet-mlp.cnet");
    net.save_file(&out)?;
    let loaded = Mlp::load_file(&out)?;
    assert!(loaded == net, "the saved network differs");
    println!(
        "saved {} bytes to {} and loaded them back, bit-identical",
        Mlp::ENCODED_LEN,
        out.display()
    );
    std::fs::remove_file(&out)?;
    Ok(())
}
