//! Deserialising a network's layers, checking every field against their
//! descriptions as it comes.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Error as _, IgnoredAny, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

use crate::format::ShortLayer;
use crate::layer::{Layer, LayerInfo, LayerKind};
use crate::scalar::{Scalar, Vector, Zeroed};

use super::network::*;

/// Checks a width against the type's.
pub(super) fn check_width<E: de::Error>(
    field: &str,
    expected: usize,
    found: usize,
) -> Result<(), E> {
    if expected == found {
        Ok(())
    } else {
        Err(E::custom(format_args!(
            "expected {expected} {field}, found {found}"
        )))
    }
}

/// The scalar type name, checked against `T`'s.
pub(super) struct ScalarName<T>(pub(super) PhantomData<T>);

impl<'de, T: Scalar> Deserialize<'de> for ScalarName<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ScalarName(PhantomData))
    }
}

impl<T: Scalar> Visitor<'_> for ScalarName<T> {
    type Value = Self;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the scalar type {}", T::NAME)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self, E> {
        if v == T::NAME {
            Ok(self)
        } else {
            Err(E::invalid_value(Unexpected::Str(v), &self))
        }
    }
}

/// The width of `V` (its outputs if `OUTPUTS`, else its inputs),
/// checked.
pub(super) struct Width<V, const OUTPUTS: bool>(pub(super) PhantomData<V>);

impl<'de, V: Vector, const OUTPUTS: bool> Deserialize<'de> for Width<V, OUTPUTS> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let field = if OUTPUTS { "outputs" } else { "inputs" };
        check_width(field, V::LEN, usize::deserialize(deserializer)?)?;
        Ok(Width(PhantomData))
    }
}

/// The layers `L` taking `X`, from a sequence of exactly `L::LAYERS`
/// records, filled into a zero value.
pub(super) struct Layers<X, L>(pub(super) L, pub(super) PhantomData<X>);

impl<'de, X, L> Deserialize<'de> for Layers<X, L>
where
    X: Vector<Scalar: Deserialize<'de>>,
    L: Layer<X>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let layers = deserializer.deserialize_seq(LayersVisitor::<X, L>(PhantomData))?;
        Ok(Layers(layers, PhantomData))
    }
}

/// Reads the sequence of [`Layers`].
pub(super) struct LayersVisitor<X, L>(pub(super) PhantomData<(X, L)>);

impl<'de, X, L> Visitor<'de> for LayersVisitor<X, L>
where
    X: Vector<Scalar: Deserialize<'de>>,
    L: Layer<X>,
{
    type Value = L;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of {} layers", L::LAYERS)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<L, A::Error> {
        let mut layers = L::ZERO;
        let mut first = 0;
        for index in 0..L::LAYERS {
            let seed = LayerSeed::<X, L>(&mut layers, index, first, PhantomData);
            let Some(tensors) = seq.next_element_seed(seed)? else {
                return Err(A::Error::invalid_length(index, &self));
            };
            first += tensors;
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(L::LAYERS + 1, &self));
        }
        Ok(layers)
    }
}

/// Reads layer `.1` into layers `.0`, whose tensors start at tensor
/// `.2`; gives the number of its tensors.
pub(super) struct LayerSeed<'a, X, L>(
    pub(super) &'a mut L,
    pub(super) usize,
    pub(super) usize,
    pub(super) PhantomData<X>,
);

impl<'de, X, L> DeserializeSeed<'de> for LayerSeed<'_, X, L>
where
    X: Vector<Scalar: Deserialize<'de>>,
    L: Layer<X>,
{
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        let LayerSeed(layers, index, first, _) = self;
        let fields = Fields::of::<X, L>(index, deserializer.is_human_readable())
            .map_err(D::Error::custom)?;
        let record = RecordVisitor::<X, L>(layers, first, fields, PhantomData);
        // The list of variants is open (layers of your own), so none is
        // given; `KindSeed` checks the one found.
        deserializer.deserialize_enum(LAYER_ENUM, &[], record)?;
        Ok(fields.info.tensors)
    }
}

/// Reads the record of the layer `.2` describes into layers `.0`,
/// whose tensors start at tensor `.1`.
pub(super) struct RecordVisitor<'a, X, L>(
    pub(super) &'a mut L,
    pub(super) usize,
    pub(super) Fields,
    pub(super) PhantomData<X>,
);

impl<'de, X, L> Visitor<'de> for RecordVisitor<'_, X, L>
where
    X: Vector<Scalar: Deserialize<'de>>,
    L: Layer<X>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the layer {}", ShortLayer(self.2.info))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let ((), variant) = data.variant_seed(KindSeed(self.2.info))?;
        let len = self.2.len();
        if len == 0 {
            return variant.unit_variant();
        }
        // `Fields::of` has checked that `len ≤ MAX_FIELDS`.
        let slots = FIELD_SLOTS.get(..len).unwrap_or(&FIELD_SLOTS);
        variant.struct_variant(slots, self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        for (k, field) in self.2.iter().enumerate() {
            if seq.next_element_seed(self.value(field))?.is_none() {
                return Err(A::Error::invalid_length(k, &self));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u64;
        while let Some((k, field)) = map.next_key_seed(FieldKey(self.2))? {
            if seen & (1 << k) != 0 {
                return Err(A::Error::duplicate_field(field.name()));
            }
            seen |= 1 << k;
            map.next_value_seed(self.value(field))?;
        }
        match self
            .2
            .iter()
            .enumerate()
            .find(|(k, _)| seen & (1 << k) == 0)
        {
            Some((_, field)) => Err(A::Error::missing_field(field.name())),
            None => Ok(()),
        }
    }
}

impl<X, L> RecordVisitor<'_, X, L> {
    /// The seed that reads `field`.
    pub(super) fn value(&mut self, field: Field) -> FieldValue<'_, X, L> {
        FieldValue(self.0, self.1, self.2, field, PhantomData)
    }
}

/// The variant of the layer enum (or, in a record, the name of a layer
/// of your own), checked against the layer described: by its name in
/// a human-readable format, by its index otherwise.
pub(super) struct KindSeed(pub(super) LayerInfo);

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KindSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the layer {}", ShortLayer(self.0))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let expected = ShortLayer(self.0);
        let found = u8::try_from(v.saturating_add(1)).ok();
        match found.and_then(LayerKind::from_code) {
            _ if v == u64::from(variant_index(self.0.kind)) => Ok(()),
            Some(found) => Err(E::custom(format_args!(
                "expected the layer {expected}, found a {found} layer"
            ))),
            None if v == u64::from(NAMED_VARIANT) => Err(E::custom(format_args!(
                "expected the layer {expected}, found a layer known by its name"
            ))),
            None => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let expected = ShortLayer(self.0);
        let builtin = (1..=u8::MAX).filter_map(LayerKind::from_code);
        if v == self.0.kind.name() {
            Ok(())
        } else if builtin.map(LayerKind::name).any(|name| name == v) {
            Err(E::custom(format_args!(
                "expected the layer {expected}, found a {v} layer"
            )))
        } else {
            Err(E::custom(format_args!(
                "unknown variant `{v}`, expected the layer {expected}"
            )))
        }
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        match core::str::from_utf8(v) {
            Ok(v) => self.visit_str(v),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

/// A field name of a layer's record, as its index and field.
pub(super) struct FieldKey(pub(super) Fields);

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = (usize, Field);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(usize, Field), D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldKey {
    type Value = (usize, Field);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a field of the layer {}", ShortLayer(self.0.info))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(usize, Field), E> {
        let k = usize::try_from(v).unwrap_or(usize::MAX);
        match self.0.get(k) {
            Some(field) => Ok((k, field)),
            None => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(usize, Field), E> {
        match self.0.iter().enumerate().find(|(_, f)| f.name() == v) {
            Some(found) => Ok(found),
            None if self.0.len() == 0 => Err(E::custom(format_args!(
                "unknown field `{v}`, there are no fields"
            ))),
            None => Err(E::custom(format_args!(
                "unknown field `{v}`, expected {}",
                self.0
            ))),
        }
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(usize, Field), E> {
        match core::str::from_utf8(v) {
            Ok(v) => self.visit_str(v),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

/// Reads field `.3` of the layer `.2` describes into layers `.0`, whose
/// tensors start at tensor `.1`.
pub(super) struct FieldValue<'a, X, L>(
    pub(super) &'a mut L,
    pub(super) usize,
    pub(super) Fields,
    pub(super) Field,
    pub(super) PhantomData<X>,
);

impl<'de, X, L> DeserializeSeed<'de> for FieldValue<'_, X, L>
where
    X: Vector<Scalar: Deserialize<'de>>,
    L: Layer<X>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let FieldValue(layers, first, Fields { index, info, .. }, field, _) = self;
        match field {
            Field::Name => deserializer.deserialize_str(KindSeed(info)),
            Field::Inputs | Field::Outputs => {
                let inputs = matches!(field, Field::Inputs);
                let expected = if inputs { info.inputs } else { info.outputs };
                check_width(field.name(), expected, usize::deserialize(deserializer)?)
            }
            Field::Setting(name) => {
                let value = f32::deserialize(deserializer)?;
                if !value.is_finite() {
                    let value = Unexpected::Float(f64::from(value));
                    return Err(D::Error::invalid_value(value, &Finite(name)));
                }
                if layers.set_setting(index, value) {
                    Ok(())
                } else {
                    Err(D::Error::custom(Undescribed(index)))
                }
            }
            Field::Tensor(i, tensor) => {
                let slots = layers.tensor_mut(first + i);
                let (name, len) = (tensor.name, slots.len());
                match *tensor.shape {
                    _ if len != tensor.len() => Err(D::Error::custom(Undescribed(index))),
                    [rows, cols] => deserializer.deserialize_seq(FillRows {
                        slots,
                        rows,
                        cols,
                        name,
                    }),
                    _ => deserializer.deserialize_seq(Fill { slots, what: name }),
                }
            }
        }
    }
}

/// "a finite `name`", for messages.
pub(super) struct Finite(pub(super) &'static str);

impl de::Expected for Finite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a finite {}", self.0)
    }
}

/// Fills a slice with exactly its length of finite numbers from a
/// sequence; `what` names it for messages.
pub(super) struct Fill<'a, T> {
    pub(super) slots: &'a mut [T],
    pub(super) what: &'static str,
}

impl<'de, T: Scalar + Deserialize<'de>> DeserializeSeed<'de> for Fill<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Scalar + Deserialize<'de>> Visitor<'de> for Fill<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} of {} finite numbers", self.what, self.slots.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let len = self.slots.len();
        for i in 0..len {
            let Some(x) = seq.next_element::<T>()? else {
                return Err(A::Error::invalid_length(i, &self));
            };
            if !x.is_finite() {
                let x = Unexpected::Float(x.as_f64());
                return Err(A::Error::invalid_value(x, &"a finite number"));
            }
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = x;
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(len + 1, &self));
        }
        Ok(())
    }
}

/// Fills a row-major `rows × cols` matrix from a sequence of rows.
pub(super) struct FillRows<'a, T> {
    pub(super) slots: &'a mut [T],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) name: &'static str,
}

impl<'de, T: Scalar + Deserialize<'de>> Visitor<'de> for FillRows<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, rows, cols) = (self.name, self.rows, self.cols);
        write!(f, "a {name} matrix of {rows} rows of {cols} numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for row in 0..self.rows {
            let start = row.saturating_mul(self.cols);
            let slots = self.slots.get_mut(start..start.saturating_add(self.cols));
            let fill = Fill {
                slots: slots.unwrap_or_default(),
                what: "row",
            };
            if seq.next_element_seed(fill)?.is_none() {
                return Err(A::Error::invalid_length(row, &self));
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(self.rows + 1, &self));
        }
        Ok(())
    }
}
