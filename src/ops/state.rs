//! Sources and state: Const, Placeholder, PlaceholderWithDefault, VariableV2, Assign, AssignAdd,
//! AssignSub, Identity, NoOp, StopGradient.

use super::{InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// A constant tensor, stored in the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Const {
    pub value: Tensor,
}

impl Op for Const {
    fn op_type(&self) -> &'static str {
        "Const"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        single(self.value.dtype(), Shape::known(self.value.shape()))
    }
    fn compute(&self, _k: &mut Kernel) -> OpResult<Outputs> {
        one(self.value.clone())
    }
    fn static_value(&self, _cx: &InferCx) -> Option<Tensor> {
        Some(self.value.clone())
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// A value supplied by the feed dict at each `run`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placeholder {
    pub dtype: DType,
    #[serde(default = "Shape::unknown")]
    pub shape: Shape,
}

impl Op for Placeholder {
    fn op_type(&self) -> &'static str {
        "Placeholder"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        single(self.dtype, self.shape.clone())
    }
    fn compute(&self, _k: &mut Kernel) -> OpResult<Outputs> {
        Err(crate::invalid!("placeholder was not fed"))
    }
    fn is_stateful(&self) -> bool {
        true
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// A placeholder that passes its input through when it is not fed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceholderWithDefault {
    #[serde(default = "Shape::unknown")]
    pub shape: Shape,
}

impl Op for PlaceholderWithDefault {
    fn op_type(&self) -> &'static str {
        "PlaceholderWithDefault"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let input = cx.input(0);
        input.shape.merge(&self.shape)?;
        single(input.dtype, self.shape.clone())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.take(0)?)
    }
    fn is_stateful(&self) -> bool {
        true
    }
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![Some(gx.grad(0))])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// A variable: running the node reads a snapshot of the session's value. Its shape is fully
/// known; its initial value comes from its initializer (an `Assign` node).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableV2 {
    pub dtype: DType,
    pub shape: Shape,
}

impl Op for VariableV2 {
    fn op_type(&self) -> &'static str {
        "VariableV2"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        if self.shape.to_known().is_none() {
            return Err(crate::invalid!("a variable needs a fully known shape, got {}", self.shape));
        }
        single(self.dtype, self.shape.clone())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.read_var(0)?)
    }
    fn is_variable(&self) -> bool {
        true
    }
    fn is_stateful(&self) -> bool {
        true
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// Reads a snapshot of a variable when it runs, ordered by its control inputs (TF's
/// `ReadVariableOp`, what `v.read_value()` builds): use it to read a variable after an update in
/// the same run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadVariableOp {}

impl Op for ReadVariableOp {
    fn op_type(&self) -> &'static str {
        "ReadVariableOp"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.read_var(0)?)
    }
    fn ref_inputs(&self) -> usize {
        1
    }
    fn is_stateful(&self) -> bool {
        true
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// How an assign-family op combines the old value with the new one.
#[derive(Clone, Copy)]
enum AssignMode {
    Set,
    Add,
    Sub,
}

fn infer_assign(cx: &InferCx, exact_shape: bool) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let (var, value) = (cx.input(0), cx.input(1));
    cx.same_dtype(0, 1)?;
    let ok = if exact_shape { var.shape.is_compatible(&value.shape) } else { true };
    if !ok {
        return Err(OpError::ShapeMismatch { lhs: var.shape.clone(), rhs: value.shape.clone() });
    }
    single(var.dtype, var.shape.clone())
}

fn compute_assign(k: &mut Kernel, mode: AssignMode) -> OpResult<Outputs> {
    let value = k.take(1)?;
    let spec = k.var_spec(0)?;
    if !spec.shape.is_compatible_with(value.shape()) {
        return Err(crate::invalid!(
            "cannot assign a value of shape {:?} to a variable of shape {}",
            value.shape(),
            spec.shape
        ));
    }
    let new = k.update_vars(|vars| {
        let slot = &mut *vars[0];
        let new = match (mode, slot.take()) {
            (AssignMode::Set, _) => value,
            (_, None) => return Err(crate::invalid!("variable is not initialized")),
            (AssignMode::Add, Some(old)) => super::binary::add_in_place(old, &value)?,
            (AssignMode::Sub, Some(old)) => super::binary::sub_in_place(old, &value)?,
        };
        *slot = Some(new.clone());
        Ok(new)
    })?;
    one(new)
}

/// `ref = value`; outputs the new value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    #[serde(default = "yes")]
    pub validate_shape: bool,
}

fn yes() -> bool {
    true
}

impl Op for Assign {
    fn op_type(&self) -> &'static str {
        "Assign"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_assign(cx, self.validate_shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_assign(k, AssignMode::Set)
    }
    fn ref_inputs(&self) -> usize {
        1
    }
    fn is_stateful(&self) -> bool {
        true
    }
}

/// `ref += value`; outputs the new value. Atomic against concurrent runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignAdd {}

impl Op for AssignAdd {
    fn op_type(&self) -> &'static str {
        "AssignAdd"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_assign(cx, true)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_assign(k, AssignMode::Add)
    }
    fn ref_inputs(&self) -> usize {
        1
    }
    fn is_stateful(&self) -> bool {
        true
    }
}

/// `ref -= value`; outputs the new value. Atomic against concurrent runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignSub {}

impl Op for AssignSub {
    fn op_type(&self) -> &'static str {
        "AssignSub"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_assign(cx, true)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_assign(k, AssignMode::Sub)
    }
    fn ref_inputs(&self) -> usize {
        1
    }
    fn is_stateful(&self) -> bool {
        true
    }
}

/// Passes its input through. `dy/dx = 1`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {}

impl Op for Identity {
    fn op_type(&self) -> &'static str {
        "Identity"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.take(0)?)
    }
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![Some(gx.grad(0))])
    }
    fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
        cx.value(0).cloned()
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// Passes its input through and stops gradients: `d/dx = None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopGradient {}

impl Op for StopGradient {
    fn op_type(&self) -> &'static str {
        "StopGradient"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.take(0)?)
    }
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None])
    }
    fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
        cx.value(0).cloned()
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

/// Does nothing; used for its control inputs (`group`, `init`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOp {}

impl Op for NoOp {
    fn op_type(&self) -> &'static str {
        "NoOp"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        Ok(vec![])
    }
    fn compute(&self, _k: &mut Kernel) -> OpResult<Outputs> {
        Ok(Outputs::new())
    }
    fn is_stateful(&self) -> bool {
        true
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

impl Graph {
    /// A `Const` node holding `value` (a scalar, or any [`Tensor`]).
    pub fn constant(&mut self, value: impl Into<Tensor>) -> Result<Output> {
        self.op("Const", Const { value: value.into() }, &[])
    }

    /// A rank-1 `Const` holding `values`.
    pub fn constant_vec<T: crate::tensor::Element>(&mut self, values: Vec<T>) -> Result<Output> {
        let n = values.len();
        let t = Tensor::from_vec(&[n], values).map_err(|e| crate::error::Error::at("Const", "Const", e))?;
        self.constant(t)
    }

    /// A scalar `Const` of the given float or integer dtype.
    pub fn scalar(&mut self, dtype: DType, value: f64) -> Result<Output> {
        self.constant(Tensor::filled(dtype, &[], value))
    }

    /// A `Placeholder` of the given dtype and shape (`Shape::partial(&[None, Some(3)])`).
    pub fn placeholder(&mut self, dtype: DType, shape: Shape) -> Result<Output> {
        self.op("Placeholder", Placeholder { dtype, shape }, &[])
    }

    /// A placeholder that yields `default` unless fed.
    pub fn placeholder_with_default(&mut self, default: Output, shape: Shape) -> Result<Output> {
        self.op("PlaceholderWithDefault", PlaceholderWithDefault { shape }, &[default])
    }

    /// `Identity(x)`.
    pub fn identity(&mut self, x: Output) -> Result<Output> {
        self.op("Identity", Identity {}, &[x])
    }

    /// `StopGradient(x)`: the value of x, through which no gradient flows.
    pub fn stop_gradient(&mut self, x: Output) -> Result<Output> {
        self.op("StopGradient", StopGradient {}, &[x])
    }

    /// `Assign(var, value)`: the variable takes the value; the output is the new value.
    pub fn assign(&mut self, var: Output, value: Output) -> Result<Output> {
        self.op("Assign", Assign { validate_shape: true }, &[var, value])
    }

    /// `AssignAdd(var, value)` (TF's `tf.assign_add`); the output is the new value.
    pub fn assign_add(&mut self, var: Output, value: Output) -> Result<Output> {
        self.op("AssignAdd", AssignAdd {}, &[var, value])
    }

    /// `AssignSub(var, value)`; the output is the new value.
    pub fn assign_sub(&mut self, var: Output, value: Output) -> Result<Output> {
        self.op("AssignSub", AssignSub {}, &[var, value])
    }

    /// A `ReadVariableOp`: the variable's value at the point this node runs (after its control
    /// inputs), unlike the variable node's own output, which is read before any update of the run.
    pub fn read_value(&mut self, var: Output) -> Result<Output> {
        self.op("ReadVariableOp", ReadVariableOp {}, &[var])
    }

    /// A `NoOp` with no dependencies.
    pub fn no_op(&mut self) -> Result<NodeId> {
        self.add_node(NodeName::Default("NoOp"), NoOp {}, &[], &[])
    }
}
