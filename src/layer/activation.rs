//! Activations: element-wise functions (and softmax) with no parameters.
//!
//! Their backward pass only has the first kind of derivative: the gradient
//! with respect to the input, `dx = dy ⊙ f′(x)` (for softmax, the full
//! Jacobian-vector product). Their gradient type is `()`.

use core::fmt;

use rand::Rng;

use super::{Init, Layer, RandomInit};
use crate::scalar::Scalar;
use crate::tensors::{Parameters, Tensors};

/// Implements the parts every activation shares: no tensors, and a
/// `RandomInit` that recommends `$init` for the dense layer before it.
macro_rules! parameterless {
    ($name:ty, $init:expr, $value:expr) => {
        impl<T: Scalar> Tensors<T> for $name {
            const COUNT: usize = 0;
            const LEN: usize = 0;
            fn tensor(&self, _: usize) -> &[T] {
                &[]
            }
            fn tensor_mut(&mut self, _: usize) -> &mut [T] {
                &mut []
            }
        }

        impl<T: Scalar> Parameters<T> for $name {
            type Grad = ();
        }

        impl RandomInit for $name {
            const INIT_BEFORE: Init = $init;
            fn random_init<R: Rng + ?Sized>(_: &mut R, _: Option<Init>, _: Init) -> Self {
                $value
            }
        }
    };
}

/// Implements `Layer` for an element-wise activation from `f(x)` and its
/// derivative written in terms of the input `x` and output `y`.
macro_rules! elementwise {
    ($name:ty, |$s:ident, $x:ident| $f:expr, |$s2:ident, $xd:ident, $yd:ident| $df:expr) => {
        impl<T: Scalar, const N: usize> Layer<[T; N]> for $name {
            type Output = [T; N];
            type Trace<const B: usize> = ();

            #[inline]
            fn forward_train<const B: usize>(
                &self,
                x: &[[T; N]; B],
                y: &mut [[T; N]; B],
                _: &mut (),
            ) {
                // One loop over the whole batch, as flat slices: simple
                // enough for the compiler to vectorise.
                let $s = self;
                for (&$x, yv) in x.as_flattened().iter().zip(y.as_flattened_mut()) {
                    *yv = $f;
                }
            }

            #[inline]
            fn backward<const B: usize>(
                &self,
                x: &[[T; N]; B],
                y: &[[T; N]; B],
                dy: &[[T; N]; B],
                _: &(),
                _: &mut (),
                dx: Option<&mut [[T; N]; B]>,
            ) {
                let Some(dx) = dx else { return };
                let $s2 = self;
                let (x, y, dy) = (x.as_flattened(), y.as_flattened(), dy.as_flattened());
                let all = x.iter().zip(y).zip(dy).zip(dx.as_flattened_mut());
                for (((&$xd, &$yd), &d), g) in all {
                    *g = d * $df;
                }
            }
        }
    };
}

/// The identity `f(x) = x`: the output activation for regression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity;

parameterless!(Identity, Init::Xavier, Identity);
elementwise!(Identity, |_s, x| x, |_s, _x, _y| T::ONE);

/// The rectified linear unit `f(x) = max(0, x)`, with `f′(0) = 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relu;

parameterless!(Relu, Init::He, Relu);
elementwise!(
    Relu,
    |_s, x| if x > T::ZERO { x } else { T::ZERO },
    |_s, x, _y| if x > T::ZERO { T::ONE } else { T::ZERO }
);

/// The leaky ReLU `f(x) = x` for `x > 0` and `slope · x` otherwise.
///
/// Built by [`RandomInit`] (and so by `network!`) with
/// [`LeakyRelu::DEFAULT_SLOPE`], PyTorch's default; set
/// [`slope`](LeakyRelu::slope) for another.
#[derive(Clone, Copy, PartialEq)]
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

    fn slope_as<T: Scalar>(&self) -> T {
        T::from_f64(f64::from(self.slope))
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

parameterless!(LeakyRelu, Init::He, LeakyRelu::default());
elementwise!(
    LeakyRelu,
    |s, x| if x > T::ZERO {
        x
    } else {
        s.slope_as::<T>() * x
    },
    |s, x, _y| if x > T::ZERO {
        T::ONE
    } else {
        s.slope_as::<T>()
    }
);

/// The logistic sigmoid `f(x) = 1 / (1 + e⁻ˣ)`, with `f′ = y (1 − y)`.
/// Computed without overflow for inputs of either sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sigmoid;

parameterless!(Sigmoid, Init::Xavier, Sigmoid);

/// The sigmoid, written so that `exp` never overflows: `1 / (1 + e)` for
/// `x ≥ 0` and `e / (1 + e)` below, with `e = e^{−|x|}`.
#[inline]
fn sigmoid<T: Scalar>(x: T) -> T {
    let e = (-x.abs()).exp();
    // NaN fails the comparison and takes `e`, which is NaN.
    let numerator = if x >= T::ZERO { T::ONE } else { e };
    numerator / (T::ONE + e)
}

elementwise!(Sigmoid, |_s, x| sigmoid(x), |_s, _x, y| y * (T::ONE - y));

/// The hyperbolic tangent, with `f′ = 1 − y²`.
///
/// For `f32` it is computed by constnet's own branch-free polynomial,
/// within 2 ulp of the exact value, which the compiler can vectorise over
/// a layer or a batch (the standard `tanhf` is a call per value); for
/// `f64`, by the standard function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tanh;

parameterless!(Tanh, Init::Xavier, Tanh);
elementwise!(Tanh, |_s, x| x.tanh_(), |_s, _x, y| T::ONE - y * y);

/// Softmax `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}`: turns a vector into a probability
/// distribution (all positive, sum 1).
///
/// Its backward pass is the exact Jacobian-vector product
/// `dxᵢ = yᵢ (dyᵢ − Σⱼ dyⱼ yⱼ)`, correct for any loss. For classification,
/// [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy) on the logits
/// (without this layer) is faster and numerically safer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softmax;

parameterless!(Softmax, Init::Xavier, Softmax);

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

impl<T: Scalar, const N: usize> Layer<[T; N]> for Softmax {
    type Output = [T; N];
    type Trace<const B: usize> = ();

    #[inline]
    fn forward_train<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B], _: &mut ()) {
        for (xb, yb) in x.iter().zip(y.iter_mut()) {
            softmax(xb, yb);
        }
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        _x: &[[T; N]; B],
        y: &[[T; N]; B],
        dy: &[[T; N]; B],
        _: &(),
        _: &mut (),
        dx: Option<&mut [[T; N]; B]>,
    ) {
        let Some(dx) = dx else { return };
        for ((yb, dyb), dxb) in y.iter().zip(dy).zip(dx.iter_mut()) {
            let s = yb.iter().zip(dyb).fold(T::ZERO, |s, (&y, &d)| s + y * d);
            for ((g, &y), &d) in dxb.iter_mut().zip(yb).zip(dyb) {
                *g = y * (d - s);
            }
        }
    }
}
