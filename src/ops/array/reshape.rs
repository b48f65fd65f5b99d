//! Same elements, new shape: Reshape, ExpandDims, Squeeze.

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{Elision, INTS, InferCx, Kernel, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Item};
use crate::with_array;
use ndarray::IxDyn;

/// Resolves a requested shape with at most one `-1` against an element count.
pub(crate) fn resolve_shape(requested: &[i64], count: usize) -> OpResult<Vec<usize>> {
    let mut unknown = None;
    let mut known = 1usize;
    for (i, &d) in requested.iter().enumerate() {
        match d {
            -1 if unknown.is_none() => unknown = Some(i),
            -1 => {
                return Err(crate::invalid!("only one dimension of {requested:?} may be -1"));
            }
            d if d < 0 => return Err(crate::invalid!("negative dimension in shape {requested:?}")),
            d => {
                known =
                    known.checked_mul(d as usize).ok_or_else(|| crate::invalid!("shape {requested:?} is too large"))?
            }
        }
    }
    let mut out: Vec<usize> = requested.iter().map(|&d| d.max(0) as usize).collect();
    match unknown {
        Some(i) if known > 0 && count.is_multiple_of(known) => out[i] = count / known,
        Some(_) => {
            return Err(crate::invalid!("cannot reshape {count} elements into {requested:?}"));
        }
        None if known != count => {
            return Err(crate::invalid!("cannot reshape {count} elements into shape {requested:?}"));
        }
        None => {}
    }
    Ok(out)
}

/// Reshapes an array, sharing its buffer when it is already in row-major order.
pub(crate) fn reshape_array<T: Item>(a: ArcArrayD<T>, shape: &[usize]) -> OpResult<ArcArrayD<T>> {
    let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned().into_shared() };
    a.into_shape_with_order(IxDyn(shape)).map_err(|e| crate::invalid!("{e}"))
}

op! {
    /// Gives `tensor` a new shape with the same elements; one dimension may be `-1`.
    Reshape derive(Copy, Default) {}
}

impl Op for Reshape {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, INTS)?;
        let d = cx.input(0).dtype;
        let shape = match (cx.ints(1)?, cx.input(0).shape.num_elements()) {
            (Some(req), Some(n)) => Shape::known(&resolve_shape(&req, n)?),
            (Some(req), None) => {
                Shape::partial(&req.iter().map(|&v| (v >= 0).then_some(v as usize)).collect::<Vec<_>>())
            }
            (None, _) => match cx.input(1).shape.dims() {
                Some([Some(r)]) => Shape::unknown_dims(*r),
                _ => Shape::unknown(),
            },
        };
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let req = k.input(1)?.ints()?;
        let x = k.take(0)?;
        let shape = resolve_shape(&req, x.len())?;
        one(with_array!(x, a => Item::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn elision(&self) -> Elision {
        Elision::Reshape
    }
}

op! {
    /// Inserts a dimension of size 1 at `axis` (in `[-rank-1, rank]`).
    ExpandDims derive(Copy, Default) {}
}

fn expand_axis(axis: i64, rank: usize) -> OpResult<usize> {
    normalize_axis(axis, rank + 1)
}

impl Op for ExpandDims {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, INTS)?;
        cx.scalar(1, "axis")?;
        let x = cx.input(0);
        let shape = match (cx.ints(1)?, x.shape.dims()) {
            (Some(a), Some(d)) => {
                let ax = expand_axis(a.first().copied().unwrap_or(0), d.len())?;
                let mut out = d.to_vec();
                out.insert(ax, Some(1));
                Shape::partial(&out)
            }
            (None, Some(d)) => Shape::unknown_dims(d.len() + 1),
            _ => Shape::unknown(),
        };
        single(x.dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let axis = k.input(1)?.ints()?.first().copied().unwrap_or(0);
        let x = k.take(0)?;
        let mut shape = x.shape().to_vec();
        shape.insert(expand_axis(axis, x.rank())?, 1);
        one(with_array!(x, a => Item::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn elision(&self) -> Elision {
        Elision::Reshape
    }
}

op! {
    /// Removes dimensions of size 1: those listed in `squeeze_dims`, or all of them when it is empty.
    Squeeze derive(Default) { #[serde(default)] squeeze_dims: Vec<i64> }
}

impl Squeeze {
    fn keep(&self, dims: &[Option<usize>]) -> OpResult<Vec<bool>> {
        let listed = self.squeeze_dims.iter().map(|&a| normalize_axis(a, dims.len())).collect::<OpResult<Vec<_>>>()?;
        dims.iter()
            .enumerate()
            .map(|(i, d)| {
                let asked = listed.is_empty() || listed.contains(&i);
                match d {
                    Some(1) if asked => Ok(false),
                    Some(n) if !listed.is_empty() && asked => {
                        Err(crate::invalid!("cannot squeeze dimension {i} of size {n}"))
                    }
                    None if !listed.is_empty() && asked => Ok(false),
                    _ => Ok(true),
                }
            })
            .collect()
    }
}

impl Op for Squeeze {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let x = cx.input(0);
        let shape = match x.shape.dims() {
            // As TF: squeezing every size-1 dimension of a shape with unknown ones has unknown rank.
            Some(d) if self.squeeze_dims.is_empty() && d.contains(&None) => Shape::unknown(),
            Some(d) => {
                let keep = self.keep(d)?;
                Shape::partial(&d.iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| *d).collect::<Vec<_>>())
            }
            None => Shape::unknown(),
        };
        single(x.dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.take(0)?;
        let dims: Vec<Option<usize>> = x.shape().iter().map(|&d| Some(d)).collect();
        let keep = self.keep(&dims)?;
        let shape: Vec<usize> = x.shape().iter().zip(keep).filter(|(_, k)| *k).map(|(d, _)| *d).collect();
        one(with_array!(x, a => Item::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?)])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
    fn elision(&self) -> Elision {
        Elision::Reshape
    }
}

impl Graph {
    /// `Reshape(x, shape)`; one entry of `shape` may be `-1`.
    pub fn reshape(&mut self, x: Output, shape: &[i64]) -> Result<Output> {
        let s = self.constant_vec(shape.iter().map(|&v| v as i32).collect())?;
        self.reshape_dynamic(x, s)
    }

    /// `Reshape(x, shape)` with the shape a tensor.
    pub fn reshape_dynamic(&mut self, x: Output, shape: Output) -> Result<Output> {
        self.op("Reshape", Reshape {}, &[x, shape])
    }

    /// Reshapes `x` to the shape of `like` (static when known, else `Shape(like)`).
    pub fn reshape_like(&mut self, x: Output, like: Output) -> Result<Output> {
        if self.try_spec(x)?.shape == self.try_spec(like)?.shape && self.try_spec(x)?.shape.to_known().is_some() {
            return Ok(x);
        }
        match self.try_spec(like)?.shape.to_known() {
            Some(d) => self.reshape(x, &d.iter().map(|&v| v as i64).collect::<Vec<_>>()),
            None => {
                let s = self.shape_of(like)?;
                self.reshape_dynamic(x, s)
            }
        }
    }

    /// `ExpandDims(x, axis)`.
    pub fn expand_dims(&mut self, x: Output, axis: i64) -> Result<Output> {
        let a = self.constant(axis as i32)?;
        self.op("ExpandDims", ExpandDims {}, &[x, a])
    }

    /// `Squeeze(x, squeeze_dims)`; empty dims squeeze every size-1 dimension.
    pub fn squeeze(&mut self, x: Output, squeeze_dims: &[i64]) -> Result<Output> {
        self.op("Squeeze", Squeeze { squeeze_dims: squeeze_dims.to_vec() }, &[x])
    }
}
