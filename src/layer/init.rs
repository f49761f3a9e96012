//! Random initialisation: the schemes, and how a layer's tensors are drawn
//! from its description.

use rand::Rng;

use super::Layer;
use crate::scalar::{Scalar, Vector, Zeroed};
use crate::tensors::Fill;

/// A weight initialisation scheme for dense layers. Biases start at zero.
///
/// Both draw weights uniformly from `[-a, a]`:
///
/// | scheme | `a` | suits |
/// |---|---|---|
/// | [`Xavier`](Init::Xavier) (Glorot) | `√(6 / (inputs + outputs))` | tanh, sigmoid, softmax, identity |
/// | [`He`](Init::He) (Kaiming) | `√(6 / inputs)` | ReLU, leaky ReLU |
///
/// These are PyTorch's `xavier_uniform_` and `kaiming_uniform_` (gain `√2`).
///
/// A network's default is decided layer by layer: each layer says which
/// scheme suits the dense layer before it
/// ([`Layer::INIT_BEFORE`]), so `Dense, Relu` starts with He and
/// `Dense, Tanh` with Xavier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    /// Xavier/Glorot uniform.
    Xavier,
    /// He/Kaiming uniform.
    He,
}

impl Init {
    /// The bound `a` of the uniform distribution for a layer of this size.
    pub fn bound(self, inputs: usize, outputs: usize) -> f64 {
        let fan = match self {
            Init::Xavier => inputs + outputs,
            Init::He => inputs,
        };
        // `fan` is at least 1 for any layer that has weights.
        num_traits::Float::sqrt(6.0 / fan.max(1) as f64)
    }

    /// One weight drawn from `[-a, a]`, as an `f64`.
    pub fn sample<R: Rng + ?Sized>(self, rng: &mut R, inputs: usize, outputs: usize) -> f64 {
        // 53 random bits give a uniform f64 in [0, 1).
        let unit = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        (2.0 * unit - 1.0) * self.bound(inputs, outputs)
    }
}

/// Draws a layer's parameters in place from its description: its setting
/// back to the default, each tensor by its [`Fill`], random ones by
/// `scheme` with the fans of a `[outputs, inputs]` shape (a vector's are
/// its length).
pub(crate) fn randomize<X, L, R>(layer: &mut L, rng: &mut R, scheme: Init)
where
    X: Vector,
    L: Layer<X>,
    R: Rng + ?Sized,
{
    if let Some(setting) = &L::SETTING {
        setting.set(layer, setting.default());
    }
    for tensor in L::TENSORS {
        let info = tensor.info();
        let values = tensor.get_mut(layer);
        match info.fill {
            Fill::Zeros => values.fill(X::Scalar::ZERO),
            Fill::Ones => values.fill(X::Scalar::ONE),
            Fill::Random => {
                let (outputs, inputs) = match info.shape {
                    [rows, cols] => (*rows, *cols),
                    _ => (values.len(), values.len()),
                };
                for w in values {
                    *w = X::Scalar::from_f64(scheme.sample(rng, inputs, outputs));
                }
            }
        }
    }
}
