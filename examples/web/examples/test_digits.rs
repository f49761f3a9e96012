//! What the browser test draws and what the page must then show, as JSON
//! on standard output.
//!
//! The images are the first `COUNT` (default 20) of MNIST's official test
//! set that the host, with the embedded network, classifies as their label
//! with a probability of at least 0.99. The page sees a redrawing, not the
//! image: strokes of the brush along the digit's skeleton, then the
//! preprocessing. An image the network is unsure of could be read
//! otherwise after that, and legitimately; a clear one must not.
//!
//! For each image: its index in the test set, label, the host's class and
//! probability for the image, the strokes (polylines in pad pixels, for
//! pointer events: down at the first point, a move to each next one, up),
//! and, for the same strokes drawn on a [`Pad`] and preprocessed as the
//! page does, the number of inked pad pixels, the class and the ten
//! probabilities the host computes.
//!
//! `cargo run --release --example test_digits -- [COUNT] > digits.json`

use std::error::Error;
use std::fmt::Write as _;
use std::io::Read;

use constnet::prelude::*;
use constnet_web::{MODEL, Mnist, PAD, Pad, SIDE, class, preprocess, probabilities};
use flate2::read::GzDecoder;

/// Pad pixels per MNIST pixel: the 28×28 image covers the pad.
const SCALE: usize = PAD / SIDE;

/// The least probability of a chosen image's class.
const CONFIDENCE: f32 = 0.99;

fn gunzip(name: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let path = format!("{}/../../data/mnist/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut bytes = Vec::new();
    GzDecoder::new(file).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Zhang and Suen's thinning ("A fast parallel algorithm for thinning
/// digital patterns", 1984): the one-pixel-wide skeleton of `ink`.
fn thin(ink: &mut [[bool; SIDE]; SIDE]) {
    let at = |ink: &[[bool; SIDE]; SIDE], y: isize, x: isize| -> bool {
        (0..SIDE as isize).contains(&y)
            && (0..SIDE as isize).contains(&x)
            && ink[y as usize][x as usize]
    };
    loop {
        let mut changed = false;
        for pass in 0..2 {
            let mut remove = Vec::new();
            for y in 0..SIDE {
                for x in 0..SIDE {
                    if !ink[y][x] {
                        continue;
                    }
                    let (yi, xi) = (y as isize, x as isize);
                    // P2..P9: north, then clockwise.
                    let p = [
                        at(ink, yi - 1, xi),
                        at(ink, yi - 1, xi + 1),
                        at(ink, yi, xi + 1),
                        at(ink, yi + 1, xi + 1),
                        at(ink, yi + 1, xi),
                        at(ink, yi + 1, xi - 1),
                        at(ink, yi, xi - 1),
                        at(ink, yi - 1, xi - 1),
                    ];
                    let neighbours = p.iter().filter(|&&b| b).count();
                    let transitions = (0..8).filter(|&i| !p[i] && p[(i + 1) % 8]).count();
                    let (n, e, s, w) = (p[0], p[2], p[4], p[6]);
                    let side = if pass == 0 {
                        !(e && s && (n || w)) // P2 P4 P6 = 0 and P4 P6 P8 = 0
                    } else {
                        !(n && w && (e || s)) // P2 P4 P8 = 0 and P2 P6 P8 = 0
                    };
                    if (2..=6).contains(&neighbours) && transitions == 1 && side {
                        remove.push((y, x));
                    }
                }
            }
            changed |= !remove.is_empty();
            for (y, x) in remove {
                ink[y][x] = false;
            }
        }
        if !changed {
            return;
        }
    }
}

/// The skeleton as strokes: walks along unvisited links between
/// neighbouring pixels (the eight around each), starting where an odd
/// number of links is left when there is such a pixel, so each stroke
/// runs as far as it can, as a pen would.
fn strokes(skeleton: &[[bool; SIDE]; SIDE]) -> Vec<Vec<(usize, usize)>> {
    const AROUND: [(isize, isize); 8] = [
        (-1, 0),
        (-1, 1),
        (0, 1),
        (1, 1),
        (1, 0),
        (1, -1),
        (0, -1),
        (-1, -1),
    ];
    let pixels: Vec<(usize, usize)> = (0..SIDE)
        .flat_map(|y| (0..SIDE).map(move |x| (y, x)))
        .filter(|&(y, x)| skeleton[y][x])
        .collect();
    let linked = |(y, x): (usize, usize), (dy, dx): (isize, isize)| -> Option<(usize, usize)> {
        let (ny, nx) = (y as isize + dy, x as isize + dx);
        ((0..SIDE as isize).contains(&ny)
            && (0..SIDE as isize).contains(&nx)
            && skeleton[ny as usize][nx as usize])
            .then_some((ny as usize, nx as usize))
    };
    let mut used = std::collections::HashSet::new();
    let key = |a: (usize, usize), b: (usize, usize)| if a < b { (a, b) } else { (b, a) };
    let left = |used: &std::collections::HashSet<_>, p| {
        AROUND
            .iter()
            .filter_map(|&d| linked(p, d))
            .filter(|&q| !used.contains(&key(p, q)))
            .count()
    };
    let mut out = Vec::new();
    let mut drawn = std::collections::HashSet::new();
    loop {
        let start = pixels
            .iter()
            .copied()
            .find(|&p| left(&used, p) % 2 == 1)
            .or_else(|| pixels.iter().copied().find(|&p| left(&used, p) > 0));
        let Some(mut p) = start else { break };
        let mut line = vec![p];
        while let Some(q) = AROUND
            .iter()
            .filter_map(|&d| linked(p, d))
            .find(|&q| !used.contains(&key(p, q)))
        {
            used.insert(key(p, q));
            line.push(q);
            p = q;
        }
        drawn.extend(line.iter().copied());
        out.push(line);
    }
    // Pixels with no neighbour are dots.
    out.extend(
        pixels
            .iter()
            .filter(|p| !drawn.contains(p))
            .map(|&p| vec![p]),
    );
    out
}

fn main() -> Result<(), Box<dyn Error>> {
    let count: usize = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| format!("COUNT: not a number: {arg}"))?,
        None => 20,
    };
    let net = Mnist::decode(MODEL)?;
    let images = gunzip("t10k-images-idx3-ubyte.gz")?;
    let labels = gunzip("t10k-labels-idx1-ubyte.gz")?;
    let (images, labels) = (&images[16..], &labels[8..]);
    if images.len() != labels.len() * SIDE * SIDE {
        return Err("the MNIST test files do not hold as many images as labels".into());
    }
    let mut json = String::from("[\n");
    let mut chosen = 0;
    for (index, (pixels, &label)) in images.chunks_exact(SIDE * SIDE).zip(labels).enumerate() {
        if chosen == count {
            break;
        }
        let image: [f32; SIDE * SIDE] = std::array::from_fn(|i| f32::from(pixels[i]) / 255.0);
        let p = probabilities(&net, &image);
        let host = class(&p);
        if host != usize::from(label) || p[host] < CONFIDENCE {
            continue;
        }
        let mut ink = [[false; SIDE]; SIDE];
        for (i, &v) in pixels.iter().enumerate() {
            ink[i / SIDE][i % SIDE] = v >= 128;
        }
        thin(&mut ink);
        let lines = strokes(&ink);
        // Drawn as the page draws it: a dot where the pointer goes down,
        // a segment for each move.
        let centre = |(y, x): (usize, usize)| {
            (
                ((x * SCALE + SCALE / 2) as f32),
                ((y * SCALE + SCALE / 2) as f32),
            )
        };
        let mut pad = Pad::EMPTY;
        for line in &lines {
            let mut last = centre(line[0]);
            pad.stroke(last.0, last.1, last.0, last.1);
            for &q in &line[1..] {
                let next = centre(q);
                pad.stroke(last.0, last.1, next.0, next.1);
                last = next;
            }
        }
        let drawn = preprocess(pad.ink()).ok_or("the strokes left no ink")?;
        let q = probabilities(&net, &drawn);
        let drawn_class = class(&q);
        let points: Vec<String> = lines
            .iter()
            .map(|line| {
                let xy: Vec<String> = line
                    .iter()
                    .map(|&p| {
                        let (x, y) = centre(p);
                        format!("[{x},{y}]")
                    })
                    .collect();
                format!("[{}]", xy.join(","))
            })
            .collect();
        if chosen > 0 {
            json.push_str(",\n");
        }
        write!(
            json,
            "  {{\"index\": {index}, \"label\": {label}, \"host_class\": {host}, \"host_p\": {:?}, \
             \"drawn_ink\": {}, \"drawn_class\": {drawn_class}, \"drawn_probabilities\": {:?}, \
             \"strokes\": [{}]}}",
            p[host],
            pad.ink().iter().filter(|&&v| v > 0).count(),
            q,
            points.join(",")
        )?;
        eprintln!(
            "test image {index:4}: label {label}, host {host} ({:.4}), drawn {drawn_class} ({:.4}), {} strokes",
            p[host],
            q[drawn_class],
            lines.len()
        );
        chosen += 1;
    }
    json.push_str("\n]\n");
    if chosen < count {
        return Err(
            format!("only {chosen} test images are classified with {CONFIDENCE} or more").into(),
        );
    }
    print!("{json}");
    Ok(())
}
