//! Ops that pass their input through unchanged, which TF's graphs hold for what they say about
//! the graph rather than for a value: Snapshot and PreventGradient (Identity and StopGradient,
//! in `state`, share their implementation: [`pass_through!`]).

use super::op;
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};

/// `impl Op` for an op whose output is its one input, of any dtype, with the gradient `$grad`
/// (a closure body over `$op` and `$gx`).
macro_rules! pass_through {
    ($name:ident, |$op:ident, $gx:ident| $grad:expr) => {
        impl $crate::ops::Op for $name {
            fn infer(&self, cx: &$crate::ops::InferCx) -> $crate::error::OpResult<Vec<$crate::ops::TensorSpec>> {
                cx.arity(1)?;
                Ok(vec![cx.input(0).clone()])
            }
            fn compute(&self, k: &mut $crate::ops::Kernel) -> $crate::error::OpResult<$crate::ops::Outputs> {
                $crate::ops::one(k.take(0)?)
            }
            fn grad(
                &self,
                $gx: &mut $crate::grad::GradCx,
            ) -> $crate::error::Result<Vec<Option<$crate::graph::Output>>> {
                let $op = self;
                $grad
            }
            fn static_value(&self, cx: &$crate::ops::InferCx) -> Option<$crate::tensor::Tensor> {
                cx.value(0).cloned()
            }
            fn cost(&self, _: &[$crate::ops::TensorSpec], _: &[$crate::ops::TensorSpec]) -> usize {
                1
            }
            fn elision(&self) -> $crate::ops::Elision {
                $crate::ops::Elision::Forward
            }
        }
    };
}

pub(crate) use pass_through;

op! {
    /// `Snapshot(input)`: a copy of its input, of any dtype (TF's optimizers insert it where a
    /// value must not alias a buffer that is later written; stepflow's values are never written
    /// while shared, so the copy is the value itself). TF registers no gradient for it, so a
    /// gradient through it is an error naming the node, as in TF.
    Snapshot derive(Copy, Default) {}
    builder snapshot(input)
}

pass_through!(Snapshot, |_op, gx| Err(gx.no_gradient()));

op! {
    /// `PreventGradient(input)`: the value of its input, of any dtype; a gradient through it is an
    /// error ([`Error::GradientDisabled`]) naming the node and carrying `message`, as TF's
    /// `LookupError` ("Gradient explicitly disabled").
    PreventGradient derive(Default) { #[serde(default)] message: String }
}

pass_through!(PreventGradient, |op, gx| {
    let node = gx.g.node(gx.output(0).node).name().to_string();
    Err(Error::GradientDisabled { node, op: "PreventGradient".into(), message: op.message.clone() })
});

impl Graph {
    /// `PreventGradient(input)` (`tf.raw_ops.PreventGradient`): `input` itself, through which
    /// asking for a gradient is an error carrying `message`.
    pub fn prevent_gradient(&mut self, input: Output, message: &str) -> Result<Output> {
        self.op("PreventGradient", PreventGradient { message: message.to_string() }, &[input])
    }
}
