//! Activations: element-wise functions (and softmax) with no parameters.
//!
//! Their backward pass only has the first kind of derivative: the gradient
//! with respect to the input, `dx = dy ⊙ f′(x)` (for softmax, the full
//! Jacobian-vector product). They have no tensors.

use core::fmt::{self, Write};

use super::{Describe, Init, LayerKind, Map, Setting};
use crate::scalar::Scalar;
use crate::tensors::Tensors;

/// An element-wise activation `yᵢ = f(xᵢ)`: the function and its
/// derivative are all there is to write. Every `Elementwise` type is a
/// [`Layer`](crate::Layer) of any width and [`Describe`]s itself with
/// [`KIND`](Elementwise::KIND); the batch goes through as one flat loop,
/// which the compiler can vectorise.
///
/// ```
/// use constnet::layer::{Elementwise, LayerKind};
/// use constnet::prelude::*;
///
/// /// The "hard" tanh: x clamped to [−1, 1].
/// #[derive(Clone, Copy, Debug, Zeroable)]
/// struct HardTanh;
///
/// impl Elementwise for HardTanh {
///     const KIND: LayerKind = LayerKind::named("HardTanh");
///     fn f<T: Scalar>(&self, x: T) -> T {
///         x.max(-T::ONE).min(T::ONE)
///     }
///     fn df<T: Scalar>(&self, x: T, _y: T) -> T {
///         if x.abs() < T::ONE { T::ONE } else { T::ZERO }
///     }
/// }
///
/// let mut y = [[0.0f32; 3]; 1];
/// HardTanh.forward(&[[-2.0, 0.5, 3.0]], &mut y);
/// assert_eq!(y, [[-1.0, 0.5, 1.0]]);
/// ```
pub trait Elementwise: Copy + bytemuck::Zeroable + 'static {
    /// What kind of layer this is (see [`Describe::KIND`]).
    const KIND: LayerKind;
    /// The scheme that suits a dense layer before it (see
    /// [`Describe::INIT_BEFORE`]).
    const INIT_BEFORE: Init = Init::Xavier;

    /// `f(x)`.
    fn f<T: Scalar>(&self, x: T) -> T;

    /// `f′(x)`, given `x` and `y = f(x)` (whichever is cheaper to use).
    fn df<T: Scalar>(&self, x: T, y: T) -> T;
}

impl<E: Elementwise> Describe for E {
    const KIND: LayerKind = E::KIND;
    const INIT_BEFORE: Init = E::INIT_BEFORE;
}

/// An element-wise activation has no parameters.
impl<T: Scalar, E: Elementwise> Tensors<T> for E {}

impl<T: Scalar, const N: usize, E: Elementwise> Map<[T; N]> for E {
    type Output = [T; N];

    #[inline]
    fn map(&self, x: &[T; N]) -> [T; N] {
        x.map(|x| self.f(x))
    }

    #[inline]
    fn grad(&self, x: &[T; N], y: &[T; N], dy: &[T; N], _: &mut Self) -> [T; N] {
        core::array::from_fn(|i| dy[i] * self.df(x[i], y[i]))
    }

    #[inline]
    fn map_batch<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B]) {
        map_flat(x, y, |x| self.f(x));
    }

    #[inline]
    fn grad_batch<const B: usize>(
        &self,
        x: &[[T; N]; B],
        y: &[[T; N]; B],
        dy: &[[T; N]; B],
        _: &mut Self,
        dx: Option<&mut [[T; N]; B]>,
    ) {
        if let Some(dx) = dx {
            grad_flat(x, y, dy, dx, |x, y| self.df(x, y));
        }
    }
}

/// `y = f(x)` over a whole batch as one flat loop: simple enough for the
/// compiler to vectorise.
#[inline(always)]
fn map_flat<T: Scalar, const N: usize, const B: usize>(
    x: &[[T; N]; B],
    y: &mut [[T; N]; B],
    f: impl Fn(T) -> T,
) {
    for (&x, y) in x.as_flattened().iter().zip(y.as_flattened_mut()) {
        *y = f(x);
    }
}

/// `dx = dy ⊙ f′(x, y)` over a whole batch as one flat loop.
#[inline(always)]
fn grad_flat<T: Scalar, const N: usize, const B: usize>(
    x: &[[T; N]; B],
    y: &[[T; N]; B],
    dy: &[[T; N]; B],
    dx: &mut [[T; N]; B],
    df: impl Fn(T, T) -> T,
) {
    let (x, y, dy) = (x.as_flattened(), y.as_flattened(), dy.as_flattened());
    let all = x.iter().zip(y).zip(dy).zip(dx.as_flattened_mut());
    for (((&x, &y), &d), g) in all {
        *g = d * df(x, y);
    }
}

/// The identity `f(x) = x`: the output activation for regression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Zeroable)]
pub struct Identity;

impl LayerKind {
    /// [`Identity`], code 2.
    pub const IDENTITY: LayerKind = LayerKind::builtin(2, "Identity");
    /// [`Relu`], code 3.
    pub const RELU: LayerKind = LayerKind::builtin(3, "Relu");
    /// [`LeakyRelu`], code 4; its slope is its setting.
    pub const LEAKY_RELU: LayerKind = LayerKind::builtin(4, "LeakyRelu");
    /// [`Sigmoid`], code 5.
    pub const SIGMOID: LayerKind = LayerKind::builtin(5, "Sigmoid");
    /// [`Tanh`], code 6.
    pub const TANH: LayerKind = LayerKind::builtin(6, "Tanh");
    /// [`Softmax`], code 7.
    pub const SOFTMAX: LayerKind = LayerKind::builtin(7, "Softmax");
}

impl Elementwise for Identity {
    const KIND: LayerKind = LayerKind::IDENTITY;
    #[inline]
    fn f<T: Scalar>(&self, x: T) -> T {
        x
    }
    #[inline]
    fn df<T: Scalar>(&self, _: T, _: T) -> T {
        T::ONE
    }
}

/// The rectified linear unit `f(x) = max(0, x)`, with `f′(0) = 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Zeroable)]
pub struct Relu;

impl Elementwise for Relu {
    const KIND: LayerKind = LayerKind::RELU;
    const INIT_BEFORE: Init = Init::He;
    #[inline]
    fn f<T: Scalar>(&self, x: T) -> T {
        if x > T::ZERO { x } else { T::ZERO }
    }
    #[inline]
    fn df<T: Scalar>(&self, x: T, _: T) -> T {
        if x > T::ZERO { T::ONE } else { T::ZERO }
    }
}

/// The leaky ReLU `f(x) = x` for `x > 0` and `slope · x` otherwise.
///
/// Its slope is its setting: a new layer (from
/// [`Network::random`](crate::Network::random) or a file) has
/// [`LeakyRelu::DEFAULT_SLOPE`], PyTorch's default; set
/// [`slope`](LeakyRelu::slope) for another, and a saved network keeps it.
#[derive(Clone, Copy, PartialEq, bytemuck::Zeroable)]
pub struct LeakyRelu {
    /// The slope for negative inputs.
    pub slope: f32,
}

impl LeakyRelu {
    /// The default slope, `0.01`.
    pub const DEFAULT_SLOPE: f32 = 0.01;

    /// A leaky ReLU with the given slope for negative inputs.
    pub const fn new(slope: f32) -> Self {
        LeakyRelu { slope }
    }

    #[inline]
    fn f<T: Scalar>(slope: T, x: T) -> T {
        if x > T::ZERO { x } else { slope * x }
    }

    #[inline]
    fn df<T: Scalar>(slope: T, x: T) -> T {
        if x > T::ZERO { T::ONE } else { slope }
    }
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu::new(Self::DEFAULT_SLOPE)
    }
}

impl fmt::Debug for LeakyRelu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LeakyRelu({})", self.slope)
    }
}

/// The slope is a setting, not a parameter.
impl<T: Scalar> Tensors<T> for LeakyRelu {}

impl Describe for LeakyRelu {
    const KIND: LayerKind = LayerKind::LEAKY_RELU;
    const SETTING: Option<Setting<Self>> = Some(Setting::new(
        "slope",
        LeakyRelu::DEFAULT_SLOPE,
        |l| l.slope,
        |l, slope| l.slope = slope,
    ));
    const INIT_BEFORE: Init = Init::He;

    fn write_value<T: Scalar>(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "::constnet::LeakyRelu::new({:?})", self.slope)
    }
}

/// The leaky ReLU is element-wise with its slope as a parameter of the
/// function; its batch passes are the same flat loops.
impl<T: Scalar, const N: usize> Map<[T; N]> for LeakyRelu {
    type Output = [T; N];

    #[inline]
    fn map(&self, x: &[T; N]) -> [T; N] {
        let slope = T::from_f64(f64::from(self.slope));
        x.map(|x| Self::f(slope, x))
    }

    #[inline]
    fn grad(&self, x: &[T; N], _: &[T; N], dy: &[T; N], _: &mut Self) -> [T; N] {
        let slope = T::from_f64(f64::from(self.slope));
        core::array::from_fn(|i| dy[i] * Self::df(slope, x[i]))
    }

    #[inline]
    fn map_batch<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B]) {
        let slope = T::from_f64(f64::from(self.slope));
        map_flat(x, y, |x| Self::f(slope, x));
    }

    #[inline]
    fn grad_batch<const B: usize>(
        &self,
        x: &[[T; N]; B],
        y: &[[T; N]; B],
        dy: &[[T; N]; B],
        _: &mut Self,
        dx: Option<&mut [[T; N]; B]>,
    ) {
        let slope = T::from_f64(f64::from(self.slope));
        if let Some(dx) = dx {
            grad_flat(x, y, dy, dx, |x, _| Self::df(slope, x));
        }
    }
}

/// The logistic sigmoid `f(x) = 1 / (1 + e⁻ˣ)`, with `f′ = y (1 − y)`.
/// Computed without overflow for inputs of either sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Zeroable)]
pub struct Sigmoid;

/// The sigmoid, written so that `exp` never overflows: `1 / (1 + e)` for
/// `x ≥ 0` and `e / (1 + e)` below, with `e = e^{−|x|}`.
#[inline]
fn sigmoid<T: Scalar>(x: T) -> T {
    let e = (-x.abs()).exp();
    // NaN fails the comparison and takes `e`, which is NaN.
    let numerator = if x >= T::ZERO { T::ONE } else { e };
    numerator / (T::ONE + e)
}

impl Elementwise for Sigmoid {
    const KIND: LayerKind = LayerKind::SIGMOID;
    #[inline]
    fn f<T: Scalar>(&self, x: T) -> T {
        sigmoid(x)
    }
    #[inline]
    fn df<T: Scalar>(&self, _: T, y: T) -> T {
        y * (T::ONE - y)
    }
}

/// The hyperbolic tangent, with `f′ = 1 − y²`.
///
/// For `f32` it is computed by constnet's own branch-free polynomial,
/// within 2 ulp of the exact value, which the compiler can vectorise over
/// a layer or a batch (the standard `tanhf` is a call per value); for
/// `f64`, by the standard function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Zeroable)]
pub struct Tanh;

impl Elementwise for Tanh {
    const KIND: LayerKind = LayerKind::TANH;
    #[inline]
    fn f<T: Scalar>(&self, x: T) -> T {
        x.tanh_()
    }
    #[inline]
    fn df<T: Scalar>(&self, _: T, y: T) -> T {
        T::ONE - y * y
    }
}

/// Softmax `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}`: turns a vector into a probability
/// distribution (all positive, sum 1).
///
/// Its backward pass is the exact Jacobian-vector product
/// `dxᵢ = yᵢ (dyᵢ − Σⱼ dyⱼ yⱼ)`, correct for any loss. For classification,
/// [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy) on the logits
/// (without this layer) is faster and numerically safer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Zeroable)]
pub struct Softmax;

/// Writes `softmax(x)` into `y`, subtracting the maximum first so that no
/// `exp` overflows. Returns `ln Σ exp(x)` (log-sum-exp).
#[inline]
pub(crate) fn softmax<T: Scalar, const N: usize>(x: &[T; N], y: &mut [T; N]) -> T {
    let max = x.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    // The exponentials first, then the sum: one loop doing both would make
    // each exp wait for the sum before it.
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv = (xv - max).exp();
    }
    let sum = y.iter().fold(T::ZERO, |sum, &v| sum + v);
    let inv = T::ONE / sum;
    for yv in y.iter_mut() {
        *yv = *yv * inv;
    }
    max + sum.ln()
}

impl Describe for Softmax {
    const KIND: LayerKind = LayerKind::SOFTMAX;
}

impl<T: Scalar> Tensors<T> for Softmax {}

impl<T: Scalar, const N: usize> Map<[T; N]> for Softmax {
    type Output = [T; N];

    #[inline]
    fn map(&self, x: &[T; N]) -> [T; N] {
        let mut y = [T::ZERO; N];
        softmax(x, &mut y);
        y
    }

    #[inline]
    fn grad(&self, _: &[T; N], y: &[T; N], dy: &[T; N], _: &mut Self) -> [T; N] {
        let s = y.iter().zip(dy).fold(T::ZERO, |s, (&y, &d)| s + y * d);
        core::array::from_fn(|i| y[i] * (dy[i] - s))
    }

    #[inline]
    fn map_batch<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B]) {
        for (x, y) in x.iter().zip(y.iter_mut()) {
            softmax(x, y);
        }
    }
}
