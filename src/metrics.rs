//! Classification metrics: accuracy, the confusion matrix, per-class
//! precision and recall. Fixed-size arrays, no allocation, `no_std`; the
//! `Display` of a [`ConfusionMatrix`] prints a table.

use core::fmt;

use crate::network::{Label, Network};
use crate::scalar::Scalar;

/// Counts of (true class, predicted class) pairs for `K` classes.
///
/// Row `t`, column `p` counts the samples of class `t` predicted as `p`;
/// the diagonal holds the correct predictions.
///
/// ```
/// use constnet::metrics::ConfusionMatrix;
///
/// let mut m = ConfusionMatrix::<3>::new();
/// for (truth, predicted) in [(0, 0), (0, 0), (1, 1), (1, 2), (2, 2)] {
///     m.add(truth, predicted);
/// }
/// assert_eq!(m.total(), 5);
/// assert_eq!(m.accuracy(), 0.8);
/// assert_eq!(m.recall(1), Some(0.5)); // one of the two 1s was found
/// assert_eq!(m.precision(2), Some(0.5)); // one of the two predicted 2s was right
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfusionMatrix<const K: usize> {
    counts: [[u32; K]; K],
    /// Samples whose true or predicted class was not below `K`.
    out_of_range: u32,
}

/// An output vector that names one of `K` classes: `[T; K]` for `K ≥ 2`
/// (its arg-max), and `[T; 1]` for `K = 2` (whether it exceeds one half).
#[diagnostic::on_unimplemented(
    message = "a network whose output is `{Self}` does not classify into {K} classes",
    label = "the class count must be the output width (2 for a single output)",
    note = "write the confusion matrix as `ConfusionMatrix::<W>` for an output of width W ≥ 2, or `ConfusionMatrix::<2>` for one output"
)]
pub trait Classes<const K: usize> {}

impl<T: Scalar, const K: usize> Classes<K> for [T; K] {}
impl<T: Scalar> Classes<2> for [T; 1] {}

impl<const K: usize> Default for ConfusionMatrix<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const K: usize> ConfusionMatrix<K> {
    /// An empty matrix.
    pub const fn new() -> Self {
        ConfusionMatrix {
            counts: [[0; K]; K],
            out_of_range: 0,
        }
    }

    /// The matrix of `net`'s predictions on `data`.
    pub fn of<N, L>(net: &N, data: &[(N::Input, L)]) -> Self
    where
        N: Network<Output: Classes<K>>,
        L: Label<N::Output>,
    {
        const {
            assert!(
                K >= 2,
                "a classifier has at least 2 classes: a single output is `ConfusionMatrix::<2>`"
            )
        };
        let mut m = Self::new();
        for (x, label) in data {
            m.add(label.class(), net.classify(x));
        }
        m
    }

    /// Counts one sample of class `truth` predicted as `predicted`. A class
    /// that is not below `K` is counted apart ([`out_of_range`](Self::out_of_range)).
    pub fn add(&mut self, truth: usize, predicted: usize) {
        match self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            Some(count) => *count = count.saturating_add(1),
            None => self.out_of_range = self.out_of_range.saturating_add(1),
        }
    }

    /// The counts: row = true class, column = predicted class.
    pub const fn counts(&self) -> &[[u32; K]; K] {
        &self.counts
    }

    /// How many samples had a class that is not below `K`.
    pub const fn out_of_range(&self) -> u32 {
        self.out_of_range
    }

    /// The number of samples counted in the matrix.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().map(|&c| u64::from(c)).sum()
    }

    /// The number of correct predictions (the diagonal).
    pub fn correct(&self) -> u64 {
        (0..K).map(|k| u64::from(self.counts[k][k])).sum()
    }

    /// The fraction of correct predictions, `0.0` for an empty matrix.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total()).unwrap_or(0.0)
    }

    /// Of the samples predicted as `class`, the fraction that are of that
    /// class; `None` if nothing was predicted as `class` (or it is not
    /// below `K`).
    pub fn precision(&self, class: usize) -> Option<f64> {
        let hit = u64::from(*self.counts.get(class)?.get(class)?);
        ratio(
            hit,
            self.counts.iter().map(|row| u64::from(row[class])).sum(),
        )
    }

    /// Of the samples of `class`, the fraction predicted as that class;
    /// `None` if there are none (or it is not below `K`).
    pub fn recall(&self, class: usize) -> Option<f64> {
        let row = self.counts.get(class)?;
        ratio(
            u64::from(row[class]),
            row.iter().map(|&c| u64::from(c)).sum(),
        )
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl<const K: usize> fmt::Debug for ConfusionMatrix<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<const K: usize> fmt::Display for ConfusionMatrix<K> {
    /// A table: one row per true class, one column per predicted class,
    /// then each class's recall and precision in percent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .flatten()
            .map(|&c| digits(u64::from(c)))
            .max()
            .unwrap_or(1)
            .max(digits(K.saturating_sub(1) as u64));
        write!(f, "true\\pred")?;
        for p in 0..K {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f, "{:>10}{:>10}", "recall", "precision")?;
        for (t, row) in self.counts.iter().enumerate() {
            write!(f, "{t:>9}")?;
            for c in row {
                write!(f, " {c:>width$}")?;
            }
            let pct = |x: Option<f64>, f: &mut fmt::Formatter<'_>| match x {
                Some(x) => write!(f, "{:>9.2}%", 100.0 * x),
                None => write!(f, "{:>10}", "-"),
            };
            pct(self.recall(t), f)?;
            pct(self.precision(t), f)?;
            writeln!(f)?;
        }
        write!(
            f,
            "accuracy {:.2}% ({} of {})",
            100.0 * self.accuracy(),
            self.correct(),
            self.total()
        )?;
        if self.out_of_range > 0 {
            write!(
                f,
                ", {} samples with a class out of range",
                self.out_of_range
            )?;
        }
        Ok(())
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn counts_by_hand() {
        let mut m = ConfusionMatrix::<2>::new();
        for (t, p) in [(0, 0), (0, 1), (0, 1), (1, 1), (5, 0)] {
            m.add(t, p);
        }
        assert_eq!(m.counts(), &[[1, 2], [0, 1]]);
        assert_eq!(m.out_of_range(), 1);
        assert_eq!(m.total(), 4);
        assert_eq!(m.accuracy(), 0.5);
        assert_eq!(m.recall(0), Some(1.0 / 3.0));
        assert_eq!(m.precision(1), Some(1.0 / 3.0));
        assert_eq!(m.precision(0), Some(1.0));
        assert_eq!(m.recall(2), None);
    }

    #[test]
    fn empty_classes_have_no_ratio() {
        let m = ConfusionMatrix::<3>::new();
        assert_eq!(m.accuracy(), 0.0);
        assert_eq!(m.precision(1), None);
        assert_eq!(m.recall(1), None);
    }

    #[test]
    fn display_is_a_table() {
        let mut m = ConfusionMatrix::<2>::new();
        m.add(0, 0);
        m.add(1, 0);
        let text = m.to_string();
        let lines: std::vec::Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "true\\pred 0 1    recall precision");
        assert_eq!(lines[1], "        0 1 0   100.00%    50.00%");
        assert_eq!(lines[2], "        1 1 0     0.00%         -");
        assert_eq!(lines[3], "accuracy 50.00% (1 of 2)");
    }
}
