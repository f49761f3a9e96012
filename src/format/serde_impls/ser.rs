//! Serialising a network's layers from their descriptions.

use core::marker::PhantomData;

use serde::ser::{Error as _, SerializeSeq, SerializeStructVariant};
use serde::{Serialize, Serializer};

use crate::layer::Layer;
use crate::scalar::Vector;

use super::network::*;

/// Layers serialised as a sequence with one element per layer.
pub(super) struct LayerList<'a, X, L>(pub(super) &'a L, pub(super) PhantomData<X>);

impl<X, L> Serialize for LayerList<'_, X, L>
where
    X: Vector<Scalar: Serialize>,
    L: Layer<X>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(L::LAYERS))?;
        let mut first = 0;
        for index in 0..L::LAYERS {
            seq.serialize_element(&LayerRecord::<X, L>(self.0, index, first, PhantomData))?;
            first += L::layer(index).map_or(0, |info| info.tensors);
        }
        seq.end()
    }
}

/// Layer `.1` of layers `.0`, whose tensors start at tensor `.2`.
pub(super) struct LayerRecord<'a, X, L>(
    pub(super) &'a L,
    pub(super) usize,
    pub(super) usize,
    pub(super) PhantomData<X>,
);

impl<X, L> Serialize for LayerRecord<'_, X, L>
where
    X: Vector<Scalar: Serialize>,
    L: Layer<X>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let &LayerRecord(layers, index, first, _) = self;
        let fields =
            Fields::of::<X, L>(index, serializer.is_human_readable()).map_err(S::Error::custom)?;
        let kind = fields.info.kind;
        let (variant, name) = (variant_index(kind), kind.name());
        if fields.len() == 0 {
            return serializer.serialize_unit_variant(LAYER_ENUM, variant, name);
        }
        let mut v = serializer.serialize_struct_variant(LAYER_ENUM, variant, name, fields.len())?;
        for field in fields.iter() {
            let key = field.name();
            match field {
                Field::Name => v.serialize_field(key, name)?,
                Field::Inputs => v.serialize_field(key, &fields.info.inputs)?,
                Field::Outputs => v.serialize_field(key, &fields.info.outputs)?,
                Field::Setting(_) => {
                    let default = fields.info.setting.map_or(0.0, |(_, d)| d);
                    v.serialize_field(key, &layers.setting(index).unwrap_or(default))?;
                }
                Field::Tensor(i, info) => {
                    let values = layers.tensor(first + i);
                    if values.len() != info.len() {
                        return Err(S::Error::custom(Undescribed(index)));
                    }
                    v.serialize_field(key, &TensorValues(values, info.shape))?;
                }
            }
        }
        v.end()
    }
}

/// A tensor's values: a sequence of rows for a matrix (`[rows,
/// columns]`), a flat sequence otherwise.
pub(super) struct TensorValues<'a, T>(pub(super) &'a [T], pub(super) &'static [usize]);

impl<T: Serialize> Serialize for TensorValues<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let &[rows, cols] = self.1 else {
            return self.0.serialize(serializer);
        };
        let mut seq = serializer.serialize_seq(Some(rows))?;
        for row in 0..rows {
            let start = row.saturating_mul(cols);
            let row = self.0.get(start..start.saturating_add(cols)).unwrap_or(&[]);
            seq.serialize_element(row)?;
        }
        seq.end()
    }
}
