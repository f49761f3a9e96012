//! Links FANN's single-precision library (Debian: `libfann-dev`).

fn main() {
    println!("cargo:rustc-link-lib=floatfann");
}
