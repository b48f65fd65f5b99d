//! Optimizer update kernels, one step each from hand-worked values.

use super::util::session;
use stepflow::ops::Op;
use stepflow::ops::train::*;
use stepflow::{DType, Executor, Graph, Initializer, NodeName, Output, RunOptions, Shape, Tensor};

/// Apply kernels split updates of at least this many elements across threads (their
/// `PARALLEL_MIN_UPDATE`).
const SPLIT_UPDATE: usize = 1 << 17;

/// Runs one update under `executor`: the refs are variables of `n` elements holding `vars`, `rest`
/// the other inputs in order, fed; the gradient, at input position `grad_at` (TF's layouts
/// differ), has element `i` scaled by `1 + i % 7`. Returns every variable's values afterwards.
fn update(
    op: &(impl Op + Clone),
    grad_at: usize,
    vars: &[f64],
    rest: &[f64],
    n: usize,
    executor: Executor,
) -> Vec<Vec<f64>> {
    let mut g = Graph::new();
    let refs: Vec<Output> = vars
        .iter()
        .map(|&v| {
            g.variable("v", DType::Float64, &[n], Initializer::Value(Tensor::filled(DType::Float64, &[n], v))).unwrap()
        })
        .collect();
    let mut inputs = refs.clone();
    let mut feeds = Vec::new();
    for (i, &r) in rest.iter().enumerate() {
        // The gradient has the variable's shape; hyper-parameters are scalars.
        let t = match refs.len() + i == grad_at {
            true => Tensor::from_vec(&[n], (0..n).map(|j| r * (1 + j % 7) as f64).collect()).unwrap(),
            false => Tensor::scalar(r),
        };
        let p = g.placeholder(DType::Float64, Shape::known(t.shape())).unwrap();
        feeds.push((p, t));
        inputs.push(p);
    }
    let u = g.add_node(NodeName::Default("update"), op.clone(), &inputs, &[]).unwrap();
    let s = session(g);
    s.initialize().unwrap();
    s.run_with(RunOptions { executor, trace: false, check_outputs: true }, &feeds, &[], &[u]).unwrap();
    refs.iter().map(|&r| s.variable_value(r).unwrap().to_f64_vec()).collect()
}

/// One update of one-element variables, the same under both executors; then the same update of
/// variables past the split threshold, the same under both executors and, element by element,
/// equal to the one-element update with that element's gradient. Returns the one-element result.
pub fn step(op: impl Op + Clone, grad_at: usize, vars: &[f64], rest: &[f64]) -> Vec<f64> {
    let small = |scale: f64| {
        let mut rest = rest.to_vec();
        rest[grad_at - vars.len()] *= scale;
        let serial = update(&op, grad_at, vars, &rest, 1, Executor::Serial);
        assert_eq!(serial, update(&op, grad_at, vars, &rest, 1, Executor::Parallel), "the executors disagree");
        serial.into_iter().map(|v| v[0]).collect::<Vec<f64>>()
    };
    let n = SPLIT_UPDATE + 5;
    let big = update(&op, grad_at, vars, rest, n, Executor::Parallel);
    assert!(
        big == update(&op, grad_at, vars, rest, n, Executor::Serial),
        "the split update differs from the serial one"
    );
    for class in 0..7 {
        let want = small((1 + class) as f64);
        for (v, w) in big.iter().zip(&want) {
            assert!(v.iter().skip(class).step_by(7).all(|x| x.to_bits() == w.to_bits()), "element class {class}");
        }
    }
    small(1.0)
}

#[track_caller]
pub fn close(got: &[f64], want: &[f64]) {
    assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-9 * w.abs().max(1.0)), "got {got:?}, want {want:?}");
}

pub fn gradient_descent() {
    // w -= 0.1 · 0.5
    close(&step(ApplyGradientDescent {}, 2, &[1.0], &[0.1, 0.5]), &[0.95]);
}

pub fn momentum() {
    // accum = 0.5·0.9 + 1 = 1.45; w = 1 − 0.1·1.45; Nesterov: w = 1 − (1·0.1 + 1.45·0.9·0.1)
    close(&step(ApplyMomentum { use_nesterov: false }, 3, &[1.0, 0.5], &[0.1, 1.0, 0.9]), &[0.855, 1.45]);
    close(&step(ApplyMomentum { use_nesterov: true }, 3, &[1.0, 0.5], &[0.1, 1.0, 0.9]), &[0.7695, 1.45]);
    // A subnormal accumulator (−1e-310 · 0.9) is flushed to a zero of its sign, as in TF.
    flushed(&step(ApplyMomentum { use_nesterov: false }, 3, &[1.0, -1e-310], &[0.1, 0.0, 0.9]), &[1.0, -0.0]);
}

/// Values equal to `want` bit for bit: flushed subnormals are zeros of the right sign.
#[track_caller]
fn flushed(got: &[f64], want: &[f64]) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(want), "got {got:?}, want {want:?}");
}

pub fn adam() {
    // alpha = 0.1·√(1 − 0.999)/(1 − 0.9) = √0.001; m = 0.05; v = 0.00025;
    // w = 1 − 0.05·√0.001/(√0.00025 + 1e-8)
    let alpha = 0.001f64.sqrt();
    let w = 1.0 - 0.05 * alpha / (0.00025f64.sqrt() + 1e-8);
    close(&step(ApplyAdam {}, 9, &[1.0, 0.0, 0.0], &[0.9, 0.999, 0.1, 0.9, 0.999, 1e-8, 0.5]), &[w, 0.05, 0.00025]);
    // Subnormal moments (1e-310 shrinking by β) are flushed to zero, as in TF; w keeps its value.
    let got = step(ApplyAdam {}, 9, &[1.0, -1e-310, 1e-310], &[0.9, 0.999, 0.1, 0.9, 0.999, 1e-8, 0.0]);
    flushed(&got, &[1.0, -0.0, 0.0]);
}

pub fn adagrad() {
    // accum = 0.1 + 0.25; w = 1 − 0.5·0.1/√0.35
    close(&step(ApplyAdagrad {}, 3, &[1.0, 0.1], &[0.1, 0.5]), &[1.0 - 0.05 / 0.35f64.sqrt(), 0.35]);
}

pub fn rmsprop() {
    // ms = 1 + (0.25 − 1)·0.1 = 0.925; mom = 0.05/√(0.925 + 1e-10); w = 1 − mom
    let mom = 0.05 / (0.925f64 + 1e-10).sqrt();
    close(&step(ApplyRMSProp {}, 7, &[1.0, 1.0, 0.0], &[0.1, 0.9, 0.0, 1e-10, 0.5]), &[1.0 - mom, 0.925, mom]);
    // Subnormal mean square and momentum are flushed to zero, as in TF.
    flushed(&step(ApplyRMSProp {}, 7, &[1.0, 1e-310, 1e-310], &[0.1, 0.9, 0.5, 1e-10, 0.0]), &[1.0, 0.0, 0.0]);
}

pub fn centered_rmsprop() {
    // ms = 0.925, mg = 0.05, denominator 0.925 − 0.0025 + 1e-10; mom = 0·0.5 + 0.05/√denominator
    let mom = 0.05 / (0.9225f64 + 1e-10).sqrt();
    close(
        &step(ApplyCenteredRMSProp {}, 8, &[1.0, 0.0, 1.0, 0.0], &[0.1, 0.9, 0.5, 1e-10, 0.5]),
        &[1.0 - mom, 0.05, 0.925, mom],
    );
    let got = step(ApplyCenteredRMSProp {}, 8, &[1.0, -1e-310, 1e-310, 1e-310], &[0.1, 0.9, 0.5, 1e-10, 0.0]);
    flushed(&got, &[1.0, -0.0, 0.0, 0.0]);
}
