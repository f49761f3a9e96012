//! Selects kernels by target: Arm cores with the DSP extension
//! (Cortex-M4, M7: `thumbv7em-*`) get the SMLAD/SXTB16 int8 kernel, and
//! those with a single-precision FPU and the hard-float ABI
//! (`thumbv7em-none-eabihf`) the VLDM/VMLA f32 dot product.
//! Stable Rust does not set `target_feature = "dsp"` for Arm, so the
//! target's name decides.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(constnet_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(constnet_arm_fpu)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=constnet_arm_dsp");
    }
    // Cortex-M4F and M7F with the hard-float ABI: the f32 dot product in
    // VLDM/VMLA assembly (`simd::arm`).
    if target == "thumbv7em-none-eabihf" {
        println!("cargo::rustc-cfg=constnet_arm_fpu");
    }
}
