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
mod de;
#[cfg(feature = "serde")]
mod network;
#[cfg(feature = "serde")]
mod ser;

#[cfg(feature = "serde")]
pub use network::{SerdeNetwork, deserialize_network, serialize_network};
