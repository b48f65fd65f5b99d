//! Sources and state.

use super::util::*;
use stepflow::{DType, Executor, Graph, Initializer, RunOptions, Shape, Tensor};

pub fn constant() {
    let t = eval1(|g| g.constant(f32s(&[2], &[1.5, -2.0]))).unwrap();
    assert_close(&t, &[2], &[1.5, -2.0]);
}

pub fn placeholder() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Int64, Shape::partial(&[None])).unwrap();
    let s = session(g);
    let out = s.run(&[(x, Tensor::from_vec(&[3], vec![1i64, 2, 3]).unwrap())], &[x], &[]).unwrap();
    assert_exact(&out[0], &[3], &[1.0, 2.0, 3.0]);
}

pub fn placeholder_with_default() {
    let mut g = Graph::new();
    let d = g.constant(f32s(&[2], &[1.0, 2.0])).unwrap();
    let p = g.placeholder_with_default(d, Shape::partial(&[None])).unwrap();
    let y = g.square(p).unwrap();
    let s = session(g);
    assert_close(&s.run(&[], &[y], &[]).unwrap()[0], &[2], &[1.0, 4.0]);
    let fed = s.run(&[(p, f32s(&[3], &[3.0, 4.0, 5.0]))], &[y], &[]).unwrap();
    assert_close(&fed[0], &[3], &[9.0, 16.0, 25.0]);
}

pub fn variable() {
    let t = eval1(|g| g.variable("v", DType::Float64, &[2], Initializer::Value(f64s(&[2], &[0.25, 4.0])))).unwrap();
    assert_close(&t, &[2], &[0.25, 4.0]);
}

pub fn read_variable_op() {
    // The variable node's own output is read before the assignment; a ReadVariableOp ordered
    // after the assignment sees the new value.
    let mut g = Graph::new();
    let v = g.variable("v", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let five = g.constant(5.0f32).unwrap();
    let a = g.assign(v, five).unwrap();
    let after = g.with_control_dependencies(&[a.node], |g| g.read_value(v)).unwrap();
    let s = session(g);
    s.initialize().unwrap();
    let out = s.run(&[], &[v, after], &[]).unwrap();
    assert_close(&out[0], &[], &[1.0]);
    assert_close(&out[1], &[], &[5.0]);
}

/// Two runs of an update of `v = [5, 10]` by a fed `[2, 3]`, under each executor in a fresh
/// session; returns the two results, after checking that the executors agree.
fn counter(op: fn(&mut Graph, stepflow::Output, stepflow::Output) -> stepflow::Result<stepflow::Output>) -> Vec<f64> {
    let runs: Vec<Vec<f64>> = [Executor::Serial, Executor::Parallel]
        .into_iter()
        .map(|executor| {
            let mut g = Graph::new();
            let v = g.variable("v", DType::Int32, &[2], Initializer::Value(i32s(&[2], &[5, 10]))).unwrap();
            let two = g.placeholder(DType::Int32, Shape::known(&[2])).unwrap();
            let up = op(&mut g, v, two).unwrap();
            let s = session(g);
            s.initialize().unwrap();
            let options = RunOptions { executor, trace: false, check_outputs: true };
            let run = || s.run_with(options, &[(two, i32s(&[2], &[2, 3]))], &[up], &[]).unwrap()[0].to_f64_vec();
            [run(), run()].concat()
        })
        .collect();
    assert_eq!(runs[0], runs[1], "the serial and parallel executors disagree");
    runs[0].clone()
}

pub fn assign() {
    assert_eq!(counter(Graph::assign), vec![2.0, 3.0, 2.0, 3.0]);
    // A value of the wrong shape is rejected when wired.
    let mut g = Graph::new();
    let v = g.variable("v", DType::Float32, &[2], Initializer::Zeros).unwrap();
    let c = g.constant(f32s(&[3], &[1.0, 2.0, 3.0])).unwrap();
    assert!(g.assign(v, c).is_err());
}

pub fn assign_add() {
    assert_eq!(counter(Graph::assign_add), vec![7.0, 13.0, 9.0, 16.0]);
}

pub fn assign_sub() {
    assert_eq!(counter(Graph::assign_sub), vec![3.0, 7.0, 1.0, 4.0]);
}

pub fn identity() {
    let t = eval1(|g| {
        let c = feed(g, i32s(&[2], &[4, 5]))?;
        g.identity(c)
    })
    .unwrap();
    assert_exact(&t, &[2], &[4.0, 5.0]);
}

pub fn stop_gradient() {
    let t = eval1(|g| {
        let c = feed(g, Tensor::scalar(2.5f32))?;
        g.stop_gradient(c)
    })
    .unwrap();
    assert_close(&t, &[], &[2.5]);
}

pub fn no_op() {
    let mut g = Graph::new();
    let v = g.variable("v", DType::Int64, &[], Initializer::Zeros).unwrap();
    let one = g.constant(1i64).unwrap();
    let inc = g.assign_add(v, one).unwrap();
    let both = g.group(&[inc.node], "both").unwrap();
    let s = session(g);
    s.initialize().unwrap();
    assert!(s.run(&[], &[], &[both]).unwrap().is_empty(), "a target returns no value");
    assert_exact(&s.variable_value(v).unwrap(), &[], &[1.0]);
}

/// Two successive draws of 20000 values from a fresh session, under `executor`.
fn draws(op: &str, seed: u64, executor: Executor) -> (Vec<f64>, Vec<f64>) {
    let mut g = Graph::new();
    let x = match op {
        "normal" => g.random_normal(&[20000], DType::Float64, seed),
        "truncated" => g.truncated_normal(&[20000], DType::Float64, seed),
        _ => g.random_uniform(&[20000], DType::Float32, seed),
    }
    .unwrap();
    let s = session(g);
    let options = RunOptions { executor, trace: false, check_outputs: true };
    let a = s.run_with(options, &[], &[x], &[]).unwrap()[0].to_f64_vec();
    let b = s.run_with(options, &[], &[x], &[]).unwrap()[0].to_f64_vec();
    (a, b)
}

/// Like [`draws`] under the parallel executor, checking that the serial one draws the same.
fn samples(op: &str, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let parallel = draws(op, seed, Executor::Parallel);
    assert!(parallel == draws(op, seed, Executor::Serial), "{op}: the executors draw different streams");
    parallel
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
    (m, var.sqrt())
}

/// Seeded streams: same seed, same first draw in a fresh session; successive runs differ.
fn check_stream(op: &str) -> Vec<f64> {
    let (a, b) = samples(op, 7);
    let (a2, _) = samples(op, 7);
    let (c, _) = samples(op, 8);
    assert_eq!(a, a2, "{op}: same seed, same values");
    assert_ne!(a, b, "{op}: a second run draws new values");
    assert_ne!(a, c, "{op}: another seed, other values");
    a
}

pub fn random_standard_normal() {
    let (m, s) = mean_std(&check_stream("normal"));
    assert!(m.abs() < 0.03 && (s - 1.0).abs() < 0.03, "N(0,1): mean {m}, std {s}");
}

pub fn truncated_normal() {
    let v = check_stream("truncated");
    assert!(v.iter().all(|x| x.abs() <= 2.0));
    let (m, s) = mean_std(&v);
    // The standard deviation of N(0,1) truncated to [-2, 2] is 0.8796.
    assert!(m.abs() < 0.03 && (s - 0.8796).abs() < 0.03, "truncated: mean {m}, std {s}");
}

pub fn random_uniform() {
    let v = check_stream("uniform");
    assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
    let (m, s) = mean_std(&v);
    assert!((m - 0.5).abs() < 0.02 && (s - (1.0f64 / 12.0).sqrt()).abs() < 0.02, "U[0,1): mean {m}, std {s}");
}
