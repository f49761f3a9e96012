//! The record of a network and of its layers' fields, shared by both
//! directions, and the two functions `network!`'s impls call.

use core::fmt;
use core::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::layer::{Layer, LayerInfo, LayerKind, TensorInfo};
use crate::network::Network;
use crate::scalar::{Scalar, Vector};

use super::de::{Layers, ScalarName, Width};
use super::ser::LayerList;

/// The name of the enum whose variants are the layers.
pub(super) const LAYER_ENUM: &str = "Layer";

/// The variant index of every layer of your own; constnet's own layers
/// have their code − 1.
pub(super) const NAMED_VARIANT: u32 = 255;

/// The most fields a layer's record may have.
pub(super) const MAX_FIELDS: usize = 32;

/// Stand-ins for the field names serde's `struct_variant` wants as a
/// `'static` list: formats read its length (postcard, bincode) or
/// nothing (JSON). The real names come from the layer's description.
pub(super) const FIELD_SLOTS: [&str; MAX_FIELDS] = ["field"; MAX_FIELDS];

/// A network whose scalar type has serde support: every network.
pub trait SerdeNetwork: Network<Scalar: Serialize + DeserializeOwned> {}

impl<N: Network<Scalar: Serialize + DeserializeOwned>> SerdeNetwork for N {}

/// A network as serde sees it. Serialised with the values, read back
/// with types that check each field against the network's type as it
/// comes.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Network", deny_unknown_fields)]
pub(super) struct Record<S, I, O, L> {
    pub(super) scalar: S,
    pub(super) inputs: I,
    pub(super) outputs: O,
    pub(super) layers: L,
}

/// Serialises a network made by `network!`: its scalar type, its
/// widths and its list of layers.
pub fn serialize_network<N: SerdeNetwork, S: Serializer>(
    net: &N,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Record {
        scalar: N::Scalar::NAME,
        inputs: <N::Input as Vector>::LEN,
        outputs: <N::Output as Vector>::LEN,
        layers: LayerList::<N::Input, _>(net.layers(), PhantomData),
    }
    .serialize(serializer)
}

/// Deserialises a network made by `network!`, checking its scalar type,
/// widths and every layer against the type. The layers are filled in a
/// value of their own, zero at first, which becomes the network only
/// once every field of every layer has been read.
pub fn deserialize_network<'de, N: SerdeNetwork, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<N, D::Error> {
    let record = Record::<
        ScalarName<N::Scalar>,
        Width<N::Input, false>,
        Width<N::Output, true>,
        Layers<N::Input, N::Layers>,
    >::deserialize(deserializer)?;
    Ok(N::from_layers(record.layers.0))
}

/// The index of a layer kind's variant.
pub(super) fn variant_index(kind: LayerKind) -> u32 {
    if kind.is_named() {
        NAMED_VARIANT
    } else {
        u32::from(kind.code()).saturating_sub(1)
    }
}

/// One field of a layer's record.
#[derive(Clone, Copy)]
pub(super) enum Field {
    /// The name of a layer of your own, in a format that is not
    /// human-readable.
    Name,
    /// The input width, in a layer with tensors.
    Inputs,
    /// The output width, in a layer with tensors.
    Outputs,
    /// The setting, under its name.
    Setting(&'static str),
    /// Tensor `i` of the layer.
    Tensor(usize, TensorInfo),
}

impl Field {
    pub(super) fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Inputs => "inputs",
            Field::Outputs => "outputs",
            Field::Setting(name) => name,
            Field::Tensor(_, info) => info.name,
        }
    }
}

/// The fields of layer `index`'s record, in order (see the rule in the
/// [`format`](super::super) module). Without a type parameter, so that
/// the code is not repeated for every network.
#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub(super) index: usize,
    pub(super) info: LayerInfo,
    /// Whether the record starts with the layer's name.
    pub(super) named: bool,
    pub(super) tensor_info: fn(usize, usize) -> Option<TensorInfo>,
}

/// The error for a layer that is not fully described, or has more
/// than [`MAX_FIELDS`] fields.
pub(super) struct Undescribed(pub(super) usize);

impl fmt::Display for Undescribed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {} has no record serde can read", self.0)
    }
}

impl Fields {
    /// The fields of layer `index` of `L`, once its description is
    /// checked whole: the layer and every tensor it counts are
    /// described, and there are at most [`MAX_FIELDS`] fields.
    pub(super) fn of<X: Vector, L: Layer<X>>(
        index: usize,
        human_readable: bool,
    ) -> Result<Self, Undescribed> {
        let info = L::layer(index).ok_or(Undescribed(index))?;
        let fields = Fields {
            index,
            info,
            named: info.kind.is_named() && !human_readable,
            tensor_info: L::tensor_info,
        };
        let described = (0..info.tensors).all(|i| L::tensor_info(index, i).is_some());
        if described && fields.len() <= MAX_FIELDS {
            Ok(fields)
        } else {
            Err(Undescribed(index))
        }
    }

    pub(super) fn len(&self) -> usize {
        let widths = if self.info.tensors > 0 { 2 } else { 0 };
        usize::from(self.named)
            + widths
            + usize::from(self.info.setting.is_some())
            + self.info.tensors
    }

    /// Field `k` (`None` when `k ≥ len`).
    pub(super) fn get(&self, mut k: usize) -> Option<Field> {
        if self.named {
            if k == 0 {
                return Some(Field::Name);
            }
            k -= 1;
        }
        if self.info.tensors > 0 {
            match k {
                0 => return Some(Field::Inputs),
                1 => return Some(Field::Outputs),
                _ => k -= 2,
            }
        }
        if let Some((name, _)) = self.info.setting {
            if k == 0 {
                return Some(Field::Setting(name));
            }
            k -= 1;
        }
        if k >= self.info.tensors {
            return None;
        }
        (self.tensor_info)(self.index, k).map(|info| Field::Tensor(k, info))
    }

    pub(super) fn iter(self) -> impl Iterator<Item = Field> {
        (0..self.len()).map_while(move |k| self.get(k))
    }
}

impl fmt::Display for Fields {
    /// The names, as in serde's messages: `` one of `a`, `b` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one of ")?;
        for (k, field) in self.iter().enumerate() {
            let comma = if k > 0 { ", " } else { "" };
            write!(f, "{comma}`{}`", field.name())?;
        }
        Ok(())
    }
}
