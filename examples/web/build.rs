//! Finds the model that `src/lib.rs` embeds with `include_bytes!`: the file
//! the `mnist` example writes, `target/mnist.cnet` at the repository's
//! root, or the file named by `CONSTNET_WEB_MODEL` (relative paths are
//! taken from this folder).
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=CONSTNET_WEB_MODEL");
    let path = env::var_os("CONSTNET_WEB_MODEL")
        .map_or_else(|| PathBuf::from("../../target/mnist.cnet"), PathBuf::from);
    let path = path.canonicalize().unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `cargo run --release --example mnist` at the repository's root \
             first (it writes target/mnist.cnet), or set CONSTNET_WEB_MODEL to a saved model",
            path.display()
        )
    });
    println!("cargo:rerun-if-changed={}", path.display());
    println!("cargo:rustc-env=CONSTNET_WEB_MODEL={}", path.display());
}
