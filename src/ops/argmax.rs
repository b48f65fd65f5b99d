//! ArgMax and ArgMin: the index of the extreme element along one axis, with TF's scan order.

use super::op;
use super::reduce::reduced_shape;
use super::{InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Number, Tensor};
use ndarray::{ArrayD, Axis};

op! {
    /// Index of the largest (ArgMax) or smallest (ArgMin) element along one axis; ties go to the
    /// first, and NaN is never chosen (as TF).
    ArgMax derive(Copy) { #[serde(default = "int64")] output_type: DType }
}

op! {
    /// See [`ArgMax`].
    ArgMin derive(Copy) { #[serde(default = "int64")] output_type: DType }
}

fn int64() -> DType {
    DType::Int64
}

fn infer_arg(cx: &InferCx, output_type: DType) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    cx.dtype_in(0, NUMBERS)?;
    cx.dtype_in(1, super::INTS)?;
    cx.scalar(1, "dimension")?;
    if !output_type.is_int() {
        return Err(crate::invalid!("output_type must be int32 or int64, got {output_type}"));
    }
    let axis = cx.ints(1)?.and_then(|v| v.first().copied());
    let shape = match axis {
        Some(a) => reduced_shape(&cx.input(0).shape, Some(&[a]), false)?,
        None => Shape::unknown(),
    };
    single(output_type, shape)
}

/// Which extreme an arg-reduction looks for.
#[derive(Clone, Copy, PartialEq)]
enum Extreme {
    Largest,
    Smallest,
}

/// TF's scan: from index 0 holding the lowest (highest) value, move to each element strictly
/// larger (smaller) than the best so far. Ties keep the first; NaN compares false, so it is never
/// chosen (a lane of NaN gives 0).
fn arg_index<T: Number>(a: &ArcArrayD<T>, axis: usize, extreme: Extreme) -> ArrayD<i64> {
    a.map_axis(Axis(axis), |lane| {
        let (mut best, mut value) = (0usize, if extreme == Extreme::Largest { T::LOWEST } else { T::HIGHEST });
        for (i, &v) in lane.iter().enumerate() {
            let better = if extreme == Extreme::Largest { v > value } else { v < value };
            if better {
                (best, value) = (i, v);
            }
        }
        best as i64
    })
}

fn compute_arg(k: &Kernel, output_type: DType, extreme: Extreme) -> OpResult<Outputs> {
    let x = k.input(0)?;
    let axis = k.input(1)?.ints()?.first().copied().unwrap_or(0);
    let axis = normalize_axis(axis, x.rank())?;
    if x.shape()[axis] == 0 {
        return Err(crate::invalid!("reduction axis {axis} is empty"));
    }
    let idx = match x {
        Tensor::F32(a) => arg_index(a, axis, extreme),
        Tensor::F64(a) => arg_index(a, axis, extreme),
        Tensor::I32(a) => arg_index(a, axis, extreme),
        Tensor::I64(a) => arg_index(a, axis, extreme),
        Tensor::Bool(_) | Tensor::String(_) => {
            return Err(crate::invalid!("cannot take the arg-extreme of {} values", x.dtype()));
        }
    };
    one(Tensor::I64(idx.into_shared()).cast(output_type))
}

impl Op for ArgMax {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_arg(cx, self.output_type)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_arg(k, self.output_type, Extreme::Largest)
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None])
    }
}

impl Op for ArgMin {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_arg(cx, self.output_type)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        compute_arg(k, self.output_type, Extreme::Smallest)
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None])
    }
}

impl Graph {
    /// `ArgMax(x, axis)` with an int64 result.
    pub fn argmax(&mut self, x: Output, axis: i64) -> Result<Output> {
        let a = self.constant(axis as i32)?;
        self.op("ArgMax", ArgMax { output_type: DType::Int64 }, &[x, a])
    }

    /// `ArgMin(x, axis)` with an int64 result.
    pub fn argmin(&mut self, x: Output, axis: i64) -> Result<Output> {
        let a = self.constant(axis as i32)?;
        self.op("ArgMin", ArgMin { output_type: DType::Int64 }, &[x, a])
    }
}
