//! Repeating elements: BroadcastTo and Tile.

use crate::error::{OpError, OpResult, Result};
use crate::grad::{GradCx, sum_to_shape_of};
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Item};
use crate::with_array;
use ndarray::{ArrayD, IxDyn};

op! {
    /// Broadcasts `input` to `shape` (NumPy rules).
    BroadcastTo derive(Copy, Default) {}
}

impl Op for BroadcastTo {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, INTS)?;
        if cx.input(1).shape.rank().is_some_and(|r| r != 1) {
            return Err(crate::invalid!("shape must be a vector, got shape {}", cx.input(1).shape));
        }
        let x = cx.input(0);
        let target = match cx.ints(1)? {
            Some(v) => Shape::known(&super::fill::dims_from(&v)?),
            None => match cx.input(1).shape.dims() {
                Some([Some(r)]) => Shape::unknown_dims(*r),
                _ => Shape::unknown(),
            },
        };
        let out = x.shape.broadcast(&target)?;
        let merged =
            target.merge(&out).map_err(|_| OpError::ShapeMismatch { lhs: x.shape.clone(), rhs: target.clone() })?;
        single(x.dtype, merged)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let shape = k.input(1)?;
        if shape.rank() != 1 {
            return Err(crate::invalid!("shape must be a vector, got shape {:?}", shape.shape()));
        }
        let target = super::fill::dims_from(&shape.ints()?)?;
        let x = k.input(0)?;
        if x.shape() == target.as_slice() {
            return one(k.take(0)?);
        }
        one(with_array!(x, a => Item::wrap(broadcast_owned(a, &target)?)))
    }
    // d/dx = g summed over the broadcast axes
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(sum_to_shape_of(gx.g, g, x)?), None])
    }
}

/// `a` broadcast to `target` as a new row-major array (a single element is simply repeated).
fn broadcast_owned<T: Item>(a: &ArcArrayD<T>, target: &[usize]) -> OpResult<ArcArrayD<T>> {
    let fail = || crate::invalid!("cannot broadcast {:?} to {:?}", a.shape(), target);
    if a.len() == 1 && a.ndim() <= target.len() {
        let v = a.iter().next().ok_or_else(fail)?.clone();
        return Ok(ArrayD::from_elem(IxDyn(target), v).into_shared());
    }
    let v = a.broadcast(IxDyn(target)).ok_or_else(fail)?;
    Ok(v.as_standard_layout().into_owned().into_shared())
}

op! {
    /// Repeats `input` `multiples[i]` times along axis i.
    Tile derive(Copy, Default) {}
}

impl Op for Tile {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, INTS)?;
        let x = cx.input(0);
        let shape = match (cx.ints(1)?, x.shape.dims()) {
            (Some(m), Some(d)) => {
                if m.len() != d.len() || m.iter().any(|&v| v < 0) {
                    return Err(crate::invalid!("multiples {m:?} must be {} non-negative numbers", d.len()));
                }
                Shape::partial(
                    &d.iter().zip(&m).map(|(d, &m)| d.map(|d| d.saturating_mul(m as usize))).collect::<Vec<_>>(),
                )
            }
            (_, Some(d)) => Shape::unknown_dims(d.len()),
            _ => Shape::unknown(),
        };
        single(x.dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let m = k.input(1)?.ints()?;
        let x = k.input(0)?;
        if m.len() != x.rank() || m.iter().any(|&v| v < 0) {
            return Err(crate::invalid!("multiples {m:?} must be {} non-negative numbers", x.rank()));
        }
        let out: Vec<usize> = x.shape().iter().zip(&m).map(|(&d, &m)| d.saturating_mul(m as usize)).collect();
        crate::shape::checked_elements(&out)?;
        one(with_array!(x, a => Item::wrap(tile(a, &m)?)))
    }
    // d/dx = g reshaped to [m0, d0, m1, d1, ...] and summed over the m axes
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, mult, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let m = gx.g.value_of(mult).map(|t| t.to_i64_vec());
        let (Some(Ok(m)), Some(d)) = (m, gx.g.try_spec(x)?.shape.to_known()) else {
            return Err(crate::error::Error::argument(
                "gradient of Tile",
                "input",
                "needs constant multiples and a known input shape",
            ));
        };
        let split: Vec<i64> = m.iter().zip(&d).flat_map(|(&m, &d)| [m, d as i64]).collect();
        let r = gx.g.reshape(g, &split)?;
        let axes: Vec<i64> = (0..m.len() as i64).map(|i| 2 * i).collect();
        Ok(vec![Some(gx.g.reduce_sum(r, Some(&axes), false)?), None])
    }
}

/// `a` repeated `m[i]` times along axis i: `[d0, d1, ...]` seen as `[1, d0, 1, d1, ...]`,
/// broadcast to `[m0, d0, m1, d1, ...]` and merged back, so each element is copied once.
fn tile<T: Item>(a: &ArcArrayD<T>, m: &[i64]) -> OpResult<ArcArrayD<T>> {
    let fail = || crate::invalid!("cannot tile {:?} by {m:?}", a.shape());
    let out: Vec<usize> = a.shape().iter().zip(m).map(|(&d, &m)| d * m as usize).collect();
    if a.len() == 1 {
        let v = a.iter().next().ok_or_else(fail)?.clone();
        return Ok(ArrayD::from_elem(IxDyn(&out), v).into_shared());
    }
    let split: Vec<usize> = a.shape().iter().flat_map(|&d| [1, d]).collect();
    let wide: Vec<usize> = a.shape().iter().zip(m).flat_map(|(&d, &m)| [m as usize, d]).collect();
    let a = a.as_standard_layout();
    let split = a.view().into_shape_with_order(IxDyn(&split)).map_err(|_| fail())?;
    let wide = split.broadcast(IxDyn(&wide)).ok_or_else(fail)?.as_standard_layout().into_owned();
    Ok(wide.into_shape_with_order(IxDyn(&out)).map_err(|_| fail())?.into_shared())
}

impl Graph {
    /// `BroadcastTo(x, shape)` with the shape a tensor.
    pub fn broadcast_to(&mut self, x: Output, shape: Output) -> Result<Output> {
        self.op("BroadcastTo", BroadcastTo {}, &[x, shape])
    }

    /// `Tile(x, multiples)`.
    pub fn tile(&mut self, x: Output, multiples: &[i64]) -> Result<Output> {
        let m = self.constant_vec(multiples.iter().map(|&v| v as i32).collect())?;
        self.op("Tile", Tile {}, &[x, m])
    }
}
