//! Selects the int8 dot-product kernel by target: Arm cores with the DSP
//! extension (Cortex-M4, M7: `thumbv7em-*`) get the SMLAD/SXTB16 kernel.
//! Stable Rust does not set `target_feature = "dsp"` for Arm, so the
//! target's name decides.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(constnet_arm_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=constnet_arm_dsp");
    }
}
