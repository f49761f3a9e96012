//! Checked settings: every optimiser, schedule and early-stopping setting
//! is checked where it is made, and a value out of its range is refused
//! with a [`SettingError`] that names the setting, the value and the range.
//!
//! Constructors and setters that take a number return
//! `Result<Self, SettingError>`, so a chain of them reads
//! `Sgd::new(0.01)?.momentum(0.9)?`; a setting that cannot be out of range
//! (a flag) returns `Self`. A value of the wrong float type is a compile
//! error that names the network's scalar type ([`ScalarOf`]).

use core::fmt;

use crate::scalar::Scalar;

/// A setting given a value out of its range. Nothing was changed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SettingError {
    /// The setting, as its method names it (`"momentum"`).
    pub setting: &'static str,
    /// The value given.
    pub value: f64,
    /// Its range, in words (`"in [0, 1)"`).
    pub range: &'static str,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} is out of range: it must be {}",
            self.setting, self.value, self.range
        )
    }
}

impl core::error::Error for SettingError {}

/// A value of the scalar type `T`: what a setting of a network computing
/// in `T` takes. Implemented for `T` alone, so that a value of another
/// float type is an error naming both types.
#[diagnostic::on_unimplemented(
    message = "a setting of type `{Self}` for a network that computes in `{T}`",
    label = "this is `{Self}`, the network's scalar type is `{T}`",
    note = "write the value as an `{T}` (an untyped literal such as `0.1` takes the network's type), or convert it with `as {T}`"
)]
pub trait ScalarOf<T> {
    /// The value as a `T`.
    fn scalar(self) -> T;
}

impl<T: Scalar> ScalarOf<T> for T {
    #[inline(always)]
    fn scalar(self) -> T {
        self
    }
}

/// A second implementation for each float type, so that the compiler does
/// not take a setting's type for the network's before it knows the
/// network: with one candidate it would, and report a mismatch of the
/// network's `Scalar` instead of naming the setting.
#[doc(hidden)]
#[derive(Debug)]
pub struct NotTheNetworksScalar;

impl ScalarOf<NotTheNetworksScalar> for f32 {
    fn scalar(self) -> NotTheNetworksScalar {
        NotTheNetworksScalar
    }
}

impl ScalarOf<NotTheNetworksScalar> for f64 {
    fn scalar(self) -> NotTheNetworksScalar {
        NotTheNetworksScalar
    }
}

/// `value` if `ok` says it is in range, else the error for `setting`.
fn check<T: Scalar>(
    setting: &'static str,
    value: T,
    range: &'static str,
    ok: bool,
) -> Result<T, SettingError> {
    if ok {
        Ok(value)
    } else {
        Err(SettingError {
            setting,
            value: value.as_f64(),
            range,
        })
    }
}

/// Finite and greater than 0 (a learning rate, ε, a clipping norm).
pub(crate) fn positive<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    check(
        setting,
        value,
        "finite and greater than 0",
        value.is_finite() && value > T::ZERO,
    )
}

/// Finite and at least 0 (a weight decay).
pub(crate) fn non_negative<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    check(
        setting,
        value,
        "finite and at least 0",
        value.is_finite() && value >= T::ZERO,
    )
}

/// In `[0, 1)` (a momentum, a decay rate of a running average).
pub(crate) fn fraction<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    check(
        setting,
        value,
        "in [0, 1)",
        value >= T::ZERO && value < T::ONE,
    )
}

/// At least 1 (a count of steps).
pub(crate) fn at_least_one(setting: &'static str, value: u32) -> Result<u32, SettingError> {
    check(setting, f64::from(value), "at least 1", value >= 1).map(|_| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(positive("lr", 1e-30f32).is_ok());
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(positive("lr", bad).is_err(), "{bad}");
        }
        assert!(non_negative("decay", 0.0f64).is_ok());
        assert!(non_negative("decay", -0.0f64).is_ok());
        for bad in [-1e-9, f64::NAN, f64::INFINITY] {
            assert!(non_negative("decay", bad).is_err(), "{bad}");
        }
        assert!(fraction("beta", 0.0f32).is_ok() && fraction("beta", 0.999f32).is_ok());
        for bad in [1.0, -0.1, f32::NAN, f32::INFINITY] {
            assert!(fraction("beta", bad).is_err(), "{bad}");
        }
        assert_eq!(at_least_one("every", 1), Ok(1));
        let err = at_least_one("every", 0).unwrap_err();
        assert_eq!(
            (err.setting, err.value, err.range),
            ("every", 0.0, "at least 1")
        );
    }
}
