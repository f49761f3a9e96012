//! Importing PyTorch weights from safetensors files (the `safetensors`
//! feature).
//!
//! The container is parsed by the `safetensors` crate (Hugging Face's own
//! implementation, used without its `std` feature); this module maps its
//! tensors to a network's layers and checks every one of them.

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use safetensors::{Dtype, SafeTensors};

use num_traits::Float;

use super::codec::scalar_at;
use super::{ScalarType, ShortLayer};
use crate::layer::{Layer, LayerInfo, LayerKind};
use crate::network::Network;
use crate::scalar::{Scalar, Zeroed};
use crate::tensors::Tensors;

/// Loading weights saved from PyTorch in the safetensors format.
///
/// For a network made by [`network!`](crate::network!) and the PyTorch
/// model
///
/// ```python
/// model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
/// safetensors.torch.save_file(model.state_dict(), "model.safetensors")
/// ```
///
/// the layers are matched by position: layer `i` of the network (as
/// written in `network!`, activations included) is module `i` of the
/// `nn.Sequential`, and its tensors are named `i.` followed by the names
/// its description gives them ([`Tensors::TENSORS`]), with the shapes it
/// gives them. The dense layers take these tensors:
///
/// | network | PyTorch module | tensors, with their shape |
/// |---|---|---|
/// | `4 => Dense<8>` | `0: nn.Linear(4, 8)` | `0.weight` `[8, 4]`, `0.bias` `[8]` |
/// | `Relu` | `1: nn.ReLU()` | none |
/// | `Dense<3>` | `2: nn.Linear(8, 3)` | `2.weight` `[3, 8]`, `2.bias` `[3]` |
///
/// `nn.Linear.weight` is `[out, in]`, row-major: the layout of
/// [`Dense::weight`](crate::Dense::weight), so it is copied as it is. A
/// layer of your own is matched the same way: one with a tensor described
/// as `Tensor::ones("s", &[N], …)` at position 2 takes `2.s` of shape
/// `[N]`, which is what a PyTorch module with a parameter `self.s` of that
/// shape saves.
///
/// Every tensor is checked before anything is written (all or nothing):
/// each expected tensor must be there, with the network's scalar type
/// (`F32` for an `f32` network, `F64` for `f64`: use `model.float()` or
/// `model.double()` before saving), the expected shape and finite values,
/// and there must be no other tensor (like PyTorch's `load_state_dict`
/// with `strict=True`). The metadata (`__metadata__`) is ignored.
///
/// Activations have no tensors in a `state_dict`, so the file cannot say
/// which ones the model used: the network type does, and it must match the
/// model (`nn.ReLU` ↔ [`Relu`](crate::Relu), `nn.Tanh` ↔
/// [`Tanh`](crate::Tanh), `nn.Sigmoid` ↔ [`Sigmoid`](crate::Sigmoid),
/// `nn.Softmax(dim=-1)` ↔ [`Softmax`](crate::Softmax), `nn.Identity` ↔
/// [`Identity`](crate::Identity), `nn.LeakyReLU` ↔
/// [`LeakyRelu`](crate::LeakyRelu)). `nn.LeakyReLU`'s `negative_slope` is
/// not in the file either: loading keeps the network's slope, and
/// [`from_safetensors`](FromSafetensors::from_safetensors) uses
/// [`LeakyRelu::DEFAULT_SLOPE`](crate::LeakyRelu::DEFAULT_SLOPE), which is
/// PyTorch's default.
///
/// ```
/// use constnet::prelude::*;
///
/// network! {
///     /// y = w · x + b
///     struct Line<f32> { 2 => Dense<1> }
/// }
///
/// // What `safetensors.torch.save_file(nn.Linear(2, 1).state_dict(), ...)`
/// // writes: a JSON header, then the data.
/// let header = r#"{"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}"#;
/// let mut file = (header.len() as u64).to_le_bytes().to_vec();
/// file.extend_from_slice(header.as_bytes());
/// for x in [0.5f32, 2.0, -1.0] {
///     file.extend_from_slice(&x.to_le_bytes()); // bias, then weight
/// }
///
/// let net = Line::from_safetensors(&file)?;
/// assert_eq!(net.predict(&[1.0, 3.0]), [0.5 + 2.0 * 1.0 - 3.0]);
///
/// // The network type is checked: a 3-input layer is refused.
/// network! { struct Wide<f32> { 3 => Dense<1> } }
/// let err = Wide::from_safetensors(&file).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "tensor `0.weight` (layer 0, Dense<3→1>) has the wrong shape: expected [1, 3], found [1, 2]"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// An import reads a whole file and allocates; an error that carries the
// layer's description (`LayerInfo`) is large, and that costs nothing here.
#[allow(clippy::result_large_err)]
pub trait FromSafetensors: Network {
    /// A network with the weights in `bytes`, a whole safetensors file.
    /// Settings (a leaky ReLU's slope) get their defaults.
    ///
    /// # Errors
    ///
    /// An [`ImportError`] if the file is not valid safetensors or does not
    /// hold exactly this network's tensors.
    fn from_safetensors(bytes: &[u8]) -> Result<Self, ImportError> {
        let mut layers = Self::Layers::ZERO;
        for index in 0..<Self::Layers as Layer<Self::Input>>::LAYERS {
            let info = <Self::Layers as Layer<Self::Input>>::layer(index);
            if let Some((_, default)) = info.and_then(|info| info.setting) {
                layers.set_setting(index, default);
            }
        }
        import::<Self>(&mut layers, bytes, "")?;
        let mut net = Self::from_layers(layers);
        net.write_settings();
        Ok(net)
    }

    /// Replaces this network's parameters with the weights in `bytes`,
    /// all or nothing. Settings (a leaky ReLU's slope) are kept.
    ///
    /// # Errors
    ///
    /// As [`from_safetensors`](FromSafetensors::from_safetensors); the
    /// network is then left bit-for-bit as it was.
    fn load_safetensors(&mut self, bytes: &[u8]) -> Result<(), ImportError> {
        import::<Self>(self.layers_mut(), bytes, "")
    }

    /// As [`load_safetensors`](FromSafetensors::load_safetensors), for a
    /// network that is a submodule of the saved model: only the tensors
    /// whose names start with `prefix` are considered, with the prefix
    /// taken off. For `self.body = nn.Sequential(...)` in a larger module,
    /// the prefix is `"body."`.
    ///
    /// # Errors
    ///
    /// As [`load_safetensors`](FromSafetensors::load_safetensors).
    fn load_safetensors_under(&mut self, bytes: &[u8], prefix: &str) -> Result<(), ImportError> {
        import::<Self>(self.layers_mut(), bytes, prefix)
    }

    /// A network with the weights in a safetensors file.
    ///
    /// # Errors
    ///
    /// I/O errors, and an error of kind `InvalidData` wrapping the
    /// [`ImportError`].
    #[cfg(feature = "std")]
    fn from_safetensors_file<P: AsRef<std::path::Path>>(path: P) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        Self::from_safetensors(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

impl<N: Network> FromSafetensors for N {}

/// Why weights could not be imported from a safetensors file.
///
/// Every variant names the tensor concerned and says what was expected
/// and what was found. After any of them, the network is as it was.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ImportError {
    /// The bytes are not a valid safetensors file (the `safetensors`
    /// crate's message).
    Container {
        /// What the `safetensors` crate reported.
        message: String,
    },
    /// A tensor the network needs is not in the file.
    MissingTensor {
        /// Its name, with the prefix.
        name: String,
        /// The layer that needs it.
        layer: usize,
        /// What that layer is.
        spec: LayerInfo,
    },
    /// The file has a tensor that no layer of the network has.
    UnexpectedTensor {
        /// Its name, with the prefix.
        name: String,
        /// The layer number the name starts with (after the prefix), if
        /// it starts with one.
        position: Option<usize>,
        /// What the network's layer at that position is, if it has one.
        spec: Option<LayerInfo>,
        /// The number of layers of the network.
        layers: usize,
    },
    /// A tensor has another element type than the network's scalar.
    DtypeMismatch {
        /// Its name.
        name: String,
        /// The network's scalar type.
        expected: ScalarType,
        /// The tensor's dtype, as safetensors writes it (`"F64"`, `"BF16"`).
        found: String,
    },
    /// A tensor has another shape than the layer.
    ShapeMismatch {
        /// Its name.
        name: String,
        /// The layer it belongs to.
        layer: usize,
        /// What that layer is.
        spec: LayerInfo,
        /// The shape the layer needs (`[out, in]` for a weight).
        expected: Vec<usize>,
        /// The tensor's shape.
        found: Vec<usize>,
    },
    /// A tensor holds a NaN or an infinity.
    NonFinite {
        /// Its name.
        name: String,
        /// The index of the value in the flattened tensor.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// The layer number a tensor name starts with (`"2.weight"` → 2).
fn layer_number(name: &str) -> Option<usize> {
    let (number, _) = name.split_once('.')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Container { message } => {
                write!(f, "not a valid safetensors file: {message}")
            }
            ImportError::MissingTensor { name, layer, spec } => write!(
                f,
                "tensor `{name}` is missing: expected it for layer {layer}, {spec}"
            ),
            ImportError::UnexpectedTensor {
                name,
                position,
                spec,
                layers,
            } => {
                write!(f, "unexpected tensor `{name}`: ")?;
                match (position, spec) {
                    (Some(position), Some(spec)) => {
                        let parameter = name.rsplit_once('.').map_or("", |(_, p)| p);
                        write!(
                            f,
                            "layer {position} of the network is {}, which has no `{parameter}`",
                            ShortLayer(*spec)
                        )
                    }
                    (Some(_), None) => write!(
                        f,
                        "the network has {layers} layers (0 to {})",
                        layers.saturating_sub(1)
                    ),
                    (None, _) => f.write_str(
                        "no layer of the network has it (for a network inside a larger \
                         model, give the prefix of its tensors to `load_safetensors_under`)",
                    ),
                }
            }
            ImportError::DtypeMismatch {
                name,
                expected,
                found,
            } => {
                let (dtype, convert) = match expected {
                    ScalarType::F32 => ("F32", "model.float()"),
                    ScalarType::F64 => ("F64", "model.double()"),
                };
                write!(
                    f,
                    "tensor `{name}` has the wrong dtype: expected {dtype} for an {expected} \
                     network, found {found} (convert with {convert} before saving)"
                )
            }
            ImportError::ShapeMismatch {
                name,
                layer,
                spec,
                expected,
                found,
            } => {
                write!(
                    f,
                    "tensor `{name}` (layer {layer}, {spec}) has the wrong shape: expected {expected:?}, found {found:?}"
                )?;
                let transposed = expected.len() == 2
                    && found.len() == 2
                    && expected.first() == found.get(1)
                    && expected.get(1) == found.first();
                if transposed && spec.kind == LayerKind::DENSE {
                    write!(
                        f,
                        " (the transpose: nn.Linear stores its weight as [out_features, in_features])"
                    )?;
                } else if transposed {
                    write!(f, " (the transpose)")?;
                }
                Ok(())
            }
            ImportError::NonFinite { name, index, value } => write!(
                f,
                "tensor `{name}` value {index} is not finite: expected a finite number, found {value}"
            ),
        }
    }
}

impl core::error::Error for ImportError {}

/// One tensor the network needs.
struct Expected<'a> {
    name: String,
    layer: usize,
    spec: LayerInfo,
    shape: &'static [usize],
    /// The index of the network tensor it fills.
    tensor: usize,
    data: &'a [u8],
}

/// Checks every tensor of `bytes` against network type `N` and, only if
/// all is well, copies them into `layers`.
#[allow(clippy::result_large_err)] // see `FromSafetensors`
fn import<N: Network>(
    layers: &mut N::Layers,
    bytes: &[u8],
    prefix: &str,
) -> Result<(), ImportError> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| ImportError::Container {
        message: e.to_string(),
    })?;
    let scalar = ScalarType::of::<N::Scalar>();
    let dtype = match scalar {
        ScalarType::F32 => Dtype::F32,
        ScalarType::F64 => Dtype::F64,
    };

    // The tensors the network needs, as its layers describe them: layer
    // `i`'s are the next `tensors` of the network's list.
    let layer_count = <N::Layers as Layer<N::Input>>::LAYERS;
    let mut expected = Vec::new();
    let mut tensor = 0;
    for layer in 0..layer_count {
        let Some(spec) = <N::Layers as Layer<N::Input>>::layer(layer) else {
            continue;
        };
        for i in 0..spec.tensors {
            if let Some(info) = <N::Layers as Layer<N::Input>>::tensor_info(layer, i) {
                expected.push(Expected {
                    name: alloc::format!("{prefix}{layer}.{}", info.name),
                    layer,
                    spec,
                    shape: info.shape,
                    tensor,
                    data: &[],
                });
            }
            tensor += 1;
        }
    }

    // No tensor the network does not have (the first by name, so that
    // the report does not depend on hash order).
    let unexpected = file
        .iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with(prefix))
        .filter(|name| expected.iter().all(|e| e.name != *name))
        .min();
    if let Some(name) = unexpected {
        let position = layer_number(name.get(prefix.len()..).unwrap_or(""));
        return Err(ImportError::UnexpectedTensor {
            name: name.to_owned(),
            position,
            spec: position.and_then(<N::Layers as Layer<N::Input>>::layer),
            layers: layer_count,
        });
    }

    // Every tensor the network has: present, of the right dtype and shape,
    // finite.
    let size = scalar.size();
    for e in &mut expected {
        let view = file
            .tensor(&e.name)
            .map_err(|_| ImportError::MissingTensor {
                name: e.name.clone(),
                layer: e.layer,
                spec: e.spec,
            })?;
        if view.dtype() != dtype {
            return Err(ImportError::DtypeMismatch {
                name: e.name.clone(),
                expected: scalar,
                found: view.dtype().to_string(),
            });
        }
        let count = e.shape.iter().product::<usize>();
        let network_len = layers.tensor(e.tensor).len();
        if view.shape() != e.shape
            || view.data().len() != count.saturating_mul(size)
            || network_len != count
        {
            return Err(ImportError::ShapeMismatch {
                name: e.name.clone(),
                layer: e.layer,
                spec: e.spec,
                expected: e.shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        for (index, chunk) in view.data().chunks_exact(size).enumerate() {
            let value: N::Scalar = scalar_at(chunk);
            if !value.is_finite() {
                return Err(ImportError::NonFinite {
                    name: e.name.clone(),
                    index,
                    value: value.as_f64(),
                });
            }
        }
        e.data = view.data();
    }

    // All checked: copy.
    for e in &expected {
        for (dst, chunk) in layers
            .tensor_mut(e.tensor)
            .iter_mut()
            .zip(e.data.chunks_exact(size))
        {
            *dst = scalar_at(chunk);
        }
    }
    Ok(())
}
