//! The main example: MNIST, the 70,000 handwritten digits, on one core,
//! or on every core with the `parallel` feature.
//!
//! A 784-256-10 network (203,530 parameters) with ReLU and softmax +
//! cross-entropy learns the 60,000 training images for 12 epochs of
//! mini-batches of 32, with SGD, momentum 0.9 and a learning rate that
//! falls from 0.05 to 0 along a cosine. A [`Fit`] observer prints one line
//! per epoch; at the end come the confusion matrix and the accuracy on the
//! official 10,000 test images, a plot of the curves (`target/mnist.svg`;
//! an SVG written by hand in `examples/common/plot.rs`, because a few lines
//! and labels need no plotting library), and the trained model in
//! constnet's format (`target/mnist.cnet`, see `FORMAT.md`). Last, the
//! network is quantised to int8 after training, the sizes and test
//! accuracies of both forms are printed, and the int8 network is saved
//! too (`target/mnist-int8.cnet`, format version 3).
//!
//! Run it with `cargo run --release --example mnist`, or, to train and
//! validate on every core ([`Threads`](constnet::parallel::Threads)), with
//! `cargo run --release --features parallel --example mnist`.

use std::time::Instant;

#[cfg(not(feature = "parallel"))]
use constnet::fit::Fit;
use constnet::fit::{Control, EpochMetrics};
use constnet::metrics::ConfusionMatrix;
use constnet::optim::{Cosine, Scheduled};
use constnet::prelude::*;
use constnet::quant::Quantized;

#[path = "common/mod.rs"]
mod common;

use common::plot::{Panel, Series, svg};

network! {
    /// A 784-256-10 digit classifier whose outputs are logits.
    struct Mnist<f32> { 784 => Dense<256>, Relu, Dense<10> }
}

const EPOCHS: u32 = 12;
const BATCH: usize = 32;

/// How the accuracies below are measured: with the `parallel` feature,
/// on every core (`Threads::accuracy`, on threads of its own: training
/// holds the other `Threads` while it reports each epoch); otherwise by
/// [`accuracy`].
fn evaluator() -> impl FnMut(&Mnist, &[([f32; 784], usize)]) -> f64 {
    #[cfg(feature = "parallel")]
    {
        let mut threads = constnet::parallel::Threads::all();
        move |net: &Mnist, data: &[([f32; 784], usize)]| threads.accuracy(net, data)
    }
    #[cfg(not(feature = "parallel"))]
    accuracy
}

/// The fraction of `data` classified correctly, predicted in batches.
#[cfg_attr(feature = "parallel", allow(dead_code))]
fn accuracy(net: &Mnist, data: &[([f32; 784], usize)]) -> f64 {
    let mut correct = 0;
    for chunk in data.chunks(64) {
        let mut x = [[0.0f32; 784]; 64];
        for (row, (input, _)) in x.iter_mut().zip(chunk) {
            *row = *input;
        }
        let y = net.predict_batch(&x);
        correct += y
            .iter()
            .zip(chunk)
            .filter(|(y, (_, c))| constnet::scalar::argmax(&y[..]) == *c)
            .count();
    }
    correct as f64 / data.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut train = common::mnist(true)?;
    let test = common::mnist(false)?;
    println!(
        "MNIST: {} training and {} test images, loaded in {:.1?}",
        train.len(),
        test.len(),
        start.elapsed()
    );

    let mut rng = SmallRng::seed_from_u64(1);
    let mut net = Box::new(Mnist::random(&mut rng));
    println!("{}\n", net.summary());
    let batches = u32::try_from(train.len().div_ceil(BATCH))?;
    let sgd = Sgd::new(0.05)?.momentum(0.9)?;
    let mut opt = Box::new(
        Scheduled::new(
            sgd,
            Cosine {
                period: EPOCHS,
                min: 0.0,
            },
        )?
        .every(batches)?,
    );

    // Training accuracy is measured on a fixed tenth of the training set:
    // `fit` holds the whole set while it shuffles and trains on it.
    let train_sample = train[..6_000].to_vec();
    let mut curves: Vec<(f64, f64, f64)> = Vec::new(); // loss, train, test accuracy
    let mut last = Instant::now();
    let samples = train.len();
    println!("epoch   loss   train¹    test   elapsed   samples/s");
    let mut accuracy = evaluator();
    let mut progress = |net: &Mnist, m: &EpochMetrics| {
        let seconds = last.elapsed().as_secs_f64();
        let train_accuracy = accuracy(net, &train_sample);
        let test_accuracy = m.validation_accuracy.unwrap_or(f64::NAN);
        println!(
            "{:5}  {:.4}  {:5.2} %  {:5.2} %  {:6.1} s  {:10.0}",
            m.epoch,
            m.train_loss,
            100.0 * train_accuracy,
            100.0 * test_accuracy,
            start.elapsed().as_secs_f64(),
            samples as f64 / seconds
        );
        curves.push((m.train_loss, train_accuracy, test_accuracy));
        last = Instant::now();
        Control::Continue
    };
    #[cfg(not(feature = "parallel"))]
    net.fit::<BATCH>(
        &mut train,
        &test,
        &SoftmaxCrossEntropy,
        &mut *opt,
        &mut rng,
        EPOCHS as usize,
        &mut progress,
    )?;
    #[cfg(feature = "parallel")]
    {
        let mut threads = constnet::parallel::Threads::all();
        net.fit_on::<BATCH>(
            &mut train,
            &test,
            &SoftmaxCrossEntropy,
            &mut *opt,
            &mut rng,
            EPOCHS as usize,
            &mut progress,
            &mut threads,
        )?;
        println!(
            "training used {} of {} threads{} (measured: `Threads::chosen`)",
            threads.chosen::<BATCH>().unwrap_or(1),
            threads.count(),
            match threads.chosen_sharing::<BATCH>() {
                Some(sharing) => format!(", sharing out the {sharing:?}").to_lowercase(),
                None => String::new(),
            }
        );
    }

    println!("¹ on a fixed sample of 6,000 training images\n");
    println!("{}", ConfusionMatrix::<10>::of(&*net, &test));
    println!(
        "test accuracy {:.2} % on the official 10,000 test images",
        100.0 * accuracy(&net, &test)
    );
    // Post-training int8 quantisation, calibrated on 1,000 training images.
    let calibration: Vec<[f32; 784]> = train.iter().step_by(60).map(|s| s.0).collect();
    let int8 = common::quantize_and_compare(&*net, &calibration, &test)?;

    let losses: Vec<f64> = curves.iter().map(|c| c.0).collect();
    let train_acc: Vec<f64> = curves.iter().map(|c| 100.0 * c.1).collect();
    let test_acc: Vec<f64> = curves.iter().map(|c| 100.0 * c.2).collect();
    // The loss axis ends at the first tenth above the largest loss.
    let max_loss = (losses.iter().cloned().fold(0.0, f64::max) * 10.0).ceil() / 10.0;
    let plot = svg(&[
        Panel {
            title: "training loss (cross-entropy)",
            y_range: (0.0, max_loss),
            tick: |v| format!("{v:.2}"),
            series: &[Series {
                name: "loss",
                colour: "#c0392b",
                values: &losses,
            }],
            legend_top: true,
        },
        Panel {
            title: "accuracy",
            y_range: (95.0, 100.0),
            tick: |v| format!("{v:.0} %"),
            series: &[
                Series {
                    name: "train",
                    colour: "#2471a3",
                    values: &train_acc,
                },
                Series {
                    name: "test",
                    colour: "#27ae60",
                    values: &test_acc,
                },
            ],
            legend_top: false,
        },
    ]);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target");
    std::fs::create_dir_all(dir)?;
    let path = format!("{dir}/mnist.svg");
    std::fs::write(&path, plot).map_err(|e| format!("{path}: {e}"))?;
    let model = format!("{dir}/mnist.cnet");
    net.save_file(&model)?;
    let reloaded = Mnist::load_file(&model)?;
    assert!(reloaded == *net, "the saved model loads back bit for bit");
    let model_int8 = format!("{dir}/mnist-int8.cnet");
    int8.save_file(&model_int8)?;
    let reloaded = Quantized::<Mnist>::load_file(&model_int8)?;
    assert!(
        reloaded.encode_to_vec() == int8.encode_to_vec(),
        "the saved int8 model loads back bit for bit"
    );
    println!(
        "wrote {path}, the model, {model} ({} bytes), and its int8 form, {model_int8} ({} bytes)",
        Mnist::ENCODED_LEN,
        Quantized::<Mnist>::ENCODED_LEN
    );
    println!("total {:.1?}", start.elapsed());
    Ok(())
}
