//! Cutting and joining along axes: Slice, Pad, ConcatV2.

use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Item, Tensor};
use crate::with_array;
use ndarray::{ArrayD, Axis, IxDyn, SliceInfoElem};

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
        cx.dtype_in(1, INTS)?;
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
        one(with_array!(x, a => Item::wrap(pad(a, &pairs))))
    }
    // d/dx = the slice of g where x was placed
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, p, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let pv = gx.g.value_of(p).map(|t| t.to_i64_vec());
        let Some(Ok(pv)) = pv else {
            return Err(crate::error::Error::argument("gradient of Pad", "paddings", "must be a constant"));
        };
        let begin: Vec<i64> = pv.chunks(2).map(|c| c[0]).collect();
        let size = gx.g.shape_of(x)?;
        let begin = gx.g.constant_vec(begin.iter().map(|&v| v as i32).collect())?;
        Ok(vec![Some(gx.g.op("Slice", super::Slice {}, &[g, begin, size])?), None])
    }
}

fn pad<T: Item>(a: &ArcArrayD<T>, pairs: &[(usize, usize)]) -> ArcArrayD<T> {
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

op! {
    /// Concatenates its value inputs along `axis` (the last input).
    ConcatV2 derive(Copy, Default) {}
}

impl Op for ConcatV2 {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.len() < 2 {
            return Err(OpError::Arity { expected: "at least 2 (values..., axis)".into(), got: cx.len() });
        }
        let n = cx.len() - 1;
        cx.dtype_in(n, INTS)?;
        cx.scalar(n, "axis")?;
        let d = cx.input(0).dtype;
        for i in 1..n {
            cx.same_dtype(0, i)?;
        }
        let Some(rank) = (0..n).find_map(|i| cx.input(i).shape.rank()) else {
            return single(d, Shape::unknown());
        };
        if let Some(i) = (0..n).find(|&i| cx.input(i).shape.rank().is_some_and(|r| r != rank)) {
            return Err(crate::invalid!(
                "values must share one rank: rank {rank}, and input {i} of shape {}",
                cx.input(i).shape
            ));
        }
        let Some(axis) = cx.ints(n)?.and_then(|v| v.first().copied()) else {
            return single(d, Shape::unknown_dims(rank));
        };
        let axis = normalize_axis(axis, rank)?;
        let mut out: Vec<Option<usize>> = vec![None; rank];
        let mut total = Some(0usize);
        for i in 0..n {
            let Some(dims) = cx.input(i).shape.dims() else {
                total = None;
                continue;
            };
            for (j, &dj) in dims.iter().enumerate() {
                if j == axis {
                    total = total.zip(dj).map(|(t, d)| t + d);
                } else if let (Some(a), Some(b)) = (out[j], dj) {
                    if a != b {
                        return Err(OpError::ShapeMismatch {
                            lhs: cx.input(0).shape.clone(),
                            rhs: cx.input(i).shape.clone(),
                        });
                    }
                } else {
                    out[j] = out[j].or(dj);
                }
            }
        }
        out[axis] = total;
        single(d, Shape::partial(&out))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let n = k.num_inputs() - 1;
        let first = k.input(0)?;
        let axis = normalize_axis(k.input(n)?.ints()?.first().copied().unwrap_or(0), first.rank())?;
        for i in 1..n {
            let x = k.input(i)?;
            if x.rank() != first.rank() || x.dtype() != first.dtype() {
                return Err(crate::invalid!(
                    "values {:?} and {:?} (input {i}) cannot be concatenated",
                    first.shape(),
                    x.shape()
                ));
            }
        }
        fn cat<T: Item>(k: &Kernel, n: usize, axis: usize) -> OpResult<Tensor> {
            let arrays: Vec<&ArcArrayD<T>> = (0..n).map(|i| k.array::<T>(i)).collect::<OpResult<_>>()?;
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            let out =
                ndarray::concatenate(Axis(axis), &views).map_err(|e| crate::invalid!("cannot concatenate: {e}"))?;
            Ok(T::wrap(out.into_shared()))
        }
        one(crate::with_dtype!(first.dtype(), T => cat::<T>(k, n, axis)?))
    }
    // d/dx_i = the slice of g that x_i occupies
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let n = gx.g.node(gx.output(0).node).inputs().len() - 1;
        let (axis_in, g) = (gx.input(n), gx.grad(0));
        let rank = gx.g.spec(g).shape.rank();
        let axis = gx.g.value_of(axis_in).and_then(|t| t.to_i64_vec().ok()).and_then(|v| v.first().copied());
        let (Some(rank), Some(axis)) = (rank, axis) else {
            return Err(crate::error::Error::argument(
                "gradient of ConcatV2",
                "axis",
                "must be a constant, with inputs of known rank",
            ));
        };
        let axis = normalize_axis(axis, rank)
            .map_err(|e| crate::error::Error::argument("gradient of ConcatV2", "axis", e.to_string()))?;
        let mut offset = 0i64;
        let mut grads = Vec::with_capacity(n + 1);
        for i in 0..n {
            let x = gx.input(i);
            let Some(len) = gx.g.spec(x).shape.dims().and_then(|d| d[axis]) else {
                return Err(crate::error::Error::argument(
                    "gradient of ConcatV2",
                    "values",
                    "need known sizes along the axis",
                ));
            };
            let mut begin = vec![0i64; rank];
            let mut size = vec![-1i64; rank];
            begin[axis] = offset;
            size[axis] = len as i64;
            offset += len as i64;
            grads.push(Some(gx.g.slice(g, &begin, &size)?));
        }
        grads.push(None);
        Ok(grads)
    }
}

op! {
    /// `input[begin : begin + size]`, per axis; a size of -1 means "to the end".
    Slice derive(Copy, Default) {}
}

fn slice_bounds(dims: &[usize], begin: &[i64], size: &[i64]) -> OpResult<Vec<(usize, usize)>> {
    if begin.len() != dims.len() || size.len() != dims.len() {
        return Err(crate::invalid!("begin {begin:?} and size {size:?} must have {} entries", dims.len()));
    }
    dims.iter()
        .zip(begin.iter().zip(size))
        .map(|(&d, (&b, &s))| {
            let len = if s == -1 { (d as i64).saturating_sub(b) } else { s };
            if b < 0 || len < 0 || b.checked_add(len).is_none_or(|end| end > d as i64) {
                return Err(crate::invalid!("slice begin {begin:?} size {size:?} is out of bounds for shape {dims:?}"));
            }
            Ok((b as usize, len as usize))
        })
        .collect()
}

impl Op for Slice {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        cx.dtype_in(1, INTS)?;
        cx.dtype_in(2, INTS)?;
        for (i, what) in [(1, "begin"), (2, "size")] {
            if cx.input(i).shape.rank().is_some_and(|r| r != 1) {
                return Err(crate::invalid!("{what} must be a vector, got shape {}", cx.input(i).shape));
            }
        }
        let x = cx.input(0);
        let (begin, size) = (cx.ints(1)?, cx.ints(2)?);
        let rank = x.shape.rank().or(begin.as_ref().map(Vec::len)).or(size.as_ref().map(Vec::len));
        for v in [&begin, &size].into_iter().flatten() {
            if rank.is_some_and(|r| v.len() != r) {
                let show = |v: &Option<Vec<i64>>| v.as_ref().map_or("?".to_string(), |v| format!("{v:?}"));
                return Err(crate::invalid!(
                    "begin {} and size {} must each have one entry per axis of {}",
                    show(&begin),
                    show(&size),
                    x.shape
                ));
            }
        }
        let Some(size) = size else {
            return single(x.dtype, rank.map_or(Shape::unknown(), Shape::unknown_dims));
        };
        let dims = x.shape.dims().map(<[_]>::to_vec).unwrap_or_else(|| vec![None; size.len()]);
        let out = size
            .iter()
            .enumerate()
            .map(|(i, &len)| match (len, dims[i], begin.as_ref().map(|b| b[i])) {
                (-1, Some(dim), Some(b)) => Ok(Some(dim.saturating_sub(b.max(0) as usize))),
                (-1, _, _) => Ok(None),
                (len, _, _) if len >= 0 => Ok(Some(len as usize)),
                (len, _, _) => Err(crate::invalid!("slice size {len} is negative (only -1, the rest, is allowed)")),
            })
            .collect::<OpResult<Vec<_>>>()?;
        if let (Some(known), Some(b)) = (x.shape.to_known(), &begin) {
            slice_bounds(&known, b, &size)?;
        }
        single(x.dtype, Shape::partial(&out))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        for (i, what) in [(1, "begin"), (2, "size")] {
            if k.input(i)?.rank() != 1 {
                return Err(crate::invalid!("{what} must be a vector, got shape {:?}", k.input(i)?.shape()));
            }
        }
        let (begin, size) = (k.input(1)?.ints()?, k.input(2)?.ints()?);
        let x = k.take(0)?;
        let bounds = slice_bounds(x.shape(), &begin, &size)?;
        let info: Vec<SliceInfoElem> = bounds
            .iter()
            .map(|&(b, l)| SliceInfoElem::Slice { start: b as isize, end: Some((b + l) as isize), step: 1 })
            .collect();
        one(with_array!(x, a => Item::wrap(a.slice_move(info.as_slice()))))
    }
    // d/dx = g padded with zeros back to the shape of x
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, begin, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let y = gx.output(0);
        let sx = gx.g.shape_of(x)?;
        let sy = gx.g.shape_of(y)?;
        let begin = gx.g.cast(begin, DType::Int32)?;
        let rest = gx.g.sub(sx, begin)?;
        let after = gx.g.sub(rest, sy)?;
        let b2 = gx.g.expand_dims(begin, 1)?;
        let a2 = gx.g.expand_dims(after, 1)?;
        let one = gx.g.constant(1i32)?;
        let paddings = gx.g.op("concat", ConcatV2 {}, &[b2, a2, one])?;
        Ok(vec![Some(gx.g.op("Pad", super::Pad {}, &[g, paddings])?), None, None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

impl Graph {
    /// `Pad(x, paddings)` with zeros; `paddings[i] = (before, after)` for axis i.
    pub fn pad(&mut self, x: Output, paddings: &[(i64, i64)]) -> Result<Output> {
        let flat: Vec<i32> = paddings.iter().flat_map(|&(a, b)| [a as i32, b as i32]).collect();
        let t = Tensor::from_vec(&[paddings.len(), 2], flat).map_err(|e| crate::error::Error::at("Pad", "Const", e))?;
        let p = self.constant(t)?;
        self.op("Pad", Pad {}, &[x, p])
    }

    /// `ConcatV2(values, axis)`.
    pub fn concat(&mut self, values: &[Output], axis: i64) -> Result<Output> {
        let a = self.constant(axis as i32)?;
        let mut inputs = values.to_vec();
        inputs.push(a);
        self.op("concat", ConcatV2 {}, &inputs)
    }

    /// `Slice(x, begin, size)`; a size of -1 takes the rest of the axis.
    pub fn slice(&mut self, x: Output, begin: &[i64], size: &[i64]) -> Result<Output> {
        let b = self.constant_vec(begin.iter().map(|&v| v as i32).collect())?;
        let s = self.constant_vec(size.iter().map(|&v| v as i32).collect())?;
        self.op("Slice", Slice {}, &[x, b, s])
    }
}
