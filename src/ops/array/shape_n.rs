//! The shapes TF's ConcatV2 gradient works with: ShapeN (the shapes of several tensors at once)
//! and ConcatOffset (where each input of a concatenation starts in its output).

use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, NodeName, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

fn int32() -> DType {
    DType::Int32
}

/// `values` as an integer vector of `dtype` (int32 or int64).
fn int_vector(dtype: DType, values: Vec<i64>) -> OpResult<Tensor> {
    Ok(Tensor::from_vec(&[values.len()], values)?.cast(dtype))
}

op! {
    /// The shape of each of its N inputs (of one dtype), as N integer vectors of `out_type`
    /// (`tf.shape_n`).
    ShapeN derive(Copy) { #[serde(default = "int32")] out_type: DType }
}

impl Op for ShapeN {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(OpError::Arity { expected: "at least 1".into(), got: 0 });
        }
        if !self.out_type.is_int() {
            return Err(crate::invalid!("out_type must be int32 or int64, got {}", self.out_type));
        }
        for i in 1..cx.len() {
            cx.same_dtype(0, i)?;
        }
        Ok((0..cx.len()).map(|i| TensorSpec::new(self.out_type, Shape::partial(&[cx.input(i).shape.rank()]))).collect())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        (0..k.num_inputs())
            .map(|i| int_vector(self.out_type, k.input(i)?.shape().iter().map(|&d| d as i64).collect()))
            .collect()
    }
    // not differentiable
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None; gx.g.node(gx.output(0).node).inputs().len()])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// For a concatenation along `concat_dim` (input 0) of tensors of the shapes given by the
    /// other N inputs (N >= 2), the offset of each in the output: zeros but along the axis, where
    /// it is the sum of the sizes before it.
    ConcatOffset derive(Copy, Default) {}
}

impl Op for ConcatOffset {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.len() < 3 {
            return Err(OpError::Arity { expected: "at least 3 (concat_dim, shapes...)".into(), got: cx.len() });
        }
        cx.dtype_in(0, &[DType::Int32])?;
        cx.scalar(0, "concat_dim")?;
        cx.dtype_in(1, INTS)?;
        let mut shape = Shape::unknown_dims(1);
        for i in 1..cx.len() {
            cx.same_dtype(1, i)?;
            shape = shape.merge(&cx.input(i).shape).map_err(|_| {
                crate::invalid!("shapes must be vectors of one length, got {} for input {i}", cx.input(i).shape)
            })?;
        }
        Ok((1..cx.len()).map(|_| TensorSpec::new(cx.input(1).dtype, shape.clone())).collect())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let cdim = k.input(0)?;
        if cdim.rank() != 0 {
            return Err(crate::invalid!("concat_dim must be a scalar, got shape {:?}", cdim.shape()));
        }
        let cdim = cdim.to_i64_vec()?[0];
        let mut shapes = Vec::with_capacity(k.num_inputs() - 1);
        for i in 1..k.num_inputs() {
            let s = k.input(i)?;
            if s.rank() != 1 {
                return Err(crate::invalid!("input {i} should be a vector, but got shape {:?}", s.shape()));
            }
            shapes.push(s.to_i64_vec()?);
        }
        let dims = shapes[0].len() as i64;
        let axis = if cdim < 0 { cdim + dims } else { cdim };
        if axis < 0 || axis >= dims {
            return Err(crate::invalid!("concat dim is out of range: {cdim} vs. {dims}"));
        }
        let mut offset = 0i64;
        let mut out = Outputs::with_capacity(shapes.len());
        for (i, s) in shapes.iter().enumerate() {
            if s.len() != shapes[0].len() {
                return Err(crate::invalid!("input {i} should contain {dims} elements, but got {}", s.len()));
            }
            let mut o = vec![0i64; s.len()];
            for j in 0..s.len() {
                if j as i64 == axis {
                    o[j] = offset;
                    offset = offset.wrapping_add(s[j]);
                } else if s[j] != shapes[0][j] {
                    return Err(crate::invalid!(
                        "all dimensions except {axis} must match: input {i} has shape {s:?} and input 0 {:?}",
                        shapes[0]
                    ));
                }
            }
            out.push(int_vector(k.input(1)?.dtype(), o)?);
        }
        Ok(out)
    }
    // not differentiable
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None; gx.g.node(gx.output(0).node).inputs().len()])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

impl Graph {
    /// `ShapeN(xs)` (`tf.shape_n`): the int32 shape of each of `xs`.
    pub fn shape_n(&mut self, xs: &[Output]) -> Result<Vec<Output>> {
        let id = self.add_node(NodeName::Default("ShapeN"), ShapeN { out_type: DType::Int32 }, xs, &[])?;
        Ok(super::split::outputs_of(self, id))
    }

    /// `ConcatOffset(concat_dim, shapes)`: where each input of a concatenation along
    /// `concat_dim` of tensors of these shapes starts.
    pub fn concat_offset(&mut self, concat_dim: Output, shapes: &[Output]) -> Result<Vec<Output>> {
        let mut inputs = vec![concat_dim];
        inputs.extend_from_slice(shapes);
        let id = self.add_node(NodeName::Default("ConcatOffset"), ConcatOffset {}, &inputs, &[])?;
        Ok(super::split::outputs_of(self, id))
    }
}
