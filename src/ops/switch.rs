//! TF1's dataflow control flow: `Switch` and `Merge`, what `tf.cond` builds when v1 control flow
//! is on (TF 1.x, and `tf.compat.v1.disable_control_flow_v2()`). A `Switch` forwards its data to
//! one of two outputs and makes the other *dead*; everything downstream of a dead value does not
//! run, until a `Merge` passes on whichever of its inputs is live. So only the taken branch runs.
//! See [`ControlFlow`] for how the executor treats dead values.

use super::{ControlFlow, InferCx, Kernel, Op, Outputs, TensorSpec, op};
use crate::error::{OpResult, Result};
use crate::graph::{Graph, NodeName, Output};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

op! {
    /// `Switch(data, pred)`: `data` on output 1 (`output_true`) when the bool scalar `pred`
    /// holds, else on output 0 (`output_false`); the other output is dead.
    ///
    /// ```
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// let mut g = Graph::new();
    /// let pred = g.placeholder(DType::Bool, Shape::scalar())?;
    /// let x = g.constant(3.0f32)?;
    /// let (if_false, if_true) = g.switch(x, pred)?;
    /// let two = g.constant(2.0f32)?;
    /// let doubled = g.mul(if_true, two)?;
    /// let (y, _) = g.merge(&[if_false, doubled])?;
    /// let s = Session::new(g);
    /// let out = s.run(&[(pred, Tensor::from(true))], &[y], &[])?;
    /// assert_eq!(out[0].scalar_f64(), Some(6.0));
    /// let out = s.run(&[(pred, Tensor::from(false))], &[y], &[])?;
    /// assert_eq!(out[0].scalar_f64(), Some(3.0));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    Switch derive(Copy, Default) {}
}

impl Op for Switch {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, &[DType::Bool])?;
        cx.scalar(1, "pred")?;
        let data = cx.input(0).clone();
        Ok(vec![data.clone(), data])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let taken = match k.input(1)? {
            Tensor::Bool(p) if p.len() == 1 && p.ndim() == 0 => p.iter().all(|&b| b),
            p => return Err(crate::invalid!("pred must be a bool scalar, got shape {:?}", p.shape())),
        };
        k.kill_output(usize::from(!taken))?;
        let data = k.take(0)?;
        Ok(smallvec::smallvec![data.clone(), data])
    }
    fn grad(&self, gx: &mut crate::grad::GradCx) -> Result<Vec<Option<Output>>> {
        // Only the taken output's gradient is live; the other is dead, so the Merge passes on
        // the live one (a missing gradient is zeros of the output, dead on the untaken side).
        let (g0, g1) = (gx.grad(0), gx.grad(1));
        let (merged, _) = gx.g.merge(&[g0, g1])?;
        Ok(vec![Some(merged), None])
    }
    fn control_flow(&self) -> ControlFlow {
        ControlFlow::Switch
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn output_args(&self) -> &'static [&'static str] {
        &["output_false", "output_true"]
    }
}

op! {
    /// `Merge(inputs...)`: the first live input (output 0) and its index (output 1, an int32
    /// scalar `value_index`). It runs once all its inputs are known, live or dead, and is dead
    /// only when every input is. In a `tf.cond` exactly one input is live.
    Merge derive(Copy, Default) {}
}

impl Op for Merge {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(crate::invalid!("Merge needs at least one input"));
        }
        let dtype = cx.input(0).dtype;
        for i in 1..cx.len() {
            cx.same_dtype(0, i)?;
        }
        let shape = (1..cx.len()).fold(cx.input(0).shape.clone(), |s, i| most_general(&s, &cx.input(i).shape));
        Ok(vec![TensorSpec::new(dtype, shape), TensorSpec::new(DType::Int32, Shape::scalar())])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let i = (0..k.num_inputs())
            .find(|&i| k.is_live(i))
            .ok_or_else(|| crate::invalid!("Merge ran with every input dead"))?;
        let index = i32::try_from(i).map_err(|_| crate::invalid!("Merge input index {i} does not fit in int32"))?;
        Ok(smallvec::smallvec![k.take(i)?, Tensor::from(index)])
    }
    fn grad(&self, gx: &mut crate::grad::GradCx) -> Result<Vec<Option<Output>>> {
        // The gradient goes to the input that was passed on, which `value_index` names: for
        // input i, the true side of Switch(grad, value_index == i); the others get dead values.
        let n = gx.g.node(gx.output(0).node).inputs().len();
        let (grad, index) = (gx.grad(0), gx.output(1));
        (0..n)
            .map(|i| {
                let i = gx.g.constant(i32::try_from(i).unwrap_or(i32::MAX))?;
                let taken = gx.g.equal(index, i)?;
                Ok(Some(gx.g.switch(grad, taken)?.1))
            })
            .collect()
    }
    fn control_flow(&self) -> ControlFlow {
        ControlFlow::Merge
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn output_args(&self) -> &'static [&'static str] {
        &["output", "value_index"]
    }
}

/// TF's `MergeShape`: the shape every input agrees on, with the dimensions where they differ
/// unknown, and an unknown rank when the ranks differ.
fn most_general(a: &Shape, b: &Shape) -> Shape {
    match (a.dims(), b.dims()) {
        (Some(x), Some(y)) if x.len() == y.len() => {
            Shape::partial(&x.iter().zip(y).map(|(p, q)| if p == q { *p } else { None }).collect::<Vec<_>>())
        }
        _ => Shape::unknown(),
    }
}

impl Graph {
    /// A [`Switch`] node: `(output_false, output_true)`, `data` on the side `pred` picks and a
    /// dead value on the other.
    pub fn switch(&mut self, data: Output, pred: Output) -> Result<(Output, Output)> {
        let id = self.add_node(NodeName::Default("Switch"), Switch {}, &[data, pred], &[])?;
        Ok((Output { node: id, slot: 0 }, Output { node: id, slot: 1 }))
    }

    /// A [`Merge`] node: `(output, value_index)`, the first live input and its index.
    pub fn merge(&mut self, inputs: &[Output]) -> Result<(Output, Output)> {
        let id = self.add_node(NodeName::Default("Merge"), Merge {}, inputs, &[])?;
        Ok((Output { node: id, slot: 0 }, Output { node: id, slot: 1 }))
    }
}
