//! The products of a dense layer's passes cut by rows of the weight matrix
//! over the crew the calling thread leads (see the `crew` module): how a
//! step runs when the layers are shared out instead of the batch.
//!
//! Piece `j` of every product of a weight matrix `w` (`n × k`) is the
//! same band of rows of `w`, and so of the layer's outputs:
//!
//! - forward, `y = x wᵀ + b`: the band's columns of `y`, from the band's
//!   rows of `w`;
//! - the weight gradient, `w = dyᵀ x` (or `+=`): the band's rows of the
//!   gradient, from the band's columns of `dy`;
//! - the input gradient, `dx = dy w`: the band's share of every sum,
//!   `dy[:, band] w[band]`, into a buffer of the piece's own, then the
//!   shares added up in band order, each thread summing the columns of
//!   its own band (the rows it computed of the layer before).
//!
//! The optimiser's step cuts each tensor at the same rows (see
//! `optim::in_parts`), so a band's parameters, gradient and optimiser state
//! are read and written by one core only, step after step: what moves from
//! core to core is activations (`batch × width` values per layer), not
//! parameters. The forward pass and the weight gradient have the same
//! values, bit for bit, as on one thread (each sum is computed whole, by
//! the same kernel); the input gradient's sums are added in a different
//! order (its value is within rounding of one thread's, and the same from
//! run to run for a given number of threads).

use core::cell::RefCell;
use std::vec::Vec;

use super::crew::{crew_size, on_crew};
use crate::simd;

/// Rows of `w` a piece has at least: one tile's width, so that a piece runs
/// the kernel's full tiles.
const BAND: usize = 16;

std::thread_local! {
    /// A band of `dy`'s columns, or of `y`, copied whole (each thread's own).
    static BAND_ROWS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The input gradient's other shares (the leader's, lent to the pieces).
    static SHARES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// The pieces a product with `rows` rows of `w` is cut into: the threads of
/// the crew this thread leads, if each gets a band of [`BAND`] rows or
/// more; 1 (not cut) otherwise.
fn pieces(rows: usize) -> usize {
    let threads = crew_size();
    if threads > 1 && rows >= threads * BAND {
        threads
    } else {
        1
    }
}

/// The first row of band `j` of `parts` of `rows` rows: multiples of 16,
/// as `optim::cut` cuts a tensor of `rows` rows of equal length.
fn start(rows: usize, j: usize, parts: usize) -> usize {
    (rows * j / parts).next_multiple_of(BAND).min(rows)
}

/// The bands of `rows`: `(first row, rows)` of each.
fn bands(rows: usize, parts: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..parts).map(move |j| {
        let first = start(rows, j, parts);
        (first, start(rows, j + 1, parts) - first)
    })
}

/// Cuts each row of `y` (`rows` values each) into the bands' columns: the
/// slices of band `j`, one per row of `y`.
fn columns<T>(y: &mut [T], rows: usize, parts: usize) -> Vec<Vec<&mut [T]>> {
    let mut out: Vec<Vec<&mut [T]>> = (0..parts)
        .map(|_| Vec::with_capacity(y.len() / rows.max(1)))
        .collect();
    for row in y.chunks_exact_mut(rows) {
        let mut rest = row;
        for (piece, (_, len)) in out.iter_mut().zip(bands(rows, parts)) {
            let (band, tail) = rest.split_at_mut(len);
            piece.push(band);
            rest = tail;
        }
    }
    out
}

/// Copies columns `first..first + len` of `dy` (`n` values per row) into
/// `band`, row after row.
fn gather(dy: &[f32], n: usize, (first, len): (usize, usize), band: &mut Vec<f32>) {
    band.clear();
    for row in dy.chunks_exact(n) {
        band.extend_from_slice(&row[first..first + len]);
    }
}

/// `y = x wᵀ + bias` cut by rows of `w`; `false` (nothing done) when not
/// cut. `x` is `m × k`, `w` `n × k`, `y` `m × n`.
pub(crate) fn matmul_bt(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    (m, n, k): (usize, usize, usize),
) -> bool {
    let parts = pieces(n);
    if parts == 1 || m == 0 {
        return false;
    }
    assert!(x.len() == m * k && w.len() == n * k && y.len() == m * n);
    let work: Vec<_> = columns(y, n, parts)
        .into_iter()
        .zip(bands(n, parts))
        .collect();
    on_crew(work, &|(mut out, (first, len))| {
        BAND_ROWS.with_borrow_mut(|band| {
            band.resize(m * len, 0.0);
            let w = &w[first * k..(first + len) * k];
            let bias = bias.map(|b| &b[first..first + len]);
            if !simd::matmul_bt_whole(x, w, bias, band, (m, len, k)) {
                unreachable!("cut only where a vector kernel runs");
            }
            for (y, row) in out.iter_mut().zip(band.chunks_exact(len)) {
                y.copy_from_slice(row);
            }
        });
        true
    })
}

/// `w = dyᵀ x` (`ACC`: `w += dyᵀ x`) cut by rows of `w`; `false` (nothing
/// done) when not cut. `dy` is `m × n`, `x` `m × k`, `w` `n × k`.
pub(crate) fn add_at_b<const ACC: bool>(
    dy: &[f32],
    x: &[f32],
    w: &mut [f32],
    (m, n, k): (usize, usize, usize),
) -> bool {
    let parts = pieces(n);
    if parts == 1 || k == 0 {
        return false;
    }
    assert!(dy.len() == m * n && x.len() == m * k && w.len() == n * k);
    let mut work = Vec::with_capacity(parts);
    let mut rest = w;
    for (first, len) in bands(n, parts) {
        let (rows, tail) = rest.split_at_mut(len * k);
        work.push((rows, (first, len)));
        rest = tail;
    }
    on_crew(work, &|(w, (first, len))| {
        BAND_ROWS.with_borrow_mut(|band| {
            gather(dy, n, (first, len), band);
            if !simd::add_at_b_whole::<ACC>(band, x, w, (m, len, k)) {
                unreachable!("cut only where a vector kernel runs");
            }
        });
        true
    })
}

/// `dx = dy w` cut by rows of `w`; `false` (nothing done) when not cut.
/// `dy` is `m × n`, `w` `n × k`, `dx` `m × k`. Band 0's share goes into
/// `dx`, the others' into the leader's buffer; then each thread adds the
/// others' shares to a range of `dx`'s rows, band after band.
pub(crate) fn matmul(
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    (m, n, k): (usize, usize, usize),
) -> bool {
    let parts = pieces(n);
    if parts == 1 || m == 0 || k == 0 {
        return false;
    }
    assert!(dy.len() == m * n && w.len() == n * k && dx.len() == m * k);
    SHARES.with_borrow_mut(|shares| {
        shares.resize((parts - 1) * m * k, 0.0);
        let mut outs: Vec<&mut [f32]> = Vec::with_capacity(parts);
        outs.push(&mut *dx);
        outs.extend(shares.chunks_exact_mut(m * k));
        let work: Vec<_> = outs.into_iter().zip(bands(n, parts)).collect();
        on_crew(work, &|(out, (first, len))| {
            BAND_ROWS.with_borrow_mut(|band| {
                gather(dy, n, (first, len), band);
                let w = &w[first * k..(first + len) * k];
                if !simd::matmul_whole(band, w, out, m, len, k) {
                    unreachable!("cut only where a vector kernel runs");
                }
            });
            true
        });
        // The sum, in band order, each thread the columns of its band (the
        // rows of the layer before that it computed).
        let shares = &*shares;
        let work: Vec<_> = columns(dx, k, parts)
            .into_iter()
            .zip(bands(k, parts))
            .collect();
        on_crew(work, &|(mut rows, (first, len))| {
            for share in shares.chunks_exact(m * k) {
                for (sum, share) in rows.iter_mut().zip(share.chunks_exact(k)) {
                    for (sum, &value) in sum.iter_mut().zip(&share[first..first + len]) {
                        *sum += value;
                    }
                }
            }
            true
        })
    });
    true
}
