//! Cutting one tensor into several outputs: Unpack (`tf.unstack`, along an axis that goes away),
//! Split (into equal pieces) and SplitV (into pieces of given sizes).

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, normalize_axis};
use crate::shape::Shape;
use crate::tensor::{DType, Item};
use crate::with_array;
use ndarray::{Axis, Slice};

/// The most outputs an op that takes its output count from an attribute may have: a bound on
/// what a hostile graph file can make the loader allocate.
pub const MAX_OUTPUTS: usize = 1 << 16;

/// An output count attribute as a count of outputs.
fn output_count(name: &str, n: i64, min: i64) -> OpResult<usize> {
    if n < min || n > MAX_OUTPUTS as i64 {
        return Err(crate::invalid!("{name} = {n} must be in [{min}, {MAX_OUTPUTS}]"));
    }
    Ok(n as usize)
}

/// Every output of node `id`, in slot order.
pub(crate) fn outputs_of(g: &Graph, id: NodeId) -> Vec<Output> {
    (0..g.node(id).outputs().len() as u32).map(|slot| Output { node: id, slot }).collect()
}

/// `n` outputs of one dtype and shape: a cut into pieces of one shape.
fn repeated(dtype: DType, shape: Shape, n: usize) -> OpResult<Vec<TensorSpec>> {
    Ok(vec![TensorSpec::new(dtype, shape); n])
}

op! {
    /// Unpacks `num` tensors from `value` along `axis` (`tf.unstack`): output `i` is
    /// `value[..., i, ...]`, of `value`'s shape without that axis.
    Unpack derive(Copy) { num: i64, #[serde(default)] axis: i64 }
}

impl Op for Unpack {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let n = output_count("num", self.num, 0)?;
        let x = cx.input(0);
        let Some(dims) = x.shape.dims() else { return repeated(x.dtype, Shape::unknown(), n) };
        let axis = normalize_axis(self.axis, dims.len())
            .map_err(|_| crate::invalid!("invalid axis {}; must be in [-{r}, {r})", self.axis, r = dims.len()))?;
        if dims[axis].is_some_and(|d| d != n) {
            return Err(crate::invalid!("dimension {axis} of {} must be {n} (num)", x.shape));
        }
        let mut out = dims.to_vec();
        out.remove(axis);
        repeated(x.dtype, Shape::partial(&out), n)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.input(0)?;
        let n = output_count("num", self.num, 0)?;
        let axis = normalize_axis(self.axis, x.rank())?;
        if x.shape()[axis] != n {
            return Err(crate::invalid!("input shape axis {axis} must equal {n}, got shape {:?}", x.shape()));
        }
        Ok(
            with_array!(x, a => (0..n).map(|i| Item::wrap(a.index_axis(Axis(axis), i).to_owned().into_shared())).collect()),
        )
    }
    // d/dvalue = Pack(g_0, ..., g_{num-1}) along axis
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let n = gx.g.node(gx.output(0).node).outputs().len();
        if n == 0 {
            return Ok(vec![None]);
        }
        let grads: Vec<Output> = (0..n).map(|i| gx.grad(i)).collect();
        Ok(vec![Some(gx.g.op("stack", super::Pack { axis: self.axis }, &grads)?)])
    }
}

/// Checks the axis input of a split: an int32 scalar.
fn check_axis(cx: &InferCx, i: usize) -> OpResult<()> {
    cx.dtype_in(i, &[DType::Int32])?;
    cx.scalar(i, "axis")
}

/// The axis of a split, from its build-time value: `None` when unknown.
fn split_axis(cx: &InferCx, i: usize, rank: usize) -> OpResult<Option<usize>> {
    check_axis(cx, i)?;
    match cx.ints(i)?.and_then(|v| v.first().copied()) {
        Some(a) => normalize_axis(a, rank).map(Some),
        None => Ok(None),
    }
}

/// The split axis of a kernel (a scalar input).
fn run_axis(k: &Kernel, i: usize, rank: usize) -> OpResult<usize> {
    let t = k.input(i)?;
    if t.rank() != 0 {
        return Err(crate::invalid!("axis must be a scalar, got shape {:?}", t.shape()));
    }
    let a = t.to_i64_vec()?[0];
    normalize_axis(a, rank)
        .map_err(|_| crate::invalid!("-{rank} <= split_dim < {rank} (the input's rank), but got {a}"))
}

/// Runs a kernel that cuts input `x` along `axis` into pieces of the given sizes.
fn cut_pieces(k: &Kernel, x: usize, axis: usize, sizes: &[usize]) -> OpResult<Outputs> {
    let x = k.input(x)?;
    let mut start = 0isize;
    let mut out = Outputs::with_capacity(sizes.len());
    for &s in sizes {
        let range = Slice::from(start..start + s as isize);
        out.push(with_array!(x, a => Item::wrap(a.slice_axis(Axis(axis), range).to_owned().into_shared())));
        start += s as isize;
    }
    Ok(out)
}

/// `concat(grads, axis)`: the gradient of a split whose axis is input `axis`.
fn concat_grads(gx: &mut GradCx, axis: Output) -> Result<Output> {
    let n = gx.g.node(gx.output(0).node).outputs().len();
    let mut inputs: Vec<Output> = (0..n).map(|i| gx.grad(i)).collect();
    inputs.push(axis);
    gx.g.op("concat", super::ConcatV2 {}, &inputs)
}

op! {
    /// Splits `value` (input 1) along `axis` (input 0, an int32 scalar) into `num_split` pieces
    /// of one size, which must divide the axis.
    Split derive(Copy) { num_split: i64 }
}

impl Op for Split {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let n = output_count("num_split", self.num_split, 1)?;
        let x = cx.input(1);
        let Some(dims) = x.shape.dims() else {
            check_axis(cx, 0)?;
            return repeated(x.dtype, Shape::unknown(), n);
        };
        let Some(axis) = split_axis(cx, 0, dims.len())? else {
            return repeated(x.dtype, Shape::unknown_dims(dims.len()), n);
        };
        let mut out = dims.to_vec();
        if let Some(d) = dims[axis] {
            if d % n != 0 {
                return Err(crate::invalid!(
                    "number of ways to split should evenly divide the split dimension, but got {n} for {}",
                    x.shape
                ));
            }
            out[axis] = Some(d / n);
        }
        repeated(x.dtype, Shape::partial(&out), n)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let n = output_count("num_split", self.num_split, 1)?;
        let shape = k.input(1)?.shape().to_vec();
        let axis = run_axis(k, 0, shape.len())?;
        if shape[axis] % n != 0 {
            return Err(crate::invalid!(
                "number of ways to split should evenly divide the split dimension, but got split_dim {axis} (size = {}) and num_split {n}",
                shape[axis]
            ));
        }
        cut_pieces(k, 1, axis, &vec![shape[axis] / n; n])
    }
    // d/dvalue = concat(g_0, ..., g_{n-1}, axis)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let axis = gx.input(0);
        Ok(vec![None, Some(concat_grads(gx, axis)?)])
    }
}

op! {
    /// Splits `value` (input 0) along `axis` (input 2, an int32 scalar) into `num_split` pieces
    /// of the sizes `size_splits` (input 1); one size may be -1, the rest of the axis.
    SplitV derive(Copy) { num_split: i64 }
}

/// The piece sizes of a SplitV along an axis of size `dim` (unknown: `None`), TF's checks: one
/// size per output, at most one -1 (the rest), the others non-negative and adding up to `dim`.
fn piece_sizes(sizes: &[i64], n: usize, dim: Option<usize>) -> OpResult<Vec<Option<usize>>> {
    if sizes.len() != n {
        return Err(crate::invalid!("size_splits {sizes:?} must have one entry per output ({n})"));
    }
    if sizes.iter().filter(|&&s| s == -1).count() > 1 {
        return Err(crate::invalid!("size_splits {sizes:?} can only have one -1"));
    }
    if let Some(i) = sizes.iter().position(|&s| s < -1) {
        return Err(crate::invalid!("split size at index {i} must be >= 0, got {}", sizes[i]));
    }
    let fixed = sizes.iter().filter(|&&s| s >= 0).try_fold(0i64, |t, &s| t.checked_add(s));
    let rest = sizes.contains(&-1);
    if let (Some(d), Some(total)) = (dim, fixed) {
        let d = d as i64;
        if (n == 1 && sizes[0] != d) || if rest { total > d } else { total != d } {
            return Err(crate::invalid!("can't split an axis of size {d} into pieces of size {sizes:?}"));
        }
    }
    let fixed = fixed.ok_or_else(|| crate::invalid!("size_splits {sizes:?} overflow"))?;
    Ok(sizes
        .iter()
        .map(|&s| match s {
            -1 => dim.map(|d| (d as i64 - fixed) as usize),
            s => Some(s as usize),
        })
        .collect())
}

impl Op for SplitV {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let n = output_count("num_split", self.num_split, 1)?;
        cx.dtype_in(1, INTS)?;
        let sizes_shape = &cx.input(1).shape;
        if sizes_shape.dims().is_some_and(|d| d.len() != 1 || d[0].is_some_and(|m| m != n)) {
            return Err(crate::invalid!("size_splits must be a vector of {n} (num_split), got shape {sizes_shape}"));
        }
        let x = cx.input(0);
        let Some(dims) = x.shape.dims() else {
            check_axis(cx, 2)?;
            return repeated(x.dtype, Shape::unknown(), n);
        };
        if dims.is_empty() {
            return Err(crate::invalid!("can't split scalars"));
        }
        let Some(axis) = split_axis(cx, 2, dims.len())? else {
            return repeated(x.dtype, Shape::unknown_dims(dims.len()), n);
        };
        let pieces = match cx.ints(1)? {
            Some(sizes) => piece_sizes(&sizes, n, dims[axis])?,
            None => vec![None; n],
        };
        Ok(pieces
            .into_iter()
            .map(|p| {
                let mut out = dims.to_vec();
                out[axis] = p;
                TensorSpec::new(x.dtype, Shape::partial(&out))
            })
            .collect())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let n = output_count("num_split", self.num_split, 1)?;
        let shape = k.input(0)?.shape().to_vec();
        if shape.is_empty() {
            return Err(crate::invalid!("can't split scalars"));
        }
        let axis = run_axis(k, 2, shape.len())?;
        let sizes = k.input(1)?;
        if sizes.rank() != 1 {
            return Err(crate::invalid!("size_splits must be a vector, got shape {:?}", sizes.shape()));
        }
        let pieces = piece_sizes(&sizes.to_i64_vec()?, n, Some(shape[axis]))?;
        let pieces: Vec<usize> = pieces.into_iter().map(|p| p.unwrap_or(0)).collect();
        cut_pieces(k, 0, axis, &pieces)
    }
    // d/dvalue = concat(g_0, ..., g_{n-1}, axis)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let axis = gx.input(2);
        Ok(vec![Some(concat_grads(gx, axis)?), None, None])
    }
}

/// Adds a node with several outputs and returns them all.
fn add_multi(g: &mut Graph, name: &str, op: impl Op, inputs: &[Output]) -> Result<Vec<Output>> {
    let id = g.add_node(NodeName::Default(name), op, inputs, &[])?;
    Ok(outputs_of(g, id))
}

impl Graph {
    /// `Unpack(x)` along `axis` (`tf.unstack`): `num` outputs, or as many as the axis has when
    /// `num` is `None` (then the axis must have a known size).
    ///
    /// ```
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[2, 2], vec![1i32, 2, 3, 4])?)?;
    /// let cols = g.unstack(x, None, 1)?;
    /// let out = Session::new(g).run(&[], &cols, &[])?;
    /// assert_eq!(out[1].to_f64_vec(), vec![2.0, 4.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn unstack(&mut self, x: Output, num: Option<usize>, axis: i64) -> Result<Vec<Output>> {
        let num = match num {
            Some(n) => n,
            None => {
                let shape = &self.try_spec(x)?.shape;
                let dim = shape.rank().and_then(|r| normalize_axis(axis, r).ok()).and_then(|a| shape.dims()?[a]);
                dim.ok_or_else(|| {
                    crate::error::Error::argument("unstack", "num", format!("cannot be inferred from {shape}"))
                })?
            }
        };
        add_multi(self, "unstack", Unpack { num: num as i64, axis }, &[x])
    }

    /// `Split(axis, x)` (`tf.split` with a number of pieces): `num_split` pieces of one size.
    pub fn split(&mut self, x: Output, num_split: usize, axis: i64) -> Result<Vec<Output>> {
        let a = self.constant(axis as i32)?;
        add_multi(self, "split", Split { num_split: num_split as i64 }, &[a, x])
    }

    /// `SplitV(x, size_splits, axis)` (`tf.split` with sizes): one piece per size, and one size
    /// may be -1 for the rest of the axis.
    pub fn split_v(&mut self, x: Output, size_splits: &[i64], axis: i64) -> Result<Vec<Output>> {
        let s = self.constant_vec(size_splits.to_vec())?;
        let a = self.constant(axis as i32)?;
        add_multi(self, "split", SplitV { num_split: size_splits.len() as i64 }, &[x, s, a])
    }
}
