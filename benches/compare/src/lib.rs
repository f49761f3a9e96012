//! The libraries constnet is compared with, behind small safe wrappers:
//! FANN (the C library, single precision) for the tiny network, candle for
//! inference of a wider one. Each is given constnet's weights, and
//! [`Fann::run`] and [`Candle::predict`] are checked against constnet's
//! outputs before anything is timed, so both sides compute the same
//! function.

use std::ffi::{c_uint, c_void};

/// A FANN network of fully connected layers (`struct fann *`), owned.
pub struct Fann(*mut c_void);

/// FANN's `struct fann_connection`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Connection {
    from: c_uint,
    to: c_uint,
    weight: f32,
}

// FANN's API (fann.h, fann_train.h), as libfloatfann exports it.
unsafe extern "C" {
    fn fann_create_standard_array(layers: c_uint, sizes: *const c_uint) -> *mut c_void;
    fn fann_destroy(ann: *mut c_void);
    fn fann_copy(ann: *mut c_void) -> *mut c_void;
    fn fann_run(ann: *mut c_void, input: *const f32) -> *const f32;
    fn fann_train(ann: *mut c_void, input: *const f32, desired: *const f32);
    fn fann_set_learning_rate(ann: *mut c_void, rate: f32);
    fn fann_set_activation_function_hidden(ann: *mut c_void, function: c_uint);
    fn fann_set_activation_function_output(ann: *mut c_void, function: c_uint);
    fn fann_set_activation_steepness_hidden(ann: *mut c_void, steepness: f32);
    fn fann_set_activation_steepness_output(ann: *mut c_void, steepness: f32);
    fn fann_get_total_connections(ann: *mut c_void) -> c_uint;
    fn fann_get_connection_array(ann: *mut c_void, connections: *mut Connection);
    fn fann_set_weight_array(ann: *mut c_void, connections: *const Connection, count: c_uint);
    fn fann_set_train_error_function(ann: *mut c_void, function: c_uint);
}

/// A connection of a `2-H-1` network as one of constnet's parameters.
enum Place {
    W1(usize),
    B1(usize),
    W2(usize),
    B2,
}

/// `FANN_SIGMOID`: `1 / (1 + e^(-2 s x))`, the logistic sigmoid at
/// steepness `s = 0.5`.
const SIGMOID: c_uint = 3;
/// `FANN_ERRORFUNC_LINEAR`: the output error as it is, `target − y`
/// (FANN's default stretches it through `atanh`).
const ERRORFUNC_LINEAR: c_uint = 0;
/// `FANN_SIGMOID_SYMMETRIC`: `tanh(s x)`, the hyperbolic tangent at
/// steepness `s = 1`.
const SIGMOID_SYMMETRIC: c_uint = 5;

impl Fann {
    /// A `2-H-1` network, tanh hidden and sigmoid output (as constnet's
    /// `Tanh` and `Sigmoid`), trained by per-sample back-propagation with
    /// learning rate `rate` on the plain error `target − y`, with the
    /// weights `w1` (`H × 2`, row-major),
    /// `b1`, `w2` (`1 × H`) and `b2`.
    ///
    /// # Panics
    ///
    /// If FANN cannot make the network, or the shapes disagree.
    pub fn tanh_sigmoid(w1: &[f32], b1: &[f32], w2: &[f32], b2: f32, rate: f32) -> Fann {
        let hidden = b1.len();
        assert!(w1.len() == 2 * hidden && w2.len() == hidden);
        let sizes = [2, hidden as c_uint, 1];
        // SAFETY: `sizes` holds the 3 layer sizes FANN reads.
        let ann = unsafe { fann_create_standard_array(3, sizes.as_ptr()) };
        assert!(!ann.is_null(), "FANN could not make a 2-{hidden}-1 network");
        let fann = Fann(ann);
        // SAFETY: `ann` is a live network; the setters take plain values.
        unsafe {
            fann_set_activation_function_hidden(ann, SIGMOID_SYMMETRIC);
            fann_set_activation_steepness_hidden(ann, 1.0);
            fann_set_activation_function_output(ann, SIGMOID);
            fann_set_activation_steepness_output(ann, 0.5);
            fann_set_learning_rate(ann, rate);
            fann_set_train_error_function(ann, ERRORFUNC_LINEAR);
        }
        let mut connections = fann.connections();
        for (c, place) in connections.iter_mut().zip(fann.places()) {
            c.weight = match place {
                Place::W1(i) => w1[i],
                Place::B1(i) => b1[i],
                Place::W2(i) => w2[i],
                Place::B2 => b2,
            };
        }
        // SAFETY: `connections` holds every connection of this network.
        unsafe { fann_set_weight_array(ann, connections.as_ptr(), connections.len() as c_uint) };
        fann
    }

    /// The parameters, in constnet's order and layout: `w1` (`H × 2`),
    /// `b1`, `w2` (`1 × H`), `b2`.
    pub fn parameters(&self) -> [Vec<f32>; 4] {
        let hidden = self.hidden();
        let mut p = [
            vec![0.0; 2 * hidden],
            vec![0.0; hidden],
            vec![0.0; hidden],
            vec![0.0],
        ];
        for (c, place) in self.connections().iter().zip(self.places()) {
            match place {
                Place::W1(i) => p[0][i] = c.weight,
                Place::B1(i) => p[1][i] = c.weight,
                Place::W2(i) => p[2][i] = c.weight,
                Place::B2 => p[3][0] = c.weight,
            }
        }
        p
    }

    /// Every connection, as FANN lists them.
    fn connections(&self) -> Vec<Connection> {
        // SAFETY: `self.0` is a live network.
        let total = unsafe { fann_get_total_connections(self.0) } as usize;
        let mut connections = vec![
            Connection {
                from: 0,
                to: 0,
                weight: 0.0
            };
            total
        ];
        // SAFETY: the array has the `total` connections FANN writes.
        unsafe { fann_get_connection_array(self.0, connections.as_mut_ptr()) };
        connections
    }

    /// The hidden units: 2 inputs, their bias, the hidden units, their
    /// bias and 1 output make every neuron.
    fn hidden(&self) -> usize {
        // SAFETY: `self.0` is a live network.
        (unsafe { fann_get_total_connections(self.0) } as usize - 1) / 4
    }

    /// What each connection of [`connections`](Fann::connections) is in
    /// constnet's terms. Neurons are numbered layer after layer, each layer
    /// followed by its bias neuron: inputs 0 and 1, bias 2; hidden units
    /// from 3, their bias 3 + H; the output 4 + H.
    fn places(&self) -> impl Iterator<Item = Place> {
        let hidden = self.hidden();
        let (bias0, first, bias1, output) = (2, 3, 3 + hidden, 4 + hidden);
        self.connections().into_iter().map(move |c| {
            let (from, to) = (c.from as usize, c.to as usize);
            match (from, to) {
                (f, t) if t == output && f == bias1 => Place::B2,
                (f, t) if t == output => Place::W2(f - first),
                (f, t) if f == bias0 => Place::B1(t - first),
                (f, t) => Place::W1((t - first) * 2 + f),
            }
        })
    }

    /// The network's output for `x`.
    pub fn run(&self, x: &[f32; 2]) -> f32 {
        // SAFETY: `x` has the network's 2 inputs; FANN returns a pointer to
        // its 1 output, valid until the next call on this network.
        unsafe { *fann_run(self.0, x.as_ptr()) }
    }

    /// One step of back-propagation on the sample `(x, target)`.
    pub fn train(&mut self, x: &[f32; 2], target: f32) {
        // SAFETY: `x` has the 2 inputs and `target` the 1 output FANN reads.
        unsafe { fann_train(self.0, x.as_ptr(), &target) }
    }
}

impl Clone for Fann {
    fn clone(&self) -> Fann {
        // SAFETY: `self.0` is a live network.
        let copy = unsafe { fann_copy(self.0) };
        assert!(!copy.is_null(), "FANN could not copy a network");
        Fann(copy)
    }
}

impl Drop for Fann {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a live network, destroyed once.
        unsafe { fann_destroy(self.0) }
    }
}

/// A `I-H-O` ReLU network in candle (`Linear`, `relu`, `Linear`), on the
/// CPU, with constnet's weights.
pub struct Candle {
    first: candle_nn::Linear,
    second: candle_nn::Linear,
    inputs: usize,
}

impl Candle {
    /// The network with weights `w1` (`H × I`, row-major, the layout both
    /// libraries use), `b1`, `w2` (`O × H`), `b2`.
    ///
    /// # Panics
    ///
    /// If the shapes disagree.
    pub fn relu(inputs: usize, w1: &[f32], b1: &[f32], w2: &[f32], b2: &[f32]) -> Candle {
        use candle_core::{Device, Tensor};
        let (hidden, outputs) = (b1.len(), b2.len());
        let tensor =
            |v: &[f32], shape: &[usize]| Tensor::from_slice(v, shape, &Device::Cpu).unwrap();
        Candle {
            first: candle_nn::Linear::new(
                tensor(w1, &[hidden, inputs]),
                Some(tensor(b1, &[hidden])),
            ),
            second: candle_nn::Linear::new(
                tensor(w2, &[outputs, hidden]),
                Some(tensor(b2, &[outputs])),
            ),
            inputs,
        }
    }

    /// The outputs for a batch of inputs, `inputs` values each, read back
    /// into a `Vec` per input, as a program that uses them would.
    pub fn predict(&self, batch: &[f32]) -> Vec<Vec<f32>> {
        use candle_core::{Device, Module, Tensor};
        let x = Tensor::from_slice(
            batch,
            (batch.len() / self.inputs, self.inputs),
            &Device::Cpu,
        )
        .unwrap();
        let h = self.first.forward(&x).unwrap().relu().unwrap();
        self.second.forward(&h).unwrap().to_vec2().unwrap()
    }
}
