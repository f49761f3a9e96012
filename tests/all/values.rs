//! One forward and one backward pass of a small network, and two SGD steps
//! with momentum and with Nesterov momentum, against reference values
//! computed independently in Python.
//!
//! The network is 2-3-2, `Dense<3>, Tanh, Dense<2>`, trained on logits with
//! `SoftmaxCrossEntropy` and class-index targets, on a batch of 3 samples.
//!
//! # Reference values
//!
//! Computed with numpy 2.4.6 (Python 3.11.7, float64) by the script below;
//! the literals in this file are its output, printed with `repr` (shortest
//! round-trip), so they are the exact `f64` values numpy computed. Rerun it
//! with `pip install numpy && python3 ref.py`.
//!
//! ```python
//! import numpy as np
//!
//! W1 = np.array([[0.5, -0.3], [0.8, 0.2], [-0.6, 0.9]])
//! b1 = np.array([0.1, -0.2, 0.05])
//! W2 = np.array([[0.7, -0.5, 0.3], [-0.4, 0.6, 0.9]])
//! b2 = np.array([0.2, -0.1])
//! X = np.array([[1.0, -2.0], [0.5, 1.5], [-1.2, 0.4]])
//! classes = np.array([0, 1, 1])
//! B = len(X)
//!
//! def forward_backward(W1, b1, W2, b2):
//!     h = np.tanh(X @ W1.T + b1)              # hidden, B x 3
//!     z = h @ W2.T + b2                       # logits, B x 2
//!     m = z.max(axis=1, keepdims=True)
//!     lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
//!     loss = np.mean(lse - z[np.arange(B), classes])
//!     p = np.exp(z - lse[:, None])
//!     dz = p.copy(); dz[np.arange(B), classes] -= 1.0; dz /= B
//!     dW2 = dz.T @ h; db2 = dz.sum(axis=0)
//!     dh = dz @ W2
//!     da = dh * (1.0 - h * h)
//!     dW1 = da.T @ X; db1 = da.sum(axis=0)
//!     dX = da @ W1
//!     return z, loss, [dW1, db1, dW2, db2], dX
//!
//! def show(name, a):
//!     print(f"{name} = {np.asarray(a).tolist()!r}")
//!
//! z, loss, grads, dX = forward_backward(W1, b1, W2, b2)
//! print("numpy", np.__version__)
//! show("logits", z); show("loss", loss)
//! for n, g in zip(["dW1", "db1", "dW2", "db2"], grads): show(n, g)
//! show("dX", dX)
//!
//! def sgd(nesterov, lr=0.1, alpha=0.9, steps=2):
//!     params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
//!     vel = [np.zeros_like(p) for p in params]
//!     for s in range(steps):
//!         _, l, g, _ = forward_backward(*params)
//!         show(f"{'nesterov' if nesterov else 'momentum'} loss before step {s + 1}", l)
//!         for p, v, gi in zip(params, vel, g):
//!             v *= alpha; v -= lr * gi                 # v <- a v - lr g
//!             if nesterov:
//!                 p += alpha * v - lr * gi             # p <- p + a v - lr g
//!             else:
//!                 p += v                               # p <- p + v
//!         for n, p in zip(["W1", "b1", "W2", "b2"], params):
//!             show(f"{'nesterov' if nesterov else 'momentum'} step {s + 1} {n}", p)
//! sgd(False); sgd(True)
//! ```
//!
//! The forward values, the loss and the gradients were cross-checked with
//! the same computation in 50-digit `decimal` arithmetic (Python's standard
//! library, `tanh(x) = (e²ˣ − 1)/(e²ˣ + 1)`, one sample at a time, no
//! numpy): numpy's values agree with it to a relative `2e-15` or better,
//! so the tolerance here, a relative `1e-12`, measures constnet and not
//! the reference.

use constnet::prelude::*;

network! {
    /// A 2-3-2 classifier on logits.
    struct Small<f64> { 2 => Dense<3>, Tanh, Dense<2> }
}

/// The relative tolerance against the reference values.
const RTOL: f64 = 1e-12;

const W1: [[f64; 2]; 3] = [[0.5, -0.3], [0.8, 0.2], [-0.6, 0.9]];
const B1: [f64; 3] = [0.1, -0.2, 0.05];
const W2: [[f64; 3]; 2] = [[0.7, -0.5, 0.3], [-0.4, 0.6, 0.9]];
const B2: [f64; 2] = [0.2, -0.1];

/// The batch: three inputs and their classes.
const BATCH: [([f64; 2], usize); 3] = [([1.0, -2.0], 0), ([0.5, 1.5], 1), ([-1.2, 0.4], 1)];

// numpy's output.
const LOGITS: [[f64; 2]; 3] = [
    [0.39027854398776546, -1.1988127130947936],
    [0.13932353166071498, 0.9375866117905548],
    [0.4541157071949521, 0.3744490890548715],
];
const LOSS: f64 = 0.4303848831914064;
const D_W1: [[f64; 2]; 3] = [
    [-0.12189249818357215, 0.26003088987396006],
    [0.09981103754123173, -0.282004349220303],
    [0.03276657306375248, -0.05010600262440796],
];
const D_B1: [f64; 3] = [
    0.22645261877863637,
    -0.10046759656850084,
    -0.056675085187659235,
];
const D_W2: [[f64; 3]; 2] = [
    [
        -0.1529285959775111,
        -0.10080221649659911,
        0.27886086513263175,
    ],
    [
        0.1529285959775111,
        0.10080221649659911,
        -0.27886086513263175,
    ],
];
const D_B2: [f64; 2] = [0.22026384121917963, -0.22026384121917963];
const D_X: [[f64; 2]; 3] = [
    [0.03758046202727979, 0.01872423282251735],
    [-0.001885670270901199, -0.07177511613427306],
    [0.031162491490734467, -0.08598599830442868],
];

/// Parameters `(W1, b1, W2, b2)` after a step.
type Params = ([[f64; 2]; 3], [f64; 3], [[f64; 3]; 2], [f64; 2]);

/// Classic momentum, η = 0.1, α = 0.9: the loss before each step and the
/// parameters after it.
const MOMENTUM: [(f64, Params); 2] = [
    (
        0.4303848831914064,
        (
            [
                [0.5121892498183572, -0.326003088987396],
                [0.7900188962458768, 0.22820043492203032],
                [-0.6032766573063753, 0.9050106002624408],
            ],
            [
                0.07735473812213636,
                -0.18995324034314992,
                0.055667508518765924,
            ],
            [
                [0.715292859597751, -0.48991977835034006, 0.2721139134867368],
                [-0.41529285959775114, 0.58991977835034, 0.9278860865132632],
            ],
            [0.17797361587808205, -0.07797361587808205],
        ),
    ),
    (
        0.37717305964454795,
        (
            [
                [0.534013332821449, -0.37245573435102997],
                [0.771240577613706, 0.27816778777723894],
                [-0.6094911582671011, 0.9143004576823376],
            ],
            [
                0.036782967382262964,
                -0.17229141188214078,
                0.06624210333875642,
            ],
            [
                [0.7440634719947736, -0.472245078222993, 0.22173798497244993],
                [-0.4440634719947738, 0.572245078222993, 0.9782620150275501],
            ],
            [0.138348490600853, -0.038348490600852984],
        ),
    ),
];

/// Nesterov momentum, η = 0.1, α = 0.9: the loss before each step and the
/// parameters after it.
const NESTEROV: [(f64, Params); 2] = [
    (
        0.4303848831914064,
        (
            [
                [0.5231595746548787, -0.3494058690760524],
                [0.7810359028671661, 0.2535808263518576],
                [-0.6062256488821129, 0.9095201404986375],
            ],
            [
                0.05697400243205909,
                -0.18091115665198484,
                0.060768266185655256,
            ],
            [
                [
                    0.7290564332357271,
                    -0.48084757886564616,
                    0.24701643562479997,
                ],
                [-0.4290564332357271, 0.5808475788656462, 0.9529835643752],
            ],
            [0.15814987016835588, -0.05814987016835587],
        ),
    ),
    (
        0.3339250133186671,
        (
            [
                [0.5514601138446947, -0.4093830329226646],
                [0.7548920554976776, 0.3175219094173549],
                [-0.6149795104879731, 0.9221844526537092],
            ],
            [
                0.004420695744656193,
                -0.15855871079696562,
                0.0753147962034674,
            ],
            [
                [0.7691121008309664, -0.4586405825518228, 0.18067687039125152],
                [-0.4691121008309664, 0.5586405825518228, 1.0193231296087486],
            ],
            [0.1063775627276334, -0.0063775627276333804],
        ),
    ),
];

/// The network with the reference parameters, written through the flat
/// tensors (`W1`, `b1`, `W2`, `b2` in layer order), so that the test does
/// not depend on how `network!` nests its `Chain`s.
fn reference_net() -> Small {
    let mut net = Small::random(&mut SmallRng::seed_from_u64(0));
    let layers = net.layers_mut();
    assert_eq!(<<Small as Network>::Layers as Tensors<f64>>::COUNT, 4);
    layers.tensor_mut(0).copy_from_slice(W1.as_flattened());
    layers.tensor_mut(1).copy_from_slice(&B1);
    layers.tensor_mut(2).copy_from_slice(W2.as_flattened());
    layers.tensor_mut(3).copy_from_slice(&B2);
    net
}

/// Asserts `actual ≈ expected` to a relative `RTOL` (with a floor of
/// `1e-15` in absolute terms for values near zero).
#[track_caller]
fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= RTOL * e.abs() + 1e-15,
            "{what}[{i}]: {a:e} != {e:e} (relative error {:e})\nactual:   {actual:?}\nexpected: {expected:?}",
            ((a - e) / e).abs()
        );
    }
}

/// The parameters as the list of tensors `(W1, b1, W2, b2)`, in the order
/// of [`Tensors`].
fn params_flat(p: &Params) -> Vec<f64> {
    let (w1, b1, w2, b2) = p;
    [w1.as_flattened(), b1, w2.as_flattened(), b2].concat()
}

/// All tensors of a parameter-shaped value, concatenated.
fn flat<T: Tensors<f64>>(t: &T) -> Vec<f64> {
    (0..T::COUNT).flat_map(|i| t.tensor(i).to_vec()).collect()
}

#[test]
fn forward_pass() {
    let net = reference_net();
    let inputs = BATCH.map(|(x, _)| x);
    let batch = net.predict_batch(&inputs);
    assert_close(
        "logits (batch)",
        batch.as_flattened(),
        LOGITS.as_flattened(),
    );
    for (b, x) in inputs.iter().enumerate() {
        assert_close(&format!("logits (sample {b})"), &net.predict(x), &LOGITS[b]);
    }
    assert_close(
        "mean loss",
        &[net.mean_loss(&BATCH, &SoftmaxCrossEntropy).unwrap()],
        &[LOSS],
    );
    // The predicted classes are the arg-max of the logits: 0, 1, 0.
    let classes: Vec<usize> = inputs.iter().map(|x| net.classify(x)).collect();
    assert_eq!(classes, [0, 1, 0]);
}

#[test]
fn backward_pass() {
    let net = reference_net();

    // Parameter gradients of the mean loss.
    let mut grads = Gradients::<Small>::ZERO;
    let loss = net.loss_and_gradients(&BATCH, &SoftmaxCrossEntropy, &mut grads);
    assert_close("loss", &[loss], &[LOSS]);
    assert_close("dW1", grads.tensor(0), D_W1.as_flattened());
    assert_close("db1", grads.tensor(1), &D_B1);
    assert_close("dW2", grads.tensor(2), D_W2.as_flattened());
    assert_close("db2", grads.tensor(3), &D_B2);

    // Input gradient of the mean loss: the layers' own forward and backward
    // passes, with dx asked for.
    let layers = net.layers();
    let x = BATCH.map(|(x, _)| x);
    let mut y = [[0.0; 2]; 3];
    let mut trace = Zeroed::ZERO;
    layers.forward_train(&x, &mut y, &mut trace);
    assert_close(
        "logits (training pass)",
        y.as_flattened(),
        LOGITS.as_flattened(),
    );
    let mut dy = [[0.0; 2]; 3];
    for ((yb, dyb), (_, class)) in y.iter().zip(&mut dy).zip(&BATCH) {
        SoftmaxCrossEntropy.loss_grad(yb, class, dyb);
        dyb.iter_mut().for_each(|g| *g /= 3.0);
    }
    let mut direct = Gradients::<Small>::ZERO;
    let mut dx = [[f64::NAN; 2]; 3];
    layers.backward(&x, &y, &dy, &trace, &mut direct.0, Some(&mut dx));
    assert_close("dX", dx.as_flattened(), D_X.as_flattened());
    assert_close(
        "parameter gradients (direct)",
        &flat(&direct),
        &flat(&grads),
    );
}

/// Two `train_batch` steps with `opt`, checked against the reference.
fn check_steps(name: &str, mut opt: Sgd<Small>, reference: &[(f64, Params); 2]) {
    let mut net = reference_net();
    for (step, (loss_before, params)) in reference.iter().enumerate() {
        let loss = net
            .train_batch(&BATCH, &SoftmaxCrossEntropy, &mut opt)
            .unwrap();
        assert_close(
            &format!("{name} loss before step {}", step + 1),
            &[loss],
            &[*loss_before],
        );
        assert_close(
            &format!("{name} parameters after step {}", step + 1),
            &flat(net.layers()),
            &params_flat(params),
        );
    }
}

#[test]
fn sgd_step_with_momentum() {
    check_steps(
        "momentum",
        Sgd::new(0.1).unwrap().momentum(0.9).unwrap(),
        &MOMENTUM,
    );

    // After one step from rest, the velocity is −η g.
    let mut net = reference_net();
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    net.train_batch(&BATCH, &SoftmaxCrossEntropy, &mut opt)
        .unwrap();
    let expected: Vec<f64> = [D_W1.as_flattened(), &D_B1, D_W2.as_flattened(), &D_B2]
        .concat()
        .iter()
        .map(|g| -0.1 * g)
        .collect();
    assert_close("velocity after step 1", &flat(opt.velocity()), &expected);
}

#[test]
fn sgd_step_with_nesterov() {
    check_steps(
        "nesterov",
        Sgd::new(0.1).unwrap().nesterov(0.9).unwrap(),
        &NESTEROV,
    );
}
