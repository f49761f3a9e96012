//! What several examples share: loaders for the data sets shipped in
//! `data/` (returning fixed-size arrays, ready for a network), and the
//! export of a trained network for the firmware example.
#![allow(dead_code)] // each example uses part of it

pub mod plot;

use std::error::Error;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use constnet::export::rust_source;
use constnet::prelude::*;
use flate2::read::GzDecoder;

/// A labelled data set: inputs of width `I` and their classes.
pub type Samples<const I: usize> = Vec<([f32; I], usize)>;

/// What the loaders return.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The path of a file in the repository's `data/` folder.
pub fn data_path(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(relative)
}

/// Reads a gzip file whole.
fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    GzDecoder::new(file).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The 1,797 8×8 digits of `data/digits/digits.csv.gz`: pixels scaled from
/// `0..=16` to `[0, 1]`, and the digit.
pub fn digits() -> Result<Samples<64>> {
    let path = data_path("digits/digits.csv.gz");
    let text = String::from_utf8(gunzip(&path)?)?;
    let mut samples = Vec::with_capacity(1797);
    for (line_no, line) in text.lines().enumerate() {
        let bad = || {
            format!(
                "{}: line {} is not 64 pixels and a digit",
                path.display(),
                line_no + 1
            )
        };
        let values: Vec<u8> = line
            .split(',')
            .map(|v| v.trim().parse::<u8>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad())?;
        let (pixels, label) = match values.as_slice() {
            [pixels @ .., label] if pixels.len() == 64 && *label <= 9 => (pixels, *label),
            _ => return Err(bad().into()),
        };
        let mut x = [0.0f32; 64];
        for (xi, &p) in x.iter_mut().zip(pixels) {
            *xi = f32::from(p.min(16)) / 16.0;
        }
        samples.push((x, usize::from(label)));
    }
    Ok(samples)
}

/// MNIST's 60,000 training images (`train = true`) or its 10,000 test
/// images, from `data/mnist/`: pixels scaled from `0..=255` to `[0, 1]`,
/// row by row, and the digit.
pub fn mnist(train: bool) -> Result<Samples<784>> {
    let prefix = if train { "train" } else { "t10k" };
    let images_path = data_path(&format!("mnist/{prefix}-images-idx3-ubyte.gz"));
    let labels_path = data_path(&format!("mnist/{prefix}-labels-idx1-ubyte.gz"));
    let images = gunzip(&images_path)?;
    let labels = gunzip(&labels_path)?;
    let (image_dims, pixels) = idx(&images, 0x0803, &images_path)?;
    let (label_dims, labels) = idx(&labels, 0x0801, &labels_path)?;
    if image_dims[1..] != [28, 28] || image_dims[0] != label_dims[0] {
        return Err(format!(
            "{} holds {:?} images and {} {:?} labels: expected n × 28 × 28 and n",
            images_path.display(),
            image_dims,
            labels_path.display(),
            label_dims
        )
        .into());
    }
    let mut samples = Vec::with_capacity(labels.len());
    for (image, &label) in pixels.chunks_exact(784).zip(labels) {
        if label > 9 {
            return Err(format!("{}: label {label} is not a digit", labels_path.display()).into());
        }
        let mut x = [0.0f32; 784];
        for (xi, &p) in x.iter_mut().zip(image) {
            *xi = f32::from(p) / 255.0;
        }
        samples.push((x, usize::from(label)));
    }
    Ok(samples)
}

/// The dimensions and the data of an IDX file of unsigned bytes whose
/// magic is `magic` (`0x08` for `u8`, then the number of dimensions).
fn idx<'a>(bytes: &'a [u8], magic: u32, path: &Path) -> Result<(Vec<usize>, &'a [u8])> {
    let bad = |what: &str| {
        format!(
            "{}: not an IDX file of the expected kind: {what}",
            path.display()
        )
    };
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).ok_or_else(|| bad("shorter than its header"))?;
    if found != magic {
        return Err(bad(&format!("magic {found:#010x}, expected {magic:#010x}")).into());
    }
    let rank = (magic & 0xff) as usize;
    let dims: Vec<usize> = (1..=rank)
        .map(|i| word(i).map(|d| d as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("shorter than its header"))?;
    let data = &bytes[4 * (rank + 1)..];
    let expected: usize = dims.iter().product();
    if data.len() != expected {
        return Err(bad(&format!(
            "{} data bytes for dimensions {dims:?}",
            data.len()
        ))
        .into());
    }
    Ok((dims, data))
}

/// Writes `net` as Rust source into `path` (type `type_name`, static
/// `static_name`), followed by `INPUTS`, up to sixteen of the given inputs
/// spread over the slice, and `EXPECTED`, the classes `net` predicts for
/// them here. The firmware example checks itself against `EXPECTED`.
pub fn export_for_firmware<N, const I: usize>(
    net: &N,
    type_name: &str,
    static_name: &str,
    inputs: &[[f32; I]],
    path: &str,
) -> Result<()>
where
    N: Network<Scalar = f32, Input = [f32; I]>,
{
    let mut source = String::new();
    rust_source(net, type_name, static_name, &mut source)?;
    let points: Vec<&[f32; I]> = inputs
        .iter()
        .step_by((inputs.len() / 16).max(1))
        .take(16)
        .collect();
    writeln!(source, "\n/// Test inputs.")?;
    writeln!(
        source,
        "pub static INPUTS: [[f32; {I}]; {}] = [",
        points.len()
    )?;
    for p in &points {
        let values: Vec<String> = p.iter().map(|v| format!("{v:?}")).collect();
        writeln!(source, "    [{}],", values.join(", "))?;
    }
    writeln!(source, "];")?;
    let classes: Vec<String> = points.iter().map(|p| net.classify(p).to_string()).collect();
    writeln!(
        source,
        "\n/// The classes predicted for `INPUTS` on the host."
    )?;
    writeln!(
        source,
        "pub static EXPECTED: [usize; {}] = [{}];",
        points.len(),
        classes.join(", ")
    )?;
    std::fs::write(path, source)?;
    Ok(())
}

/// The `FILE` of `--export FILE` on the command line, if given.
pub fn export_path() -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != "--export");
    args.next()?;
    args.next()
}
