//! Selecting by index: GatherV2, UnsortedSegmentSum, OneHot.

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Item, Number, Tensor};
use crate::with_array;
use ndarray::{ArrayD, Axis, IxDyn};

op! {
    /// `params` indexed along `axis` by `indices` (TF `GatherV2`, `tf.gather`).
    GatherV2 derive(Copy, Default) {}
}

fn gather<T: Item>(p: &ArcArrayD<T>, idx: &[i64], idx_shape: &[usize], axis: usize) -> OpResult<ArcArrayD<T>> {
    let n = p.shape()[axis];
    let picked: Vec<usize> = idx
        .iter()
        .map(|&i| {
            usize::try_from(i)
                .ok()
                .filter(|&i| i < n)
                .ok_or_else(|| crate::invalid!("index {i} is out of range [0, {n})"))
        })
        .collect::<OpResult<_>>()?;
    let taken = p.select(Axis(axis), &picked).as_standard_layout().into_owned();
    let mut shape: Vec<usize> = p.shape()[..axis].to_vec();
    shape.extend_from_slice(idx_shape);
    shape.extend_from_slice(&p.shape()[axis + 1..]);
    taken.into_shape_with_order(IxDyn(&shape)).map(|a| a.into_shared()).map_err(|e| crate::invalid!("{e}"))
}

impl Op for GatherV2 {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        cx.dtype_in(1, INTS)?;
        cx.dtype_in(2, INTS)?;
        cx.scalar(2, "axis")?;
        let (p, i) = (&cx.input(0).shape, &cx.input(1).shape);
        let axis = cx.ints(2)?.and_then(|v| v.first().copied());
        let shape = match (p.dims(), i.dims(), axis) {
            (Some(pd), Some(id), Some(a)) => {
                let a = normalize_axis(a, pd.len())?;
                let mut out = pd[..a].to_vec();
                out.extend_from_slice(id);
                out.extend_from_slice(&pd[a + 1..]);
                Shape::partial(&out)
            }
            _ => Shape::unknown(),
        };
        single(cx.input(0).dtype, shape)
    }
    // Every index of the axis, in order, gathers the input itself.
    fn forwards(&self, cx: &InferCx) -> bool {
        let (Some(idx), Some(axis), Some(dims)) = (cx.value(1), cx.value(2), cx.input(0).shape.dims()) else {
            return false;
        };
        let axis = axis.to_i64_vec().ok().and_then(|a| a.first().copied());
        let (Some(Ok(axis)), Ok(picked)) = (axis.map(|a| normalize_axis(a, dims.len())), idx.to_i64_vec()) else {
            return false;
        };
        idx.rank() == 1 && dims[axis] == Some(picked.len()) && picked.iter().enumerate().all(|(i, &v)| v == i as i64)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let p = k.input(0)?;
        let i = k.input(1)?;
        let axis = normalize_axis(k.input(2)?.ints()?.first().copied().unwrap_or(0), p.rank())?;
        let idx = i.to_i64_vec()?;
        one(with_array!(p, a => Item::wrap(gather(a, &idx, i.shape(), axis)?)))
    }
    // d/dparams = the incoming gradient summed into the gathered rows (UnsortedSegmentSum)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (p, idx, axis_in, g) = (gx.input(0), gx.input(1), gx.input(2), gx.grad(0));
        let axis = gx.g.value_of(axis_in).and_then(|t| t.to_i64_vec().ok()).and_then(|v| v.first().copied());
        let (Some(pr), Some(ir), Some(axis)) = (gx.g.spec(p).shape.rank(), gx.g.spec(idx).shape.rank(), axis) else {
            return Err(crate::error::Error::argument(
                "gradient of GatherV2",
                "axis",
                "must be a constant, with inputs of known rank",
            ));
        };
        let a = normalize_axis(axis, pr)
            .map_err(|e| crate::error::Error::argument("gradient of GatherV2", "axis", e.to_string()))?;
        // Bring the index dimensions of g to the front, sum into rows, then put the axis back.
        let perm: Vec<i64> = (a..a + ir).chain(0..a).chain(a + ir..pr + ir - 1).map(|v| v as i64).collect();
        let gt = if a == 0 { g } else { gx.g.transpose(g, &perm)? };
        let n = match gx.g.spec(p).shape.dims().and_then(|d| d[a]) {
            Some(n) => gx.g.constant(n as i32)?,
            None => {
                let sp = gx.g.shape_of(p)?;
                let s = gx.g.slice(sp, &[a as i64], &[1])?;
                gx.g.reshape(s, &[])?
            }
        };
        let summed = gx.g.op("UnsortedSegmentSum", UnsortedSegmentSum {}, &[gt, idx, n])?;
        let back: Vec<i64> = (1..=a).chain(std::iter::once(0)).chain(a + 1..pr).map(|v| v as i64).collect();
        let dp = if a == 0 { summed } else { gx.g.transpose(summed, &back)? };
        Ok(vec![Some(dp), None, None])
    }
}

op! {
    /// Sums the rows of `data` into `num_segments` rows chosen by `segment_ids` (leading dims); as
    /// in TF, rows with a negative id are dropped.
    UnsortedSegmentSum derive(Copy, Default) {}
}

fn segment_sum<T: Number>(data: &ArcArrayD<T>, ids: &[i64], id_rank: usize, n: usize) -> OpResult<ArcArrayD<T>> {
    let rest: Vec<usize> = data.shape()[id_rank..].to_vec();
    let row: usize = rest.iter().product();
    let mut shape = vec![n];
    shape.extend_from_slice(&rest);
    crate::shape::checked_elements(&shape)?;
    let mut out = vec![T::ZERO; n * row];
    let flat: Vec<T> = data.iter().copied().collect();
    for (r, &id) in ids.iter().enumerate() {
        if id < 0 {
            continue;
        }
        let s = usize::try_from(id)
            .ok()
            .filter(|&s| s < n)
            .ok_or_else(|| crate::invalid!("segment id {id} is out of range [0, {n})"))?;
        for j in 0..row {
            out[s * row + j] = out[s * row + j].add(flat[r * row + j]);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&shape), out).map(|a| a.into_shared()).map_err(|e| crate::invalid!("{e}"))
}

impl Op for UnsortedSegmentSum {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = cx.dtype_in(0, NUMBERS)?;
        cx.dtype_in(1, INTS)?;
        cx.dtype_in(2, INTS)?;
        cx.scalar(2, "num_segments")?;
        let n = cx.ints(2)?.and_then(|v| v.first().copied()).map(|v| v.max(0) as usize);
        let shape = match (cx.input(0).shape.dims(), cx.input(1).shape.rank()) {
            (Some(dd), Some(r)) if r <= dd.len() => {
                let mut out = vec![n];
                out.extend_from_slice(&dd[r..]);
                Shape::partial(&out)
            }
            (Some(dd), Some(r)) => {
                return Err(crate::invalid!("segment_ids rank {r} exceeds data rank {}", dd.len()));
            }
            _ => Shape::unknown(),
        };
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (data, ids, n) = (k.input(0)?, k.input(1)?, k.input(2)?);
        if n.rank() != 0 {
            return Err(crate::invalid!("num_segments must be a scalar, got shape {:?}", n.shape()));
        }
        let n = n.ints()?.first().copied().unwrap_or(0);
        let n = usize::try_from(n).map_err(|_| crate::invalid!("num_segments {n} is negative"))?;
        if ids.shape() != &data.shape()[..ids.rank().min(data.rank())] {
            return Err(crate::invalid!(
                "segment_ids shape {:?} must prefix data shape {:?}",
                ids.shape(),
                data.shape()
            ));
        }
        let idv = ids.to_i64_vec()?;
        let r = ids.rank();
        one(match data {
            Tensor::F32(a) => Tensor::F32(segment_sum(a, &idv, r, n)?),
            Tensor::F64(a) => Tensor::F64(segment_sum(a, &idv, r, n)?),
            Tensor::I32(a) => Tensor::I32(segment_sum(a, &idv, r, n)?),
            Tensor::I64(a) => Tensor::I64(segment_sum(a, &idv, r, n)?),
            Tensor::Bool(_) | Tensor::String(_) => {
                return Err(crate::invalid!("cannot sum {} segments", data.dtype()));
            }
        })
    }
    // d/ddata = gather(g, segment_ids), zero for the dropped rows (negative ids), as TF's
    // _GatherDropNegatives; a dropped row gathers a zero row appended to g, so the gradient
    // needs no segment to exist (num_segments may be 0)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (ids, n, g) = (gx.input(1), gx.input(2), gx.grad(0));
        let (dt, id_dt) = (gx.g.try_spec(g)?.dtype, gx.g.try_spec(ids)?.dtype);
        let g_shape = gx.g.shape_of(g)?;
        let rest = gx.g.slice(g_shape, &[1], &[-1])?;
        let one = gx.g.constant_vec(vec![1i32])?;
        let row_shape = gx.g.concat(&[one, rest], 0)?;
        let zero = gx.g.scalar(dt, 0.0)?;
        let zero_row = gx.g.fill(row_shape, zero)?;
        let padded = gx.g.concat(&[g, zero_row], 0)?;
        let no_id = gx.g.zeros_like(ids)?;
        let kept = gx.g.greater_equal(ids, no_id)?;
        let n = gx.g.cast(n, id_dt)?;
        let past_end = gx.g.add(no_id, n)?;
        let index = gx.g.select(kept, ids, past_end)?;
        Ok(vec![Some(gx.g.gather(padded, index, 0)?), None, None])
    }
}

op! {
    /// A one-hot encoding of integer `indices`: `on_value` at the index, `off_value` elsewhere, along
    /// a new axis of size `depth` (out-of-range indices give all `off_value`).
    OneHot derive(Copy) { #[serde(default = "minus_one")] axis: i64 }
}

fn minus_one() -> i64 {
    -1
}

impl Op for OneHot {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(4)?;
        cx.dtype_in(0, INTS)?;
        cx.dtype_in(1, INTS)?;
        cx.scalar(1, "depth")?;
        cx.scalar(2, "on_value")?;
        let d = cx.same_dtype(2, 3)?;
        let depth = cx.ints(1)?.and_then(|v| v.first().copied()).map(|v| v.max(0) as usize);
        let shape = match cx.input(0).shape.dims() {
            Some(dims) => {
                let a = if self.axis == -1 { dims.len() } else { normalize_axis(self.axis, dims.len() + 1)? };
                let mut out = dims.to_vec();
                out.insert(a, depth);
                Shape::partial(&out)
            }
            None => Shape::unknown(),
        };
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let idx = k.input(0)?;
        let depth = k.input(1)?.ints()?.first().copied().unwrap_or(0);
        let depth = usize::try_from(depth).map_err(|_| crate::invalid!("depth {depth} is negative"))?;
        let a = if self.axis == -1 { idx.rank() } else { normalize_axis(self.axis, idx.rank() + 1)? };
        let mut shape = idx.shape().to_vec();
        shape.insert(a, depth);
        crate::shape::checked_elements(&shape)?;
        let values = idx.to_i64_vec()?;
        let ishape = idx.shape().to_vec();
        let (on, off) = (k.input(2)?, k.input(3)?);
        fn build<T: Item>(
            on: &Tensor,
            off: &Tensor,
            shape: &[usize],
            ishape: &[usize],
            values: &[i64],
            a: usize,
        ) -> OpResult<Tensor> {
            let on = on.array::<T>()?.iter().next().cloned().ok_or_else(|| crate::invalid!("on_value is empty"))?;
            let off = off.array::<T>()?.iter().next().cloned().ok_or_else(|| crate::invalid!("off_value is empty"))?;
            let strides: Vec<usize> = (0..ishape.len()).map(|i| ishape[i + 1..].iter().product()).collect();
            let out = ArrayD::from_shape_fn(IxDyn(shape), |ix| {
                let pos: usize = (0..ishape.len()).map(|i| ix[if i < a { i } else { i + 1 }] * strides[i]).sum();
                if values.get(pos).copied() == Some(ix[a] as i64) { on.clone() } else { off.clone() }
            });
            Ok(T::wrap(out.into_shared()))
        }
        one(crate::with_dtype!(on.dtype(), T => build::<T>(on, off, &shape, &ishape, &values, a)?))
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None, None, None])
    }
}

impl Graph {
    /// `GatherV2(params, indices, axis)` (`tf.gather`).
    pub fn gather(&mut self, params: Output, indices: Output, axis: i64) -> Result<Output> {
        let a = self.constant(axis as i32)?;
        self.op("GatherV2", GatherV2 {}, &[params, indices, a])
    }

    /// `OneHot(indices, depth, on_value, off_value)` along a new last axis, in `dtype`.
    pub fn one_hot(&mut self, indices: Output, depth: usize, dtype: DType) -> Result<Output> {
        let d = self.constant(depth as i32)?;
        let on = self.scalar(dtype, 1.0)?;
        let off = self.scalar(dtype, 0.0)?;
        self.op("OneHot", OneHot { axis: -1 }, &[indices, d, on, off])
    }
}
