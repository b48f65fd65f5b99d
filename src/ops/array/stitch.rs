//! Interleaving by index: DynamicStitch, the inverse of a dynamic partition.

use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{DType, Item, Tensor};

op! {
    /// `merged[indices[m][i, ...], ...] = data[m][i, ..., ...]` for N int32 `indices` tensors
    /// followed by N `data` tensors, each `data[m]` of shape `indices[m].shape + extra` for one
    /// `extra`. The output has `max(indices) + 1` rows of shape `extra`; where several indices
    /// name one row the later one wins (inputs in order, elements in order), as in TF's kernel,
    /// and rows no index names are zeros.
    DynamicStitch derive(Copy, Default) {}
}

/// TF's static shape: `[max + 1] + extra` when every index is known, else `[?] + extra`, with
/// `extra` merged from every `data[m].shape[indices[m].rank..]` whose ranks are known.
fn infer_stitch(cx: &InferCx, n: usize) -> OpResult<Shape> {
    let mut extra = Shape::unknown();
    let mut max: Option<i64> = Some(-1);
    for m in 0..n {
        let (indices, data) = (&cx.input(m).shape, &cx.input(n + m).shape);
        match cx.ints(m)? {
            Some(v) => max = max.map(|x| v.iter().copied().fold(x, i64::max)),
            None => max = None,
        }
        let Some(idx) = indices.dims() else { continue };
        let Some(d) = data.dims() else { continue };
        let prefix = (d.len() >= idx.len()).then(|| Shape::partial(&d[..idx.len()]));
        if prefix.is_none_or(|p| !p.is_compatible(indices)) {
            return Err(crate::invalid!("data[{m}].shape = {data} does not start with indices[{m}].shape = {indices}"));
        }
        extra = extra.merge(&Shape::partial(&d[idx.len()..])).map_err(|_| {
            crate::invalid!("need data[0].shape[len(indices[0].shape):] to match for data[{m}].shape = {data}")
        })?;
    }
    let first = max.map(|x| (x + 1).max(0) as usize);
    Ok(match extra.dims() {
        Some(e) => Shape::partial(&[&[first][..], e].concat()),
        None => Shape::unknown(),
    })
}

impl Op for DynamicStitch {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() || !cx.len().is_multiple_of(2) {
            return Err(OpError::Arity { expected: "2N (N indices, then N data)".into(), got: cx.len() });
        }
        let n = cx.len() / 2;
        for m in 0..n {
            cx.dtype_in(m, &[DType::Int32])?;
            cx.same_dtype(n, n + m)?;
        }
        single(cx.input(n).dtype, infer_stitch(cx, n)?)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let n = k.num_inputs() / 2;
        let mut indices = Vec::with_capacity(n);
        for m in 0..n {
            indices.push(k.array::<i32>(m)?);
        }
        let max = indices.iter().flat_map(|a| a.iter().copied()).fold(-1i64, |x, v| x.max(v as i64));
        let (i0, d0) = (indices[0].shape(), k.input(n)?.shape());
        let extra = d0.get(i0.len()..).unwrap_or(&[]).to_vec();
        for (m, idx) in indices.iter().enumerate() {
            let d = k.input(n + m)?.shape();
            if !d.starts_with(idx.shape()) {
                return Err(crate::invalid!(
                    "data[{m}].shape = {d:?} does not start with indices[{m}].shape = {:?}",
                    idx.shape()
                ));
            }
            if d[idx.ndim()..] != extra[..] {
                return Err(crate::invalid!(
                    "need data[0].shape[{}:] = data[{m}].shape[{}:], got data[0].shape = {d0:?}, data[{m}].shape = {d:?}",
                    i0.len(),
                    idx.ndim()
                ));
            }
        }
        let shape = [&[(max + 1) as usize][..], &extra].concat();
        checked_elements(&shape)?;
        let row: usize = extra.iter().product();
        fn stitch<T: Item>(k: &Kernel, n: usize, shape: &[usize], row: usize) -> OpResult<Tensor> {
            let mut out = vec![T::default(); shape.iter().product()];
            for m in 0..n {
                let data = k.array::<T>(n + m)?;
                let data = data.as_standard_layout();
                let flat = data.as_slice().ok_or_else(|| crate::invalid!("data[{m}] is not contiguous"))?;
                for (i, &index) in k.array::<i32>(m)?.iter().enumerate() {
                    let at = usize::try_from(index)
                        .map_err(|_| crate::invalid!("indices[{i}] = {index} is out of range"))?;
                    out[at * row..(at + 1) * row].clone_from_slice(&flat[i * row..(i + 1) * row]);
                }
            }
            Tensor::from_vec(shape, out)
        }
        let dtype = k.input(n)?.dtype();
        one(crate::with_dtype!(dtype, T => stitch::<T>(k, n, &shape, row)?))
    }
    // d/ddata[m] = gather(g, indices[m]), as TF (an element another index overwrote gets the
    // gradient of the row it was written to too); indices are not differentiable
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let n = gx.g.node(gx.output(0).node).inputs().len() / 2;
        let g = gx.grad(0);
        let mut grads = vec![None; n];
        for m in 0..n {
            let indices = gx.input(m);
            grads.push(Some(gx.g.gather(g, indices, 0)?));
        }
        Ok(grads)
    }
}

impl Graph {
    /// `DynamicStitch(indices, data)` (`tf.dynamic_stitch`): `data[m]` written to the rows that
    /// `indices[m]` names, later indices winning.
    ///
    /// ```
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let i0 = g.constant(Tensor::from_vec(&[2], vec![0i32, 2])?)?;
    /// let i1 = g.constant(Tensor::from_vec(&[2], vec![1i32, 2])?)?;
    /// let d0 = g.constant(Tensor::from_vec(&[2], vec![10.0f32, 20.0])?)?;
    /// let d1 = g.constant(Tensor::from_vec(&[2], vec![30.0f32, 40.0])?)?;
    /// let y = g.dynamic_stitch(&[i0, i1], &[d0, d1])?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![10.0, 30.0, 40.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn dynamic_stitch(&mut self, indices: &[Output], data: &[Output]) -> Result<Output> {
        if indices.len() != data.len() {
            return Err(crate::error::Error::argument(
                "dynamic_stitch",
                "data",
                format!("has {} tensors for {} indices", data.len(), indices.len()),
            ));
        }
        self.op("DynamicStitch", DynamicStitch {}, &[indices, data].concat())
    }
}
