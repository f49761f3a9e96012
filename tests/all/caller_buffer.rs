//! Training with a gradient buffer of the caller's (`train_batch_with`,
//! `train_epoch_with`) takes the same steps, bit for bit, as training with
//! the buffer each call makes (`train_batch`, `train_epoch`), with
//! optimisers built at run time or in `const`, and the buffer is left zero
//! by every call, one that fails included.

use constnet::optim::Adam;
use constnet::prelude::*;

network! {
    /// 3-6-2 with tanh, in `f32`.
    struct Net<f32> { 3 => Dense<6>, Tanh, Dense<2> }
}

/// Every scalar of every tensor, as bits: equal only if bit-identical.
fn bits<G: Tensors<f32>>(value: &G) -> Vec<u32> {
    let mut out = Vec::new();
    value.for_each_tensor(&mut |_, t| out.extend(t.iter().map(|x| x.to_bits())));
    out
}

/// Eleven samples: batches of 4 leave a last batch of 3.
fn data() -> Vec<([f32; 3], [f32; 2])> {
    (0..11)
        .map(|i| {
            let x = i as f32 / 5.0 - 1.0;
            ([x, x * x, 0.5 - x], [x.sin(), 0.25 * x])
        })
        .collect()
}

fn net() -> Net {
    Net::random(&mut SmallRng::seed_from_u64(11))
}

static SGD: Sgd<Net> = Sgd::new_const(0.05).momentum_const(0.9);
static ADAM: Adam<Net> = Adam::new_const(0.01);

/// `epochs` epochs with `train_epoch` and with `train_epoch_with` from the
/// same network, optimiser and seed: the losses, parameters and optimiser
/// states (read by `state`) are bit-identical.
fn same_epochs<O: Optimizer<Net> + Clone>(opt: &O, state: impl Fn(&O) -> Vec<u32>, epochs: usize) {
    let (mut a, mut b) = (net(), net());
    let (mut opt_a, mut opt_b) = (opt.clone(), opt.clone());
    let (mut data_a, mut data_b) = (data(), data());
    let (mut rng_a, mut rng_b) = (SmallRng::seed_from_u64(5), SmallRng::seed_from_u64(5));
    let mut grads = GradientBuffer::new();
    for _ in 0..epochs {
        let la = a
            .train_epoch::<4>(&mut data_a, &Mse, &mut opt_a, &mut rng_a)
            .unwrap();
        let lb = b
            .train_epoch_with::<4>(&mut data_b, &Mse, &mut opt_b, &mut rng_b, &mut grads)
            .unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    assert_eq!(bits(a.layers()), bits(b.layers()));
    assert_eq!(state(&opt_a), state(&opt_b));
    assert_ne!(
        bits(a.layers()),
        bits(net().layers()),
        "nothing was trained"
    );
}

#[test]
fn train_epoch_with_is_train_epoch_bit_for_bit() {
    same_epochs(&SGD, |o| bits(o.velocity()), 20);
    same_epochs(
        &ADAM,
        |o| [bits(o.moments().0), bits(o.moments().1)].concat(),
        20,
    );
    let nesterov: Sgd<Net> = Sgd::new(0.05).unwrap().nesterov(0.5).unwrap();
    same_epochs(&nesterov, |o| bits(o.velocity()), 20);
    let plain: Sgd<Net> = Sgd::new(0.1).unwrap();
    same_epochs(&plain, |_| Vec::new(), 20);
}

#[test]
fn train_batch_with_is_train_batch_bit_for_bit() {
    let samples = data();
    let (mut a, mut b) = (net(), net());
    let (mut opt_a, mut opt_b) = (SGD.clone(), SGD.clone());
    let mut grads = GradientBuffer::new();
    for batch in samples.windows(2).cycle().take(50) {
        let batch: &[_; 2] = batch.try_into().unwrap();
        let la = a.train_batch(batch, &Mse, &mut opt_a).unwrap();
        let lb = b
            .train_batch_with(batch, &Mse, &mut opt_b, &mut grads)
            .unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    assert_eq!(bits(a.layers()), bits(b.layers()));
    assert_eq!(bits(opt_a.velocity()), bits(opt_b.velocity()));
}

#[test]
fn the_buffer_is_zero_after_a_failed_step() {
    // Two ways to fail: a non-finite loss (the buffer then holds the
    // gradient), and a step the optimiser refuses (plain SGD then keeps
    // the old parameters in the buffer). Either way, the next step from
    // the same buffer is the one a fresh buffer takes.
    let good = [([0.5, -0.25, 1.0], [0.5, -0.5])];
    let nan = [([f32::NAN, 0.0, 1.0], [0.5, -0.5])];
    let mut grads = GradientBuffer::new();
    let mut net = net();
    let mut opt: Sgd<Net> = Sgd::new(0.1).unwrap();
    let err = net.train_batch_with(&nan, &Mse, &mut opt, &mut grads);
    assert!(matches!(
        err,
        Err(TrainError::Diverged { tensor: None, .. })
    ));
    opt.set_learning_rate(f32::MAX).unwrap();
    let err = net.train_batch_with(&good, &Mse, &mut opt, &mut grads);
    assert!(matches!(
        err,
        Err(TrainError::Diverged {
            tensor: Some(_),
            ..
        })
    ));
    opt.set_learning_rate(0.1).unwrap();
    assert_eq!(
        bits(net.layers()),
        bits(self::net().layers()),
        "a failed step changed the network"
    );

    let mut fresh = self::net();
    let mut fresh_opt = opt.clone();
    net.train_batch_with(&good, &Mse, &mut opt, &mut grads)
        .unwrap();
    fresh.train_batch(&good, &Mse, &mut fresh_opt).unwrap();
    assert_eq!(bits(net.layers()), bits(fresh.layers()));

    let mut data = data();
    let (mut rng_a, mut rng_b) = (SmallRng::seed_from_u64(2), SmallRng::seed_from_u64(2));
    data[7].0[1] = f32::INFINITY;
    let mut copy = data.clone();
    let err = net.train_epoch_with::<4>(&mut data, &Mse, &mut opt, &mut rng_a, &mut grads);
    let again = fresh.train_epoch::<4>(&mut copy, &Mse, &mut fresh_opt, &mut rng_b);
    // The same batch fails (compared as text: the loss may be NaN).
    assert!(err.is_err());
    assert_eq!(format!("{err:?}"), format!("{again:?}"));
    assert_eq!(bits(net.layers()), bits(fresh.layers()));
    for sample in data.iter_mut().chain(copy.iter_mut()) {
        if !sample.0[1].is_finite() {
            sample.0[1] = 0.0;
        }
    }
    net.train_epoch_with::<4>(&mut data, &Mse, &mut opt, &mut rng_a, &mut grads)
        .unwrap();
    fresh
        .train_epoch::<4>(&mut copy, &Mse, &mut fresh_opt, &mut rng_b)
        .unwrap();
    assert_eq!(bits(net.layers()), bits(fresh.layers()));
}

#[test]
fn an_empty_data_set_is_an_error() {
    let mut grads = GradientBuffer::<Net>::default();
    let mut opt = SGD.clone();
    let err = net().train_epoch_with::<4>(
        &mut [],
        &Mse,
        &mut opt,
        &mut SmallRng::seed_from_u64(0),
        &mut grads,
    );
    assert_eq!(err, Err(TrainError::EmptyData));
}

#[test]
fn a_boxed_buffer_trains_a_boxed_optimiser() {
    let mut grads = GradientBuffer::<Net>::boxed();
    let mut opt = Sgd::<Net, _>::boxed(0.05).unwrap().momentum(0.9).unwrap();
    let mut reference = SGD.clone();
    let (mut a, mut b) = (net(), net());
    let (mut rng_a, mut rng_b) = (SmallRng::seed_from_u64(4), SmallRng::seed_from_u64(4));
    for _ in 0..5 {
        a.train_epoch_with::<4>(&mut data(), &Mse, &mut opt, &mut rng_a, &mut grads)
            .unwrap();
        b.train_epoch::<4>(&mut data(), &Mse, &mut reference, &mut rng_b)
            .unwrap();
    }
    assert_eq!(bits(a.layers()), bits(b.layers()));
    assert_eq!(format!("{grads:?}"), "GradientBuffer { len: 38 }");
}
