//! Plan-time fusion: a Conv2D with its BiasAdd and Relu runs as one step (FusedConv2D), fed
//! through `Session::run`, with the values of the unfused ops bit for bit and of a convolution
//! summed here from its definition; and a training run gives the same variables either way.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use stepflow::ops::conv::Padding;
use stepflow::ops::conv_attrs::ConvOptions;
use stepflow::train::{GradientDescentOptimizer, Optimizer};
use stepflow::{DType, Graph, Initializer, Output, Session, SessionOptions, Shape, Tensor};

fn random(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()).unwrap()
}

fn placeholder(g: &mut Graph, shape: &[usize]) -> Output {
    g.placeholder(DType::Float32, Shape::from(shape)).unwrap()
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_f64_vec().iter().map(|&v| (v as f32).to_bits()).collect()
}

/// Which of the bias and the activation follow the convolution.
#[derive(Clone, Copy)]
struct Tail {
    bias: bool,
    relu: bool,
}

/// `relu?(bias_add?(conv2d(x, w)))` on fed inputs, run with and without fusion: the fused
/// plan's step names and the output of both.
fn run(x: &Tensor, w: &Tensor, b: &Tensor, o: ConvOptions, tail: Tail, fuse: bool) -> (Vec<String>, Tensor) {
    let mut g = Graph::new();
    let (px, pw, pb) = (placeholder(&mut g, x.shape()), placeholder(&mut g, w.shape()), placeholder(&mut g, b.shape()));
    let mut y = g.conv2d_with(px, pw, o).unwrap();
    if tail.bias {
        y = g.bias_add(y, pb).unwrap();
    }
    if tail.relu {
        y = g.relu(y).unwrap();
    }
    let s = Session::with_options(Arc::new(g), SessionOptions { fuse });
    let feeds = [(px, x.clone()), (pw, w.clone()), (pb, b.clone())];
    let steps = s.explain(&[px, pw, pb], &[y], &[]).unwrap().steps;
    (steps, s.run(&feeds, &[y], &[]).unwrap().remove(0))
}

/// The same, summed here in f64 from the definition (stride `s`, SAME padding).
fn reference(x: &Tensor, w: &Tensor, b: &Tensor, s: usize, tail: Tail) -> Vec<f64> {
    let ([n, h, wd, c], [kh, kw, _, oc]) = (dims(x), dims(w));
    let (xv, wv, bv) = (x.to_f64_vec(), w.to_f64_vec(), b.to_f64_vec());
    let (oh, ow) = (h.div_ceil(s), wd.div_ceil(s));
    let pad = |inp: usize, out: usize, k: usize| ((out - 1) * s + k).saturating_sub(inp) / 2;
    let (pt, pl) = (pad(h, oh, kh), pad(wd, ow, kw));
    let mut out = Vec::new();
    for (bi, i, j, o) in itertools(n, oh, ow, oc) {
        let mut sum = if tail.bias { bv[o] } else { 0.0 };
        for (di, dj, ci) in itertools(kh, kw, c, 1).map(|(a, b, c, _)| (a, b, c)) {
            let (r, q) = ((i * s + di) as isize - pt as isize, (j * s + dj) as isize - pl as isize);
            if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < wd {
                let xi = ((bi * h + r as usize) * wd + q as usize) * c + ci;
                sum += xv[xi] * wv[((di * kw + dj) * c + ci) * oc + o];
            }
        }
        out.push(if tail.relu { sum.max(0.0) } else { sum });
    }
    out
}

fn dims(t: &Tensor) -> [usize; 4] {
    t.shape().try_into().unwrap()
}

/// Every `(a, b, c, d)` below the bounds, in row-major order.
fn itertools(a: usize, b: usize, c: usize, d: usize) -> impl Iterator<Item = (usize, usize, usize, usize)> {
    (0..a).flat_map(move |i| (0..b).flat_map(move |j| (0..c).flat_map(move |k| (0..d).map(move |l| (i, j, k, l)))))
}

#[test]
fn a_fused_convolution_gives_the_values_of_its_three_ops() {
    // A small case and one large enough to cut into chunks and split across threads.
    for (x, w, stride) in [([2, 5, 4, 3], [3, 3, 3, 4], 1), ([8, 17, 16, 16], [3, 3, 16, 32], 2)] {
        let (x, w, b) = (random(&x, 1), random(&w, 2), random(&[w[3]], 3));
        let o = ConvOptions { strides: [stride, stride], padding: Padding::Same, ..ConvOptions::default() };
        for tail in
            [Tail { bias: true, relu: true }, Tail { bias: true, relu: false }, Tail { bias: false, relu: true }]
        {
            let (fused_steps, fused) = run(&x, &w, &b, o, tail, true);
            let (steps, plain) = run(&x, &w, &b, o, tail, false);
            assert_eq!(fused_steps.len(), 1, "one fused step: {fused_steps:?}");
            assert!(fused_steps[0].contains('+'), "{fused_steps:?}");
            assert_eq!(steps.len(), 1 + usize::from(tail.bias) + usize::from(tail.relu), "{steps:?}");
            assert_eq!(bits(&fused), bits(&plain));
            let want = reference(&x, &w, &b, stride, tail);
            let got = fused.to_f64_vec();
            assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-4), "values differ from the definition");
            if tail.relu {
                assert!(got.contains(&0.0) && got.iter().all(|&v| v >= 0.0));
            }
        }
    }
}

#[test]
fn empty_shapes_fuse_without_failing() {
    // No output channels (an empty bias), and no input channels (every sum empty: the bias alone).
    let o = ConvOptions { padding: Padding::Same, ..ConvOptions::default() };
    let tail = Tail { bias: true, relu: true };
    for (x, w) in [([1, 3, 3, 2], [2, 2, 2, 0]), ([1, 3, 3, 0], [2, 2, 0, 2])] {
        let (x, w, b) = (random(&x, 31), random(&w, 32), random(&[w[3]], 33));
        let (fused, plain) = (run(&x, &w, &b, o, tail, true).1, run(&x, &w, &b, o, tail, false).1);
        assert_eq!((fused.shape(), bits(&fused)), (plain.shape(), bits(&plain)));
    }
}

#[test]
fn nan_passes_through_the_fused_activation_as_through_relu() {
    let (mut x, w, b) = (random(&[1, 4, 4, 2], 4), random(&[3, 3, 2, 3], 5), random(&[3], 6));
    let mut v = x.to_f64_vec();
    v[5] = f64::NAN;
    x = Tensor::from_vec(x.shape(), v.iter().map(|&v| v as f32).collect()).unwrap();
    let o = ConvOptions { padding: Padding::Same, ..ConvOptions::default() };
    let tail = Tail { bias: true, relu: true };
    let (fused, plain) = (run(&x, &w, &b, o, tail, true).1, run(&x, &w, &b, o, tail, false).1);
    assert!(fused.to_f64_vec().iter().any(|v| v.is_nan()));
    assert_eq!(bits(&fused), bits(&plain));
}

#[test]
fn a_value_read_elsewhere_or_fetched_is_not_fused_away() {
    let mut g = Graph::new();
    let (x, w, b) = (placeholder(&mut g, &[1, 4, 4, 2]), placeholder(&mut g, &[3, 3, 2, 3]), placeholder(&mut g, &[3]));
    let conv = g.conv2d(x, w, [1, 1], Padding::Same).unwrap();
    let biased = g.bias_add(conv, b).unwrap();
    let y = g.relu(biased).unwrap();
    let twice = g.add(conv, conv).unwrap();
    let s = Session::new(g);
    let feeds = [(x, random(&[1, 4, 4, 2], 7)), (w, random(&[3, 3, 2, 3], 8)), (b, random(&[3], 9))];
    // The convolution has a second reader, so it runs alone; BiasAdd offers no fusion of its
    // own, so the bias add and the relu run as two steps.
    let steps = s.explain(&[x, w, b], &[y, twice], &[]).unwrap().steps;
    assert_eq!(steps.len(), 4, "{steps:?}");
    // Fetching the bias add keeps it: the convolution fuses into it, the relu runs alone.
    let steps = s.explain(&[x, w, b], &[y, biased], &[]).unwrap().steps;
    assert_eq!(steps.len(), 2, "{steps:?}");
    let out = s.run(&feeds, &[y, biased], &[]).unwrap();
    let relu: Vec<f64> = out[1].to_f64_vec().iter().map(|v| v.max(0.0)).collect();
    assert_eq!(out[0].to_f64_vec(), relu);
}

/// Three steps of a small CNN trained with gradient descent: the variables after them.
fn train(fuse: bool) -> Vec<Vec<u32>> {
    let mut g = Graph::new();
    let x = placeholder(&mut g, &[4, 6, 6, 2]);
    let y = placeholder(&mut g, &[4, 3]);
    let normal = |stddev, seed| Initializer::RandomNormal { mean: 0.0, stddev, seed };
    let w = g.variable("w", DType::Float32, &[3, 3, 2, 4], normal(0.5, 1)).unwrap();
    let b = g.variable("b", DType::Float32, &[4], Initializer::Zeros).unwrap();
    let h = g.conv2d(x, w, [1, 1], Padding::Same).unwrap();
    let h = g.bias_add(h, b).unwrap();
    let h = g.relu(h).unwrap();
    let h = g.max_pool(h, [2, 2], [2, 2], Padding::Valid).unwrap();
    let h = g.reshape(h, &[4, 36]).unwrap();
    let v = g.variable("v", DType::Float32, &[36, 3], normal(0.3, 2)).unwrap();
    let logits = g.matmul(h, v).unwrap();
    let xent = g.softmax_cross_entropy_with_logits(y, logits).unwrap();
    let loss = g.reduce_mean(xent, None, false).unwrap();
    let step = GradientDescentOptimizer::new(0.5).minimize(&mut g, loss, None, None).unwrap();
    let vars: Vec<Output> = g.variables().iter().map(|v| Output { node: v.node, slot: 0 }).collect();
    let s = Session::with_options(Arc::new(g), SessionOptions { fuse });
    s.initialize().unwrap();
    let steps = s.explain(&[x, y], &[], &[step]).unwrap().steps;
    assert_eq!(steps.iter().any(|n| n.contains("Conv2D+BiasAdd+Relu")), fuse, "{steps:?}");
    let labels = Tensor::from_vec(&[4, 3], (0..12).map(|i| f32::from(i % 4 == 0)).collect()).unwrap();
    for seed in 0..3 {
        s.run(&[(x, random(&[4, 6, 6, 2], 10 + seed)), (y, labels.clone())], &[], &[step]).unwrap();
    }
    s.run(&[], &vars, &[]).unwrap().iter().map(bits).collect()
}

#[test]
fn training_with_fusion_matches_training_without_bit_for_bit() {
    assert_eq!(train(true), train(false));
}

/// The gradient of `Σ maxpool(relu(x)) · u` with respect to `x`, fed, with and without fusion:
/// the step names of the fused plan and both gradients.
fn pool_gradient(x: &Tensor, u: &Tensor, fuse: bool) -> (Vec<String>, Tensor) {
    let mut g = Graph::new();
    let (px, pu) = (placeholder(&mut g, x.shape()), placeholder(&mut g, u.shape()));
    let r = g.relu(px).unwrap();
    let p = g.max_pool(r, [2, 2], [2, 2], Padding::Same).unwrap();
    let pu_p = g.mul(p, pu).unwrap();
    let loss = g.reduce_sum(pu_p, None, false).unwrap();
    let dx = stepflow::grad::gradients(&mut g, &[loss], &[px], None).unwrap()[0].unwrap();
    let s = Session::with_options(Arc::new(g), SessionOptions { fuse });
    let steps = s.explain(&[px, pu], &[dx], &[]).unwrap().steps;
    (steps, s.run(&[(px, x.clone()), (pu, u.clone())], &[dx], &[]).unwrap().remove(0))
}

#[test]
fn a_pool_gradient_fuses_with_the_relu_gradient_before_it() {
    // Odd sizes (a partial window at the edge), and a batch large enough to split across threads.
    for (x, u) in [([2, 5, 7, 3], [2, 3, 4, 3]), ([64, 33, 32, 16], [64, 17, 16, 16])] {
        let (mut x, u) = (random(&x, 11), random(&u, 12));
        let mut v = x.to_f64_vec();
        v[3] = f64::NAN; // a NaN feature: ReluGrad's mask is 0 there, its gradient NaN·0
        x = Tensor::from_vec(x.shape(), v.iter().map(|&v| v as f32).collect()).unwrap();
        let (fused_steps, fused) = pool_gradient(&x, &u, true);
        let (steps, plain) = pool_gradient(&x, &u, false);
        assert!(fused_steps.iter().any(|s| s.contains("MaxPoolGrad+")), "{fused_steps:?}");
        assert_eq!(fused_steps.len() + 1, steps.len(), "{fused_steps:?} vs {steps:?}");
        assert_eq!(bits(&fused), bits(&plain));
        // Worked independently: each window routes its u to the first maximum of relu(x), and
        // the relu passes it only where x > 0.
        let ([n, h, w, c], xv, uv) = (dims(&x), x.to_f64_vec(), u.to_f64_vec());
        let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
        let mut want = vec![0.0; xv.len()];
        for (b, i, j, ch) in itertools(n, oh, ow, c) {
            let at = |di: usize, dj: usize| ((b * h + 2 * i + di) * w + 2 * j + dj) * c + ch;
            let inside = |&(di, dj): &(usize, usize)| 2 * i + di < h && 2 * j + dj < w;
            let taps: Vec<(usize, usize)> = [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().filter(inside).collect();
            let relu = |k: usize| if xv[k] > 0.0 || xv[k].is_nan() { xv[k] } else { 0.0 };
            let mut best = taps[0];
            for &t in &taps[1..] {
                if relu(at(t.0, t.1)) > relu(at(best.0, best.1)) {
                    best = t;
                }
            }
            want[at(best.0, best.1)] += uv[((b * oh + i) * ow + j) * c + ch];
        }
        for (k, (g, w)) in fused.to_f64_vec().iter().zip(&want).enumerate() {
            let w = if xv[k] > 0.0 { *w } else { w * 0.0 };
            assert!(g.to_bits() == w.to_bits() || (g - w).abs() < 1e-6, "element {k}: {g} vs {w}");
        }
    }
}

#[test]
fn a_session_told_not_to_fuse_drops_its_fused_plans() {
    let (x, w, b) = (random(&[1, 4, 4, 2], 21), random(&[3, 3, 2, 3], 22), random(&[3], 23));
    let mut g = Graph::new();
    let (px, pw, pb) = (placeholder(&mut g, x.shape()), placeholder(&mut g, w.shape()), placeholder(&mut g, b.shape()));
    let conv = g.conv2d(px, pw, [1, 1], Padding::Same).unwrap();
    let biased = g.bias_add(conv, pb).unwrap();
    let y = g.relu(biased).unwrap();
    let mut s = Session::new(g);
    let feeds = [(px, x), (pw, w), (pb, b)];
    let fused = s.run(&feeds, &[y], &[]).unwrap().remove(0);
    assert_eq!(s.explain(&[px, pw, pb], &[y], &[]).unwrap().steps.len(), 1);
    s.set_options(SessionOptions { fuse: false });
    assert_eq!(s.explain(&[px, pw, pb], &[y], &[]).unwrap().steps.len(), 3);
    assert_eq!(bits(&s.run(&feeds, &[y], &[]).unwrap().remove(0)), bits(&fused));
}
