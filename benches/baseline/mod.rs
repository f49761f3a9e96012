//! The baseline the benchmarks compare with: the multilayer perceptron a
//! user writes by hand without a library.
//!
//! Sizes are known only at run time; every layer keeps its weights in one
//! flat row-major `Vec<f32>` (`w[o * inputs + i]`, the layout constnet uses)
//! and its biases, gradients and momentum velocity in `Vec<f32>`s made once.
//! The passes are the textbook loops, one sample at a time: the forward pass
//! returns a new `Vec<f32>` per layer, the backward pass a new `Vec<f32>`
//! per delta, and a mini-batch is a loop over its samples that accumulates
//! the gradient. Nothing is hand-vectorised, nothing is unsafe, and the
//! compiler gets the same optimisation settings as constnet.

// Index loops over the outputs, as such code is usually written.
#![allow(clippy::needless_range_loop)]

use constnet::rand::seq::SliceRandom;
use constnet::rand::{Rng, RngExt};

/// An activation function.
#[derive(Clone, Copy, Debug)]
pub enum Act {
    /// `max(0, x)`.
    Relu,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// `x` (logits, before a softmax inside the loss).
    Identity,
}

impl Act {
    fn f(self, x: f32) -> f32 {
        match self {
            Act::Relu => x.max(0.0),
            Act::Tanh => x.tanh(),
            Act::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Act::Identity => x,
        }
    }

    /// The derivative, from the activation's output `y`.
    fn df(self, y: f32) -> f32 {
        match self {
            Act::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Act::Tanh => 1.0 - y * y,
            Act::Sigmoid => y * (1.0 - y),
            Act::Identity => 1.0,
        }
    }
}

/// The loss the network is trained with.
#[derive(Clone, Copy, Debug)]
pub enum Loss {
    /// Mean squared error against the class as a number (one output).
    Mse,
    /// Softmax and cross-entropy on the logits against a class index.
    SoftmaxCrossEntropy,
}

/// One dense layer and its activation.
#[derive(Clone)]
pub struct Layer {
    inputs: usize,
    outputs: usize,
    act: Act,
    w: Vec<f32>,
    b: Vec<f32>,
    gw: Vec<f32>,
    gb: Vec<f32>,
    vw: Vec<f32>,
    vb: Vec<f32>,
}

/// A multilayer perceptron trained by mini-batch SGD with momentum.
#[derive(Clone)]
pub struct Mlp {
    layers: Vec<Layer>,
    loss: Loss,
    lr: f32,
    momentum: f32,
}

impl Mlp {
    /// A network with layer widths `sizes` (input first), one activation per
    /// layer, and weights given per layer as `(w, b)` (row-major, `[out][in]`).
    pub fn new(sizes: &[usize], acts: &[Act], params: &[(&[f32], &[f32])], loss: Loss) -> Self {
        let layers = sizes
            .windows(2)
            .zip(acts)
            .zip(params)
            .map(|((io, &act), &(w, b))| {
                let (inputs, outputs) = (io[0], io[1]);
                assert_eq!(w.len(), inputs * outputs);
                assert_eq!(b.len(), outputs);
                Layer {
                    inputs,
                    outputs,
                    act,
                    w: w.to_vec(),
                    b: b.to_vec(),
                    gw: vec![0.0; inputs * outputs],
                    gb: vec![0.0; outputs],
                    vw: vec![0.0; inputs * outputs],
                    vb: vec![0.0; outputs],
                }
            })
            .collect();
        Mlp {
            layers,
            loss,
            lr: 0.0,
            momentum: 0.0,
        }
    }

    /// Sets the learning rate and momentum of SGD.
    pub fn sgd(mut self, lr: f32, momentum: f32) -> Self {
        self.lr = lr;
        self.momentum = momentum;
        self
    }

    /// The activations of every layer for one input, the input first.
    fn forward(&self, x: &[f32]) -> Vec<Vec<f32>> {
        let mut acts = vec![x.to_vec()];
        for layer in &self.layers {
            let input = acts.last().unwrap();
            let mut out = vec![0.0; layer.outputs];
            for o in 0..layer.outputs {
                let row = &layer.w[o * layer.inputs..(o + 1) * layer.inputs];
                let mut sum = layer.b[o];
                for (w, x) in row.iter().zip(input) {
                    sum += w * x;
                }
                out[o] = layer.act.f(sum);
            }
            acts.push(out);
        }
        acts
    }

    /// The output for one input.
    pub fn predict(&self, x: &[f32]) -> Vec<f32> {
        self.forward(x).pop().unwrap()
    }

    /// The loss of one output and its gradient with respect to the output
    /// (before the output activation's derivative).
    fn loss_grad(&self, y: &[f32], class: usize) -> (f32, Vec<f32>) {
        match self.loss {
            Loss::Mse => {
                let n = y.len() as f32;
                let t = class as f32;
                let loss = y.iter().map(|p| (p - t) * (p - t)).sum::<f32>() / n;
                (loss, y.iter().map(|p| 2.0 * (p - t) / n).collect())
            }
            Loss::SoftmaxCrossEntropy => {
                let max = y.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let exps: Vec<f32> = y.iter().map(|v| (v - max).exp()).collect();
                let sum: f32 = exps.iter().sum();
                let mut grad: Vec<f32> = exps.iter().map(|e| e / sum).collect();
                grad[class] -= 1.0;
                (max + sum.ln() - y[class], grad)
            }
        }
    }

    /// One SGD step on a mini-batch; returns its mean loss.
    pub fn train_batch(&mut self, batch: &[(Vec<f32>, usize)]) -> f32 {
        for layer in &mut self.layers {
            layer.gw.iter_mut().for_each(|g| *g = 0.0);
            layer.gb.iter_mut().for_each(|g| *g = 0.0);
        }
        let scale = 1.0 / batch.len() as f32;
        let mut total = 0.0;
        for (x, class) in batch {
            let acts = self.forward(x);
            let (loss, mut delta) = self.loss_grad(acts.last().unwrap(), *class);
            total += loss;
            for d in &mut delta {
                *d *= scale;
            }
            for l in (0..self.layers.len()).rev() {
                let layer = &mut self.layers[l];
                let (input, output) = (&acts[l], &acts[l + 1]);
                for (d, &y) in delta.iter_mut().zip(output) {
                    *d *= layer.act.df(y);
                }
                for o in 0..layer.outputs {
                    let row = &mut layer.gw[o * layer.inputs..(o + 1) * layer.inputs];
                    for (g, x) in row.iter_mut().zip(input) {
                        *g += delta[o] * x;
                    }
                    layer.gb[o] += delta[o];
                }
                if l > 0 {
                    let mut back = vec![0.0; layer.inputs];
                    for o in 0..layer.outputs {
                        let row = &layer.w[o * layer.inputs..(o + 1) * layer.inputs];
                        for (b, w) in back.iter_mut().zip(row) {
                            *b += delta[o] * w;
                        }
                    }
                    delta = back;
                }
            }
        }
        let (lr, momentum) = (self.lr, self.momentum);
        for layer in &mut self.layers {
            for ((w, v), g) in layer.w.iter_mut().zip(&mut layer.vw).zip(&layer.gw) {
                *v = momentum * *v - lr * g;
                *w += *v;
            }
            for ((b, v), g) in layer.b.iter_mut().zip(&mut layer.vb).zip(&layer.gb) {
                *v = momentum * *v - lr * g;
                *b += *v;
            }
        }
        total * scale
    }

    /// One epoch: shuffles `data`, then one step per batch of `batch`
    /// samples. Returns the mean loss.
    pub fn train_epoch(
        &mut self,
        data: &mut [(Vec<f32>, usize)],
        batch: usize,
        rng: &mut impl Rng,
    ) -> f32 {
        data.shuffle(rng);
        let mut total = 0.0;
        for chunk in data.chunks(batch) {
            total += self.train_batch(chunk) * chunk.len() as f32;
        }
        total / data.len() as f32
    }
}

/// A uniform value in `[-1, 1)`.
pub fn uniform(rng: &mut impl Rng) -> f32 {
    rng.random::<f32>() * 2.0 - 1.0
}
