//! Puts the memory layout of the target being built, `memory/<target>.x`,
//! where cortex-m-rt's `link.x` looks for `memory.x`. There is no
//! `memory.x` beside this file on purpose: the linker would find that one
//! first, whatever the target.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let layout = PathBuf::from("memory").join(format!("{target}.x"));
    fs::copy(&layout, out.join("memory.x"))
        .unwrap_or_else(|e| panic!("no memory layout for {target} ({}): {e}", layout.display()));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", layout.display());
    println!("cargo:rerun-if-changed=build.rs");
}
