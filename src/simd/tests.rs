//! Each instruction set the processor has against a plain reference,
//! on sizes that are and are not multiples of the vector widths. (The
//! integration tests compare the dispatched kernels with the portable
//! loops; these also reach the set that dispatch does not pick.)

extern crate std;
use std::vec::Vec;

use super::*;

/// Deterministic values in `[-1, 1)`.
fn values(seed: u32, len: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect()
}

/// `|a − b| ≤ 1e-5 · scale` elementwise, where `scale[i]` is the sum of
/// the magnitudes of the products that make element `i`.
fn assert_close(what: &str, a: &[f32], b: &[f64], scale: &[f64]) {
    for (i, ((&a, &b), &s)) in a.iter().zip(b).zip(scale).enumerate() {
        let err = (f64::from(a) - b).abs();
        assert!(
            err <= 1e-5 * s.max(1e-30),
            "{what}[{i}]: {a} vs {b} (scale {s})"
        );
    }
}

type Kernels = [(
    &'static str,
    unsafe fn(*const f32, *const f32, *mut f32, usize, usize, usize),
); 4];

/// `matmul_bt` without a bias, in the shape of the other kernels.
#[cfg(target_arch = "x86_64")]
unsafe fn nt512(x: *const f32, w: *const f32, y: *mut f32, m: usize, n: usize, k: usize) {
    // SAFETY: the caller's guarantee; no bias.
    unsafe { avx512::matmul_bt(x, w, core::ptr::null(), y, m, n, k) }
}

/// `matmul_bt` without a bias, in the shape of the other kernels.
#[cfg(target_arch = "x86_64")]
unsafe fn nt256(x: *const f32, w: *const f32, y: *mut f32, m: usize, n: usize, k: usize) {
    // SAFETY: the caller's guarantee; no bias.
    unsafe { avx2::matmul_bt(x, w, core::ptr::null(), y, m, n, k) }
}

/// The kernels of each instruction set this processor has.
fn sets() -> Vec<(&'static str, Kernels)> {
    let mut sets: Vec<(&'static str, Kernels)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            sets.push((
                "avx512",
                [
                    ("matmul_bt", nt512),
                    ("matmul", avx512::matmul),
                    ("add_at_b", avx512::add_at_b::<true>),
                    ("set_at_b", avx512::add_at_b::<false>),
                ],
            ));
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            sets.push((
                "avx2",
                [
                    ("matmul_bt", nt256),
                    ("matmul", avx2::matmul),
                    ("add_at_b", avx2::add_at_b::<true>),
                    ("set_at_b", avx2::add_at_b::<false>),
                ],
            ));
        }
    }
    sets
}

#[test]
fn every_instruction_set_matches_a_plain_reference() {
    let sets = sets();
    std::eprintln!(
        "instruction sets tested: {:?}",
        sets.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    for (name, [(_, nt), (_, nn), (_, tn), (_, set)]) in sets {
        for &m in &[1, 2, 3, 5, 32, 33] {
            for &n in &[1, 3, 4, 10, 17] {
                for &k in &[1, 7, 8, 15, 16, 17, 40, 100, 129] {
                    let what = std::format!("{name} m={m} n={n} k={k}");
                    let seed = (m * 10_000 + n * 100 + k) as u32;
                    let x = values(seed, m * k);
                    let w = values(seed + 1, n * k);
                    let dy = values(seed + 2, m * n);
                    let w0 = values(seed + 3, n * k);

                    // y = x wᵀ
                    let mut y = std::vec![f32::NAN; m * n];
                    // SAFETY: the set was detected; the lengths match.
                    unsafe { nt(x.as_ptr(), w.as_ptr(), y.as_mut_ptr(), m, n, k) };
                    let (mut r, mut s) = (std::vec![0.0; m * n], std::vec![0.0; m * n]);
                    for b in 0..m {
                        for o in 0..n {
                            for i in 0..k {
                                let p = f64::from(x[b * k + i]) * f64::from(w[o * k + i]);
                                r[b * n + o] += p;
                                s[b * n + o] += p.abs();
                            }
                        }
                    }
                    assert_close(&std::format!("{what} matmul_bt"), &y, &r, &s);

                    // dx = dy w
                    let mut dx = std::vec![f32::NAN; m * k];
                    // SAFETY: as above.
                    unsafe { nn(dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr(), m, n, k) };
                    let (mut r, mut s) = (std::vec![0.0; m * k], std::vec![0.0; m * k]);
                    for b in 0..m {
                        for o in 0..n {
                            for i in 0..k {
                                let p = f64::from(dy[b * n + o]) * f64::from(w[o * k + i]);
                                r[b * k + i] += p;
                                s[b * k + i] += p.abs();
                            }
                        }
                    }
                    assert_close(&std::format!("{what} matmul"), &dx, &r, &s);

                    // w += dyᵀ x
                    let mut acc = w0.clone();
                    // SAFETY: as above.
                    unsafe { tn(dy.as_ptr(), x.as_ptr(), acc.as_mut_ptr(), m, n, k) };
                    let mut r: Vec<f64> = w0.iter().map(|&v| f64::from(v)).collect();
                    let mut s: Vec<f64> = w0.iter().map(|&v| f64::from(v).abs()).collect();
                    for b in 0..m {
                        for o in 0..n {
                            for i in 0..k {
                                let p = f64::from(dy[b * n + o]) * f64::from(x[b * k + i]);
                                r[o * k + i] += p;
                                s[o * k + i] += p.abs();
                            }
                        }
                    }
                    assert_close(&std::format!("{what} add_at_b"), &acc, &r, &s);

                    // w = dyᵀ x, over values it must not read: the bits of
                    // `w += dyᵀ x` from zero.
                    let mut from_zero = std::vec![0.0f32; n * k];
                    // SAFETY: as above.
                    unsafe { tn(dy.as_ptr(), x.as_ptr(), from_zero.as_mut_ptr(), m, n, k) };
                    let mut written = std::vec![f32::NAN; n * k];
                    // SAFETY: as above.
                    unsafe { set(dy.as_ptr(), x.as_ptr(), written.as_mut_ptr(), m, n, k) };
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&written), bits(&from_zero), "{what} set_at_b");
                }
            }
        }
    }
}

/// AVX-512's forward product copies tiles of an `x` whose rows are off
/// 64-byte lines (`matmul_bt_copied`) and reads an aligned one in place:
/// both give, bit for bit, what each sample gives alone (`m = 1`, the
/// 1 × 8 tile), with and without a bias.
#[test]
#[cfg(target_arch = "x86_64")]
fn the_forward_product_gives_the_same_bits_wherever_x_is() {
    if !(std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma"))
    {
        return;
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for &m in &[4, 5, 7, 32, 33] {
        for &n in &[1, 4, 10, 17] {
            for &k in &[16, 20, 64, 100, 784, tile::COPY_COLUMNS] {
                let seed = (m * 10_000 + n * 100 + k) as u32;
                let w = values(seed, n * k);
                let b = values(seed + 1, n);
                let x = values(seed + 2, m * k);
                // `x` at a 64-byte line, and 4 bytes past one.
                let mut store = std::vec![super::Aligned([0.0f32; 16]); (m * k).div_ceil(16) + 1];
                // SAFETY: `Aligned<[f32; 16]>` is 16 `f32`s (64 bytes, no
                // padding), so the vector holds `16 · len` of them.
                let flat = unsafe {
                    core::slice::from_raw_parts_mut(
                        store.as_mut_ptr().cast::<f32>(),
                        16 * store.len(),
                    )
                };
                for (name, off) in [("on a line", 0), ("off a line", 1)] {
                    let xs = &mut flat[off..off + m * k];
                    xs.copy_from_slice(&x);
                    for bias in [core::ptr::null(), b.as_ptr()] {
                        let what =
                            std::format!("m={m} n={n} k={k} x {name} bias {}", !bias.is_null());
                        let mut y = std::vec![f32::NAN; m * n];
                        // SAFETY: AVX-512 was detected; the lengths match.
                        unsafe {
                            avx512::matmul_bt(
                                xs.as_ptr(),
                                w.as_ptr(),
                                bias,
                                y.as_mut_ptr(),
                                m,
                                n,
                                k,
                            )
                        };
                        let mut alone = std::vec![f32::NAN; m * n];
                        for s in 0..m {
                            // SAFETY: as above, one sample.
                            unsafe {
                                avx512::matmul_bt(
                                    x[s * k..].as_ptr(),
                                    w.as_ptr(),
                                    bias,
                                    alone[s * n..].as_mut_ptr(),
                                    1,
                                    n,
                                    k,
                                )
                            };
                        }
                        assert_eq!(bits(&y), bits(&alone), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn all_finite_finds_every_nan_and_infinity() {
    type Check = unsafe fn(*const f32, usize) -> bool;
    #[allow(unused_mut)]
    let mut sets: Vec<(&str, Check)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            sets.push(("avx512", avx512::all_finite));
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            sets.push(("avx2", avx2::all_finite));
        }
    }
    for (name, all_finite) in sets {
        for n in 0..150 {
            let mut xs = values(n as u32, n);
            xs.iter_mut().step_by(7).for_each(|x| *x *= 1e38); // large but finite
            // SAFETY: the set was detected; `xs` has `n` values.
            assert!(unsafe { all_finite(xs.as_ptr(), n) }, "{name} n={n}");
            for i in 0..n {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut ys = xs.clone();
                    ys[i] = bad;
                    // SAFETY: as above.
                    let finite = unsafe { all_finite(ys.as_ptr(), n) };
                    assert!(!finite, "{name} n={n}: {bad} at {i} not found");
                }
            }
        }
    }
}

/// `x · w` summed in the order the kernels document, one scalar at a
/// time: lane `l` of `lanes` sums the products `i ≡ l (mod lanes)` in
/// order by fused multiply-adds from `+0`; 16 lanes are folded to 8 (`l`
/// with `l + 8`); then `((a₀ + a₁) + (a₂ + a₃)) + ((a₄ + a₅) + (a₆ + a₇))`.
fn in_order(x: &[f32], w: &[f32], lanes: usize) -> f32 {
    let mut acc = std::vec![0.0f32; lanes];
    for (i, (&x, &w)) in x.iter().zip(w).enumerate() {
        acc[i % lanes] = x.mul_add(w, acc[i % lanes]);
    }
    let a: Vec<f32> = if lanes == 16 {
        (0..8).map(|l| acc[l] + acc[l + 8]).collect()
    } else {
        acc
    };
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

#[test]
fn a_sample_gives_the_same_bits_alone_and_in_a_batch() {
    let (m, n, k) = (7, 10, 37);
    let x = values(1, m * k);
    let w = values(2, n * k);
    let mut batch = std::vec![0.0; m * n];
    let vectors = matmul_bt(&x, &w, None, &mut batch, (m, n, k));
    assert_eq!(vectors, level() != Level::Portable);

    // Each set: whole tiles and the rows and columns after them, widths
    // below, at and above the vector width, one input NaN; every other
    // output has the bits of the documented order, summed here one scalar
    // at a time.
    type Bt = unsafe fn(*const f32, *const f32, *const f32, *mut f32, usize, usize, usize);
    #[allow(unused_mut)]
    let mut sets: Vec<(&str, Bt, usize)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
        {
            sets.push(("avx512", avx512::matmul_bt, 16));
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            sets.push(("avx2", avx2::matmul_bt, 8));
        }
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (name, bt, lanes) in sets {
        for (m, n, k) in [
            (7, 10, 37),
            (9, 17, 256),
            (32, 16, 64),
            (4, 4, 16),
            (6, 3, 5),
        ] {
            let mut x = values((m * n + k) as u32, m * k);
            x[k + 3] = f32::NAN;
            let w = values(2, n * k);
            let bias = values(3, n);
            for bias in [core::ptr::null(), bias.as_ptr()] {
                let what = std::format!("{name} m={m} n={n} k={k} bias={}", !bias.is_null());
                let mut batch = std::vec![0.0; m * n];
                // SAFETY: the set was detected; the lengths match.
                unsafe { bt(x.as_ptr(), w.as_ptr(), bias, batch.as_mut_ptr(), m, n, k) };
                assert!(batch[n..2 * n].iter().all(|v| v.is_nan()), "{what}");
                for b in (0..m).filter(|&b| b != 1) {
                    for o in 0..n {
                        let x = &x[b * k..(b + 1) * k];
                        let mut sum = in_order(x, &w[o * k..(o + 1) * k], lanes);
                        if !bias.is_null() {
                            // SAFETY: `bias` points to the `n` values of `bias`.
                            sum += unsafe { *bias.add(o) };
                        }
                        let got = batch[b * n + o];
                        assert_eq!(got.to_bits(), sum.to_bits(), "{what} y[{b}][{o}]");
                    }
                }
                for b in 0..m {
                    let mut one = std::vec![0.0; n];
                    // SAFETY: as above, one row of `x`.
                    unsafe {
                        bt(
                            x[b * k..].as_ptr(),
                            w.as_ptr(),
                            bias,
                            one.as_mut_ptr(),
                            1,
                            n,
                            k,
                        )
                    };
                    assert_eq!(
                        bits(&one),
                        bits(&batch[b * n..(b + 1) * n]),
                        "{what} row {b}"
                    );
                    if bias.is_null() {
                        continue;
                    }
                    // The bias is added to the finished sum: the same bits
                    // as after.
                    let mut sum = std::vec![0.0; n];
                    // SAFETY: as above, without a bias.
                    unsafe {
                        bt(
                            x[b * k..].as_ptr(),
                            w.as_ptr(),
                            core::ptr::null(),
                            sum.as_mut_ptr(),
                            1,
                            n,
                            k,
                        );
                    }
                    for o in 0..n {
                        // SAFETY: `bias` points to the `n` values of `bias`.
                        let b_o = unsafe { *bias.add(o) };
                        assert_eq!(one[o].to_bits(), (sum[o] + b_o).to_bits(), "{what} row {b}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_batch_copied_into_aligned_rows_is_its_rows_then_zeros() {
    let rows: Vec<[f32; 3]> = (0..5u8).map(|i| [f32::from(i) + 1.0; 3]).collect();
    for given in 0..=5 {
        // The slot first holds garbage, as a frame's stack would.
        let mut slot = core::mem::MaybeUninit::new(Aligned([[f32::NAN; 3]; 4]));
        let x = Aligned::rows_then_zeros(&mut slot, rows[..given].iter().copied());
        for (i, row) in x.iter().enumerate() {
            let expected = if i < given { rows[i] } else { [0.0; 3] };
            assert_eq!(*row, expected, "row {i} of 4, {given} given");
        }
    }
}
