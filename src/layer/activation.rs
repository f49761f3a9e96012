//! Activations: element-wise functions (and softmax) with no parameters,
//! and [`elementwise!`](crate::elementwise!), which defines one. Every
//! public item here is a layer, re-exported at the crate root and in the
//! prelude.
//!
//! Their backward pass only has the first kind of derivative: the gradient
//! with respect to the input, `dx = dy ⊙ f′(x)` (for softmax, the full
//! Jacobian-vector product). They have no tensors.

use core::fmt::{self, Write};

use super::{Init, Layer, LayerKind, Setting};
use crate::scalar::Scalar;
use crate::tensors::Tensors;

/// Defines an element-wise activation `yᵢ = f(xᵢ)` from the function and
/// its derivative: a unit struct that is a [`Layer`] of any width, with a
/// name, no tensors, and batch passes that go through the batch as one
/// flat loop the compiler can vectorise. constnet's own activations are
/// made with it.
///
/// ```
/// use constnet::prelude::*;
///
/// constnet::elementwise! {
///     /// The "hard" tanh: x clamped to [−1, 1].
///     pub struct HardTanh = "HardTanh";
///     f(x) = x.max(-T::ONE).min(T::ONE);
///     df(x, _y) = if x.abs() < T::ONE { T::ONE } else { T::ZERO };
/// }
///
/// let mut y = [[0.0f32; 3]; 1];
/// HardTanh.forward(&[[-2.0, 0.5, 3.0]], &mut y);
/// assert_eq!(y, [[-1.0, 0.5, 1.0]]);
/// ```
///
/// The syntax: attributes and doc comments, then `struct Name = "name";`
/// with any visibility, where the string is the layer's
/// [`LayerKind::named`]; optionally `init Init::He;` for a ReLU-like
/// function (see [`Layer::INIT_BEFORE`]); then `f(x) = …;` and
/// `df(x, y) = …;`, the derivative written with the input `x` or the
/// output `y = f(x)`, whichever is cheaper. In both, the scalar type is
/// `T` (a [`Scalar`]: `f32` or `f64`). The struct derives `Clone`, `Copy`,
/// `Debug`, `Default`, `PartialEq`, `Eq`, `Hash` and is
/// [`Zeroable`](bytemuck::Zeroable).
///
/// It writes impls for the type itself rather than one blanket impl for
/// every element-wise type, so that a layer that does not fit in a
/// network is still reported by name.
#[macro_export]
macro_rules! elementwise {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident = $kind:literal;
        $(init $init:expr;)?
        f($x:ident) = $f:expr;
        df($dx:ident, $dy:ident) = $df:expr;
    ) => {
        $crate::elementwise!(@define [$(#[$meta])*] $vis $name
            ($crate::layer::LayerKind::named($kind)) ($($init)?) $x ($f) $dx $dy ($df));
        $crate::elementwise!(@table $name);
    };

    // @table name: the layer in int8 is a table of its function (see
    // `constnet::quant::Table`).
    (@table $name:ident) => {
        impl<const N: usize> $crate::quant::Quantize<[f32; N]> for $name {
            type Quantized = $crate::quant::Table;
            type Ranges = $crate::quant::Range;
            const EMPTY: $crate::quant::Range = $crate::quant::Range::EMPTY;

            fn observe(&self, __x: &[f32; N], __range: &mut $crate::quant::Range) -> [f32; N] {
                $crate::quant::observe_one(self, __x, __range)
            }

            fn quantize(
                &self,
                __input: $crate::quant::Quant,
                __range: &$crate::quant::Range,
                __output: ::core::option::Option<$crate::quant::Quant>,
            ) -> ::core::result::Result<
                ($crate::quant::Table, $crate::quant::Quant),
                $crate::quant::QuantError,
            > {
                $crate::quant::Table::quantize(self, __input, __range, __output)
            }
        }
    };

    // internal rules

    // @define [attributes] visibility name (kind) (init) x (f) x y (df): the
    // struct and its impls.
    (@define [$($meta:tt)*] $vis:vis $name:ident ($kind:expr) ($($init:expr)?)
        $x:ident ($f:expr) $dx:ident $dy:ident ($df:expr)) => {
        $($meta)*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        $vis struct $name;

        // SAFETY: a unit struct has no bytes, so all-zero bytes are its value.
        #[allow(unsafe_code)]
        unsafe impl $crate::bytemuck::Zeroable for $name {}

        impl<T: $crate::Scalar> $crate::Tensors<T> for $name {}

        impl<T: $crate::Scalar, const N: usize> $crate::Layer<[T; N]> for $name {
            const KIND: $crate::layer::LayerKind = $kind;
            $(const INIT_BEFORE: $crate::Init = $init;)?
            type Output = [T; N];
            type Trace<const B: usize> = ();

            #[inline]
            fn map(&self, __x: &[T; N]) -> [T; N] {
                __x.map(|$x: T| -> T { $f })
            }

            #[inline]
            fn grad(&self, __x: &[T; N], __y: &[T; N], __dy: &[T; N], _: &mut Self) -> [T; N] {
                ::core::array::from_fn(|__i| {
                    let ($dx, $dy): (T, T) = (__x[__i], __y[__i]);
                    __dy[__i] * { $df }
                })
            }

            #[inline]
            fn forward_train<const B: usize>(
                &self,
                __x: &[[T; N]; B],
                __y: &mut [[T; N]; B],
                _: &mut (),
            ) {
                $crate::layer::__private::elementwise_map(__x, __y, |$x: T| -> T { $f });
            }

            #[inline]
            fn backward<const B: usize>(
                &self,
                __x: &[[T; N]; B],
                __y: &[[T; N]; B],
                __dy: &[[T; N]; B],
                _: &(),
                _: &mut Self,
                __dx: ::core::option::Option<&mut [[T; N]; B]>,
            ) {
                if let ::core::option::Option::Some(__dx) = __dx {
                    $crate::layer::__private::elementwise_grad(__x, __y, __dy, __dx, |$dx: T, $dy: T| -> T {
                        $df
                    });
                }
            }
        }
    };
}

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

crate::elementwise! {
    @define [
        /// The identity `f(x) = x`: the output activation for regression.
    ]
    pub Identity (LayerKind::IDENTITY) () x (x) _x _y (T::ONE)
}

crate::elementwise! {
    @define [
        /// The rectified linear unit `f(x) = max(0, x)`, with `f′(0) = 0`.
        /// NaN stays NaN, as in PyTorch, so a faulty input is not turned
        /// into a confident answer.
    ]
    pub Relu (LayerKind::RELU) (Init::He)
    // `x ≤ 0` is false for NaN, which passes through (as in PyTorch).
    x (if x <= T::ZERO { T::ZERO } else { x })
    x _y (if x > T::ZERO { T::ONE } else { T::ZERO })
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

/// The leaky ReLU is element-wise with its slope as a parameter of the
/// function; its batch passes are the same flat loops.
impl<T: Scalar, const N: usize> Layer<[T; N]> for LeakyRelu {
    const KIND: LayerKind = LayerKind::LEAKY_RELU;
    const SETTING: Option<Setting<Self>> = Some(Setting::new(
        "slope",
        LeakyRelu::DEFAULT_SLOPE,
        |l| l.slope,
        |l, slope| l.slope = slope,
    ));
    const INIT_BEFORE: Init = Init::He;
    type Output = [T; N];
    type Trace<const B: usize> = ();

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
    fn forward_train<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B], _: &mut ()) {
        let slope = T::from_f64(f64::from(self.slope));
        super::__private::elementwise_map(x, y, |x| Self::f(slope, x));
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &[[T; N]; B],
        y: &[[T; N]; B],
        dy: &[[T; N]; B],
        _: &(),
        _: &mut Self,
        dx: Option<&mut [[T; N]; B]>,
    ) {
        let slope = T::from_f64(f64::from(self.slope));
        if let Some(dx) = dx {
            super::__private::elementwise_grad(x, y, dy, dx, |x, _| Self::df(slope, x));
        }
    }

    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "::constnet::LeakyRelu::new({:?})", self.slope)
    }
}

// In int8 a leaky ReLU is a table, as for the layers `elementwise!` makes.
crate::elementwise!(@table LeakyRelu);

crate::elementwise! {
    @define [
        /// The logistic sigmoid `f(x) = 1 / (1 + e⁻ˣ)`, with `f′ = y (1 − y)`.
        /// Computed without overflow for inputs of either sign.
    ]
    pub Sigmoid (LayerKind::SIGMOID) () x (sigmoid(x)) _x y (y * (T::ONE - y))
}
crate::elementwise!(@table Sigmoid);

/// The sigmoid, written so that `exp` never overflows: `1 / (1 + e)` for
/// `x ≥ 0` and `e / (1 + e)` below, with `e = e^{−|x|}`.
#[inline]
fn sigmoid<T: Scalar>(x: T) -> T {
    let e = (-x.abs()).exp();
    // NaN fails the comparison and takes `e`, which is NaN.
    let numerator = if x >= T::ZERO { T::ONE } else { e };
    numerator / (T::ONE + e)
}

crate::elementwise! {
    @define [
        /// The hyperbolic tangent, with `f′ = 1 − y²`.
        ///
        /// For `f32` it is computed by constnet's own branch-free polynomial,
        /// within 2 ulp of the exact value, which the compiler can vectorise over
        /// a layer or a batch (the standard `tanhf` is a call per value); for
        /// `f64`, by the standard function.
    ]
    pub Tanh (LayerKind::TANH) () x (x.tanh_()) _x y (T::ONE - y * y)
}
crate::elementwise!(@table Tanh);

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
        *yv *= inv;
    }
    max + sum.ln()
}

impl<T: Scalar> Tensors<T> for Softmax {}

impl<T: Scalar, const N: usize> Layer<[T; N]> for Softmax {
    const KIND: LayerKind = LayerKind::SOFTMAX;
    type Output = [T; N];
    type Trace<const B: usize> = ();

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
    fn forward_train<const B: usize>(&self, x: &[[T; N]; B], y: &mut [[T; N]; B], _: &mut ()) {
        for (x, y) in x.iter().zip(y.iter_mut()) {
            softmax(x, y);
        }
    }
}
