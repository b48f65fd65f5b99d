//! Comparisons (Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual), logical ops
//! (LogicalAnd, LogicalOr) and selection (Select, SelectV2). Comparisons and logical ops have no
//! gradient (TF marks them not differentiable); selection routes the gradient by the condition.

use super::elementwise::{zip_map, zip3_map};
use super::op;
use super::{InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Element, Tensor};
use crate::with_elements;

fn infer_compare(cx: &InferCx, dtypes: &[DType]) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    cx.dtype_in(0, dtypes)?;
    cx.same_dtype(0, 1)?;
    single(DType::Bool, cx.input(0).shape.broadcast(&cx.input(1).shape)?)
}

fn compare_tensors(a: &Tensor, b: &Tensor, par: bool, f: fn(f64, f64) -> bool) -> OpResult<Tensor> {
    fn go<T: Element>(
        a: &crate::tensor::ArcArrayD<T>,
        b: &Tensor,
        par: bool,
        f: fn(f64, f64) -> bool,
    ) -> OpResult<Tensor> {
        let b = b.array::<T>()?;
        Ok(Tensor::Bool(zip_map(a, b, par, |x: T, y: T| f(x.to_f64(), y.to_f64()))?))
    }
    match (a, b) {
        // i64 compares exactly, not through f64 (values above 2^53 differ).
        (Tensor::I64(x), Tensor::I64(y)) => {
            let g = |p: i64, q: i64| f(((p > q) as i8 - (p < q) as i8) as f64, 0.0);
            Ok(Tensor::Bool(zip_map(x, y, par, g)?))
        }
        _ => with_elements!(a, x => go(x, b, par, f), _s => Err(crate::invalid!("cannot compare strings"))),
    }
}

/// Defines a comparison op returning bool.
macro_rules! compare_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, $dtypes:expr, |$a:ident, $b:ident| $f:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
            builder $method(x, y)
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_compare(cx, $dtypes)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                fn f($a: f64, $b: f64) -> bool {
                    $f
                }
                one(compare_tensors(k.input(0)?, k.input(1)?, k.parallel(), f)?)
            }
            // not differentiable
            fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                Ok(vec![None, None])
            }
        }
    };
}

/// The dtypes that compare for equality: all but strings.
const ALL: &[DType] = &[DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool];

compare_op!(
    /// `x < y`.
    Less, less, NUMBERS, |a, b| a < b
);
compare_op!(
    /// `x <= y`.
    LessEqual, less_equal, NUMBERS, |a, b| a <= b
);
compare_op!(
    /// `x > y`.
    Greater, greater, NUMBERS, |a, b| a > b
);
compare_op!(
    /// `x >= y`.
    GreaterEqual, greater_equal, NUMBERS, |a, b| a >= b
);
compare_op!(
    /// `x == y`.
    Equal, equal, ALL, |a, b| a == b
);
compare_op!(
    /// `x != y`.
    NotEqual, not_equal, ALL, |a, b| a != b
);
compare_op!(
    /// `x && y` on bool tensors.
    LogicalAnd, logical_and, &[DType::Bool], |a, b| a != 0.0 && b != 0.0
);
compare_op!(
    /// `x || y` on bool tensors.
    LogicalOr, logical_or, &[DType::Bool], |a, b| a != 0.0 || b != 0.0
);

fn select_tensors(c: &Tensor, t: &Tensor, e: &Tensor, par: bool) -> OpResult<Tensor> {
    let c = c.array::<bool>()?;
    fn go<T: Element>(
        c: &crate::tensor::ArcArrayD<bool>,
        t: &crate::tensor::ArcArrayD<T>,
        e: &Tensor,
        par: bool,
    ) -> OpResult<Tensor> {
        let e = e.array::<T>()?;
        Ok(T::wrap(zip3_map(c, t, e, par, |c, x, y| if c { x } else { y })?))
    }
    with_elements!(t, x => go(c, x, e, par), _s => Err(crate::invalid!("cannot select between strings")))
}

op! {
    /// `cond ? t : e` element-wise, all three broadcast together (TF `SelectV2`, `tf.where`).
    SelectV2 derive(Copy, Default) {}
}

impl Op for SelectV2 {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        cx.dtype_in(0, &[DType::Bool])?;
        cx.dtype_in(1, ALL)?;
        let d = cx.same_dtype(1, 2)?;
        let s = cx.input(0).shape.broadcast(&cx.input(1).shape)?.broadcast(&cx.input(2).shape)?;
        single(d, s)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(select_tensors(k.input(0)?, k.input(1)?, k.input(2)?, k.parallel())?)
    }
    // d/dt = cond, d/de = !cond (each summed back to its shape)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (c, g) = (gx.input(0), gx.grad(0));
        let zeros = gx.g.zeros_like(g)?;
        let dt = gx.g.select(c, g, zeros)?;
        let de = gx.g.select(c, zeros, g)?;
        Ok(vec![None, Some(gx.sum_to_input(dt, 1)?), Some(gx.sum_to_input(de, 2)?)])
    }
}

op! {
    /// TF1 `Select`: `t` and `e` have one shape; `cond` has that shape, is a scalar, or is a vector
    /// choosing whole rows.
    Select derive(Copy, Default) {}
}

impl Op for Select {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        cx.dtype_in(0, &[DType::Bool])?;
        let d = cx.same_dtype(1, 2)?;
        let s = cx.input(1).shape.merge(&cx.input(2).shape)?;
        let c = &cx.input(0).shape;
        let rows = c.rank() == Some(1) && s.rank().is_some_and(|r| r > 1);
        let ok = c.rank() == Some(0)
            || if rows {
                c.dims().map(|d| d[0]) == s.dims().map(|d| d[0])
                    || c.dims().is_some_and(|d| d[0].is_none())
                    || s.dims().is_some_and(|d| d[0].is_none())
            } else {
                c.is_compatible(&s)
            };
        if !ok {
            return Err(OpError::ShapeMismatch { lhs: c.clone(), rhs: s });
        }
        single(d, s)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (c, t, e) = (k.input(0)?, k.input(1)?, k.input(2)?);
        if t.shape() != e.shape() {
            return Err(crate::invalid!("t and e must have one shape: {:?} vs {:?}", t.shape(), e.shape()));
        }
        let rows = c.rank() == 1 && t.rank() > 1;
        if rows && c.shape()[0] == t.shape()[0] {
            let mut shape = vec![1; t.rank()];
            shape[0] = c.shape()[0];
            let rows = c
                .array::<bool>()?
                .clone()
                .into_shape_with_order(ndarray::IxDyn(&shape))
                .map_err(|e| crate::invalid!("{e}"))?;
            let c = Tensor::Bool(rows);
            return one(select_tensors(&c, t, e, k.parallel())?);
        }
        if c.rank() != 0 && c.shape() != t.shape() {
            return Err(crate::invalid!("condition shape {:?} does not match {:?}", c.shape(), t.shape()));
        }
        one(select_tensors(c, t, e, k.parallel())?)
    }
    // d/dt = cond, d/de = !cond
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (c, g) = (gx.input(0), gx.grad(0));
        let zeros = gx.g.zeros_like(g)?;
        let dt = gx.g.op("Select", Select {}, &[c, g, zeros])?;
        let de = gx.g.op("Select", Select {}, &[c, zeros, g])?;
        Ok(vec![None, Some(dt), Some(de)])
    }
}

impl Graph {
    /// `SelectV2(cond, t, e)`: `t` where `cond` holds, else `e`, broadcasting (TF2's `tf.where`).
    pub fn select(&mut self, cond: Output, t: Output, e: Output) -> Result<Output> {
        self.op("SelectV2", SelectV2 {}, &[cond, t, e])
    }
}
