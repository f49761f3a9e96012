//! Export a trained network as Rust source, to compile it into a program or
//! into firmware as a `static` that lives in flash.
//!
//! [`rust_source`] writes a self-contained module: the `network!` definition
//! of the type and a `pub static` (or, with [`Item::Const`], a `pub const`)
//! holding the trained parameters as float literals, one line per neuron. Every literal is written in Rust's shortest round-trip form,
//! so the compiled-in network is bit-for-bit the one that was exported.
//!
//! ```
//! use constnet::prelude::*;
//! use constnet::export::rust_source;
//!
//! network! {
//!     /// A 2-3-1 regressor.
//!     pub struct Tiny<f32> { 2 => Dense<3>, Tanh, Dense<1> }
//! }
//!
//! let net = Tiny::random(&mut SmallRng::seed_from_u64(1));
//! let mut source = String::new();
//! rust_source(&net, "Tiny", "TINY", &mut source)?;
//! assert!(source.contains("Tiny<f32> { 2 => Dense<2, 3>, ::constnet::Tanh, Dense<3, 1> }"));
//! assert!(source.contains("pub static TINY: Tiny = Tiny::new("));
//! # Ok::<(), constnet::export::ExportError>(())
//! ```
//!
//! Each layer writes itself ([`Layer::write_types`] and
//! [`Layer::write_value`]): constnet's own layers with `::constnet::`
//! paths, a layer of your own by its type's name (so it must be in scope
//! where the file is included) and, if it has a setting or tensors, as a
//! call of that name with them as literals (a tuple struct's constructor)
//! unless it writes itself otherwise.
//!
//! A 784-128-10 network (101,770 parameters, a 2.1 MB source file) compiles
//! in about 1 s in release mode, so the parameters are kept as literals
//! rather than as bytes decoded at compile time.
//!
//! [`Layer::write_types`]: crate::Layer::write_types
//! [`Layer::write_value`]: crate::Layer::write_value

use core::fmt::{self, Write};

use num_traits::Float;

use crate::layer::Layer;
use crate::network::Network;
use crate::quant::{QuantLayer, QuantizeNetwork, Quantized};
use crate::scalar::Scalar;
use crate::tensors::Tensors;

/// Why a network could not be exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// A parameter is NaN or infinite, which has no Rust literal; the
    /// network should not be shipped anyway.
    NonFinite {
        /// The index of the parameter tensor (weights and biases alternate).
        tensor: usize,
    },
    /// A name is not a Rust identifier.
    BadName,
    /// The writer failed.
    Write,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::NonFinite { tensor } => write!(
                f,
                "parameter tensor {tensor} holds NaN or an infinity, which cannot be exported"
            ),
            ExportError::BadName => {
                f.write_str("the type and static names must be Rust identifiers")
            }
            ExportError::Write => f.write_str("the output could not be written"),
        }
    }
}

impl core::error::Error for ExportError {}

impl From<fmt::Error> for ExportError {
    fn from(_: fmt::Error) -> Self {
        ExportError::Write
    }
}

/// How the exported parameters are declared, and under which name.
///
/// A `static` is one value at one address: in firmware, the parameters are
/// in flash once, whatever uses them. A `const` is a value the compiler
/// copies into each place that names it: it can be used where a constant
/// is needed (another `const`, a `const fn`), at the price of one copy per
/// use. A bare name (`"NET"`) is a `static`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// `pub static NAME: Type = …;`
    Static(&'a str),
    /// `pub const NAME: Type = …;`
    Const(&'a str),
}

impl<'a> From<&'a str> for Item<'a> {
    /// A `static` of that name.
    fn from(name: &'a str) -> Self {
        Item::Static(name)
    }
}

impl<'a> Item<'a> {
    /// The keyword and the name.
    fn parts(self) -> (&'static str, &'a str) {
        match self {
            Item::Static(name) => ("static", name),
            Item::Const(name) => ("const", name),
        }
    }
}

/// Writes `net` as Rust source: a `network!` definition of a type named
/// `type_name` and `pub static NAME: type_name = …` (or `pub const`, with
/// [`Item::Const`]) with the parameters, one line per neuron's weights. The
/// output needs `constnet` as a dependency and nothing else in scope;
/// include it as a module or with `include!`.
///
/// ```
/// use constnet::export::{Item, rust_source};
/// use constnet::prelude::*;
///
/// network! {
///     /// A 2-3-1 regressor.
///     pub struct Tiny<f32> { 2 => Dense<3>, Tanh, Dense<1> }
/// }
///
/// let net = Tiny::random(&mut SmallRng::seed_from_u64(1));
/// let mut source = String::new();
/// rust_source(&net, "Tiny", Item::Const("TINY"), &mut source)?;
/// assert!(source.contains("pub const TINY: Tiny = Tiny::new("));
/// // The first layer's 3 neurons, one line each.
/// assert_eq!(source.lines().filter(|line| line.starts_with("    [")).count(), 3 + 1);
/// # Ok::<(), constnet::export::ExportError>(())
/// ```
///
/// # Errors
///
/// [`ExportError::BadName`] if a name is not an identifier,
/// [`ExportError::NonFinite`] if a parameter is NaN or infinite, and
/// [`ExportError::Write`] if `out` fails.
pub fn rust_source<'a, N>(
    net: &N,
    type_name: &str,
    item: impl Into<Item<'a>>,
    out: &mut impl Write,
) -> Result<(), ExportError>
where
    N: Network,
{
    let (keyword, item_name) = item.into().parts();
    if !is_identifier(type_name) || !is_identifier(item_name) {
        return Err(ExportError::BadName);
    }
    let layers = net.layers();
    if let Some(tensor) = (0..<N::Layers as Tensors<N::Scalar>>::COUNT)
        .find(|&i| !layers.tensor(i).iter().all(|x| x.is_finite()))
    {
        return Err(ExportError::NonFinite { tensor });
    }
    let out: &mut dyn Write = out;
    let inputs = <N::Input as crate::scalar::Vector>::LEN;
    writeln!(
        out,
        "// Generated by constnet::export::rust_source: a trained network"
    )?;
    writeln!(out, "// ({} parameters). Do not edit.", N::PARAMETERS)?;
    writeln!(out)?;
    writeln!(out, "::constnet::network! {{")?;
    writeln!(out, "    /// A trained network, exported by constnet.")?;
    write!(
        out,
        "    pub struct {type_name}<{}> {{ {inputs} => ",
        N::Scalar::NAME
    )?;
    <N::Layers as Layer<N::Input>>::write_types(out)?;
    writeln!(out, " }}")?;
    writeln!(out, "}}")?;
    writeln!(out)?;
    writeln!(out, "/// The trained parameters, built at compile time.")?;
    // A trained weight can happen to be close to π or √2.
    writeln!(out, "#[allow(clippy::approx_constant)]")?;
    // Generated layout: one line per neuron, not rustfmt's.
    writeln!(out, "#[rustfmt::skip]")?;
    write!(
        out,
        "pub {keyword} {item_name}: {type_name} = {type_name}::new("
    )?;
    Layer::<N::Input>::write_value(layers, out)?;
    writeln!(out, ");")?;
    Ok(())
}

/// Writes [`rust_source`] into a file.
///
/// # Errors
///
/// As [`rust_source`], and [`std::io::Error`]s from writing the file.
#[cfg(feature = "std")]
pub fn write_rust_file<'a, N>(
    net: &N,
    type_name: &str,
    item: impl Into<Item<'a>>,
    path: impl AsRef<std::path::Path>,
) -> Result<(), std::boxed::Box<dyn core::error::Error + Send + Sync>>
where
    N: Network,
{
    let mut source = std::string::String::new();
    rust_source(net, type_name, item, &mut source)?;
    std::fs::write(path, source)?;
    Ok(())
}

/// Writes an int8 network as Rust source: `pub static NAME:
/// Quantized<type_name> = …` (or `pub const`, with [`Item::Const`]), its
/// weights as `i8` arrays (one line per neuron), its biases as `i32`. The
/// float network's type `type_name` must be in scope where the file is
/// included, e.g. from [`rust_source`] of the same network, written
/// before it in the same file.
///
/// ```
/// use constnet::export::{quantized_source, rust_source};
/// use constnet::prelude::*;
/// use constnet::quant::Quantized;
///
/// network! {
///     /// A 2-3-1 regressor.
///     pub struct Tiny<f32> { 2 => Dense<3>, Relu, Dense<1> }
/// }
///
/// let net = Tiny::random(&mut SmallRng::seed_from_u64(1));
/// let int8 = Quantized::calibrate(&net, &[[0.0, 1.0], [1.0, -1.0], [0.5, 0.5]])?;
/// let mut source = String::new();
/// rust_source(&net, "Tiny", "TINY", &mut source)?;
/// quantized_source(&int8, "Tiny", "TINY_INT8", &mut source)?;
/// assert!(source.contains("pub static TINY_INT8: ::constnet::quant::Quantized<Tiny> ="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ExportError::BadName`] if a name is not an identifier and
/// [`ExportError::Write`] if `out` fails.
pub fn quantized_source<'a, N>(
    net: &Quantized<N>,
    type_name: &str,
    item: impl Into<Item<'a>>,
    out: &mut impl Write,
) -> Result<(), ExportError>
where
    N: QuantizeNetwork,
{
    let (keyword, item_name) = item.into().parts();
    if !is_identifier(type_name) || !is_identifier(item_name) {
        return Err(ExportError::BadName);
    }
    let out: &mut dyn Write = out;
    writeln!(out)?;
    writeln!(
        out,
        "/// The network in int8 ({} bytes of parameters), built at compile time.",
        Quantized::<N>::PARAMETER_BYTES
    )?;
    writeln!(out, "#[rustfmt::skip]")?;
    writeln!(
        out,
        "pub {keyword} {item_name}: ::constnet::quant::Quantized<{type_name}> = \
         ::constnet::quant::Quantized::new("
    )?;
    net.layers.write_value(out)?;
    for q in [net.input, net.output] {
        writeln!(out, ",")?;
        write!(
            out,
            "::constnet::quant::Quant {{ scale: {:?}, zero: {} }}",
            q.scale, q.zero
        )?;
    }
    writeln!(out, ");")?;
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
