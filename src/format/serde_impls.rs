//! serde support (the `serde` feature): `Serialize` and `Deserialize` for
//! every network type made by `network!`, written once over the layers'
//! descriptions ([`Layer`](crate::Layer) and
//! [`Tensors`](crate::Tensors)), so that layers of your own need nothing
//! more. The representation is described in the [`format`](super) module.
//!
//! Nothing here is for direct use: the impls are what matters.

/// Emits `Serialize` and `Deserialize` for a network type made by
/// `network!` (nothing without the `serde` feature). Internal to `network!`.
///
/// Every network has them, unconditionally: its scalar (`f32` or `f64`) is
/// serde-able and its layers describe themselves, which is all the two
/// generic functions they call need. (A network whose layers do not fit
/// together is reported at its `Network` impl, and these add no error.)
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __network_serde {
    ($name:ident) => {
        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::format::serde_impls::serialize_network(self, serializer)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::format::serde_impls::deserialize_network(deserializer)
            }
        }
    };
}

/// Emits `Serialize` and `Deserialize` for a network type made by
/// `network!` (nothing without the `serde` feature). Internal to `network!`.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __network_serde {
    ($name:ident) => {};
}

#[cfg(feature = "serde")]
pub use imp::*;

#[cfg(feature = "serde")]
mod imp {
    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::{
        self, DeserializeOwned, DeserializeSeed, EnumAccess, Error as _, IgnoredAny, MapAccess,
        SeqAccess, Unexpected, VariantAccess, Visitor,
    };
    use serde::ser::{Error as _, SerializeSeq, SerializeStructVariant};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::format::ShortLayer;
    use crate::layer::{Layer, LayerInfo, LayerKind, TensorInfo};
    use crate::network::Network;
    use crate::scalar::{Scalar, Vector, Zeroed};

    /// The name of the enum whose variants are the layers.
    const LAYER_ENUM: &str = "Layer";

    /// The variant index of every layer of your own; constnet's own layers
    /// have their code − 1.
    const NAMED_VARIANT: u32 = 255;

    /// The most fields a layer's record may have.
    const MAX_FIELDS: usize = 32;

    /// Stand-ins for the field names serde's `struct_variant` wants as a
    /// `'static` list: formats read its length (postcard, bincode) or
    /// nothing (JSON). The real names come from the layer's description.
    const FIELD_SLOTS: [&str; MAX_FIELDS] = ["field"; MAX_FIELDS];

    /// A network whose scalar type has serde support: every network.
    pub trait SerdeNetwork: Network<Scalar: Serialize + DeserializeOwned> {}

    impl<N: Network<Scalar: Serialize + DeserializeOwned>> SerdeNetwork for N {}

    /// A network as serde sees it. Serialised with the values, read back
    /// with types that check each field against the network's type as it
    /// comes.
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Network", deny_unknown_fields)]
    struct Record<S, I, O, L> {
        scalar: S,
        inputs: I,
        outputs: O,
        layers: L,
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
    fn variant_index(kind: LayerKind) -> u32 {
        if kind.is_named() {
            NAMED_VARIANT
        } else {
            u32::from(kind.code()).saturating_sub(1)
        }
    }

    /// One field of a layer's record.
    #[derive(Clone, Copy)]
    enum Field {
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
        fn name(self) -> &'static str {
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
    struct Fields {
        index: usize,
        info: LayerInfo,
        /// Whether the record starts with the layer's name.
        named: bool,
        tensor_info: fn(usize, usize) -> Option<TensorInfo>,
    }

    /// The error for a layer that is not fully described, or has more
    /// than [`MAX_FIELDS`] fields.
    struct Undescribed(usize);

    impl fmt::Display for Undescribed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "layer {} has no record serde can read", self.0)
        }
    }

    impl Fields {
        /// The fields of layer `index` of `L`, once its description is
        /// checked whole: the layer and every tensor it counts are
        /// described, and there are at most [`MAX_FIELDS`] fields.
        fn of<X: Vector, L: Layer<X>>(
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

        fn len(&self) -> usize {
            let widths = if self.info.tensors > 0 { 2 } else { 0 };
            usize::from(self.named)
                + widths
                + usize::from(self.info.setting.is_some())
                + self.info.tensors
        }

        /// Field `k` (`None` when `k ≥ len`).
        fn get(&self, mut k: usize) -> Option<Field> {
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

        fn iter(self) -> impl Iterator<Item = Field> {
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

    // --- serialising --------------------------------------------------

    /// Layers serialised as a sequence with one element per layer.
    struct LayerList<'a, X, L>(&'a L, PhantomData<X>);

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
    struct LayerRecord<'a, X, L>(&'a L, usize, usize, PhantomData<X>);

    impl<X, L> Serialize for LayerRecord<'_, X, L>
    where
        X: Vector<Scalar: Serialize>,
        L: Layer<X>,
    {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let &LayerRecord(layers, index, first, _) = self;
            let fields = Fields::of::<X, L>(index, serializer.is_human_readable())
                .map_err(S::Error::custom)?;
            let kind = fields.info.kind;
            let (variant, name) = (variant_index(kind), kind.name());
            if fields.len() == 0 {
                return serializer.serialize_unit_variant(LAYER_ENUM, variant, name);
            }
            let mut v =
                serializer.serialize_struct_variant(LAYER_ENUM, variant, name, fields.len())?;
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
    struct TensorValues<'a, T>(&'a [T], &'static [usize]);

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

    // --- deserialising ------------------------------------------------

    /// Checks a width against the type's.
    fn check_width<E: de::Error>(field: &str, expected: usize, found: usize) -> Result<(), E> {
        if expected == found {
            Ok(())
        } else {
            Err(E::custom(format_args!(
                "expected {expected} {field}, found {found}"
            )))
        }
    }

    /// The scalar type name, checked against `T`'s.
    struct ScalarName<T>(PhantomData<T>);

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
    struct Width<V, const OUTPUTS: bool>(PhantomData<V>);

    impl<'de, V: Vector, const OUTPUTS: bool> Deserialize<'de> for Width<V, OUTPUTS> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let field = if OUTPUTS { "outputs" } else { "inputs" };
            check_width(field, V::LEN, usize::deserialize(deserializer)?)?;
            Ok(Width(PhantomData))
        }
    }

    /// The layers `L` taking `X`, from a sequence of exactly `L::LAYERS`
    /// records, filled into a zero value.
    struct Layers<X, L>(L, PhantomData<X>);

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
    struct LayersVisitor<X, L>(PhantomData<(X, L)>);

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
    struct LayerSeed<'a, X, L>(&'a mut L, usize, usize, PhantomData<X>);

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
    struct RecordVisitor<'a, X, L>(&'a mut L, usize, Fields, PhantomData<X>);

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
        fn value(&mut self, field: Field) -> FieldValue<'_, X, L> {
            FieldValue(self.0, self.1, self.2, field, PhantomData)
        }
    }

    /// The variant of the layer enum (or, in a record, the name of a layer
    /// of your own), checked against the layer described: by its name in
    /// a human-readable format, by its index otherwise.
    struct KindSeed(LayerInfo);

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
    struct FieldKey(Fields);

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
    struct FieldValue<'a, X, L>(&'a mut L, usize, Fields, Field, PhantomData<X>);

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
    struct Finite(&'static str);

    impl de::Expected for Finite {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a finite {}", self.0)
        }
    }

    /// Fills a slice with exactly its length of finite numbers from a
    /// sequence; `what` names it for messages.
    struct Fill<'a, T> {
        slots: &'a mut [T],
        what: &'static str,
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
    struct FillRows<'a, T> {
        slots: &'a mut [T],
        rows: usize,
        cols: usize,
        name: &'static str,
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
}
