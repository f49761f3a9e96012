//! The guard, setting by setting: every out-of-range setting is refused
//! where it is made, with the setting named, and every step that would
//! make a parameter or the optimiser's state non-finite returns `Diverged`
//! with network and optimiser bit-identical to before. No step returns
//! `Ok` with a non-finite parameter. Each table runs for `f32` and `f64`.

use constnet::fit::EarlyStopping;
use constnet::optim::{Cosine, Exponential, Scheduled, StepDecay, StepError};
use constnet::prelude::*;
use constnet::rand::seq::SliceRandom;

/// Every scalar of every tensor, as bits: equal only if bit-identical.
fn bits<T: Scalar, G: Tensors<T>>(value: &G) -> Vec<u64> {
    let mut out = Vec::new();
    value.for_each_tensor(&mut |_, t| out.extend(t.iter().map(|x| x.as_f64().to_bits())));
    out
}

/// The setting a constructor or setter refused.
fn refused<O>(made: Result<O, SettingError>) -> &'static str {
    match made {
        Ok(_) => panic!("an out-of-range setting was accepted"),
        Err(err) => {
            // The message names the setting, the value and the range.
            let text = err.to_string();
            assert!(
                text.starts_with(err.setting) && text.contains("out of range"),
                "{text}"
            );
            err.setting
        }
    }
}

macro_rules! guard_tests {
    ($scalar:ident) => {
        mod $scalar {
            use super::*;

            type T = $scalar;

            network! {
                /// 2-4-1 with tanh.
                pub struct Net<$scalar> { 2 => Dense<4>, Tanh, Dense<1> }
            }

            fn net() -> Net {
                Net::random(&mut SmallRng::seed_from_u64(3))
            }

            fn data() -> Vec<([T; 2], [T; 1])> {
                vec![([0.5, -1.0], [1.0]), ([1.0, 0.25], [0.0]), ([0.0, 2.0], [0.5])]
            }

            const BAD_RATES: [T; 5] = [T::NAN, T::INFINITY, T::NEG_INFINITY, 0.0, -0.1];
            const BAD_FRACTIONS: [T; 5] = [T::NAN, T::INFINITY, 1.0, 1.5, -0.1];
            const BAD_DECAYS: [T; 4] = [T::NAN, T::INFINITY, -1e-3, T::NEG_INFINITY];
            const BAD_POSITIVE: [T; 5] = [T::NAN, T::INFINITY, 0.0, -0.0, -1.0];

            #[test]
            fn learning_rates_out_of_range_are_refused_by_every_constructor() {
                for lr in BAD_RATES {
                    assert_eq!(refused(Sgd::<Net>::new(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(Sgd::<Net, _>::boxed(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(Adam::<Net>::new(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(Adam::<Net>::adamw(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(Adam::<Net, _>::boxed(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(RmsProp::<Net>::new(lr)), "learning rate", "{lr}");
                    assert_eq!(refused(RmsProp::<Net, _>::boxed(lr)), "learning rate", "{lr}");
                }
            }

            #[test]
            fn sgd_settings_out_of_range_are_refused() {
                let sgd = || Sgd::<Net>::new(0.1).unwrap();
                for alpha in BAD_FRACTIONS {
                    assert_eq!(refused(sgd().momentum(alpha)), "momentum", "{alpha}");
                    assert_eq!(refused(sgd().nesterov(alpha)), "momentum", "{alpha}");
                }
                for lambda in BAD_DECAYS {
                    assert_eq!(refused(sgd().weight_decay(lambda)), "weight decay", "{lambda}");
                }
                for norm in BAD_POSITIVE {
                    assert_eq!(refused(sgd().clip_norm(norm)), "clip norm", "{norm}");
                }
                // The edges that are in range.
                assert!(sgd().momentum(0.0).is_ok() && sgd().weight_decay(0.0).is_ok());
            }

            #[test]
            fn adam_settings_out_of_range_are_refused() {
                let adam = || Adam::<Net>::new(1e-3).unwrap();
                for beta in BAD_FRACTIONS {
                    assert_eq!(refused(adam().betas(beta, 0.999)), "beta1", "{beta}");
                    assert_eq!(refused(adam().betas(0.9, beta)), "beta2", "{beta}");
                }
                for eps in BAD_POSITIVE {
                    assert_eq!(refused(adam().eps(eps)), "eps", "{eps}");
                }
                for lambda in BAD_DECAYS {
                    assert_eq!(refused(adam().weight_decay(lambda)), "weight decay", "{lambda}");
                    let decoupled = adam().decoupled_weight_decay(lambda);
                    assert_eq!(refused(decoupled), "weight decay", "{lambda}");
                }
                for norm in BAD_POSITIVE {
                    assert_eq!(refused(adam().clip_norm(norm)), "clip norm", "{norm}");
                }
                assert!(adam().betas(0.0, 0.0).is_ok() && adam().eps(T::MIN_POSITIVE).is_ok());
            }

            #[test]
            fn rmsprop_settings_out_of_range_are_refused() {
                let rms = || RmsProp::<Net>::new(1e-3).unwrap();
                for fraction in BAD_FRACTIONS {
                    assert_eq!(refused(rms().alpha(fraction)), "alpha", "{fraction}");
                    assert_eq!(refused(rms().momentum(fraction)), "momentum", "{fraction}");
                }
                for eps in BAD_POSITIVE {
                    assert_eq!(refused(rms().eps(eps)), "eps", "{eps}");
                }
                for lambda in BAD_DECAYS {
                    assert_eq!(refused(rms().weight_decay(lambda)), "weight decay", "{lambda}");
                }
                for norm in BAD_POSITIVE {
                    assert_eq!(refused(rms().clip_norm(norm)), "clip norm", "{norm}");
                }
            }

            #[test]
            fn schedules_and_early_stopping_out_of_range_are_refused() {
                let sgd = || Sgd::<Net>::new(0.1).unwrap();
                for gamma in [f64::NAN, f64::INFINITY, 0.0, -0.5, 1.5] {
                    let step = StepDecay { every: 2, gamma };
                    assert_eq!(refused(Scheduled::new(sgd(), step)), "gamma", "{gamma}");
                    let exp = Exponential { gamma };
                    assert_eq!(refused(Scheduled::new(sgd(), exp)), "gamma", "{gamma}");
                }
                let step = StepDecay { every: 0, gamma: 0.5 };
                assert_eq!(refused(Scheduled::new(sgd(), step)), "every");
                for min in [f64::NAN, -0.01, 0.2, f64::INFINITY] {
                    let cosine = Cosine { period: 10, min };
                    assert_eq!(refused(Scheduled::new(sgd(), cosine)), "min", "{min}");
                }
                let cosine = Cosine { period: 0, min: 0.0 };
                assert_eq!(refused(Scheduled::new(sgd(), cosine)), "period");
                let cosine = Cosine { period: 10, min: 0.0 };
                assert_eq!(refused(Scheduled::new(sgd(), cosine).unwrap().every(0)), "every");

                for delta in [f64::NAN, f64::INFINITY, -0.1] {
                    assert_eq!(refused(EarlyStopping::new(3).min_delta(delta)), "min_delta");
                }
            }

            #[test]
            fn a_refused_learning_rate_leaves_the_rate_unchanged() {
                let mut opt = Sgd::<Net>::new(0.1).unwrap();
                for lr in [T::NAN, T::INFINITY, -0.1] {
                    assert!(opt.set_learning_rate(lr).is_err());
                    assert_eq!(opt.learning_rate(), 0.1);
                }
                // 0 pauses learning: accepted here, as a schedule may end there.
                assert!(opt.set_learning_rate(0.0).is_ok());
            }

            /// Trains `opt` for up to 50 epochs; returns the first error.
            /// Before each epoch, network and `state` are recorded; an
            /// error must leave both bit-identical to that record (the
            /// first batch of each epoch is the whole data set) and name a
            /// tensor when the loss was finite. Every `Ok` leaves every
            /// parameter finite.
            fn run<O: Optimizer<Net>>(
                mut opt: O,
                state: impl Fn(&O) -> Vec<u64>,
                data: &mut [([T; 2], [T; 1])],
                loss: &impl Loss<[T; 1], [T; 1]>,
            ) -> Option<TrainError> {
                let (mut net, mut rng) = (net(), SmallRng::seed_from_u64(9));
                for _ in 0..50 {
                    let (net_before, opt_before) = (bits(net.layers()), state(&opt));
                    match net.train_epoch::<8>(data, loss, &mut opt, &mut rng) {
                        Ok(_) => assert!(net.layers().all_finite(), "Ok with a non-finite parameter"),
                        Err(err) => {
                            assert!(bits(net.layers()) == net_before, "network changed: {err}");
                            assert!(state(&opt) == opt_before, "optimiser changed: {err}");
                            if let TrainError::Diverged { loss, tensor, .. } = err {
                                assert_eq!(tensor.is_some(), loss.is_finite(), "{err}");
                            }
                            return Some(err);
                        }
                    }
                }
                None
            }

            fn sgd_state(opt: &Sgd<Net>) -> Vec<u64> {
                let mut out = bits(opt.velocity());
                out.push(opt.learning_rate().as_f64().to_bits());
                out
            }

            fn adam_state(opt: &Adam<Net>) -> Vec<u64> {
                let (m, v) = opt.moments();
                let mut out = [bits(m), bits(v)].concat();
                out.push(u64::from(opt.steps()));
                out
            }

            fn rmsprop_state(opt: &RmsProp<Net>) -> Vec<u64> {
                bits(opt.square_avg())
            }

            /// Diverged, with a tensor named (the loss was finite).
            fn diverged_at_a_tensor(err: Option<TrainError>) -> bool {
                matches!(err, Some(TrainError::Diverged { tensor: Some(_), .. }))
            }

            #[test]
            fn a_rate_that_overflows_the_parameters_is_diverged_with_nothing_changed() {
                // In range, but the first update overflows: every optimiser
                // refuses it and changes nothing.
                let mut d = data();
                let sgd = Sgd::<Net>::new(T::MAX).unwrap();
                assert!(diverged_at_a_tensor(run(sgd, sgd_state, &mut d, &Mse)));
                let sgd = Sgd::<Net>::new(T::MAX).unwrap().momentum(0.9).unwrap();
                assert!(diverged_at_a_tensor(run(sgd, sgd_state, &mut d, &Mse)));
                let nesterov = Sgd::<Net>::new(T::MAX).unwrap().nesterov(0.5).unwrap();
                assert!(diverged_at_a_tensor(run(nesterov, sgd_state, &mut d, &Mse)));
                let adam = Adam::<Net>::new(T::MAX).unwrap();
                assert!(diverged_at_a_tensor(run(adam, adam_state, &mut d, &Mse)));
                let adamw = Adam::<Net>::adamw(T::MAX).unwrap();
                assert!(diverged_at_a_tensor(run(adamw, adam_state, &mut d, &Mse)));
                let rms = RmsProp::<Net>::new(T::MAX).unwrap();
                assert!(diverged_at_a_tensor(run(rms, rmsprop_state, &mut d, &Mse)));
            }

            #[test]
            fn the_first_tensor_that_would_go_non_finite_is_named() {
                // Huge gradients in tensors 1 (layer 0's bias) and 3 (layer
                // 2's bias) only: both would overflow, the first is named.
                let mut grads: Gradients<Net> = Zeroed::ZERO;
                grads.tensor_mut(1).fill(T::MAX);
                grads.tensor_mut(3).fill(T::MAX);
                let first = |err: StepError| (err.tensor.index, err.tensor.layer, err.tensor.name);

                // With state: tried on copies, then applied.
                let mut net = net();
                let before = bits(net.layers());
                let mut sgd = Sgd::<Net>::new(4.0).unwrap().momentum(0.5).unwrap();
                let err = sgd.step(&mut net, &grads).unwrap_err();
                assert_eq!(first(err), (1, 0, "bias"));
                assert!(bits(net.layers()) == before);
                assert!(bits(sgd.velocity()).iter().all(|&b| b == 0), "the velocity was written");

                // Without state, as training calls it: applied in place,
                // then put back.
                let mut sgd = Sgd::<Net>::new(4.0).unwrap();
                let err = sgd.step_and_discard(&mut net, &mut grads.clone()).unwrap_err();
                assert_eq!(first(err), (1, 0, "bias"));
                assert!(bits(net.layers()) == before);
                assert_eq!(err.to_string(), "the step would make `bias` of layer 0 NaN or infinite, and was not applied");
            }

            #[test]
            fn a_rate_that_diverges_slowly_stops_before_the_first_non_finite_value() {
                // Large but not overflowing at once: the loss grows over
                // epochs until an update would overflow; that one is refused.
                let mut d = data();
                let sgd = Sgd::<Net>::new(1e3).unwrap().momentum(0.99).unwrap();
                assert!(run(sgd, sgd_state, &mut d, &Mse).is_some());
            }

            #[test]
            fn a_scheduled_step_that_is_refused_keeps_its_rate_and_time() {
                let sgd = Sgd::<Net>::new(T::MAX).unwrap();
                let opt = Scheduled::new(sgd, Exponential { gamma: 0.5 }).unwrap();
                let state = |o: &Scheduled<Sgd<Net>, Exponential>| {
                    let mut out = sgd_state(o.inner());
                    out.push(u64::from(o.time()));
                    out
                };
                assert!(diverged_at_a_tensor(run(opt, state, &mut data(), &Mse)));
            }

            #[test]
            fn non_finite_data_is_diverged_with_nothing_changed() {
                let sgd = || Sgd::<Net>::new(0.1).unwrap().momentum(0.9).unwrap();
                // A NaN target: the loss is NaN, no tensor to name.
                let mut d = data();
                d[0].1[0] = T::NAN;
                let err = run(sgd(), sgd_state, &mut d, &Mse);
                assert!(matches!(err, Some(TrainError::Diverged { tensor: None, .. })));
                // An infinite input: tanh saturates, the loss is finite, the
                // first layer's gradient (0 · ∞) is not.
                let mut d = data();
                d[1].0[0] = T::INFINITY;
                let err = run(sgd(), sgd_state, &mut d, &Mse);
                assert!(
                    matches!(err, Some(TrainError::Diverged { tensor: Some(t), .. })
                        if (t.layer, t.name) == (0, "weight")),
                    "{err:?}"
                );
                // The same for Adam and RMSprop.
                let adam = Adam::<Net>::new(1e-2).unwrap();
                assert!(diverged_at_a_tensor(run(adam, adam_state, &mut d, &Mse)));
                let rms = RmsProp::<Net>::new(1e-2).unwrap();
                assert!(diverged_at_a_tensor(run(rms, rmsprop_state, &mut d, &Mse)));
            }

            #[test]
            fn binary_cross_entropy_targets_outside_0_1_are_diverged() {
                network! {
                    /// 2-1 with a sigmoid.
                    pub struct Prob<$scalar> { 2 => Dense<1>, Sigmoid }
                }
                let mut net = Prob::random(&mut SmallRng::seed_from_u64(1));
                let before = bits(net.layers());
                let mut opt = Sgd::<Prob>::new(0.1).unwrap();
                for target in [1.5, -0.5, T::NAN] {
                    let mut d = [([0.5 as T, 1.0], [target])];
                    let err = net.train_epoch::<1>(&mut d, &BinaryCrossEntropy, &mut opt, &mut SmallRng::seed_from_u64(0));
                    assert!(matches!(err, Err(TrainError::Diverged { tensor: None, .. })), "{target}");
                    assert!(bits(net.layers()) == before);
                }
                // At the ends of [0, 1] it trains.
                let mut d = [([0.5 as T, 1.0], [1.0]), ([0.5, -1.0], [0.0])];
                assert!(net.train_epoch::<2>(&mut d, &BinaryCrossEntropy, &mut opt, &mut SmallRng::seed_from_u64(0)).is_ok());
            }

            /// Epochs of batches of 1 against the same batches, one
            /// `train_batch` call each, from the same start and shuffle:
            /// within an epoch a step may be taken without its trial (when
            /// bounds carried from the epoch's earlier steps show it stays
            /// finite), while every `train_batch` call tries its step. The
            /// two agree bit for bit after every step, and on the step
            /// refused, if one is. Returns the index, in its epoch, of the
            /// step refused.
            fn epoch_against_batches(opt: Sgd<Net>) -> Option<usize> {
                let mut d: Vec<([T; 2], [T; 1])> =
                    (0..8).map(|i| ([i as T / 4.0 - 1.0, 0.5], [(i % 3) as T])).collect();
                let mut each = d.clone();
                let (mut net, mut alone) = (net(), net());
                let (mut opt_epoch, mut opt_alone) = (opt.clone(), opt);
                let mut rng = SmallRng::seed_from_u64(5);
                for _ in 0..100 {
                    let mut same = rng.clone();
                    let result = net.train_epoch::<1>(&mut d, &Mse, &mut opt_epoch, &mut rng);
                    each.shuffle(&mut same);
                    let refused = each
                        .iter()
                        .position(|&sample| alone.train_batch::<1>(&[sample], &Mse, &mut opt_alone).is_err());
                    assert!(bits(net.layers()) == bits(alone.layers()), "the parameters differ");
                    assert!(sgd_state(&opt_epoch) == sgd_state(&opt_alone), "the velocities differ");
                    match result {
                        Ok(_) => assert_eq!(refused, None),
                        Err(TrainError::Diverged { batch, .. }) => {
                            assert_eq!(refused, Some(batch));
                            return refused;
                        }
                        Err(err) => panic!("{err}"),
                    }
                }
                None
            }

            #[test]
            fn steps_within_an_epoch_are_the_steps_of_single_batches() {
                // Every form of momentum, with and without weight decay and
                // clipping: learning, and then a rate and momentum under
                // which the parameters grow until a step would overflow, in
                // the middle of an epoch.
                let forms = |lr: T, alpha: T| {
                    let sgd = Sgd::<Net>::new(lr).unwrap();
                    [
                        sgd.clone().momentum(alpha).unwrap(),
                        sgd.clone().nesterov(alpha).unwrap(),
                        sgd.clone().momentum(alpha).unwrap().pytorch_form(),
                        sgd.clone().nesterov(alpha).unwrap().pytorch_form(),
                        sgd.clone().momentum(alpha).unwrap().weight_decay(0.5).unwrap(),
                        sgd.clone().nesterov(alpha).unwrap().clip_norm(1.0).unwrap(),
                    ]
                };
                for opt in forms(0.05, 0.9) {
                    assert_eq!(epoch_against_batches(opt), None);
                }
                for opt in forms(T::MAX.sqrt(), 0.99) {
                    let refused = epoch_against_batches(opt);
                    assert!(refused.is_some_and(|step| step > 0), "refused at {refused:?}");
                }
            }

            #[test]
            fn the_smallest_eps_with_an_input_that_is_always_zero_stays_finite() {
                // The input that is always 0 leaves its weights' moments at
                // 0: with ε > 0 the update is 0 / ε = 0, never 0 / 0.
                let mut d: Vec<([T; 2], [T; 1])> =
                    (0..6).map(|i| ([0.0, i as T / 3.0 - 1.0], [i as T / 6.0])).collect();
                let adam = Adam::<Net>::new(1e-2).unwrap().eps(T::MIN_POSITIVE).unwrap();
                assert!(run(adam, adam_state, &mut d, &Mse).is_none());
                let rms = RmsProp::<Net>::new(1e-2).unwrap().eps(T::MIN_POSITIVE).unwrap();
                assert!(run(rms, rmsprop_state, &mut d, &Mse).is_none());
            }
        }
    };
}

guard_tests!(f32);
guard_tests!(f64);
