//! serde support (the `serde` feature): `Serialize` and `Deserialize` for
//! layers and chains, and the helpers that `network!` calls for a network
//! type. The representation is described in the [`format`](super) module.
//!
//! Nothing here is for direct use: the impls are what matters.

/// Emits `Serialize` and `Deserialize` for a network type made by
/// `network!` (nothing without the `serde` feature). Internal to `network!`.
///
/// The impls hold only when every layer has serde support: a network with
/// a layer of its own still compiles with the feature on, it just is not
/// serialisable. (The `for<'__a>` makes the bound a real condition rather
/// than a "trivial" one that would have to hold.)
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __network_serde {
    ($name:ident) => {
        impl $crate::__serde::Serialize for $name
        where
            for<'__a> $name: $crate::format::serde_impls::SerdeNetwork,
        {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::format::serde_impls::serialize_network(self, serializer)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name
        where
            for<'__a> $name: $crate::format::serde_impls::SerdeNetwork,
        {
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
    use serde::ser::{SerializeSeq, SerializeStruct, SerializeStructVariant};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::format::signature::{Architecture, LayerKind};
    use crate::layer::{Chain, Dense, Identity, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
    use crate::network::Network;
    use crate::scalar::{Scalar, Vector, Zeroed};
    use crate::tensors::Tensors;

    /// The name of the enum whose variants are the layers.
    const LAYER_ENUM: &str = "Layer";
    /// The variants, in the order of their indices (non-self-describing
    /// formats such as postcard store the index).
    const VARIANTS: &[&str] = &[
        "Dense",
        "Identity",
        "Relu",
        "LeakyRelu",
        "Sigmoid",
        "Tanh",
        "Softmax",
    ];

    /// The index of a layer kind among [`VARIANTS`].
    fn variant_index(kind: LayerKind) -> u32 {
        u32::from(kind.code()).saturating_sub(1)
    }

    /// A layer type with serde support, seen as a flat list of layers: a
    /// single layer is a list of one, a [`Chain`] the lists of both parts.
    pub trait SerdeLayers: Architecture + Serialize + DeserializeOwned {
        /// Serialises each layer as one element of `seq`.
        fn serialize_layers<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error>;

        /// Deserialises the layers from the next elements of `seq`;
        /// `index` counts the elements read, `total` is the length of the
        /// whole list (for messages).
        fn deserialize_layers<'de, A: SeqAccess<'de>>(
            seq: &mut A,
            index: &mut usize,
            total: usize,
        ) -> Result<Self, A::Error>;
    }

    /// A network whose layers have serde support.
    pub trait SerdeNetwork: Network<Layers: SerdeLayers> {}

    impl<N: Network<Layers: SerdeLayers>> SerdeNetwork for N {}

    /// "a list of `n` layers", for messages.
    struct LayerCount(usize);

    impl de::Expected for LayerCount {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of {} layers", self.0)
        }
    }

    /// Serialises a single layer as one element of a layer list.
    fn serialize_one<S: SerializeSeq, L: Serialize>(
        layer: &L,
        seq: &mut S,
    ) -> Result<(), S::Error> {
        seq.serialize_element(layer)
    }

    /// Deserialises a single layer from the next element of a layer list.
    fn deserialize_one<'de, A: SeqAccess<'de>, L: DeserializeOwned>(
        seq: &mut A,
        index: &mut usize,
        total: usize,
    ) -> Result<L, A::Error> {
        let layer = seq
            .next_element::<L>()?
            .ok_or_else(|| A::Error::invalid_length(*index, &LayerCount(total)))?;
        *index += 1;
        Ok(layer)
    }

    impl<T, const I: usize, const O: usize> SerdeLayers for Dense<T, I, O>
    where
        T: Scalar + Serialize + DeserializeOwned,
    {
        fn serialize_layers<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
            serialize_one(self, seq)
        }
        fn deserialize_layers<'de, A: SeqAccess<'de>>(
            seq: &mut A,
            index: &mut usize,
            total: usize,
        ) -> Result<Self, A::Error> {
            deserialize_one(seq, index, total)
        }
    }

    impl<A: SerdeLayers, B: SerdeLayers> SerdeLayers for Chain<A, B> {
        fn serialize_layers<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
            self.0.serialize_layers(seq)?;
            self.1.serialize_layers(seq)
        }
        fn deserialize_layers<'de, S: SeqAccess<'de>>(
            seq: &mut S,
            index: &mut usize,
            total: usize,
        ) -> Result<Self, S::Error> {
            let a = A::deserialize_layers(seq, index, total)?;
            let b = B::deserialize_layers(seq, index, total)?;
            Ok(Chain(a, b))
        }
    }

    /// A chain is a sequence of its layers.
    impl<A: SerdeLayers, B: SerdeLayers> Serialize for Chain<A, B> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            LayerList(self).serialize(serializer)
        }
    }

    impl<'de, A: SerdeLayers, B: SerdeLayers> Deserialize<'de> for Chain<A, B> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_seq(LayerListVisitor(PhantomData))
        }
    }

    /// Layers serialised as a sequence with one element per layer.
    struct LayerList<'a, L>(&'a L);

    impl<L: SerdeLayers> Serialize for LayerList<'_, L> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(L::LAYERS))?;
            self.0.serialize_layers(&mut seq)?;
            seq.end()
        }
    }

    /// Reads a sequence of exactly `L::LAYERS` layers.
    struct LayerListVisitor<L>(PhantomData<L>);

    impl<'de, L: SerdeLayers> Visitor<'de> for LayerListVisitor<L> {
        type Value = L;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            de::Expected::fmt(&LayerCount(L::LAYERS), f)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<L, A::Error> {
            let mut index = 0;
            let layers = L::deserialize_layers(&mut seq, &mut index, L::LAYERS)?;
            if seq.next_element::<IgnoredAny>()?.is_some() {
                return Err(A::Error::invalid_length(
                    L::LAYERS + 1,
                    &LayerCount(L::LAYERS),
                ));
            }
            Ok(layers)
        }
    }

    /// Which layer a variant names.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Tag {
        Dense,
        Identity,
        Relu,
        LeakyRelu,
        Sigmoid,
        Tanh,
        Softmax,
    }

    impl Tag {
        const ALL: [Tag; 7] = [
            Tag::Dense,
            Tag::Identity,
            Tag::Relu,
            Tag::LeakyRelu,
            Tag::Sigmoid,
            Tag::Tanh,
            Tag::Softmax,
        ];

        fn name(self) -> &'static str {
            match self {
                Tag::Dense => "Dense",
                Tag::Identity => "Identity",
                Tag::Relu => "Relu",
                Tag::LeakyRelu => "LeakyRelu",
                Tag::Sigmoid => "Sigmoid",
                Tag::Tanh => "Tanh",
                Tag::Softmax => "Softmax",
            }
        }
    }

    impl<'de> Deserialize<'de> for Tag {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct TagVisitor;

            impl Visitor<'_> for TagVisitor {
                type Value = Tag;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a layer kind")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tag, E> {
                    usize::try_from(v)
                        .ok()
                        .and_then(|i| Tag::ALL.get(i).copied())
                        .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &"0 to 6"))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                    Tag::ALL
                        .iter()
                        .copied()
                        .find(|t| t.name() == v)
                        .ok_or_else(|| E::unknown_variant(v, VARIANTS))
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Tag, E> {
                    match core::str::from_utf8(v) {
                        Ok(v) => self.visit_str(v),
                        Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
                    }
                }
            }

            deserializer.deserialize_identifier(TagVisitor)
        }
    }

    /// Reads the variant of the layer enum and checks it is `expected`;
    /// `describe` prints the expected layer for the message.
    fn expect_variant<'de, A, E>(
        data: A,
        expected: Tag,
        describe: E,
    ) -> Result<A::Variant, A::Error>
    where
        A: EnumAccess<'de>,
        E: fmt::Display,
    {
        let (tag, variant) = data.variant::<Tag>()?;
        if tag == expected {
            Ok(variant)
        } else {
            Err(A::Error::custom(format_args!(
                "expected the layer {describe}, found a {} layer",
                tag.name()
            )))
        }
    }

    /// Serialisation and deserialisation of a parameterless activation: a
    /// unit variant.
    macro_rules! unit_layer {
        ($name:ident, $kind:ident) => {
            impl Serialize for $name {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let kind = LayerKind::$kind;
                    serializer.serialize_unit_variant(LAYER_ENUM, variant_index(kind), kind.name())
                }
            }

            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    struct UnitVisitor;

                    impl<'de> Visitor<'de> for UnitVisitor {
                        type Value = $name;

                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            f.write_str(concat!("the layer ", stringify!($name)))
                        }
                        fn visit_enum<A: EnumAccess<'de>>(
                            self,
                            data: A,
                        ) -> Result<$name, A::Error> {
                            expect_variant(data, Tag::$name, stringify!($name))?.unit_variant()?;
                            Ok($name)
                        }
                    }

                    deserializer.deserialize_enum(LAYER_ENUM, VARIANTS, UnitVisitor)
                }
            }

            impl SerdeLayers for $name {
                fn serialize_layers<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
                    serialize_one(self, seq)
                }
                fn deserialize_layers<'de, A: SeqAccess<'de>>(
                    seq: &mut A,
                    index: &mut usize,
                    total: usize,
                ) -> Result<Self, A::Error> {
                    deserialize_one(seq, index, total)
                }
            }
        };
    }

    unit_layer!(Identity, IDENTITY);
    unit_layer!(Relu, RELU);
    unit_layer!(Sigmoid, SIGMOID);
    unit_layer!(Tanh, TANH);
    unit_layer!(Softmax, SOFTMAX);

    /// A leaky ReLU is a struct variant with its slope.
    impl Serialize for LeakyRelu {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let kind = LayerKind::LEAKY_RELU;
            let mut v = serializer.serialize_struct_variant(
                LAYER_ENUM,
                variant_index(kind),
                kind.name(),
                1,
            )?;
            v.serialize_field("slope", &self.slope)?;
            v.end()
        }
    }

    impl<'de> Deserialize<'de> for LeakyRelu {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            const FIELDS: &[&str] = &["slope"];

            struct SlopeVisitor;

            impl<'de> Visitor<'de> for SlopeVisitor {
                type Value = LeakyRelu;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a LeakyRelu layer with a finite slope")
                }
                fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<LeakyRelu, A::Error> {
                    expect_variant(data, Tag::LeakyRelu, "LeakyRelu")?.struct_variant(FIELDS, self)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LeakyRelu, A::Error> {
                    let slope = seq
                        .next_element::<f32>()?
                        .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                    finite_slope(slope)
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LeakyRelu, A::Error> {
                    let mut slope = None;
                    while let Some(key) = map.next_key::<FieldName>()? {
                        match key.0 {
                            "slope" if slope.is_some() => {
                                return Err(A::Error::duplicate_field("slope"));
                            }
                            "slope" => slope = Some(map.next_value::<f32>()?),
                            other => return Err(A::Error::unknown_field(other, FIELDS)),
                        }
                    }
                    finite_slope(slope.ok_or_else(|| A::Error::missing_field("slope"))?)
                }
            }

            deserializer.deserialize_enum(LAYER_ENUM, VARIANTS, SlopeVisitor)
        }
    }

    /// A leaky ReLU with this slope, if it is finite.
    fn finite_slope<E: de::Error>(slope: f32) -> Result<LeakyRelu, E> {
        if slope.is_finite() {
            Ok(LeakyRelu::new(slope))
        } else {
            Err(E::invalid_value(
                Unexpected::Float(f64::from(slope)),
                &"a finite slope",
            ))
        }
    }

    impl SerdeLayers for LeakyRelu {
        fn serialize_layers<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
            serialize_one(self, seq)
        }
        fn deserialize_layers<'de, A: SeqAccess<'de>>(
            seq: &mut A,
            index: &mut usize,
            total: usize,
        ) -> Result<Self, A::Error> {
            deserialize_one(seq, index, total)
        }
    }

    /// A field name of a struct, matched against a fixed list: the known
    /// names are `'static`, so any format can give them to us.
    struct FieldName(&'static str);

    /// Every field name of every struct here.
    const ALL_FIELDS: &[&str] = &[
        "slope", "inputs", "outputs", "weight", "bias", "scalar", "layers",
    ];

    impl<'de> Deserialize<'de> for FieldName {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct FieldVisitor;

            impl Visitor<'_> for FieldVisitor {
                type Value = FieldName;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a field name")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldName, E> {
                    ALL_FIELDS
                        .iter()
                        .find(|&&name| name == v)
                        .map(|&name| FieldName(name))
                        .ok_or_else(|| E::unknown_field(v, ALL_FIELDS))
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<FieldName, E> {
                    match core::str::from_utf8(v) {
                        Ok(v) => self.visit_str(v),
                        Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
                    }
                }
            }

            deserializer.deserialize_identifier(FieldVisitor)
        }
    }

    /// A dense layer is a struct variant with its widths, its weights as a
    /// list of rows (`[out][in]`, like `nn.Linear.weight`) and its biases.
    impl<T, const I: usize, const O: usize> Serialize for Dense<T, I, O>
    where
        T: Scalar + Serialize,
    {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let kind = LayerKind::DENSE;
            let mut v = serializer.serialize_struct_variant(
                LAYER_ENUM,
                variant_index(kind),
                kind.name(),
                4,
            )?;
            v.serialize_field("inputs", &I)?;
            v.serialize_field("outputs", &O)?;
            v.serialize_field("weight", &Rows::<T, I, O>(self.tensor(0), PhantomData))?;
            v.serialize_field("bias", self.tensor(1))?;
            v.end()
        }
    }

    /// A row-major `O × I` matrix, serialised as `O` rows.
    struct Rows<'a, T, const I: usize, const O: usize>(&'a [T], PhantomData<T>);

    impl<T: Serialize, const I: usize, const O: usize> Serialize for Rows<'_, T, I, O> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(Some(O))?;
            for row in 0..O {
                let start = row.saturating_mul(I);
                let row = self.0.get(start..start.saturating_add(I)).unwrap_or(&[]);
                seq.serialize_element(row)?;
            }
            seq.end()
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
            write!(f, "{} of {} finite numbers", self.what, self.slots.len())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let len = self.slots.len();
            for i in 0..len {
                let Some(x) = seq.next_element::<T>()? else {
                    return Err(A::Error::invalid_length(i, &self));
                };
                if !x.is_finite() {
                    return Err(A::Error::invalid_value(
                        Unexpected::Float(x.as_f64()),
                        &"a finite number",
                    ));
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

    /// Fills a row-major `O × I` matrix from a sequence of `O` rows.
    struct FillRows<'a, T, const I: usize, const O: usize>(&'a mut [T]);

    impl<'de, T: Scalar + Deserialize<'de>, const I: usize, const O: usize> DeserializeSeed<'de>
        for FillRows<'_, T, I, O>
    {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    impl<'de, T: Scalar + Deserialize<'de>, const I: usize, const O: usize> Visitor<'de>
        for FillRows<'_, T, I, O>
    {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a weight matrix of {O} rows of {I} numbers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            for row in 0..O {
                let start = row.saturating_mul(I);
                let mut empty: [T; 0] = [];
                let slots = match self.0.get_mut(start..start.saturating_add(I)) {
                    Some(slots) => slots,
                    None => &mut empty[..],
                };
                let fill = Fill {
                    slots,
                    what: "a row",
                };
                if seq.next_element_seed(fill)?.is_none() {
                    return Err(A::Error::invalid_length(row, &self));
                }
            }
            if seq.next_element::<IgnoredAny>()?.is_some() {
                return Err(A::Error::invalid_length(O + 1, &self));
            }
            Ok(())
        }
    }

    /// Checks a width against the type's.
    fn check_width<E: de::Error>(
        field: &'static str,
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

    impl<'de, T, const I: usize, const O: usize> Deserialize<'de> for Dense<T, I, O>
    where
        T: Scalar + Deserialize<'de>,
    {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            const FIELDS: &[&str] = &["inputs", "outputs", "weight", "bias"];

            struct DenseVisitor<T, const I: usize, const O: usize>(PhantomData<T>);

            impl<'de, T, const I: usize, const O: usize> Visitor<'de> for DenseVisitor<T, I, O>
            where
                T: Scalar + Deserialize<'de>,
            {
                type Value = Dense<T, I, O>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "the layer Dense<{I}→{O}>")
                }

                fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                    let describe = format_args!("Dense<{I}→{O}>");
                    expect_variant(data, Tag::Dense, describe)?.struct_variant(FIELDS, self)
                }

                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let mut layer = Dense::<T, I, O>::ZERO;
                    let inputs = seq
                        .next_element::<usize>()?
                        .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                    check_width("inputs", I, inputs)?;
                    let outputs = seq
                        .next_element::<usize>()?
                        .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                    check_width("outputs", O, outputs)?;
                    let rows = FillRows::<T, I, O>(layer.tensor_mut(0));
                    seq.next_element_seed(rows)?
                        .ok_or_else(|| A::Error::invalid_length(2, &self))?;
                    let bias = Fill {
                        slots: layer.tensor_mut(1),
                        what: "a bias",
                    };
                    seq.next_element_seed(bias)?
                        .ok_or_else(|| A::Error::invalid_length(3, &self))?;
                    Ok(layer)
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut layer = Dense::<T, I, O>::ZERO;
                    let mut seen = [false; 4];
                    while let Some(key) = map.next_key::<FieldName>()? {
                        let Some(field) = FIELDS.iter().position(|&f| f == key.0) else {
                            return Err(A::Error::unknown_field(key.0, FIELDS));
                        };
                        if let Some(seen) = seen.get_mut(field) {
                            if *seen {
                                return Err(A::Error::duplicate_field(key.0));
                            }
                            *seen = true;
                        }
                        match field {
                            0 => check_width("inputs", I, map.next_value::<usize>()?)?,
                            1 => check_width("outputs", O, map.next_value::<usize>()?)?,
                            2 => map.next_value_seed(FillRows::<T, I, O>(layer.tensor_mut(0)))?,
                            _ => map.next_value_seed(Fill {
                                slots: layer.tensor_mut(1),
                                what: "a bias",
                            })?,
                        }
                    }
                    for (&name, &seen) in FIELDS.iter().zip(&seen) {
                        if !seen {
                            return Err(A::Error::missing_field(name));
                        }
                    }
                    Ok(layer)
                }
            }

            deserializer.deserialize_enum(LAYER_ENUM, VARIANTS, DenseVisitor(PhantomData))
        }
    }

    /// The name of a network's fields, in order.
    const NETWORK_FIELDS: &[&str] = &["scalar", "inputs", "outputs", "layers"];

    /// Serialises a network made by `network!`: a struct with its scalar
    /// type, its widths and its list of layers.
    pub fn serialize_network<N: SerdeNetwork, S: Serializer>(
        net: &N,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Network", NETWORK_FIELDS.len())?;
        s.serialize_field("scalar", N::Scalar::NAME)?;
        s.serialize_field("inputs", &<N::Input as Vector>::LEN)?;
        s.serialize_field("outputs", &<N::Output as Vector>::LEN)?;
        s.serialize_field("layers", &LayerList(net.layers()))?;
        s.end()
    }

    /// Deserialises a network made by `network!`, checking its scalar type,
    /// widths and every layer against the type.
    pub fn deserialize_network<'de, N: SerdeNetwork, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<N, D::Error> {
        deserializer.deserialize_struct("Network", NETWORK_FIELDS, NetworkVisitor(PhantomData))
    }

    /// Reads a network of type `N`.
    struct NetworkVisitor<N>(PhantomData<N>);

    /// The scalar type name, checked against `T`'s.
    struct ScalarName<T>(PhantomData<T>);

    impl<'de, T: Scalar> DeserializeSeed<'de> for ScalarName<T> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_str(self)
        }
    }

    impl<T: Scalar> Visitor<'_> for ScalarName<T> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "the scalar type {}", T::NAME)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            if v == T::NAME {
                Ok(())
            } else {
                Err(E::invalid_value(Unexpected::Str(v), &self))
            }
        }
    }

    /// A sequence of layers, as a seed.
    struct Layers<L>(PhantomData<L>);

    impl<'de, L: SerdeLayers> DeserializeSeed<'de> for Layers<L> {
        type Value = L;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<L, D::Error> {
            deserializer.deserialize_seq(LayerListVisitor(PhantomData))
        }
    }

    impl<'de, N: SerdeNetwork> Visitor<'de> for NetworkVisitor<N> {
        type Value = N;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a network of {} layers from {} to {} {}",
                <N::Layers as Architecture>::LAYERS,
                <N::Input as Vector>::LEN,
                <N::Output as Vector>::LEN,
                N::Scalar::NAME
            )
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<N, A::Error> {
            seq.next_element_seed(ScalarName::<N::Scalar>(PhantomData))?
                .ok_or_else(|| A::Error::invalid_length(0, &self))?;
            let inputs = seq
                .next_element::<usize>()?
                .ok_or_else(|| A::Error::invalid_length(1, &self))?;
            check_width("inputs", <N::Input as Vector>::LEN, inputs)?;
            let outputs = seq
                .next_element::<usize>()?
                .ok_or_else(|| A::Error::invalid_length(2, &self))?;
            check_width("outputs", <N::Output as Vector>::LEN, outputs)?;
            let layers = seq
                .next_element_seed(Layers::<N::Layers>(PhantomData))?
                .ok_or_else(|| A::Error::invalid_length(3, &self))?;
            Ok(N::from_layers(layers))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<N, A::Error> {
            let mut seen = [false; 4];
            let mut layers = None;
            while let Some(key) = map.next_key::<FieldName>()? {
                let Some(field) = NETWORK_FIELDS.iter().position(|&f| f == key.0) else {
                    return Err(A::Error::unknown_field(key.0, NETWORK_FIELDS));
                };
                if let Some(seen) = seen.get_mut(field) {
                    if *seen {
                        return Err(A::Error::duplicate_field(key.0));
                    }
                    *seen = true;
                }
                match field {
                    0 => map.next_value_seed(ScalarName::<N::Scalar>(PhantomData))?,
                    1 => check_width("inputs", <N::Input as Vector>::LEN, map.next_value()?)?,
                    2 => check_width("outputs", <N::Output as Vector>::LEN, map.next_value()?)?,
                    _ => layers = Some(map.next_value_seed(Layers::<N::Layers>(PhantomData))?),
                }
            }
            for (&name, &seen) in NETWORK_FIELDS.iter().zip(&seen) {
                if !seen {
                    return Err(A::Error::missing_field(name));
                }
            }
            let layers = layers.ok_or_else(|| A::Error::missing_field("layers"))?;
            Ok(N::from_layers(layers))
        }
    }
}
