//! Describing shapes as integer tensors: Shape, Size, Rank, BroadcastGradientArgs.

use super::fill::dims_from;
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::shape::{self, broadcast_dims};
use crate::tensor::{DType, Tensor};

fn int32() -> DType {
    DType::Int32
}

fn int_tensor(dtype: DType, shape: &[usize], values: Vec<i64>) -> OpResult<Tensor> {
    if dtype == DType::Int32 {
        return Tensor::from_vec(shape, values.into_iter().map(|v| v as i32).collect());
    }
    Ok(Tensor::from_vec(shape, values)?.cast(dtype))
}

/// Defines an op that describes its input's shape as integers.
macro_rules! shape_fact_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, |$s:ident| $shape:expr, |$dims:ident| $value:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy) { #[serde(default = "int32")] out_type: DType }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                cx.arity(1)?;
                if !self.out_type.is_int() {
                    return Err(crate::invalid!("out_type must be int32 or int64, got {}", self.out_type));
                }
                let $s = &cx.input(0).shape;
                single(self.out_type, $shape)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let $dims = k.input(0)?.shape();
                let (shape, values): (Vec<usize>, Vec<i64>) = $value;
                one(int_tensor(self.out_type, &shape, values)?)
            }
            fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
                let known = cx.input(0).shape.to_known()?;
                let $dims = known.as_slice();
                let (shape, values): (Vec<usize>, Vec<i64>) = $value;
                int_tensor(self.out_type, &shape, values).ok()
            }
            // not differentiable
            fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                Ok(vec![None])
            }
            fn value_from_shapes(&self) -> bool {
                true
            }
            fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
                1
            }
        }

        impl Graph {
            $(#[doc = $doc])*
            pub fn $method(&mut self, x: Output) -> Result<Output> {
                self.op(stringify!($name), $name { out_type: DType::Int32 }, &[x])
            }
        }
    };
}

shape_fact_op!(
    /// The shape of a tensor as a vector (`tf.shape`).
    Shape, shape_of,
    |s| shape::Shape::partial(&[s.rank()]),
    |d| (vec![d.len()], d.iter().map(|&v| v as i64).collect())
);

shape_fact_op!(
    /// The number of elements (`tf.size`).
    Size, size_of,
    |_s| shape::Shape::scalar(),
    |d| (vec![], vec![d.iter().product::<usize>() as i64])
);

shape_fact_op!(
    /// The number of dimensions (`tf.rank`).
    Rank, rank_of,
    |_s| shape::Shape::scalar(),
    |d| (vec![], vec![d.len() as i64])
);

op! {
    /// For two shapes that broadcast together, the axes along which each was broadcast (the axes a
    /// gradient must be summed over). Outputs `r0`, `r1` (int32 vectors).
    BroadcastGradientArgs derive(Copy, Default) {}
}

/// TF's rule: every axis where `s`, padded with leading 1s to the rank of `out`, has size 1 (an
/// axis of size 1 in both shapes is reduced in both; a sum over it changes nothing).
fn broadcast_axes(s: &[usize], out: &[usize]) -> Vec<i32> {
    let lead = out.len() - s.len();
    (0..out.len()).filter(|&i| i < lead || s[i - lead] == 1).map(|i| i as i32).collect()
}

impl Op for BroadcastGradientArgs {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(0, INTS)?;
        cx.dtype_in(1, INTS)?;
        let v = TensorSpec::new(DType::Int32, shape::Shape::unknown_dims(1));
        Ok(vec![v.clone(), v])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let s0: Vec<usize> = dims_from(&k.input(0)?.ints()?)?;
        let s1: Vec<usize> = dims_from(&k.input(1)?.ints()?)?;
        let out = broadcast_dims(&s0, &s1)?;
        // Equal shapes need no reduction at all, size-1 axes included (TF's fast path).
        let (r0, r1) = match s0 == s1 {
            true => (Vec::new(), Vec::new()),
            false => (broadcast_axes(&s0, &out), broadcast_axes(&s1, &out)),
        };
        let (n0, n1) = (r0.len(), r1.len());
        Ok(smallvec::smallvec![Tensor::from_vec(&[n0], r0)?, Tensor::from_vec(&[n1], r1)?])
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}
