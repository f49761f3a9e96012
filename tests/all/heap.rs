//! Networks too big for the stack: built on the heap and trained with the
//! same API inside a thread whose 2 MiB stack is smaller than the network.

use std::mem::size_of;

use constnet::optim::Adam;
use constnet::prelude::*;

network! {
    /// 784-512-512-10: 669,706 parameters, 2.7 MB in f32.
    struct Big<f32> { 784 => Dense<512>, Relu, Dense<512>, Relu, Dense<10> }
}

network! {
    /// A small network, to compare the heap and stack constructors.
    struct Small<f64> { 3 => Dense<4>, LeakyRelu, Dense<2> }
}

/// Synthetic images: class `c` lights up the pixels of row `c`.
fn images(n: usize) -> Vec<([f32; 784], usize)> {
    let mut rng = SmallRng::seed_from_u64(9);
    (0..n)
        .map(|i| {
            let class = i % 10;
            let mut x = [0.0f32; 784];
            for (j, p) in x.iter_mut().enumerate() {
                let lit = j / 28 == class;
                *p = if lit { 0.8 } else { 0.0 } + rng.random_range(0.0..0.2);
            }
            (x, class)
        })
        .collect()
}

#[test]
fn a_network_larger_than_the_stack_trains_on_a_2_mib_thread() {
    assert!(
        size_of::<Big>() > 2 << 20,
        "the network must not fit the stack"
    );
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = SmallRng::seed_from_u64(1);
            let mut net = Big::random_boxed(&mut rng);
            let mut opt = Sgd::boxed(0.02).unwrap().momentum(0.9).unwrap();
            let mut data = images(80);
            let before = net.mean_loss(&data, &SoftmaxCrossEntropy).unwrap();
            let mut last = before;
            for _ in 0..3 {
                last = net
                    .train_epoch::<8>(&mut data, &SoftmaxCrossEntropy, &mut opt, &mut rng)
                    .unwrap();
            }
            let after = net.mean_loss(&data, &SoftmaxCrossEntropy).unwrap();
            let mut adam = Adam::boxed(1e-3).unwrap();
            net.train_batch(&[data[0]; 4], &SoftmaxCrossEntropy, &mut adam)
                .unwrap();
            (before, last, after, net.accuracy(&data))
        })
        .unwrap();
    let (before, last, after, accuracy) = handle
        .join()
        .expect("the training thread overflowed or panicked");
    assert!(
        after < before / 2.0,
        "loss {before} -> {after} (last epoch {last})"
    );
    assert!(accuracy > 0.9, "accuracy {accuracy}");
}

/// A file of a network larger than the stack, decoded and loaded on a
/// 2 MiB thread: `decode_boxed` and `load_file_boxed` never build it on the
/// stack (the plain `decode` would overflow there).
#[test]
fn a_network_larger_than_the_stack_loads_on_a_2_mib_thread() {
    let path = std::env::temp_dir().join(format!("constnet-heap-{}.cnet", std::process::id()));
    let saved = path.clone();
    let parameters = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let net = Big::random_boxed(&mut SmallRng::seed_from_u64(1));
            net.save_file(&saved).unwrap();
            let bytes = net.encode_to_vec().unwrap();
            let decoded = Big::decode_boxed(&bytes).unwrap();
            let loaded = Big::load_file_boxed(&saved).unwrap();
            let same = |other: &Big| (0..Big::COUNT).all(|i| net.tensor(i) == other.tensor(i));
            assert!(same(&decoded) && same(&loaded));
            // Bad bytes are the same error as with `decode`.
            let mut bad = bytes;
            bad[40] ^= 1;
            assert!(matches!(
                Big::decode_boxed(&bad),
                Err(LoadError::ChecksumMismatch { .. })
            ));
            Big::PARAMETERS
        })
        .unwrap()
        .join()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(parameters, 669_706);
}

#[test]
fn heap_constructors_match_the_stack_ones() {
    let a = Small::random(&mut SmallRng::seed_from_u64(3));
    let b = Small::random_boxed(&mut SmallRng::seed_from_u64(3));
    assert!(a == *b);
    assert_eq!(b.layers().1.0.slope, LeakyRelu::DEFAULT_SLOPE);
    assert!(*Gradients::<Small>::boxed() == Gradients::ZERO);

    // The same training from the same start, with inline and boxed state.
    let data = [
        ([0.5, -1.0, 2.0], [1.0, 0.0]),
        ([0.1, 0.2, -0.3], [0.0, 1.0]),
    ];
    let (mut x, mut y) = (a.clone(), a);
    let mut inline = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut boxed = Sgd::boxed(0.1).unwrap().momentum(0.9).unwrap();
    for _ in 0..3 {
        x.train_batch(&data, &Mse, &mut inline).unwrap();
        y.train_batch(&data, &Mse, &mut boxed).unwrap();
    }
    assert!(x == y);
    assert!(inline.velocity() == boxed.velocity());
}
