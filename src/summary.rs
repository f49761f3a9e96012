//! A network's summary: one row per layer with its widths and parameters,
//! then the totals, in bytes of the network's scalar type. See
//! [`Network::summary`].

use core::fmt;

use crate::layer::{Layer, write_short_type_name};
use crate::network::Network;
use crate::scalar::Vector;

/// What [`Network::summary`] returns: a value that prints the network's
/// layers and totals (`{}`), without allocating.
pub struct Summary<'a, N: Network> {
    net: &'a N,
}

impl<'a, N: Network> Summary<'a, N> {
    pub(crate) fn new(net: &'a N) -> Self {
        Summary { net }
    }

    /// The number of parameters of layer `index` (0 past the last).
    pub fn layer_parameters(index: usize) -> usize {
        (0..)
            .map_while(|i| <N::Layers as Layer<N::Input>>::tensor_info(index, i))
            .map(|t| t.shape.iter().product::<usize>())
            .sum()
    }

    /// The bytes of the parameters: `PARAMETERS` scalars. In memory, a
    /// network on x86-64 also holds each dense layer's padding to 64 bytes
    /// (see [`Dense`](crate::Dense)), and any setting a layer carries.
    pub const PARAMETER_BYTES: usize = N::PARAMETERS * core::mem::size_of::<N::Scalar>();

    /// The bytes a training step keeps beside the network with plain SGD
    /// (the gradients), SGD with momentum or RMSprop (the gradients and one
    /// value per parameter) and Adam (the gradients and two).
    pub const TRAINING_BYTES: [usize; 3] = [
        Self::PARAMETER_BYTES,
        2 * Self::PARAMETER_BYTES,
        3 * Self::PARAMETER_BYTES,
    ];
}

impl<N: Network> fmt::Display for Summary<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layers = self.net.layers();
        let count = <N::Layers as Layer<N::Input>>::LAYERS;
        write_short_type_name(core::any::type_name::<N>(), f)?;
        let scalar = crate::format::ScalarType::of::<N::Scalar>();
        writeln!(
            f,
            ": {count} layers, {} → {}, {scalar}",
            <N::Input as Vector>::LEN,
            <N::Output as Vector>::LEN,
        )?;
        writeln!(
            f,
            "{:>3}  {:<24}{:>15}{:>14}",
            "#", "layer", "width", "parameters"
        )?;
        for index in 0..count {
            let Some(info) = <N::Layers as Layer<N::Input>>::layer(index) else {
                continue;
            };
            let mut name = Buffer::new();
            match (info.setting, layers.setting(index)) {
                (Some((setting, _)), Some(value)) => {
                    fmt::write(&mut name, format_args!("{} ({setting} {value})", info.kind))?
                }
                _ => fmt::write(&mut name, format_args!("{}", info.kind))?,
            }
            let mut width = Buffer::new();
            fmt::write(
                &mut width,
                format_args!("{} → {}", info.inputs, info.outputs),
            )?;
            writeln!(
                f,
                "{index:>3}  {:<24}{:>15}{:>14}",
                name.as_str(),
                width.as_str(),
                Thousands(Self::layer_parameters(index))
            )?;
        }
        let [sgd, momentum, adam] = Self::TRAINING_BYTES;
        writeln!(
            f,
            "parameters: {} ({} B of {scalar})",
            Thousands(N::PARAMETERS),
            Thousands(Self::PARAMETER_BYTES)
        )?;
        write!(
            f,
            "a training step's state (gradients + optimiser state): {} B with SGD, {} B with \
             momentum or RMSprop, {} B with Adam",
            Thousands(sgd),
            Thousands(momentum),
            Thousands(adam)
        )
    }
}

/// A count with thousands separated by commas, padded as asked.
struct Thousands(usize);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 20];
        let mut n = self.0;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut out = Buffer::new();
        for i in (0..len).rev() {
            out.push(digits[i]);
            if i > 0 && i % 3 == 0 {
                out.push(b',');
            }
        }
        f.pad(out.as_str())
    }
}

/// A short string on the stack (longer text is cut).
struct Buffer {
    bytes: [u8; 64],
    len: usize,
}

impl Buffer {
    fn new() -> Self {
        Buffer {
            bytes: [0; 64],
            len: 0,
        }
    }
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }
    fn as_str(&self) -> &str {
        let bytes = &self.bytes[..self.len];
        // Cut at a character boundary if the text was cut.
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

impl fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.push(b));
        Ok(())
    }
}
