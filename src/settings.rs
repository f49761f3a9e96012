//! Checked settings: every optimiser, schedule and early-stopping setting
//! is checked where it is made, and a value out of its range is refused
//! with a [`SettingError`] that names the setting, the value and the range.
//!
//! Constructors and setters that take a number return
//! `Result<Self, SettingError>`, so a chain of them reads
//! `Sgd::new(0.01)?.momentum(0.9)?`; a setting that cannot be out of range
//! (a flag) returns `Self`. A value of the wrong float type is a compile
//! error that names the network's scalar type ([`ScalarOf`]).
//!
//! The optimisers can also be made in `const` context, for a `const` or a
//! `static` (on a micro-controller, to keep an optimiser out of the
//! stack): `Sgd::new_const(0.5).momentum_const(0.9)`. The `_const`
//! constructors and setters check the same ranges, and a value out of its
//! range is a compile error there: evaluating the `static` panics with a
//! message that names the setting and its range. Called at run time they
//! panic instead of returning an error, so at run time the constructors
//! above are the ones to use.

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

/// The ranges of settings that are numbers: each one's test, `const` so
/// that the `_const` constructors run it at compile time, and its words,
/// which a [`SettingError`] and a compile-time error both quote. A scalar
/// is tested as an `f64`, which holds every `f32` exactly.
macro_rules! range {
    (test positive) => {
        $crate::settings::is_positive
    };
    (words positive) => {
        "finite and greater than 0"
    };
    (test non_negative) => {
        $crate::settings::is_non_negative
    };
    (words non_negative) => {
        "finite and at least 0"
    };
    (test fraction) => {
        $crate::settings::is_fraction
    };
    (words fraction) => {
        "in [0, 1)"
    };
}
pub(crate) use range;

/// `$value` (an expression of a network's scalar type) if it is in the
/// range `$range` (`positive`, `non_negative`, `fraction`), in `const`
/// context; otherwise a panic whose message names the setting and the
/// range, which in a `const` or `static` is a compile error.
macro_rules! const_setting {
    ($range:ident, $setting:literal, $value:expr) => {{
        let value = $value;
        if !$crate::settings::range!(test $range)($crate::scalar::const_as_f64(value)) {
            panic!(
                "{}",
                concat!(
                    $setting,
                    " is out of range: it must be ",
                    $crate::settings::range!(words $range)
                )
            );
        }
        value
    }};
}
pub(crate) use const_setting;

/// Finite and greater than 0.
pub(crate) const fn is_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Finite and at least 0.
pub(crate) const fn is_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// In `[0, 1)`.
pub(crate) const fn is_fraction(x: f64) -> bool {
    x >= 0.0 && x < 1.0
}

/// Finite and greater than 0 (a learning rate, ε, a clipping norm).
pub(crate) fn positive<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    let ok = range!(test positive)(value.as_f64());
    check(setting, value, range!(words positive), ok)
}

/// Finite and at least 0 (a weight decay).
pub(crate) fn non_negative<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    let ok = range!(test non_negative)(value.as_f64());
    check(setting, value, range!(words non_negative), ok)
}

/// In `[0, 1)` (a momentum, a decay rate of a running average).
pub(crate) fn fraction<T: Scalar>(setting: &'static str, value: T) -> Result<T, SettingError> {
    let ok = range!(test fraction)(value.as_f64());
    check(setting, value, range!(words fraction), ok)
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
