//! Losses: one number saying how bad a prediction is, and its gradient.
//!
//! A [`Loss<Y, Target>`] scores one sample's output `Y` against its target
//! and writes `∂L/∂y`, where the backward pass starts. Training averages
//! over the samples of a batch.
//!
//! | loss | output | target | per sample |
//! |---|---|---|---|
//! | [`Mse`] | any (identity for regression) | `[T; N]` | `(1/N) Σ (ŷᵢ − yᵢ)²` |
//! | [`CrossEntropy`] | probabilities (after [`Softmax`](crate::layer::Softmax)) | class `usize` or `[T; N]` | `−Σ yᵢ ln ŷᵢ` |
//! | [`SoftmaxCrossEntropy`] | logits (no softmax layer) | class `usize` or `[T; N]` | `−Σ yᵢ ln softmax(z)ᵢ` |
//! | [`BinaryCrossEntropy`] | probabilities (after [`Sigmoid`](crate::layer::Sigmoid)) | `[T; N]` in `[0, 1]` | `−(1/N) Σ yᵢ ln ŷᵢ + (1−yᵢ) ln(1−ŷᵢ)` |
//!
//! Logarithms are clamped at `−100`, as PyTorch's `BCELoss` does, so a
//! confident wrong answer gives a large finite loss instead of infinity. A
//! class index that is out of range gives a NaN loss, which training reports
//! as an error.

use crate::layer::softmax;
use crate::scalar::{Scalar, Vector};

/// A loss function for outputs `Y` against targets `Target`.
///
/// The target type is part of the trait, so a target of the wrong width,
/// or a class index where a one-hot vector is expected (or the reverse for
/// losses that accept only one), does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot score an output `{Y}` against a target `{Target}`",
    label = "the loss does not accept this output and target",
    note = "a target vector must have the width of the network's output; a class index is a `usize`"
)]
pub trait Loss<Y: Vector, Target> {
    /// Whether the loss applies softmax to the network's output itself, and
    /// so wants logits: training with it a network that ends in
    /// [`Softmax`](crate::Softmax) is refused at compile time (softmax
    /// would be applied twice). `false` by default; `true` for
    /// [`SoftmaxCrossEntropy`].
    const ON_LOGITS: bool = false;

    /// The loss of one sample; writes its gradient with respect to `y` into
    /// `grad`.
    fn loss_grad(&self, y: &Y, target: &Target, grad: &mut Y) -> Y::Scalar;

    /// The loss of one sample.
    fn loss(&self, y: &Y, target: &Target) -> Y::Scalar {
        let mut grad = *y;
        self.loss_grad(y, target, &mut grad)
    }
}

/// `e⁻¹⁰⁰`: where `ln` reaches its clamp.
const EXP_MINUS_100: f64 = 3.720075976020836e-44;

/// `ln x`, clamped below at `−100`.
#[inline]
fn clamped_ln<T: Scalar>(x: T) -> T {
    x.ln().max(T::from_f64(-100.0))
}

/// `1/x` for the gradient of a clamped log, with `x` kept at least `e⁻¹⁰⁰`
/// and at least the smallest normal number of `T`, so that the result is
/// finite in `f32` too (`1 / e⁻¹⁰⁰` is not).
#[inline]
fn clamped_recip<T: Scalar>(x: T) -> T {
    T::ONE
        / x.max(T::from_f64(EXP_MINUS_100))
            .max(T::min_positive_value())
}

/// Mean squared error `(1/N) Σᵢ (ŷᵢ − yᵢ)²` over the `N` outputs, with
/// gradient `2 (ŷ − y) / N`. For regression, after an
/// [`Identity`](crate::layer::Identity) output.
///
/// ```
/// use constnet::prelude::*;
///
/// assert_eq!(Mse.loss(&[1.0, 2.0], &[0.0, 4.0]), 2.5);
/// ```
///
/// The target must have the output's width:
///
/// ```compile_fail
/// use constnet::prelude::*;
///
/// Mse.loss(&[1.0, 2.0], &[0.0, 4.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mse;

impl<T: Scalar, const N: usize> Loss<[T; N], [T; N]> for Mse {
    fn loss_grad(&self, y: &[T; N], target: &[T; N], grad: &mut [T; N]) -> T {
        let scale = T::from_f64(2.0 / N as f64);
        let mut sum = T::ZERO;
        for ((g, &p), &t) in grad.iter_mut().zip(y).zip(target) {
            let e = p - t;
            sum += e * e;
            *g = scale * e;
        }
        sum / T::from_f64(N as f64)
    }
}

/// Cross-entropy `−Σᵢ yᵢ ln ŷᵢ` on probabilities `ŷ` (the output of a
/// [`Softmax`](crate::layer::Softmax) layer), against a class index or a
/// one-hot (or any probability) vector. Gradient `−yᵢ / ŷᵢ`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CrossEntropy;

impl<T: Scalar, const N: usize> Loss<[T; N], [T; N]> for CrossEntropy {
    fn loss_grad(&self, p: &[T; N], target: &[T; N], grad: &mut [T; N]) -> T {
        let mut sum = T::ZERO;
        for ((g, &p), &t) in grad.iter_mut().zip(p).zip(target) {
            sum -= t * clamped_ln(p);
            *g = -t * clamped_recip(p);
        }
        sum
    }
}

impl<T: Scalar, const N: usize> Loss<[T; N], usize> for CrossEntropy {
    fn loss_grad(&self, p: &[T; N], &class: &usize, grad: &mut [T; N]) -> T {
        let mut loss = T::nan();
        for (i, (g, &p)) in grad.iter_mut().zip(p).enumerate() {
            *g = T::ZERO;
            if i == class {
                loss = -clamped_ln(p);
                *g = -clamped_recip(p);
            }
        }
        if loss.is_nan() {
            // An out-of-range class: make it visible rather than silently zero.
            grad.fill(T::nan());
        }
        loss
    }
}

/// Softmax and cross-entropy fused, on the logits `z` of a network whose
/// last layer is linear: `L = ln Σⱼ e^{zⱼ} − Σᵢ yᵢ zᵢ` (for a target that
/// sums to 1), with gradient `softmax(z) − y`.
///
/// Computed with log-sum-exp, so it stays finite for any finite logits.
/// The network's predictions are then logits, not probabilities; the
/// class is the same arg-max either way.
///
/// ```
/// use constnet::prelude::*;
///
/// // Equal logits: each of the 4 classes has probability 1/4, loss ln 4.
/// let loss: f64 = SoftmaxCrossEntropy.loss(&[0.5; 4], &2);
/// assert!((loss - 4f64.ln()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SoftmaxCrossEntropy;

impl<T: Scalar, const N: usize> Loss<[T; N], [T; N]> for SoftmaxCrossEntropy {
    const ON_LOGITS: bool = true;

    fn loss_grad(&self, z: &[T; N], target: &[T; N], grad: &mut [T; N]) -> T {
        let lse = softmax(z, grad);
        let mut mass = T::ZERO;
        let mut dot = T::ZERO;
        for (&t, &z) in target.iter().zip(z) {
            mass += t;
            dot += t * z;
        }
        for (g, &t) in grad.iter_mut().zip(target) {
            *g = mass * *g - t;
        }
        mass * lse - dot
    }
}

impl<T: Scalar, const N: usize> Loss<[T; N], usize> for SoftmaxCrossEntropy {
    const ON_LOGITS: bool = true;

    fn loss_grad(&self, z: &[T; N], &class: &usize, grad: &mut [T; N]) -> T {
        let lse = softmax(z, grad);
        match (z.get(class), grad.get_mut(class)) {
            (Some(&zc), Some(g)) => {
                *g -= T::ONE;
                lse - zc
            }
            _ => {
                grad.fill(T::nan());
                T::nan()
            }
        }
    }
}

/// Binary cross-entropy `−(1/N) Σᵢ yᵢ ln ŷᵢ + (1 − yᵢ) ln(1 − ŷᵢ)` for
/// probabilities `ŷ` (the output of a [`Sigmoid`](crate::layer::Sigmoid)
/// layer) against targets in `[0, 1]`. Gradient
/// `(ŷ − y) / (N ŷ (1 − ŷ))`, with the denominator kept at least `1e-12`
/// as PyTorch's `BCELoss` does. A target outside `[0, 1]` (or NaN) makes
/// the loss NaN, so that training stops with
/// [`Diverged`](crate::TrainError::Diverged) instead of learning from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BinaryCrossEntropy;

impl<T: Scalar, const N: usize> Loss<[T; N], [T; N]> for BinaryCrossEntropy {
    fn loss_grad(&self, p: &[T; N], target: &[T; N], grad: &mut [T; N]) -> T {
        let n = T::from_f64(N as f64);
        let eps = T::from_f64(1e-12);
        let mut sum = T::ZERO;
        let mut targets_in_range = true;
        for ((g, &p), &t) in grad.iter_mut().zip(p).zip(target) {
            targets_in_range &= t >= T::ZERO && t <= T::ONE;
            sum -= t * clamped_ln(p) + (T::ONE - t) * clamped_ln(T::ONE - p);
            *g = (p - t) / ((p * (T::ONE - p)).max(eps) * n);
        }
        // A target outside [0, 1] is not a probability: the loss says so
        // with NaN, which training reports as `Diverged`.
        if targets_in_range { sum / n } else { T::nan() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_by_hand() {
        let mut g = [0.0; 2];
        let l = Mse.loss_grad(&[1.0, 2.0], &[0.0, 4.0], &mut g);
        assert_eq!(l, 2.5);
        assert_eq!(g, [1.0, -2.0]);
    }

    #[test]
    fn cross_entropy_one_hot_equals_class_index() {
        let p = [0.2, 0.5, 0.3];
        let (mut g1, mut g2) = ([0.0; 3], [0.0; 3]);
        let l1 = CrossEntropy.loss_grad(&p, &[0.0, 1.0, 0.0], &mut g1);
        let l2 = CrossEntropy.loss_grad(&p, &1usize, &mut g2);
        assert_eq!(l1, l2);
        assert_eq!(g1, g2);
        assert!((l1 - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn softmax_cross_entropy_is_stable_for_huge_logits() {
        let mut g = [0.0f32; 3];
        let l = SoftmaxCrossEntropy.loss_grad(&[1000.0, 0.0, -1000.0], &2, &mut g);
        assert!((l - 2000.0).abs() < 1e-3, "{l}");
        assert_eq!(g, [1.0, 0.0, -1.0]);
    }

    #[test]
    fn out_of_range_class_is_nan_not_silent() {
        let mut g = [0.0f64; 3];
        assert!(
            SoftmaxCrossEntropy
                .loss_grad(&[1.0, 2.0, 3.0], &3, &mut g)
                .is_nan()
        );
        assert!(g.iter().all(|x| x.is_nan()));
        assert!(
            CrossEntropy
                .loss_grad(&[0.2, 0.3, 0.5], &7, &mut g)
                .is_nan()
        );
    }

    #[test]
    fn f32_gradients_stay_finite_for_certain_answers() {
        // Right with certainty: the zero-probability class has target 0.
        let mut g = [0.0f32; 2];
        let l = CrossEntropy.loss_grad(&[1.0, 0.0], &[1.0, 0.0], &mut g);
        assert_eq!(l, 0.0);
        assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
        // Wrong with certainty: large but finite.
        let l = CrossEntropy.loss_grad(&[1.0, 0.0], &1, &mut g);
        assert_eq!(l, 100.0);
        assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
    }

    #[test]
    fn confident_wrong_answers_are_large_but_finite() {
        let l: f64 = CrossEntropy.loss(&[1.0, 0.0], &1);
        assert_eq!(l, 100.0);
        let b: f64 = BinaryCrossEntropy.loss(&[1.0], &[0.0]);
        assert_eq!(b, 100.0);
    }
}
