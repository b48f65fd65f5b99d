//! Making tensors of one value: Fill, ZerosLike, OnesLike.

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::shape::{self};
use crate::tensor::Tensor;

op! {
    /// A tensor of shape `dims` filled with the scalar `value`.
    Fill derive(Copy, Default) {}
}

pub(super) fn dims_from(v: &[i64]) -> OpResult<Vec<usize>> {
    let dims: Vec<usize> = v
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| crate::invalid!("negative dimension in {v:?}")))
        .collect::<OpResult<_>>()?;
    shape::checked_elements(&dims)?;
    Ok(dims)
}

impl Op for Fill {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(0, INTS)?;
        cx.scalar(1, "value")?;
        let shape = match cx.ints(0)? {
            Some(v) => shape::Shape::known(&dims_from(&v)?),
            None => match cx.input(0).shape.dims() {
                Some([Some(r)]) => shape::Shape::unknown_dims(*r),
                _ => shape::Shape::unknown(),
            },
        };
        single(cx.input(1).dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let dims = dims_from(&k.input(0)?.ints()?)?;
        let v = k.input(1)?;
        one(crate::with_array!(v, a => {
            let x = a.iter().next().cloned().ok_or_else(|| crate::invalid!("value is empty"))?;
            crate::tensor::Item::wrap(ndarray::ArrayD::from_elem(ndarray::IxDyn(&dims), x).into_shared())
        }))
    }
    // d/dvalue = sum(g)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let g = gx.grad(0);
        Ok(vec![None, Some(gx.g.reduce_sum(g, None, false)?)])
    }
}

/// Defines ZerosLike / OnesLike.
macro_rules! like_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, $value:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
            builder $method(x)
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                cx.arity(1)?;
                Ok(vec![cx.input(0).clone()])
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let x = k.input(0)?;
                one(Tensor::filled(x.dtype(), x.shape(), $value))
            }
            fn static_value(&self, cx: &InferCx) -> Option<Tensor> {
                let s = cx.input(0).shape.to_known()?;
                (s.iter().product::<usize>() <= 4096).then(|| Tensor::filled(cx.input(0).dtype, &s, $value))
            }
            // not differentiable
            fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                Ok(vec![None])
            }
            fn value_from_shapes(&self) -> bool {
                true
            }
        }
    };
}

like_op!(
    /// Zeros of the shape and dtype of `x`.
    ZerosLike, zeros_like, 0.0
);

like_op!(
    /// Ones of the shape and dtype of `x`.
    OnesLike, ones_like, 1.0
);

impl Graph {
    /// `Fill(dims, value)`: a tensor of shape `dims` (an int tensor) filled with the scalar `value`.
    pub fn fill(&mut self, dims: Output, value: Output) -> Result<Output> {
        self.op("Fill", Fill {}, &[dims, value])
    }
}
