//! Sources and state: Const, Placeholder, PlaceholderWithDefault, VariableV2, Assign, AssignAdd,
//! AssignSub, Identity, NoOp, StopGradient.

use super::{Access, InferCx, Kernel, Op, Outputs, State, TensorSpec, one, op, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

op! {
    /// A constant tensor, stored in the graph.
    Const { value: Tensor }
}

impl Op for Const {
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

op! {
    /// A value supplied by the feed dict at each `run`.
    Placeholder { dtype: DType, #[serde(default = "Shape::unknown")] shape: Shape }
}

impl Op for Placeholder {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        single(self.dtype, self.shape.clone())
    }
    fn compute(&self, _k: &mut Kernel) -> OpResult<Outputs> {
        Err(crate::invalid!("placeholder was not fed"))
    }
    fn state(&self) -> State {
        State::Fed
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// A placeholder that passes its input through when it is not fed.
    PlaceholderWithDefault { #[serde(default = "Shape::unknown")] shape: Shape }
}

impl Op for PlaceholderWithDefault {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let input = cx.input(0);
        // As TF: the output has the declared shape (a feed may differ from the default's), and
        // the default must fit it.
        input.shape.merge(&self.shape)?;
        single(input.dtype, self.shape.clone())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let t = k.take(0)?;
        // The input's static shape may be less known than the declared one: check the value.
        if !self.shape.is_compatible_with(t.shape()) {
            return Err(crate::invalid!("default value of shape {:?} does not have shape {}", t.shape(), self.shape));
        }
        one(t)
    }
    fn state(&self) -> State {
        State::Effect
    }
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![Some(gx.grad(0))])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// A variable: running the node reads a snapshot of the session's value. Its shape is fully
    /// known; its initial value comes from its initializer (an `Assign` node).
    VariableV2 { dtype: DType, shape: Shape }
}

/// The `Op` impl of a variable declaration (a struct with `dtype` and `shape`): no inputs, a
/// fully known shape, and running the node reads a snapshot of the session's value.
macro_rules! variable_op {
    ($name:ident) => {
        impl $crate::ops::Op for $name {
            fn infer(&self, cx: &$crate::ops::InferCx) -> $crate::error::OpResult<Vec<$crate::ops::TensorSpec>> {
                cx.arity(0)?;
                if self.shape.to_known().is_none() {
                    return Err($crate::invalid!("a variable needs a fully known shape, got {}", self.shape));
                }
                $crate::ops::single(self.dtype, self.shape.clone())
            }
            fn compute(&self, k: &mut $crate::ops::Kernel) -> $crate::error::OpResult<$crate::ops::Outputs> {
                $crate::ops::one(k.read_var(0)?)
            }
            fn state(&self) -> $crate::ops::State {
                $crate::ops::State::Variable
            }
            fn cost(&self, _: &[$crate::ops::TensorSpec], _: &[$crate::ops::TensorSpec]) -> usize {
                1
            }
        }
    };
}

pub(super) use variable_op;

variable_op!(VariableV2);

op! {
    /// Reads a snapshot of a variable when it runs, ordered by its control inputs (TF's
    /// `ReadVariableOp`, what `v.read_value()` builds): use it to read a variable after an update
    /// in the same run.
    ReadVariableOp derive(Default) {}
}

impl Op for ReadVariableOp {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.read_var(0)?)
    }
    fn state(&self) -> State {
        State::Variables(&[Access::Read])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

pub(super) fn infer_assign(cx: &InferCx, exact_shape: bool) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let (var, value) = (cx.input(0), cx.input(1));
    cx.same_dtype(0, 1)?;
    if exact_shape && !var.shape.is_compatible(&value.shape) {
        return Err(OpError::ShapeMismatch { lhs: var.shape.clone(), rhs: value.shape.clone() });
    }
    single(var.dtype, var.shape.clone())
}

/// Writes `combine(old, value)` to the variable and outputs it. Every check runs before the
/// variable is touched, and `combine` gets the old value only by reference, so a failure leaves
/// the variable as it was. The old value is taken out first only when nothing can fail after it,
/// so an update of the only reference happens in place.
pub(super) fn compute_assign(
    k: &mut Kernel,
    combine: Option<fn(Tensor, &Tensor) -> OpResult<Tensor>>,
) -> OpResult<Outputs> {
    let value = k.take(1)?;
    let spec = k.var_spec(0)?;
    if !spec.shape.is_compatible_with(value.shape()) || spec.dtype != value.dtype() {
        return Err(crate::invalid!(
            "cannot assign a {} value of shape {:?} to a {} variable of shape {}",
            value.dtype(),
            value.shape(),
            spec.dtype,
            spec.shape
        ));
    }
    let new = k.update_vars(|vars| {
        let slot = &mut *vars[0];
        let new = match (combine, slot.as_ref()) {
            (None, _) => value,
            (Some(_), None) => return Err(crate::invalid!("variable is not initialized")),
            (Some(f), Some(old)) => {
                if old.shape() != value.shape() {
                    return Err(OpError::ShapeMismatch {
                        lhs: crate::shape::Shape::known(old.shape()),
                        rhs: crate::shape::Shape::known(value.shape()),
                    });
                }
                let old = slot.take().ok_or_else(|| crate::invalid!("variable is not initialized"))?;
                f(old, &value)?
            }
        };
        *slot = Some(new.clone());
        Ok(new)
    })?;
    one(new)
}

/// Defines a read-modify-write assign op: `ref = combine(ref, value)`; outputs the new value.
macro_rules! assign_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, $combine:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Default) {}
            builder $method(var, value)
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                cx.arity(2)?;
                cx.dtype_in(0, super::NUMBERS)?;
                infer_assign(cx, true)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                compute_assign(k, $combine)
            }
            fn state(&self) -> State {
                State::Variables(&[Access::Update])
            }
        }
    };
}

op! {
    /// `ref = value`; outputs the new value.
    Assign { #[serde(default = "yes")] validate_shape: bool }
}

impl Default for Assign {
    fn default() -> Self {
        Assign { validate_shape: true }
    }
}

fn yes() -> bool {
    true
}

impl Op for Assign {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_assign(cx, self.validate_shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_assign(k, None)
    }
    fn state(&self) -> State {
        State::Variables(&[Access::Overwrite])
    }
}

assign_op!(
    /// `AssignAdd(var, value)` (TF's `tf.assign_add`): `var += value`; outputs the new value.
    /// Atomic against concurrent runs.
    AssignAdd, assign_add, Some(super::binary::add_in_place)
);
assign_op!(
    /// `AssignSub(var, value)`: `var -= value`; outputs the new value. Atomic against
    /// concurrent runs.
    AssignSub, assign_sub, Some(super::binary::sub_in_place)
);

op! {
    /// `Identity(x)`: passes its input through. `dy/dx = 1`.
    Identity derive(Default) {}
    builder identity(x)
}

super::passthrough::pass_through!(Identity, |_op, gx| Ok(vec![Some(gx.grad(0))]));

op! {
    /// `StopGradient(x)`: the value of x, through which no gradient flows (`d/dx = None`).
    StopGradient derive(Default) {}
    builder stop_gradient(x)
}

super::passthrough::pass_through!(StopGradient, |_op, _gx| Ok(vec![None]));

op! {
    /// Does nothing; used for its control inputs (`group`, `init`).
    NoOp derive(Copy, Default) {}
}

impl Op for NoOp {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(0)?;
        Ok(vec![])
    }
    fn compute(&self, _k: &mut Kernel) -> OpResult<Outputs> {
        Ok(Outputs::new())
    }
    fn state(&self) -> State {
        State::Effect
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn elision(&self) -> super::Elision {
        super::Elision::Order
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

    /// `Assign(var, value)`: the variable takes the value; the output is the new value.
    pub fn assign(&mut self, var: Output, value: Output) -> Result<Output> {
        self.op("Assign", Assign { validate_shape: true }, &[var, value])
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
