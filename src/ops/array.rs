//! Ops that rearrange a tensor: Reshape, Transpose, ExpandDims, Squeeze, BroadcastTo, Tile, Pad.

use super::op;
use super::{InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::{GradCx, sum_to_shape_of};
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Element, Tensor};
use crate::with_array;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

pub use super::shape_ops::BroadcastGradientArgs;

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
pub(crate) fn reshape_array<T: Element>(a: ArcArrayD<T>, shape: &[usize]) -> OpResult<ArcArrayD<T>> {
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
        cx.dtype_in(1, super::INTS)?;
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
        one(with_array!(x, a => Element::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// Permutes the axes: output axis i is input axis `perm[i]`.
    Transpose derive(Copy, Default) {}
}

fn check_perm(perm: &[i64], rank: usize) -> OpResult<Vec<usize>> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return Err(crate::invalid!("perm {perm:?} does not have {rank} entries"));
    }
    perm.iter()
        .map(|&p| {
            let a = normalize_axis(p, rank)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(crate::invalid!("perm {perm:?} is not a permutation"));
            }
            Ok(a)
        })
        .collect()
}

impl Op for Transpose {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, super::INTS)?;
        let x = cx.input(0);
        let shape = match (cx.ints(1)?, x.shape.dims()) {
            (Some(p), Some(d)) => Shape::partial(&check_perm(&p, d.len())?.iter().map(|&i| d[i]).collect::<Vec<_>>()),
            (_, Some(d)) => Shape::unknown_dims(d.len()),
            _ => Shape::unknown(),
        };
        single(x.dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.take(0)?;
        let perm = check_perm(&k.input(1)?.ints()?, x.rank())?;
        one(with_array!(x, a => Element::wrap(a.permuted_axes(IxDyn(&perm)))))
    }
    // d/dx = transpose(g, inverse(perm))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (p, g) = (gx.input(1), gx.grad(0));
        let perm = gx.g.node(p.node).constant_value().map(|t| t.to_i64_vec());
        let Some(Ok(perm)) = perm else {
            return Err(crate::error::Error::argument("gradient of Transpose", "perm", "must be a constant"));
        };
        let mut inv = vec![0i64; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            if let Some(slot) = inv.get_mut(p.rem_euclid(perm.len().max(1) as i64) as usize) {
                *slot = i as i64;
            }
        }
        Ok(vec![Some(gx.g.transpose(g, &inv)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
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
        cx.dtype_in(1, super::INTS)?;
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
        one(with_array!(x, a => Element::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
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
                    None if asked => {
                        Err(crate::invalid!("cannot squeeze all size-1 dimensions of a shape with unknown dimensions"))
                    }
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
        one(with_array!(x, a => Element::wrap(reshape_array(a, &shape)?)))
    }
    // d/dx = reshape(g, shape(x))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.reshape_like(g, x)?)])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

op! {
    /// Broadcasts `input` to `shape` (NumPy rules).
    BroadcastTo derive(Copy, Default) {}
}

impl Op for BroadcastTo {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, super::INTS)?;
        let x = cx.input(0);
        let target = match cx.ints(1)? {
            Some(v) => Shape::known(&v.iter().map(|&d| d.max(0) as usize).collect::<Vec<_>>()),
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
        let target: Vec<usize> = k.input(1)?.ints()?.iter().map(|&d| d.max(0) as usize).collect();
        crate::shape::checked_elements(&target)?;
        let x = k.input(0)?;
        if x.shape() == target.as_slice() {
            return one(k.take(0)?);
        }
        one(with_array!(x, a => Element::wrap(broadcast_owned(a, &target)?)))
    }
    // d/dx = g summed over the broadcast axes
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(sum_to_shape_of(gx.g, g, x)?), None])
    }
}

/// `a` broadcast to `target` as a new row-major array (a single element is simply repeated).
fn broadcast_owned<T: Element>(a: &ArcArrayD<T>, target: &[usize]) -> OpResult<ArcArrayD<T>> {
    let fail = || crate::invalid!("cannot broadcast {:?} to {:?}", a.shape(), target);
    if a.len() == 1 && a.ndim() <= target.len() {
        let v = *a.iter().next().ok_or_else(fail)?;
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
        cx.dtype_in(1, super::INTS)?;
        let x = cx.input(0);
        let shape = match (cx.ints(1)?, x.shape.dims()) {
            (Some(m), Some(d)) => {
                if m.len() != d.len() || m.iter().any(|&v| v < 0) {
                    return Err(crate::invalid!("multiples {m:?} must be {} non-negative numbers", d.len()));
                }
                Shape::partial(&d.iter().zip(&m).map(|(d, &m)| d.map(|d| d * m as usize)).collect::<Vec<_>>())
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
        one(with_array!(x, a => Element::wrap(tile(a, &m))))
    }
    // d/dx = g reshaped to [m0, d0, m1, d1, ...] and summed over the m axes
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, mult, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let m = gx.g.node(mult.node).constant_value().map(|t| t.to_i64_vec());
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

fn tile<T: Element>(a: &ArcArrayD<T>, m: &[i64]) -> ArcArrayD<T> {
    let out_shape: Vec<usize> = a.shape().iter().zip(m).map(|(&d, &m)| d * m as usize).collect();
    ArrayD::from_shape_fn(IxDyn(&out_shape), |ix| {
        let src: Vec<usize> = (0..a.ndim()).map(|i| ix[i] % a.shape()[i]).collect();
        a[IxDyn(&src)]
    })
    .into_shared()
}

op! {
    /// Pads with zeros: `paddings` is `[rank, 2]` (before, after) per axis.
    Pad derive(Copy, Default) {}
}

fn pad_pairs(p: &[i64], rank: usize) -> OpResult<Vec<(usize, usize)>> {
    if p.len() != 2 * rank || p.iter().any(|&v| v < 0) {
        return Err(crate::invalid!("paddings must be a [{rank}, 2] tensor of non-negative numbers, got {p:?}"));
    }
    Ok(p.chunks(2).map(|c| (c[0] as usize, c[1] as usize)).collect())
}

impl Op for Pad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let d = cx.dtype_in(0, NUMBERS)?;
        cx.dtype_in(1, super::INTS)?;
        let x = &cx.input(0).shape;
        let shape = match (cx.ints(1)?, x.dims()) {
            (Some(p), Some(dims)) => {
                let pairs = pad_pairs(&p, dims.len())?;
                Shape::partial(&dims.iter().zip(pairs).map(|(d, (a, b))| d.map(|d| d + a + b)).collect::<Vec<_>>())
            }
            (_, Some(dims)) => Shape::unknown_dims(dims.len()),
            _ => Shape::unknown(),
        };
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.input(0)?;
        let pairs = pad_pairs(&k.input(1)?.ints()?, x.rank())?;
        let out: Vec<usize> =
            x.shape().iter().zip(&pairs).map(|(&d, &(b, e))| d.saturating_add(b).saturating_add(e)).collect();
        crate::shape::checked_elements(&out)?;
        one(with_array!(x, a => Element::wrap(pad(a, &pairs))))
    }
    // d/dx = the slice of g where x was placed
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, p, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let pv = gx.g.node(p.node).constant_value().map(|t| t.to_i64_vec());
        let Some(Ok(pv)) = pv else {
            return Err(crate::error::Error::argument("gradient of Pad", "paddings", "must be a constant"));
        };
        let begin: Vec<i64> = pv.chunks(2).map(|c| c[0]).collect();
        let size = gx.g.shape_of(x)?;
        let begin = gx.g.constant_vec(begin.iter().map(|&v| v as i32).collect())?;
        Ok(vec![Some(gx.g.op("Slice", super::index::Slice {}, &[g, begin, size])?), None])
    }
}

fn pad<T: Element>(a: &ArcArrayD<T>, pairs: &[(usize, usize)]) -> ArcArrayD<T> {
    let shape: Vec<usize> = a.shape().iter().zip(pairs).map(|(&d, &(b, e))| d + b + e).collect();
    let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
    let info: Vec<SliceInfoElem> = a
        .shape()
        .iter()
        .zip(pairs)
        .map(|(&d, &(b, _))| SliceInfoElem::Slice { start: b as isize, end: Some((b + d) as isize), step: 1 })
        .collect();
    out.slice_mut(info.as_slice()).assign(a);
    out.into_shared()
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

    /// `Transpose(x, perm)`.
    pub fn transpose(&mut self, x: Output, perm: &[i64]) -> Result<Output> {
        let p = self.constant_vec(perm.iter().map(|&v| v as i32).collect())?;
        self.op("Transpose", Transpose {}, &[x, p])
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

    /// `BroadcastTo(x, shape)` with the shape a tensor.
    pub fn broadcast_to(&mut self, x: Output, shape: Output) -> Result<Output> {
        self.op("BroadcastTo", BroadcastTo {}, &[x, shape])
    }

    /// `Tile(x, multiples)`.
    pub fn tile(&mut self, x: Output, multiples: &[i64]) -> Result<Output> {
        let m = self.constant_vec(multiples.iter().map(|&v| v as i32).collect())?;
        self.op("Tile", Tile {}, &[x, m])
    }

    /// `Pad(x, paddings)` with zeros; `paddings[i] = (before, after)` for axis i.
    pub fn pad(&mut self, x: Output, paddings: &[(i64, i64)]) -> Result<Output> {
        let flat: Vec<i32> = paddings.iter().flat_map(|&(a, b)| [a as i32, b as i32]).collect();
        let t = Tensor::from_vec(&[paddings.len(), 2], flat).map_err(|e| crate::error::Error::at("Pad", "Const", e))?;
        let p = self.constant(t)?;
        self.op("Pad", Pad {}, &[x, p])
    }
}
