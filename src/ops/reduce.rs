//! Reductions over axes with `keep_dims`: Sum, Mean, Max, Min, Prod (ArgMax and ArgMin are in
//! `argmax`).
//!
//! The axes are an int32/int64 input, as in TF (`reduction_indices`); builder functions make it a
//! constant. Reductions fold one axis at a time, last axis first, each in index order, so a result
//! never depends on threads.

use super::op;
use super::{InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Element, Number, Tensor};
use ndarray::{ArrayD, Axis, IxDyn};

/// Normalizes, checks and sorts reduction axes.
pub(crate) fn reduction_axes(axes: &[i64], rank: usize) -> OpResult<Vec<usize>> {
    let mut out = axes.iter().map(|&a| normalize_axis(a, rank)).collect::<OpResult<Vec<_>>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(crate::invalid!("reduction axes {axes:?} repeat an axis"));
    }
    Ok(out)
}

/// The static shape of a reduction's result.
pub(super) fn reduced_shape(input: &Shape, axes: Option<&[i64]>, keep_dims: bool) -> OpResult<Shape> {
    let Some(dims) = input.dims() else {
        return Ok(Shape::unknown());
    };
    let Some(axes) = axes else {
        return Ok(if keep_dims { Shape::unknown_dims(dims.len()) } else { Shape::unknown() });
    };
    let axes = reduction_axes(axes, dims.len())?;
    let mut out = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        if !axes.contains(&i) {
            out.push(*d);
        } else if keep_dims {
            out.push(Some(1));
        }
    }
    Ok(Shape::partial(&out))
}

fn infer_reduce(cx: &InferCx, dtypes: &[DType], keep_dims: bool) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let d = cx.dtype_in(0, dtypes)?;
    cx.dtype_in(1, super::INTS)?;
    let axes = cx.ints(1)?;
    single(d, reduced_shape(&cx.input(0).shape, axes.as_deref(), keep_dims)?)
}

/// Independent accumulators per lane: enough to hide floating-point add latency and let the
/// compiler vectorize, in an order fixed by the lane length alone (so results never depend on
/// threads or scheduling).
const ACCUMULATORS: usize = 16;

/// Reduces one contiguous lane with `f`, using [`ACCUMULATORS`] partial results combined in a
/// fixed order.
pub(crate) fn reduce_lane<T: Element>(lane: &[T], init: T, f: &impl Fn(T, T) -> T) -> T {
    let mut acc = [init; ACCUMULATORS];
    let chunks = lane.chunks_exact(ACCUMULATORS);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = f(*a, x);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a = f(*a, x);
    }
    let mut width = ACCUMULATORS;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            acc[i] = f(acc[i], acc[i + width]);
        }
    }
    acc[0]
}

/// Folds `a` over `axes` with an associative `f` starting from `init`. Row-major inputs reduced
/// over trailing axes reduce each contiguous lane; over leading axes they accumulate whole rows;
/// other cases fold one axis at a time.
fn fold_axes<T: Element>(
    a: &ArcArrayD<T>,
    axes: &[usize],
    keep_dims: bool,
    init: T,
    f: impl Fn(T, T) -> T,
) -> OpResult<ArcArrayD<T>> {
    let shape = a.shape();
    let kept: Vec<usize> = shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    let out_shape: Vec<usize> = if keep_dims {
        kept
    } else {
        shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
    };
    let rank = shape.len();
    let suffix = axes.iter().enumerate().all(|(k, &ax)| ax == rank - axes.len() + k);
    let prefix = axes.iter().enumerate().all(|(k, &ax)| ax == k);
    let inner: usize = shape[rank - axes.len()..].iter().product();
    let lead: usize = shape[..axes.len()].iter().product();
    let out: Vec<T> = match a.as_slice() {
        Some(data) if suffix && inner > 0 => data.chunks(inner).map(|lane| reduce_lane(lane, init, &f)).collect(),
        Some(data) if prefix && lead > 0 => {
            let width = data.len() / lead;
            let mut acc = vec![init; width];
            for row in data.chunks(width.max(1)) {
                for (x, &v) in acc.iter_mut().zip(row) {
                    *x = f(*x, v);
                }
            }
            acc
        }
        _ => {
            let mut view: ArrayD<T> = a.to_owned();
            for &ax in axes.iter().rev() {
                view = view.fold_axis(Axis(ax), init, |acc, &x| f(*acc, x));
            }
            view.iter().copied().collect()
        }
    };
    ArrayD::from_shape_vec(IxDyn(&out_shape), out).map(|o| o.into_shared()).map_err(|e| crate::invalid!("{e}"))
}

/// The kind of reduction.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
}

fn reduce_number<T: Number>(a: &ArcArrayD<T>, axes: &[usize], keep: bool, kind: Kind) -> OpResult<ArcArrayD<T>> {
    match kind {
        Kind::Sum => fold_axes(a, axes, keep, T::ZERO, T::add),
        Kind::Mean => {
            let n: usize = axes.iter().map(|&i| a.shape()[i]).product();
            let mut s = fold_axes(a, axes, keep, T::ZERO, T::add)?;
            let n = T::from_f64(n as f64);
            s.mapv_inplace(|v| v.div(n));
            Ok(s)
        }
        Kind::Max => fold_axes(a, axes, keep, T::LOWEST, T::max_),
        Kind::Min => fold_axes(a, axes, keep, T::HIGHEST, T::min_),
        Kind::Prod => fold_axes(a, axes, keep, T::ONE, T::mul),
    }
}

fn compute_reduce(k: &mut Kernel, kind: Kind, keep: bool) -> OpResult<Outputs> {
    let x = k.input(0)?;
    let axes = reduction_axes(&k.input(1)?.ints()?, x.rank())?;
    if axes.is_empty() {
        return one(k.take(0)?);
    }
    one(match x {
        Tensor::F32(a) => Tensor::F32(reduce_number(a, &axes, keep, kind)?),
        Tensor::F64(a) => Tensor::F64(reduce_number(a, &axes, keep, kind)?),
        Tensor::I32(a) => Tensor::I32(reduce_number(a, &axes, keep, kind)?),
        Tensor::I64(a) => Tensor::I64(reduce_number(a, &axes, keep, kind)?),
        Tensor::Bool(_) | Tensor::String(_) => return Err(crate::invalid!("cannot reduce a {} tensor", x.dtype())),
    })
}

/// The gradient of a reduction reshaped to the kept-dims shape and broadcast back to the input:
/// `BroadcastTo(Reshape(g, kept), Shape(x))`, static where shapes are known.
pub(crate) fn broadcast_back(g: &mut Graph, grad: Output, x: Output, axes_in: Output) -> Result<Output> {
    let xs = g.try_spec(x)?.shape.clone();
    let fail = |what: &str, msg: String| crate::error::Error::argument("gradient of a reduction", what, msg);
    let rank = xs.rank().ok_or_else(|| fail("input", "needs a known rank".into()))?;
    let axes = match g.value_of(axes_in) {
        Some(v) => v.to_i64_vec().and_then(|a| reduction_axes(&a, rank)).map_err(|e| fail("axes", e.to_string()))?,
        None => return Err(fail("axes", "must be a constant".into())),
    };
    if let Some(xd) = xs.to_known() {
        let kept: Vec<i64> =
            xd.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d as i64 }).collect();
        let r = g.reshape(grad, &kept)?;
        let target = g.constant_vec(xd.iter().map(|&d| d as i32).collect())?;
        return g.broadcast_to(r, target);
    }
    let sx = g.shape_of(x)?;
    if g.try_spec(grad)?.shape.rank() == Some(0) {
        // A scalar broadcasts to any shape as it is.
        return g.broadcast_to(grad, sx);
    }
    let mask = g.constant_vec((0..rank).map(|i| axes.contains(&i)).collect())?;
    let ones = g.constant_vec(vec![1i32; rank])?;
    let kept = g.select(mask, ones, sx)?;
    let r = g.reshape_dynamic(grad, kept)?;
    g.broadcast_to(r, sx)
}

/// Defines a reduction op with its builder methods.
macro_rules! reduce_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, $method_axes:ident, $kind:expr, grad(|$gx:ident, $keep:ident| $grad:expr)) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) { #[serde(default)] keep_dims: bool }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_reduce(cx, NUMBERS, self.keep_dims)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                compute_reduce(k, $kind, self.keep_dims)
            }
            fn grad(&self, $gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                let $keep = self.keep_dims;
                $grad
            }
            fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
                inputs[0].shape.known_elements()
            }
        }

        impl Graph {
            $(#[doc = $doc])*
            ///
            /// `axes: None` reduces over every axis (TF's `axis=None`).
            pub fn $method(&mut self, x: Output, axes: Option<&[i64]>, keep_dims: bool) -> Result<Output> {
                if axes.is_none() && !keep_dims && self.try_spec(x)?.shape.rank().is_none() {
                    // Every axis of a tensor of unknown rank: flatten, then reduce the one axis.
                    let flat = self.reshape(x, &[-1])?;
                    let axis = self.constant_vec(vec![0i32])?;
                    return self.$method_axes(flat, axis, false);
                }
                let axes = self.axes_constant(x, axes)?;
                self.$method_axes(x, axes, keep_dims)
            }

            $(#[doc = $doc])*
            ///
            /// The axes are an int32 or int64 tensor.
            pub fn $method_axes(&mut self, x: Output, axes: Output, keep_dims: bool) -> Result<Output> {
                self.op(stringify!($name), $name { keep_dims }, &[x, axes])
            }
        }
    };
}

/// `(x, axes, y, g)` of a reduction node; `g` is the gradient of the reduced output.
fn parts(gx: &GradCx) -> (Output, Output, Output, Output) {
    (gx.input(0), gx.input(1), gx.output(0), gx.grad(0))
}

reduce_op!(
    /// Sum over axes (`tf.reduce_sum`).
    Sum, reduce_sum, reduce_sum_axes, Kind::Sum,
    // d/dx = 1, broadcast back over the reduced axes
    grad(|gx, _keep| { let (x, axes, _, g) = parts(gx); Ok(vec![Some(broadcast_back(gx.g, g, x, axes)?), None]) })
);
reduce_op!(
    /// Mean over axes (`tf.reduce_mean`); integer means truncate.
    Mean, reduce_mean, reduce_mean_axes, Kind::Mean,
    // d/dx = 1/N, broadcast back over the reduced axes. Dividing before broadcasting gives every
    // element the same value as TF's divide-after, with N times fewer divisions.
    grad(|gx, _keep| {
        let (x, axes, y, g) = parts(gx);
        let dt = gx.g.try_spec(x)?.dtype;
        let n = match (gx.g.try_spec(x)?.shape.num_elements(), gx.g.try_spec(y)?.shape.num_elements()) {
            (Some(a), Some(b)) if b > 0 => gx.g.scalar(dt, (a / b) as f64)?,
            (_, Some(1)) => {
                let sx = gx.g.size_of(x)?;
                gx.g.cast(sx, dt)?
            }
            _ => {
                // TF's safe shape division: an empty mean divides by max(size(y), 1).
                let (sx, sy) = (gx.g.size_of(x)?, gx.g.size_of(y)?);
                let one = gx.g.scalar(gx.g.try_spec(sy)?.dtype, 1.0)?;
                let sy = gx.g.maximum(sy, one)?;
                let q = gx.g.floor_div(sx, sy)?;
                gx.g.cast(q, dt)?
            }
        };
        let scaled = gx.g.div(g, n)?;
        Ok(vec![Some(broadcast_back(gx.g, scaled, x, axes)?), None])
    })
);
reduce_op!(
    /// Maximum over axes (`tf.reduce_max`).
    Max, reduce_max, reduce_max_axes, Kind::Max,
    // d/dx = 1 at the maxima, shared equally among ties
    grad(|gx, keep| min_max_grad(gx, keep))
);
reduce_op!(
    /// Minimum over axes (`tf.reduce_min`).
    Min, reduce_min, reduce_min_axes, Kind::Min,
    // d/dx = 1 at the minima, shared equally among ties
    grad(|gx, keep| min_max_grad(gx, keep))
);
reduce_op!(
    /// Product over axes (`tf.reduce_prod`).
    Prod, reduce_prod, reduce_prod_axes, Kind::Prod,
    // d/dx_i = y / x_i (this form needs every x_i != 0; TF's cumulative-product form is not built)
    grad(|gx, _keep| {
        let (x, axes, y, g) = parts(gx);
        let gy = gx.g.mul(g, y)?;
        let b = broadcast_back(gx.g, gy, x, axes)?;
        Ok(vec![Some(gx.g.div(b, x)?), None])
    })
);

/// TF's `_MinOrMaxGrad`: the gradient goes to the elements equal to the result, split among ties.
fn min_max_grad(gx: &mut GradCx, _keep: bool) -> Result<Vec<Option<Output>>> {
    let (x, axes, y, g) = parts(gx);
    let dt = gx.g.try_spec(x)?.dtype;
    let yb = broadcast_back(gx.g, y, x, axes)?;
    let eq = gx.g.equal(x, yb)?;
    let ind = gx.g.cast(eq, dt)?;
    let count = gx.g.reduce_sum_axes(ind, axes, true)?;
    let count_b = broadcast_back_kept(gx.g, count, x)?;
    let gb = broadcast_back(gx.g, g, x, axes)?;
    let share = gx.g.div(ind, count_b)?;
    Ok(vec![Some(gx.g.mul(share, gb)?), None])
}

/// Broadcasts a kept-dims tensor to the shape of `x`.
fn broadcast_back_kept(g: &mut Graph, kept: Output, x: Output) -> Result<Output> {
    let sx = g.shape_of(x)?;
    g.broadcast_to(kept, sx)
}

impl Graph {
    /// A constant int32 axes vector; `None` means every axis of `x` (its rank must be known).
    pub(crate) fn axes_constant(&mut self, x: Output, axes: Option<&[i64]>) -> Result<Output> {
        let axes: Vec<i32> = match axes {
            Some(a) => a.iter().map(|&v| v as i32).collect(),
            None => {
                let rank = self.try_spec(x)?.shape.rank().ok_or_else(|| {
                    crate::error::Error::argument("reduce", "axes", "None with keep_dims needs an input of known rank")
                })?;
                (0..rank as i32).collect()
            }
        };
        self.constant_vec(axes)
    }
}
