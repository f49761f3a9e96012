//! The dense (fully connected, linear) layer `y = W x + b`.

use core::array::from_ref;
use core::fmt::{self, Write};

use rand::Rng;

use super::{Init, Layer, LayerKind, Tensor, write_arguments};
use crate::matrix::Matrix;
use crate::scalar::{Scalar, Zeroed};
use crate::tensors::Tensors;

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
/// On x86-64 a `Dense` is 64-byte aligned (`W` first, then `b`), so that
/// its weights start on a cache line: a 512-bit load that straddles two
/// lines costs two, and the weight rows are read by whole vectors. Its
/// size is rounded up to a multiple of 64 bytes, at most 63 bytes more
/// than its parameters. Elsewhere it holds its parameters and nothing else.
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
#[derive(Clone, Copy, PartialEq, bytemuck::Zeroable)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
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
        super::init::randomize::<[T; I], _, _>(self, rng, init);
    }

    /// The backward pass, adding the parameter gradient to `grad` with
    /// `ACC`, writing it over `grad` without.
    #[inline(always)]
    fn backward_with<const B: usize, const ACC: bool>(
        &self,
        x: &[[T; I]; B],
        dy: &[[T; O]; B],
        grad: &mut Self,
        dx: Option<&mut [[T; I]; B]>,
    ) {
        // Second kind: with respect to the parameters, stored.
        // Without `ACC` the sums start from the first sample's values, not
        // from zero: for one sample, an addition of zero would be a step
        // on the chain from the output to the update.
        let rest = if ACC {
            grad.weight.add_at_b(dy, x);
            &dy[..]
        } else {
            grad.weight.set_at_b(dy, x);
            let (first, rest) = dy
                .split_first()
                .map_or(([T::ZERO; O], &[][..]), |(f, r)| (*f, r));
            grad.bias = first;
            rest
        };
        for db in rest {
            for (g, &d) in grad.bias.iter_mut().zip(db) {
                *g += d;
            }
        }
        // First kind: with respect to the input, carried back.
        if let Some(dx) = dx {
            self.weight.matmul(dy, dx);
        }
    }
}

impl LayerKind {
    /// [`Dense`], code 1.
    pub const DENSE: LayerKind = LayerKind::builtin(1, "Dense");
}

/// Tensor 0 is the weight matrix (`[O, I]`, row-major: PyTorch's
/// `nn.Linear.weight`), drawn at random; tensor 1 the bias, starting at
/// zero.
impl<T: Scalar, const I: usize, const O: usize> Tensors<T> for Dense<T, I, O> {
    const TENSORS: &'static [Tensor<Self, T>] = &[
        Tensor::random(
            "weight",
            &[O, I],
            |d| d.weight.as_flat(),
            |d| d.weight.as_flat_mut(),
        ),
        Tensor::zeros("bias", &[O], |d| &d.bias, |d| &mut d.bias),
    ];
}

impl<T: Scalar, const I: usize, const O: usize> Layer<[T; I]> for Dense<T, I, O> {
    const KIND: LayerKind = LayerKind::DENSE;
    type Output = [T; O];
    type Trace<const B: usize> = ();

    #[inline]
    fn map(&self, x: &[T; I]) -> [T; O] {
        let mut y = [[T::ZERO; O]];
        self.forward(from_ref(x), &mut y);
        y[0]
    }

    #[inline]
    fn grad(&self, x: &[T; I], y: &[T; O], dy: &[T; O], grad: &mut Self) -> [T; I] {
        let mut dx = [[T::ZERO; I]];
        let (x, y, dy) = (from_ref(x), from_ref(y), from_ref(dy));
        self.backward(x, y, dy, &(), grad, Some(&mut dx));
        dx[0]
    }

    #[inline]
    fn forward_train<const B: usize>(&self, x: &[[T; I]; B], y: &mut [[T; O]; B], _: &mut ()) {
        const {
            assert!(
                I > 0 && O > 0,
                "a dense layer needs at least one input and one output: `Dense<0>` computes nothing"
            )
        };
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
        self.backward_with::<B, true>(x, dy, grad, dx);
    }

    #[inline]
    fn backward_overwrite<const B: usize>(
        &self,
        x: &[[T; I]; B],
        _y: &[[T; O]; B],
        dy: &[[T; O]; B],
        _: &(),
        grad: &mut Self,
        dx: Option<&mut [[T; I]; B]>,
    ) {
        self.backward_with::<B, false>(x, dy, grad, dx);
    }

    /// `Dense<I, O>`, as `network!` takes it.
    fn write_types(out: &mut dyn Write) -> fmt::Result {
        write!(out, "Dense<{I}, {O}>")
    }

    /// `::constnet::Dense::new([[…], …], […])`.
    fn write_value(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("::constnet::Dense::new")?;
        write_arguments::<[T; I], Self>(self, out)
    }
}

impl<T, const I: usize, const O: usize> fmt::Debug for Dense<T, I, O> {
    /// Prints the shape only: `Dense<784→128>`. The weights are in
    /// [`Dense::weight`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dense<{I}→{O}>")
    }
}
