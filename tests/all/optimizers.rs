//! Adam, AdamW, RMSprop, schedules, gradient clipping and both forms of
//! momentum, three steps each on three parameters, against values computed
//! independently by `tests/fixtures/optim/reference.py` (PyTorch's
//! documented update rules in plain Python floats).

use constnet::optim::{Adam, Cosine, Exponential, LearningRate, RmsProp, Scheduled, StepDecay};
use constnet::prelude::*;

network! {
    /// Three parameters: weights w0, w1 and a bias.
    struct Three<f64> { 2 => Dense<1> }
}

const THETA0: [f64; 3] = [0.5, -1.25, 0.75];
const GRADS: [[f64; 3]; 3] = [[0.3, -0.2, 0.1], [-0.4, 0.25, 0.05], [0.1, 0.1, -0.3]];

// Printed by `python3 tests/fixtures/optim/reference.py`.
const ADAM: [f64; 3] = [0.4214822253001728, -1.197337462661603, 0.5915044067303887];
const ADAM_L2: [f64; 3] = [0.3943907410082072, -1.0888235659332388, 0.5530189736524619];
const ADAMW: [f64; 3] = [0.4201642737531432, -1.1937748381761595, 0.5895497739124869];
const ADAM_BETAS: [f64; 3] = [0.46458643621443896, -1.2295576431874993, 0.6754319941087845];
const RMSPROP: [f64; 3] = [0.4604036425374154, -1.2582440454419737, 0.6989055997828121];
const RMSPROP_MOMENTUM_DECAY: [f64; 3] =
    [0.44848985805362135, -1.1853513855482163, 0.6529810131145372];
const SGD_COSINE_DISPLACEMENT: [f64; 3] = [0.47435, -1.2358624999999999, 0.7252875];
const SGD_COSINE_PYTORCH: [f64; 3] = [0.4806275, -1.2407225, 0.7348049999999999];
const NESTEROV_COSINE_DISPLACEMENT: [f64; 3] = [0.474665, -1.23990125, 0.72363375];
const NESTEROV_COSINE_PYTORCH: [f64; 3] = [0.48031474999999996, -1.24427525, 0.7321995];
const SGD_CLIPPED: [f64; 3] = [0.4947996049312417, -1.2558806909163662, 0.7606372349144594];

fn params(net: &Three) -> [f64; 3] {
    let l = net.layers();
    [l.tensor(0)[0], l.tensor(0)[1], l.tensor(1)[0]]
}

/// Three steps of `opt` from `THETA0` with the gradients `GRADS`.
fn run(mut opt: impl Optimizer<Three>) -> [f64; 3] {
    let mut net = Three::new(Dense::new([[THETA0[0], THETA0[1]]], [THETA0[2]]));
    for g in GRADS {
        let grads = Gradients::<Three>(Dense::new([[g[0], g[1]]], [g[2]]));
        opt.step(&mut net, &grads).unwrap();
    }
    params(&net)
}

#[track_caller]
fn assert_close(got: [f64; 3], want: [f64; 3]) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1e-3),
            "got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn adam_matches_pytorch() {
    assert_close(run(Adam::new(0.1).unwrap()), ADAM);
    assert_close(
        run(Adam::new(0.1).unwrap().weight_decay(0.1).unwrap()),
        ADAM_L2,
    );
    assert_close(
        run(Adam::new(0.05)
            .unwrap()
            .betas(0.8, 0.9)
            .unwrap()
            .eps(1e-3)
            .unwrap()),
        ADAM_BETAS,
    );
}

#[test]
fn adamw_matches_pytorch() {
    assert_close(run(Adam::adamw(0.1).unwrap()), ADAMW);
    // AdamW's decay is not Adam's L2 term.
    assert!((ADAMW[0] - ADAM_L2[0]).abs() > 1e-3);
}

#[test]
fn rmsprop_matches_pytorch() {
    assert_close(run(RmsProp::new(0.01).unwrap()), RMSPROP);
    let opt = RmsProp::new(0.01)
        .unwrap()
        .alpha(0.9)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .weight_decay(0.1)
        .unwrap();
    assert_close(run(opt), RMSPROP_MOMENTUM_DECAY);
}

#[test]
fn a_schedule_drives_either_form_of_momentum() {
    let cosine = Cosine {
        period: 3,
        min: 0.01,
    };
    let sgd = || Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    assert_close(
        run(Scheduled::new(sgd(), cosine).unwrap()),
        SGD_COSINE_DISPLACEMENT,
    );
    assert_close(
        run(Scheduled::new(sgd().pytorch_form(), cosine).unwrap()),
        SGD_COSINE_PYTORCH,
    );
    let nesterov = || Sgd::new(0.1).unwrap().nesterov(0.9).unwrap();
    assert_close(
        run(Scheduled::new(nesterov(), cosine).unwrap()),
        NESTEROV_COSINE_DISPLACEMENT,
    );
    assert_close(
        run(Scheduled::new(nesterov().pytorch_form(), cosine).unwrap()),
        NESTEROV_COSINE_PYTORCH,
    );
    // The two forms part once the rate changes.
    assert!((SGD_COSINE_DISPLACEMENT[0] - SGD_COSINE_PYTORCH[0]).abs() > 1e-3);
}

#[test]
fn the_two_forms_agree_while_the_rate_is_constant() {
    let a = run(Sgd::new(0.1).unwrap().momentum(0.9).unwrap());
    let b = run(Sgd::new(0.1).unwrap().momentum(0.9).unwrap().pytorch_form());
    assert_close(a, b);
}

#[test]
fn clipping_scales_long_gradients_only() {
    assert_close(
        run(Sgd::new(0.1).unwrap().clip_norm(0.2).unwrap()),
        SGD_CLIPPED,
    );
    // A bound above every gradient's norm changes nothing.
    assert_close(
        run(Sgd::new(0.1).unwrap().clip_norm(10.0).unwrap()),
        run(Sgd::new(0.1).unwrap()),
    );
    assert_close(run(Adam::new(0.1).unwrap().clip_norm(10.0).unwrap()), ADAM);
}

#[test]
fn scheduled_counts_steps_in_units_of_every() {
    let mut opt = Scheduled::new(
        Sgd::<Three>::new(1.0).unwrap(),
        StepDecay {
            every: 2,
            gamma: 0.5,
        },
    )
    .unwrap()
    .every(3)
    .unwrap();
    let mut net = Three::new(Dense::new([[0.0, 0.0]], [0.0]));
    let grads = Gradients::<Three>(Dense::new([[0.0, 0.0]], [0.0]));
    let mut rates = [0.0; 8];
    for r in &mut rates {
        opt.step(&mut net, &grads).unwrap();
        *r = opt.learning_rate();
    }
    // Time advances every 3 steps; the rate halves every 2 units of time.
    assert_eq!(rates, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
    let exp = Exponential { gamma: 0.5 };
    let mut opt = Scheduled::new(Adam::<Three>::new(0.8).unwrap(), exp).unwrap();
    for _ in 0..3 {
        opt.step(&mut net, &grads).unwrap();
    }
    assert_eq!(opt.learning_rate(), 0.2); // the third step used 0.8 · 0.5²
}

network! {
    /// Three `f32` parameters, for the decay of an optimiser's state.
    struct Three32<f32> { 2 => Dense<1> }
}

/// Steps of `opt` with a gradient of 1 for every parameter, then steps
/// with a zero gradient until every piece of `state` is zero (at most
/// `limit` of them), and how many that took. IEEE arithmetic alone would
/// never get there: the state would stop a few subnormal units above zero
/// (`0.9 × 1.4e-45` rounds back to `1.4e-45`).
fn steps_to_zero<O: Optimizer<Three32>>(
    mut opt: O,
    limit: usize,
    state: impl Fn(&O) -> Vec<f32>,
) -> Option<usize> {
    let mut net = Three32::new(Dense::new([[0.5, -0.25]], [0.125]));
    let ones = Gradients::<Three32>(Dense::new([[1.0, 1.0]], [1.0]));
    let zero = Gradients::<Three32>(Dense::new([[0.0, 0.0]], [0.0]));
    opt.step(&mut net, &ones).unwrap();
    assert!(state(&opt).iter().all(|&s| s != 0.0));
    for n in 1..=limit {
        opt.step(&mut net, &zero).unwrap();
        let s = state(&opt);
        assert!(s.iter().all(|s| !s.is_subnormal()), "step {n}: {s:?}");
        if s.iter().all(|&s| s == 0.0) {
            return Some(n);
        }
    }
    None
}

fn flat(g: &Gradients<Three32>) -> Vec<f32> {
    (0..2).flat_map(|i| g.tensor(i).to_vec()).collect()
}

#[test]
fn the_state_of_a_parameter_without_gradient_decays_to_zero_not_to_subnormals() {
    // SGD: the velocity falls by 0.9 a step from 0.1 (lr · 1): below the
    // smallest normal f32 (1.2e-38) after ln(0.1 / 1.2e-38) / ln(1 / 0.9)
    // ≈ 807 steps, then zero.
    let sgd = Sgd::<Three32>::new(0.1).unwrap().momentum(0.9).unwrap();
    let n = steps_to_zero(sgd, 2_000, |o| flat(o.velocity())).expect("velocity reaches zero");
    assert!((800..=850).contains(&n), "{n} steps");
    // Adam: the second moment falls by 0.999 a step from 0.001: below
    // 1.2e-38 after about 81,000 steps.
    let adam = Adam::<Three32>::new(0.001).unwrap();
    let n = steps_to_zero(adam, 100_000, |o| {
        let (m, v) = o.moments();
        [flat(m), flat(v)].concat()
    })
    .expect("moments reach zero");
    assert!((80_000..=82_000).contains(&n), "{n} steps");
}
