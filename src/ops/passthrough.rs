//! Ops that pass their input through unchanged, which TF's graphs hold for what they say about
//! the graph rather than for a value: Snapshot and PreventGradient.

use super::{InferCx, Kernel, Op, Outputs, TensorSpec, one, op};
use crate::error::{Error, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::tensor::Tensor;

op! {
    /// `Snapshot(input)`: a copy of its input, of any dtype (TF's optimizers insert it where a
    /// value must not alias a buffer that is later written; stepflow's values are never written
    /// while shared, so the copy is the value itself). TF registers no gradient for it, so a
    /// gradient through it is an error naming the node, as in TF.
    Snapshot derive(Copy, Default) {}
    builder snapshot(input)
}

impl Op for Snapshot {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.take(0)?)
    }
    fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
        cx.value(0).cloned()
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// `PreventGradient(input)`: the value of its input, of any dtype; a gradient through it is an
    /// error ([`Error::GradientDisabled`]) naming the node and carrying `message`, as TF's
    /// `LookupError` ("Gradient explicitly disabled").
    PreventGradient derive(Default) { #[serde(default)] message: String }
}

impl Op for PreventGradient {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        Ok(vec![cx.input(0).clone()])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(k.take(0)?)
    }
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let node = gx.g.node(gx.output(0).node).name().to_string();
        Err(Error::GradientDisabled { node, op: "PreventGradient".into(), message: self.message.clone() })
    }
    fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
        cx.value(0).cloned()
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

impl Graph {
    /// `PreventGradient(input)` (`tf.raw_ops.PreventGradient`): `input` itself, through which
    /// asking for a gradient is an error carrying `message`.
    pub fn prevent_gradient(&mut self, input: Output, message: &str) -> Result<Output> {
        self.op("PreventGradient", PreventGradient { message: message.to_string() }, &[input])
    }
}
