//! The dense (fully connected, linear) layer `y = W x + b`.

use core::fmt;

use rand::Rng;

use super::{Init, Layer, RandomInit};
use crate::matrix::Matrix;
use crate::scalar::{Scalar, Zeroed};
use crate::tensors::{self, Parameters, Tensors};

/// A dense layer with `I` inputs and `O` outputs: `y = W x + b`, with `W`
/// an `O × I` [`Matrix`] and `b` a vector of `O` biases. These are the
/// learnable parameters.
///
/// Its backward pass computes both kinds of derivative:
///
/// - with respect to the **parameters** (stored in the gradient, which is
///   itself a `Dense<T, I, O>`): `∂L/∂W += dy xᵀ`, `∂L/∂b += dy`;
/// - with respect to the **input** (carried back): `∂L/∂x = Wᵀ dy`.
///
/// ```
/// use constnet::prelude::*;
///
/// // 2 inputs, 1 output: y = 2·x₀ − x₁ + 0.5
/// let layer = Dense::new([[2.0, -1.0]], [0.5]);
/// let mut y = [[0.0f64; 1]; 1];
/// layer.forward(&[[1.0, 3.0]], &mut y);
/// assert_eq!(y, [[-0.5]]);
/// ```
///
/// Its input width is part of its type: a 3-wide input does not compile.
///
/// ```compile_fail
/// use constnet::prelude::*;
///
/// let layer = Dense::new([[2.0, -1.0]], [0.5]);
/// let mut y = [[0.0f64; 1]; 1];
/// layer.forward(&[[1.0, 3.0, 4.0]], &mut y);
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Dense<T, const I: usize, const O: usize> {
    /// The weights `W`, one row per output.
    pub weight: Matrix<T, O, I>,
    /// The biases `b`, one per output.
    pub bias: [T; O],
}

impl<T, const I: usize, const O: usize> Dense<T, I, O> {
    /// The number of inputs.
    pub const INPUTS: usize = I;
    /// The number of outputs.
    pub const OUTPUTS: usize = O;

    /// A layer from its weights (one row of `I` per output) and biases.
    /// `const`, so a trained layer can be a `static` in flash.
    pub const fn new(weight: [[T; I]; O], bias: [T; O]) -> Self {
        Dense {
            weight: Matrix::new(weight),
            bias,
        }
    }
}

impl<T: Scalar, const I: usize, const O: usize> Dense<T, I, O> {
    /// A layer with weights drawn by `init` from `rng` and zero biases.
    /// The same seed gives bit-identical weights.
    pub fn random<R: Rng + ?Sized>(rng: &mut R, init: Init) -> Self {
        let mut layer = Self::ZERO;
        layer.fill_random(rng, init);
        layer
    }

    /// Draws the weights again by `init` from `rng`, in place, and zeroes
    /// the biases.
    pub fn fill_random<R: Rng + ?Sized>(&mut self, rng: &mut R, init: Init) {
        for w in self.weight.as_flat_mut() {
            *w = T::from_f64(init.sample(rng, I, O));
        }
        self.bias = Zeroed::ZERO;
    }
}

impl<T: Zeroed, const I: usize, const O: usize> Zeroed for Dense<T, I, O> {
    const ZERO: Self = Dense {
        weight: Matrix::ZERO,
        bias: Zeroed::ZERO,
    };
}

impl<T: Scalar, const I: usize, const O: usize> Tensors<T> for Dense<T, I, O> {
    const COUNT: usize = 2;
    const LEN: usize = I * O + O;

    /// Tensor 0 is the weight matrix (row-major), tensor 1 the bias.
    #[inline]
    fn tensor(&self, i: usize) -> &[T] {
        match i {
            0 => self.weight.as_flat(),
            1 => &self.bias,
            _ => &[],
        }
    }
    #[inline]
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        match i {
            0 => self.weight.as_flat_mut(),
            1 => &mut self.bias,
            _ => &mut [],
        }
    }
    #[inline]
    fn for_each_tensor(&self, f: &mut impl FnMut(usize, &[T])) {
        f(0, self.weight.as_flat());
        f(1, &self.bias);
    }
    #[inline]
    fn for_each_tensor_mut(&mut self, f: &mut impl FnMut(usize, &mut [T])) {
        f(0, self.weight.as_flat_mut());
        f(1, &mut self.bias);
    }
    #[inline]
    fn all_finite(&self) -> bool {
        tensors::all_finite(self.weight.as_flat()) & tensors::all_finite(&self.bias)
    }
}

/// A dense layer's gradient is a dense layer: `∂L/∂W` and `∂L/∂b`.
impl<T: Scalar, const I: usize, const O: usize> Parameters<T> for Dense<T, I, O> {
    type Grad = Self;
}

impl<T: Scalar, const I: usize, const O: usize> RandomInit for Dense<T, I, O> {
    fn random_init<R: Rng + ?Sized>(rng: &mut R, force: Option<Init>, next: Init) -> Self {
        Self::random(rng, force.unwrap_or(next))
    }

    fn randomize<R: Rng + ?Sized>(&mut self, rng: &mut R, force: Option<Init>, next: Init) {
        self.fill_random(rng, force.unwrap_or(next));
    }
}

impl<T: Scalar, const I: usize, const O: usize> Layer<[T; I]> for Dense<T, I, O> {
    type Output = [T; O];
    type Trace<const B: usize> = ();

    #[inline]
    fn forward_train<const B: usize>(&self, x: &[[T; I]; B], y: &mut [[T; O]; B], _: &mut ()) {
        self.weight.matmul_bt_bias(x, &self.bias, y);
    }

    #[inline]
    fn backward<const B: usize>(
        &self,
        x: &[[T; I]; B],
        _y: &[[T; O]; B],
        dy: &[[T; O]; B],
        _: &(),
        grad: &mut Self,
        dx: Option<&mut [[T; I]; B]>,
    ) {
        // Second kind: with respect to the parameters, stored.
        grad.weight.add_at_b(dy, x);
        for db in dy {
            for (g, &d) in grad.bias.iter_mut().zip(db) {
                *g = *g + d;
            }
        }
        // First kind: with respect to the input, carried back.
        if let Some(dx) = dx {
            self.weight.matmul(dy, dx);
        }
    }
}

impl<T, const I: usize, const O: usize> fmt::Debug for Dense<T, I, O> {
    /// Prints the shape only: `Dense<784→128>`. The weights are in
    /// [`Dense::weight`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dense<{I}→{O}>")
    }
}
