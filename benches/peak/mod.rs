//! The machine's f32 arithmetic peak on one thread, measured in the same
//! run as the workloads so that "% of peak" compares like with like.
//!
//! The loop keeps `ACC` independent accumulators and updates each with one
//! fused multiply-add per iteration (`a ← a·m + c`, which settles near 1,
//! so no value overflows or turns subnormal). `ACC` is more than the FMA
//! latency (4 cycles) times the FMA units (2) on current x86-64 cores, so
//! the loop is bound by FMA throughput, not latency. One FMA on a vector of
//! `L` lanes counts as `2 L` flops. It is run with 512-bit vectors
//! (AVX-512F) and 256-bit vectors (AVX2 + FMA) where the processor has
//! them; the higher of the two is the peak.
//!
//! `read L2` measures the other limit of inference one sample at a time:
//! how fast one core reads `L2_BYTES` (W3's first layer, 784 × 128 `f32`,
//! more than L1 holds, less than L2) again and again, summed in 512-bit
//! vectors with eight accumulators. Every sample of W3 reads those
//! weights once.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput};

/// Independent accumulators in the loop.
const ACC: usize = 12;
/// Loop iterations per benchmark iteration.
const ITERS: u64 = 4096;
/// The bytes `read L2` reads per iteration: W3's first weight matrix.
pub const L2_BYTES: usize = 784 * 128 * 4;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    use super::{ACC, ITERS};

    /// `ITERS` rounds of `ACC` independent 16-lane FMAs.
    #[target_feature(enable = "avx512f")]
    pub fn fma512(m: f32, c: f32) -> f32 {
        let (m, c) = (_mm512_set1_ps(m), _mm512_set1_ps(c));
        let mut acc = [_mm512_set1_ps(1.0); ACC];
        for _ in 0..ITERS {
            for a in &mut acc {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &a| _mm512_add_ps(s, a));
        _mm512_reduce_add_ps(sum)
    }

    /// The sum of `xs` (a multiple of 128 values), read in 512-bit
    /// vectors into eight independent sums.
    #[target_feature(enable = "avx512f")]
    pub fn read512(xs: &[f32]) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 8];
        for chunk in xs.chunks_exact(128) {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: `chunk` has 128 values; this reads 16 from 16 k.
                *a = _mm512_add_ps(*a, unsafe { _mm512_loadu_ps(chunk.as_ptr().add(16 * k)) });
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &a| _mm512_add_ps(s, a));
        _mm512_reduce_add_ps(sum)
    }

    /// `ITERS` rounds of `ACC` independent 8-lane FMAs.
    #[target_feature(enable = "avx2,fma")]
    pub fn fma256(m: f32, c: f32) -> f32 {
        let (m, c) = (_mm256_set1_ps(m), _mm256_set1_ps(c));
        let mut acc = [_mm256_set1_ps(1.0); ACC];
        for _ in 0..ITERS {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
        let s = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps::<1>(sum));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
    }
}

/// The peak benchmarks: one criterion element is one flop.
pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("peak");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            group.throughput(Throughput::Elements(ITERS * ACC as u64 * 32));
            group.bench_function("fma avx512", |b| {
                // SAFETY: the processor has AVX-512F (checked just above).
                b.iter(|| unsafe { x86::fma512(black_box(0.999_999), black_box(1e-6)) })
            });
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            group.throughput(Throughput::Elements(ITERS * ACC as u64 * 16));
            group.bench_function("fma avx2", |b| {
                // SAFETY: the processor has AVX2 and FMA (checked just above).
                b.iter(|| unsafe { x86::fma256(black_box(0.999_999), black_box(1e-6)) })
            });
        }
        if std::is_x86_feature_detected!("avx512f") {
            let xs = vec![1.0f32; L2_BYTES / 4];
            group.throughput(Throughput::Bytes(L2_BYTES as u64));
            group.bench_function("read L2", |b| {
                // SAFETY: the processor has AVX-512F (checked just above).
                b.iter(|| unsafe { x86::read512(black_box(&xs)) })
            });
        }
    }
    group.finish();
}

/// The bytes per second `read L2` measured, from the time per iteration
/// that `time` reads.
pub fn measured_l2_read(dir: &Path, time: fn(&Path, &str, &str) -> Option<f64>) -> Option<f64> {
    Some(L2_BYTES as f64 / (time(dir, "peak", "read L2")? * 1e-9))
}

/// The higher of the measured peaks, as (benchmark, GFLOP/s), from the
/// time per iteration that `time` reads (the median or the best sample).
pub fn measured_gflops(
    dir: &Path,
    time: fn(&Path, &str, &str) -> Option<f64>,
) -> Option<(&'static str, f64)> {
    [("fma avx512", 32), ("fma avx2", 16)]
        .into_iter()
        .filter_map(|(name, flops_per_iter)| {
            let ns = time(dir, "peak", name)?;
            Some((name, (ITERS * ACC as u64 * flops_per_iter) as f64 / ns))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}
