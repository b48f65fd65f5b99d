//! Optimizer update kernels, one step each from hand-worked values.

use stepflow::ops::Op;
use stepflow::ops::train::*;
use stepflow::{DType, Graph, Initializer, NodeName, Output, Session, Tensor};

/// Runs one update: `vars` (initial values) are the refs, `rest` the other inputs in order, the
/// gradient at input position `grad_at` (TF's layouts differ). Returns every variable's value
/// afterwards.
pub fn step(op: impl Op, grad_at: usize, vars: &[f64], rest: &[f64]) -> Vec<f64> {
    let mut g = Graph::new();
    let refs: Vec<Output> = vars
        .iter()
        .map(|&v| {
            g.variable("v", DType::Float64, &[1], Initializer::Value(Tensor::from_vec(&[1], vec![v]).unwrap())).unwrap()
        })
        .collect();
    let n = refs.len();
    let mut inputs = refs.clone();
    for (i, &r) in rest.iter().enumerate() {
        // The gradient has the variable's shape; hyper-parameters are scalars.
        let t = if n + i == grad_at { Tensor::from_vec(&[1], vec![r]).unwrap() } else { Tensor::scalar(r) };
        inputs.push(g.constant(t).unwrap());
    }
    let u = g.add_node(NodeName::Default("update"), op, &inputs, &[]).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    s.run(&[], &[], &[u]).unwrap();
    refs.iter().map(|&r| s.variable_value(r).unwrap().to_f64_vec()[0]).collect()
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
}

pub fn adam() {
    // alpha = 0.1·√(1 − 0.999)/(1 − 0.9) = √0.001; m = 0.05; v = 0.00025;
    // w = 1 − 0.05·√0.001/(√0.00025 + 1e-8)
    let alpha = 0.001f64.sqrt();
    let w = 1.0 - 0.05 * alpha / (0.00025f64.sqrt() + 1e-8);
    close(&step(ApplyAdam {}, 9, &[1.0, 0.0, 0.0], &[0.9, 0.999, 0.1, 0.9, 0.999, 1e-8, 0.5]), &[w, 0.05, 0.00025]);
}

pub fn adagrad() {
    // accum = 0.1 + 0.25; w = 1 − 0.5·0.1/√0.35
    close(&step(ApplyAdagrad {}, 3, &[1.0, 0.1], &[0.1, 0.5]), &[1.0 - 0.05 / 0.35f64.sqrt(), 0.35]);
}

pub fn rmsprop() {
    // ms = 1 + (0.25 − 1)·0.1 = 0.925; mom = 0.05/√(0.925 + 1e-10); w = 1 − mom
    let mom = 0.05 / (0.925f64 + 1e-10).sqrt();
    close(&step(ApplyRMSProp {}, 7, &[1.0, 1.0, 0.0], &[0.1, 0.9, 0.0, 1e-10, 0.5]), &[1.0 - mom, 0.925, mom]);
}

pub fn centered_rmsprop() {
    // ms = 0.925, mg = 0.05, denominator 0.925 − 0.0025 + 1e-10; mom = 0·0.5 + 0.05/√denominator
    let mom = 0.05 / (0.9225f64 + 1e-10).sqrt();
    close(
        &step(ApplyCenteredRMSProp {}, 8, &[1.0, 0.0, 1.0, 0.0], &[0.1, 0.9, 0.5, 1e-10, 0.5]),
        &[1.0 - mom, 0.05, 0.925, mom],
    );
}
