//! The int8 products of a dense layer: every row of `i8` weights times the
//! same `i8` input, summed exactly in `i32` (no sum of a layer narrower
//! than 2¹⁷ inputs can overflow).
//!
//! Cortex-M4 and M7 (`thumbv7em`) have two 16-bit multiply-adds in one
//! instruction (SMLAD) and a sign extension of two bytes at once (SXTB16);
//! there the input is widened to 16 bits once per layer, in the order
//! SXTB16 gives the weights, and each row costs one load, two extensions
//! and two SMLADs per four weights. Elsewhere, plain Rust: the compiler
//! vectorises it on x86 and Arm A-profile, and gives a load, a multiply
//! and an add per weight on Cortex-M0 and RISC-V.

/// `each(o, Σᵢ w[o][i] · x[i])` for every row `o`, in order.
#[cfg(not(constnet_arm_dsp))]
#[inline]
pub(crate) fn dots<const I: usize, const O: usize>(
    w: &[[i8; I]; O],
    x: &[i8; I],
    mut each: impl FnMut(usize, i32),
) {
    for (o, row) in w.iter().enumerate() {
        let dot = row
            .iter()
            .zip(x)
            .fold(0i32, |acc, (&w, &x)| acc + i32::from(w) * i32::from(x));
        each(o, dot);
    }
}

/// `each(o, Σᵢ w[o][i] · x[i])` for every row `o`, in order, four rows
/// at a time with SMLAD.
#[cfg(constnet_arm_dsp)]
#[inline]
pub(crate) fn dots<const I: usize, const O: usize>(
    w: &[[i8; I]; O],
    x: &[i8; I],
    mut each: impl FnMut(usize, i32),
) {
    let body = 4 * (I / 4);
    // The input in 16 bits, once for all rows: for each group of four,
    // the words (x₀, x₂) and (x₁, x₃), the pairs SXTB16 makes of the
    // weights' bytes.
    let mut wide = dsp::Wide(core::mem::MaybeUninit::uninit());
    let pairs = wide.widen(x);
    let mut o = 0;
    // LDR's immediate offsets reach 4095 bytes: three rows.
    while o + 4 <= O && 3 * I <= 4095 {
        let sums = dsp::four_rows(w, o, pairs);
        each(o, sums[0] + tail(&w[o], x, body));
        each(o + 1, sums[1] + tail(&w[o + 1], x, body));
        each(o + 2, sums[2] + tail(&w[o + 2], x, body));
        each(o + 3, sums[3] + tail(&w[o + 3], x, body));
        o += 4;
    }
    if o + 2 <= O {
        let sums = dsp::two_rows(&w[o], &w[o + 1], pairs);
        each(o, sums[0] + tail(&w[o], x, body));
        each(o + 1, sums[1] + tail(&w[o + 1], x, body));
        o += 2;
    }
    while o < O {
        each(o, dsp::one_row(&w[o], pairs) + tail(&w[o], x, body));
        o += 1;
    }
}

/// The products from `from` to the end, one at a time.
#[cfg(constnet_arm_dsp)]
#[inline(always)]
fn tail<const I: usize>(w: &[i8; I], x: &[i8; I], from: usize) -> i32 {
    (from..I).fold(0, |acc, i| acc + i32::from(w[i]) * i32::from(x[i]))
}

// The three DSP instructions, through `asm!`: no stable intrinsic exists.
#[cfg(constnet_arm_dsp)]
#[allow(unsafe_code)]
mod dsp {
    use core::arch::asm;

    /// Bytes 0 and 2 of `v`, sign-extended into the two halves.
    #[inline(always)]
    fn sxtb16(v: u32) -> u32 {
        let r;
        // SAFETY: a register-only instruction of the DSP extension, which
        // every thumbv7em core has.
        unsafe {
            asm!("sxtb16 {r}, {v}", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack))
        };
        r
    }

    /// Bytes 1 and 3 of `v`, sign-extended into the two halves.
    #[inline(always)]
    fn sxtb16_ror8(v: u32) -> u32 {
        let r;
        // SAFETY: as `sxtb16`.
        unsafe {
            asm!("sxtb16 {r}, {v}, ror #8", r = lateout(reg) r, v = in(reg) v,
                options(pure, nomem, nostack))
        };
        r
    }

    /// `acc + a.lo · b.lo + a.hi · b.hi`, signed 16-bit halves.
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r;
        // SAFETY: as `sxtb16`. Our sums cannot overflow (see `dots`), so
        // the Q flag SMLAD may set is never read.
        unsafe {
            asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b,
                acc = in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// Four bytes as one little-endian word (one unaligned load: the
    /// M4 and M7 allow it).
    #[inline(always)]
    fn word(b: &[i8]) -> u32 {
        u32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8])
    }

    /// Room for an input of `I` bytes widened to 16 bits, word-aligned.
    #[repr(C, align(4))]
    pub(super) struct Wide<const I: usize>(pub(super) core::mem::MaybeUninit<[i16; I]>);

    impl<const I: usize> Wide<I> {
        /// Widens the first `4 ⌊I/4⌋` inputs into pairs of words and
        /// returns them.
        #[inline(always)]
        pub(super) fn widen(&mut self, x: &[i8; I]) -> &[u32] {
            let words = 2 * (I / 4);
            let start = self.0.as_mut_ptr().cast::<u32>();
            for (g, x) in x.chunks_exact(4).enumerate() {
                let v = word(x);
                // SAFETY: words 2g and 2g + 1 < `words`, and `words` u32s
                // are `4 words = 8 ⌊I/4⌋ ≤ 2 I` bytes, within the
                // `[i16; I]`, which `repr` aligns to 4.
                unsafe {
                    start.add(2 * g).write(sxtb16(v));
                    start.add(2 * g + 1).write(sxtb16_ror8(v));
                }
            }
            // SAFETY: the same words, every one written above.
            unsafe { core::slice::from_raw_parts(start, words) }
        }
    }

    /// `acc` plus the products of the four weights `v` with the pairs
    /// `x`.
    #[inline(always)]
    fn four(v: u32, x: &[u32], acc: i32) -> i32 {
        smlad(sxtb16_ror8(v), x[1], smlad(sxtb16(v), x[0], acc))
    }

    /// The dot products of four consecutive rows of `w` from row `o` with
    /// the widened input, over the first `2 · pairs.len()` weights of each
    /// row: one loop in assembly, 22 instructions per four weights of four
    /// rows, two groups per iteration (the compiler's own loop spills
    /// accumulators on Thumb).
    #[inline(always)]
    pub(super) fn four_rows<const I: usize, const O: usize>(
        w: &[[i8; I]; O],
        o: usize,
        pairs: &[u32],
    ) -> [i32; 4] {
        let rows = &w[o..o + 4];
        let groups = pairs.len() / 2;
        let (mut sa, mut sb, mut sc, mut sd) = (0i32, 0i32, 0i32, 0i32);
        // SAFETY: the loop reads `groups` pairs of words from `pairs` and,
        // for each, four bytes of each of the four rows at offsets 0, I,
        // 2I and 3I from `rows[0]`, the row being read `4 g` bytes in:
        // `8 groups ≤ 4 pairs.len()` bytes of `pairs`, and `4 groups ≤ I`
        // bytes of each row (`pairs` holds `2 ⌊I/4⌋` words), all inside
        // `rows`. Unaligned word loads are allowed on thumbv7em. The offsets
        // are immediates of LDR (at most 4095, checked by the caller).
        // One group: the input pairs, then each row's four weights; row
        // `a` last, moving the row pointer on.
        macro_rules! group {
            () => {
                concat!(
                    "ldrd {x0}, {x1}, [{xp}], #8\n",
                    "ldr {v}, [{wp}, #{b}]\n",
                    "sxtb16 {t}, {v}\n",
                    "smlad {sb}, {t}, {x0}, {sb}\n",
                    "sxtb16 {v}, {v}, ror #8\n",
                    "smlad {sb}, {v}, {x1}, {sb}\n",
                    "ldr {v}, [{wp}, #{c}]\n",
                    "sxtb16 {t}, {v}\n",
                    "smlad {sc}, {t}, {x0}, {sc}\n",
                    "sxtb16 {v}, {v}, ror #8\n",
                    "smlad {sc}, {v}, {x1}, {sc}\n",
                    "ldr {v}, [{wp}, #{d}]\n",
                    "sxtb16 {t}, {v}\n",
                    "smlad {sd}, {t}, {x0}, {sd}\n",
                    "sxtb16 {v}, {v}, ror #8\n",
                    "smlad {sd}, {v}, {x1}, {sd}\n",
                    "ldr {v}, [{wp}], #4\n",
                    "sxtb16 {t}, {v}\n",
                    "smlad {sa}, {t}, {x0}, {sa}\n",
                    "sxtb16 {v}, {v}, ror #8\n",
                    "smlad {sa}, {v}, {x1}, {sa}\n",
                )
            };
        }
        // Two blocks rather than one with a branch on `groups` inside:
        // `groups` is a constant of the layer once inlined, so the
        // compiler keeps one or both blocks and no test is run.
        let (mut wp, mut xp) = (rows.as_ptr().cast::<i8>(), pairs.as_ptr());
        if groups % 2 == 1 {
            // SAFETY: as for the loop below, for the first group alone.
            unsafe {
                asm!(
                    group!(),
                    b = const I,
                    c = const 2 * I,
                    d = const 3 * I,
                    wp = inout(reg) wp,
                    xp = inout(reg) xp,
                    sa = inout(reg) sa,
                    sb = inout(reg) sb,
                    sc = inout(reg) sc,
                    sd = inout(reg) sd,
                    x0 = out(reg) _,
                    x1 = out(reg) _,
                    v = out(reg) _,
                    t = out(reg) _,
                    options(nostack, readonly, preserves_flags),
                );
            }
        }
        // SAFETY: the loop reads `groups` pairs of words from `pairs` and,
        // for each, four bytes of each of the four rows at offsets 0, I,
        // 2I and 3I from `rows[0]`, the row being read `4 g` bytes in:
        // `8 groups ≤ 4 pairs.len()` bytes of `pairs`, and `4 groups ≤ I`
        // bytes of each row (`pairs` holds `2 ⌊I/4⌋` words), all inside
        // `rows`. Unaligned word loads are allowed on thumbv7em. The offsets
        // are immediates of LDR (at most 4095, checked by the caller). Two
        // groups per iteration.
        if groups >= 2 {
            unsafe {
                asm!(
                    "2:",
                    group!(),
                    group!(),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    b = const I,
                    c = const 2 * I,
                    d = const 3 * I,
                    wp = inout(reg) wp => _,
                    xp = inout(reg) xp => _,
                    n = inout(reg) groups / 2 => _,
                    sa = inout(reg) sa,
                    sb = inout(reg) sb,
                    sc = inout(reg) sc,
                    sd = inout(reg) sd,
                    x0 = out(reg) _,
                    x1 = out(reg) _,
                    v = out(reg) _,
                    t = out(reg) _,
                    options(nostack, readonly),
                );
            }
        }
        [sa, sb, sc, sd]
    }

    /// The dot products of two rows with the widened input, over the
    /// first `2 · pairs.len()` weights of each: one loop in assembly, 12
    /// instructions per four weights of both rows.
    #[inline(always)]
    pub(super) fn two_rows<const I: usize>(a: &[i8; I], b: &[i8; I], pairs: &[u32]) -> [i32; 2] {
        let (mut sa, mut sb) = (0i32, 0i32);
        let groups = pairs.len() / 2;
        if groups == 0 {
            return [0; 2];
        }
        // SAFETY: the loop reads `groups` pairs of words from `pairs` and
        // four bytes of each row per pair, `4 groups ≤ I` bytes of each
        // (`pairs` holds `2 ⌊I/4⌋` words). Unaligned word loads are
        // allowed on thumbv7em.
        unsafe {
            asm!(
                "2:",
                "ldrd {x0}, {x1}, [{xp}], #8",
                "ldr {v}, [{ap}], #4",
                "sxtb16 {t}, {v}",
                "smlad {sa}, {t}, {x0}, {sa}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {sa}, {v}, {x1}, {sa}",
                "ldr {v}, [{bp}], #4",
                "sxtb16 {t}, {v}",
                "smlad {sb}, {t}, {x0}, {sb}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {sb}, {v}, {x1}, {sb}",
                "subs {n}, {n}, #1",
                "bne 2b",
                ap = inout(reg) a.as_ptr() => _,
                bp = inout(reg) b.as_ptr() => _,
                xp = inout(reg) pairs.as_ptr() => _,
                n = inout(reg) groups => _,
                sa = inout(reg) sa,
                sb = inout(reg) sb,
                x0 = out(reg) _,
                x1 = out(reg) _,
                v = out(reg) _,
                t = out(reg) _,
                options(nostack, readonly),
            );
        }
        [sa, sb]
    }

    /// The dot product of one row with the widened input.
    #[inline(always)]
    pub(super) fn one_row<const I: usize>(w: &[i8; I], pairs: &[u32]) -> i32 {
        let mut s = 0;
        for (a, x) in w.chunks_exact(4).zip(pairs.chunks_exact(2)) {
            s = four(word(a), x, s);
        }
        s
    }
}
