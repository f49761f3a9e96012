//! What several examples share: loaders for the data sets shipped in
//! `data/` (returning fixed-size arrays, ready for a network), and the
//! export of a trained network for the firmware example.
#![allow(dead_code)] // each example uses part of it

pub mod plot;

use std::error::Error;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use constnet::export::{quantized_source, rust_source};
use constnet::prelude::*;
use constnet::quant::{QuantizeNetwork, Quantized};
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
    let file = std::fs::File::open(path).map_err(|e| {
        format!(
            "{}: {e}. The data sets are in the `data/` folder of constnet's source \
             repository, which the crates.io package leaves out: run the examples \
             from a clone of the repository",
            path.display()
        )
    })?;
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

/// The int8 form of `net`, calibrated on `calibration`, and a report of
/// both forms: the size of their parameters and their accuracy on `test`.
pub fn quantize_and_compare<N, const I: usize>(
    net: &N,
    calibration: &[[f32; I]],
    test: &Samples<I>,
) -> Result<Quantized<N>>
where
    N: QuantizeNetwork<Input = [f32; I]>,
{
    let int8 = Quantized::calibrate(net, calibration)?;
    // The parameters' bytes (in memory, x86-64 also pads each dense layer
    // to a cache line).
    let float_bytes = constnet::summary::Summary::<N>::PARAMETER_BYTES;
    let int8_bytes = Quantized::<N>::PARAMETER_BYTES;
    let weights = weight_count::<N>();
    println!(
        "parameters: f32 {float_bytes} B ({:.2} B per weight), int8 {int8_bytes} B \
         ({:.3} B per weight; {weights} weights, {} parameters)",
        float_bytes as f64 / weights as f64,
        int8_bytes as f64 / weights as f64,
        N::PARAMETERS
    );
    println!(
        "accuracy on {} test images: f32 {:.2} %, int8 {:.2} %",
        test.len(),
        100.0 * net.accuracy(test),
        100.0 * int8.accuracy(test)
    );
    Ok(int8)
}

/// The number of weights (parameters of tensors named `weight`).
fn weight_count<N: Network>() -> usize {
    (0..<N::Layers as Layer<N::Input>>::LAYERS)
        .flat_map(|layer| {
            (0..).map_while(move |i| <N::Layers as Layer<N::Input>>::tensor_info(layer, i))
        })
        .filter(|info| info.name == "weight")
        .map(|info| info.shape.iter().product::<usize>())
        .sum()
}

/// Writes `net` as Rust source into `path` (type `type_name`, static
/// `static_name`), then its int8 form `int8` (static `<static_name>_INT8`),
/// followed by `INPUTS`, up to sixteen of the given inputs spread over the
/// slice, `EXPECTED`, the classes `net` predicts for them here, and the
/// same for the int8 network: `INPUTS_INT8` (the inputs in its codes) and
/// `EXPECTED_INT8`, and `OUTPUTS_INT8`, its output codes. The firmware
/// example checks itself against all of them.
pub fn export_for_firmware<N, const I: usize>(
    net: &N,
    int8: &Quantized<N>,
    type_name: &str,
    static_name: &str,
    inputs: &[[f32; I]],
    path: &str,
) -> Result<()>
where
    N: QuantizeNetwork<Input = [f32; I]>,
    N::Input: Vector<Codes = [i8; I]>,
{
    let mut source = String::new();
    rust_source(net, type_name, static_name, &mut source)?;
    quantized_source(
        int8,
        type_name,
        format!("{static_name}_INT8").as_str(),
        &mut source,
    )?;
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
    writeln!(source, "\n/// `INPUTS` in the int8 network's codes.")?;
    writeln!(
        source,
        "pub static INPUTS_INT8: [[i8; {I}]; {}] = [",
        points.len()
    )?;
    for p in &points {
        writeln!(source, "    {:?},", int8.quantize_input(p))?;
    }
    writeln!(source, "];")?;
    let classes: Vec<String> = points
        .iter()
        .map(|p| int8.classify_codes(&int8.quantize_input(p)).to_string())
        .collect();
    writeln!(
        source,
        "\n/// The classes the int8 network predicts for `INPUTS_INT8` on the host."
    )?;
    writeln!(
        source,
        "pub static EXPECTED_INT8: [usize; {}] = [{}];",
        points.len(),
        classes.join(", ")
    )?;
    writeln!(
        source,
        "\n/// The int8 network's output codes for `INPUTS_INT8` on the host: \
         integer arithmetic gives the same bits on every core."
    )?;
    let outputs: Vec<_> = points
        .iter()
        .map(|p| int8.forward(&int8.quantize_input(p)))
        .collect();
    writeln!(
        source,
        "pub static OUTPUTS_INT8: [[i8; {}]; {}] = [",
        <N::Output as Vector>::LEN,
        points.len()
    )?;
    for y in &outputs {
        writeln!(source, "    {y:?},")?;
    }
    writeln!(source, "];")?;
    std::fs::write(path, source)?;
    Ok(())
}

/// The `FILE` of `--export FILE` on the command line, if given.
pub fn export_path() -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != "--export");
    args.next()?;
    args.next()
}
