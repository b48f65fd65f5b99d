//! Resource variables: handles from `VarHandleOp`, read, assigned, checked and updated through
//! them, as TF's resource graphs do.

use super::train::{close, step};
use super::util::*;
use stepflow::ops::resource::*;
use stepflow::ops::train::*;
use stepflow::ops::{Op, state::ReadVariableOp};
use stepflow::{DType, Graph, NodeId, NodeName, Output, Shape, Tensor};

/// A resource variable `name` of `dtype` and `shape`, initialized to `init` by an
/// `AssignVariableOp` (its `name/Assign`, as TF names it).
fn resource(g: &mut Graph, name: &str, init: Tensor) -> Output {
    let (dtype, shape) = (init.dtype(), Shape::known(init.shape()));
    let h: Output = g.add_node(NodeName::Exact(name), VarHandleOp { dtype, shape }, &[], &[]).unwrap().into();
    let value = g.constant(init).unwrap();
    let assign = g.add_node(NodeName::Exact(&format!("{name}/Assign")), AssignVariableOp::default(), &[h, value], &[]);
    g.set_variable_info(h.node, Some(assign.unwrap()), true).unwrap();
    h
}

fn add(g: &mut Graph, op: impl Op, inputs: &[Output], after: &[NodeId]) -> NodeId {
    g.add_node(NodeName::Default("op"), op, inputs, after).unwrap()
}

fn read(g: &mut Graph, h: Output, after: &[NodeId]) -> Output {
    add(g, ReadVariableOp {}, &[h], after).into()
}

pub fn var_handle_op() {
    let mut g = Graph::new();
    let h = resource(&mut g, "w", f32s(&[2], &[1.5, -2.0]));
    let r = read(&mut g, h, &[]);
    let s = session(g);
    s.initialize().unwrap();
    let out = s.run(&[], &[h, r], &[]).unwrap();
    assert_close(&out[0], &[2], &[1.5, -2.0]);
    assert_close(&out[1], &[2], &[1.5, -2.0]);
}

pub fn assign_variable_op() {
    let mut g = Graph::new();
    let h = resource(&mut g, "w", f32s(&[2], &[0.0, 0.0]));
    let x = g.placeholder(DType::Float32, Shape::partial(&[Some(2)])).unwrap();
    let a = add(&mut g, AssignVariableOp::default(), &[h, x], &[]);
    let after = read(&mut g, h, &[a]);
    let s = session(g);
    s.initialize().unwrap();
    let out = s.run(&[(x, f32s(&[2], &[3.0, 4.0]))], &[after], &[]).unwrap();
    assert_close(&out[0], &[2], &[3.0, 4.0]);
    // A value of another shape is a run-time error that leaves the variable as it was.
    assert!(s.run(&[(x, f32s(&[3], &[1.0, 2.0, 3.0]))], &[], &[a]).is_err());
    assert_close(&s.variable_value(h).unwrap(), &[2], &[3.0, 4.0]);
}

fn counter(op: impl Op + Clone) -> Vec<f64> {
    let mut g = Graph::new();
    let h = resource(&mut g, "step", Tensor::from_vec(&[2], vec![5i64, 10]).unwrap());
    let x = g.placeholder(DType::Int64, Shape::partial(&[Some(2)])).unwrap();
    let up = add(&mut g, op, &[h, x], &[]);
    let s = session(g);
    s.initialize().unwrap();
    let by = Tensor::from_vec(&[2], vec![2i64, 3]).unwrap();
    s.run(&[(x, by.clone())], &[], &[up]).unwrap();
    let first = s.variable_value(h).unwrap().to_f64_vec();
    s.run(&[(x, by)], &[], &[up]).unwrap();
    [first, s.variable_value(h).unwrap().to_f64_vec()].concat()
}

pub fn assign_add_variable_op() {
    assert_eq!(counter(AssignAddVariableOp {}), vec![7.0, 13.0, 9.0, 16.0]);
}

pub fn assign_sub_variable_op() {
    assert_eq!(counter(AssignSubVariableOp {}), vec![3.0, 7.0, 1.0, 4.0]);
}

pub fn var_is_initialized_op() {
    let mut g = Graph::new();
    let h = resource(&mut g, "w", f32s(&[], &[1.0]));
    let q = add(&mut g, VarIsInitializedOp {}, &[h], &[]);
    let s = session(g);
    assert_exact(&s.run(&[], &[q.into()], &[]).unwrap()[0], &[], &[0.0]);
    s.initialize().unwrap();
    assert_exact(&s.run(&[], &[q.into()], &[]).unwrap()[0], &[], &[1.0]);
}

/// One update of a `ResourceApply*` op on handles: every variable's value afterwards.
fn resource_step(op: impl Op, grad_at: usize, vars: &[f64], rest: &[f64]) -> Vec<f64> {
    let mut g = Graph::new();
    let handles: Vec<Output> =
        vars.iter().enumerate().map(|(i, &v)| resource(&mut g, &format!("v{i}"), f64s(&[1], &[v]))).collect();
    let mut inputs = handles.clone();
    let mut feeds = Vec::new();
    for (i, &r) in rest.iter().enumerate() {
        let t = if handles.len() + i == grad_at { f64s(&[1], &[r]) } else { Tensor::scalar(r) };
        let p = g.placeholder(DType::Float64, Shape::known(t.shape())).unwrap();
        feeds.push((p, t));
        inputs.push(p);
    }
    let u = add(&mut g, op, &inputs, &[]);
    let s = session(g);
    s.initialize().unwrap();
    s.run(&feeds, &[], &[u]).unwrap();
    handles.iter().map(|&h| s.variable_value(h).unwrap().to_f64_vec()[0]).collect()
}

/// A resource update gives exactly the reference update's values.
fn same_as_reference(resource_op: impl Op, reference: impl Op + Clone, grad_at: usize, vars: &[f64], rest: &[f64]) {
    let want = step(reference, grad_at, vars, rest);
    close(&resource_step(resource_op, grad_at, vars, rest), &want);
}

pub fn resource_apply_gradient_descent() {
    same_as_reference(ResourceApplyGradientDescent {}, ApplyGradientDescent {}, 2, &[1.0], &[0.1, 0.5]);
    close(&resource_step(ResourceApplyGradientDescent {}, 2, &[1.0], &[0.1, 0.5]), &[0.95]);
}

pub fn resource_apply_momentum() {
    for use_nesterov in [false, true] {
        let (r, a) = (ResourceApplyMomentum { use_nesterov }, ApplyMomentum { use_nesterov });
        same_as_reference(r, a, 3, &[1.0, 0.5], &[0.1, 1.0, 0.9]);
    }
}

pub fn resource_apply_adam() {
    let rest = [0.9, 0.999, 0.1, 0.9, 0.999, 1e-8, 0.5];
    same_as_reference(ResourceApplyAdam {}, ApplyAdam {}, 9, &[1.0, 0.0, 0.0], &rest);
}

pub fn resource_apply_adagrad() {
    same_as_reference(ResourceApplyAdagrad {}, ApplyAdagrad {}, 3, &[1.0, 0.1], &[0.1, 0.5]);
}

pub fn resource_apply_rmsprop() {
    same_as_reference(ResourceApplyRMSProp {}, ApplyRMSProp {}, 7, &[1.0, 1.0, 0.0], &[0.01, 0.9, 0.0, 1e-10, 0.5]);
}

pub fn resource_apply_centered_rmsprop() {
    let rest = [0.01, 0.9, 0.5, 1e-10, 0.5];
    same_as_reference(ResourceApplyCenteredRMSProp {}, ApplyCenteredRMSProp {}, 8, &[1.0, 0.2, 1.0, 0.0], &rest);
}
