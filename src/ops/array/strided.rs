//! Python's slicing syntax on tensors: StridedSlice (`x[1:-1:2, ..., tf.newaxis, 3]`) and its
//! gradient, StridedSliceGrad, which scatters a gradient back into a zero tensor of the input's
//! shape. What a spec denotes is worked out in `strided_spec`.

use super::strided_spec::{Cut, Masks, cut};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Item, Tensor};
use crate::with_array;
use ndarray::{ArrayD, IxDyn};

/// Defines a strided-slice op: the five masks as attributes, with TF's names and defaults.
macro_rules! strided_op {
    ($(#[doc = $doc:literal])* $name:ident) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {
                #[serde(default)] begin_mask: i64,
                #[serde(default)] end_mask: i64,
                #[serde(default)] ellipsis_mask: i64,
                #[serde(default)] new_axis_mask: i64,
                #[serde(default)] shrink_axis_mask: i64,
            }
        }

        impl $name {
            fn masks(&self) -> Masks {
                Masks {
                    begin: self.begin_mask,
                    end: self.end_mask,
                    ellipsis: self.ellipsis_mask,
                    new_axis: self.new_axis_mask,
                    shrink_axis: self.shrink_axis_mask,
                }
            }
        }
    };
}

strided_op! {
    /// `input[begin:end:strides]` per entry of the spec, as Python slices: negative indices count
    /// from the end, out-of-range ones are clamped, a negative stride walks backwards. Bit `i` of
    /// `begin_mask`/`end_mask` ignores `begin[i]`/`end[i]` (the whole range), of `ellipsis_mask`
    /// makes entry `i` an ellipsis, of `new_axis_mask` a new axis of size 1, of `shrink_axis_mask`
    /// a single index whose axis is dropped.
    StridedSlice
}

strided_op! {
    /// The gradient of [`StridedSlice`]: a zero tensor of shape `shape` with `dy` at the elements
    /// the slice took (inputs `shape, begin, end, strides, dy`).
    StridedSliceGrad
}

/// Checks the `begin`, `end` and `strides` inputs at positions `first..first + 3`: integer
/// vectors of one dtype and, when known, one length.
fn check_spec_inputs(cx: &InferCx, first: usize) -> OpResult<DType> {
    let d = cx.dtype_in(first, INTS)?;
    let mut len: Option<usize> = None;
    for (i, what) in [(first, "begin"), (first + 1, "end"), (first + 2, "strides")] {
        cx.same_dtype(first, i)?;
        let s = &cx.input(i).shape;
        match s.dims() {
            Some([n]) => match (len, *n) {
                (Some(a), Some(b)) if a != b => {
                    return Err(crate::invalid!("begin, end and strides must have one length, got {s} for {what}"));
                }
                (_, Some(b)) => len = Some(b),
                _ => {}
            },
            Some(_) => return Err(crate::invalid!("{what} must be a vector, got shape {s}")),
            None => {}
        }
    }
    Ok(d)
}

/// The cut that shape inference can work out: `None` when the input's rank or the strides are
/// unknown (TF's static shape is then unknown too).
fn infer_cut(cx: &InferCx, dims: Option<&[Option<usize>]>, first: usize, masks: &Masks) -> OpResult<Option<Cut>> {
    let (Some(dims), Some(strides)) = (dims, cx.ints(first + 2)?) else { return Ok(None) };
    let (begin, end) = (cx.ints(first)?, cx.ints(first + 1)?);
    cut(dims, begin.as_deref(), end.as_deref(), &strides, masks).map(Some)
}

/// The cut of a kernel, from the values of `begin`, `end` and `strides` at `first..first + 3`.
fn run_cut(k: &Kernel, dims: &[usize], first: usize, masks: &Masks) -> OpResult<Cut> {
    let mut spec = Vec::with_capacity(3);
    for (i, what) in [(first, "begin"), (first + 1, "end"), (first + 2, "strides")] {
        let t = k.input(i)?;
        if t.rank() != 1 {
            return Err(crate::invalid!("{what} must be a vector, got shape {:?}", t.shape()));
        }
        spec.push(t.to_i64_vec()?);
    }
    if spec[0].len() != spec[1].len() || spec[0].len() != spec[2].len() {
        return Err(crate::invalid!("begin, end and strides must have one length, got {spec:?}"));
    }
    let dims: Vec<Option<usize>> = dims.iter().map(|&d| Some(d)).collect();
    cut(&dims, Some(&spec[0]), Some(&spec[1]), &spec[2], masks)
}

impl Op for StridedSlice {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(4)?;
        check_spec_inputs(cx, 1)?;
        let x = cx.input(0);
        match infer_cut(cx, x.shape.dims(), 1, &self.masks())? {
            Some(c) => single(x.dtype, Shape::partial(&c.final_dims)),
            None => single(x.dtype, Shape::unknown()),
        }
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let c = run_cut(k, k.input(0)?.shape(), 1, &self.masks())?;
        let info = c.slice_info()?;
        let shape = c.final_shape().ok_or_else(|| crate::invalid!("strided slice of unknown size"))?;
        fn take<T: Item>(a: &ArcArrayD<T>, info: &[ndarray::SliceInfoElem], shape: &[usize]) -> OpResult<Tensor> {
            let cut: Vec<T> = a.slice(info).iter().cloned().collect();
            Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(shape), cut).map_err(|e| crate::invalid!("{e}"))?.into_shared()))
        }
        one(with_array!(k.input(0)?, a => take(a, &info, &shape)?))
    }
    // d/dx = StridedSliceGrad(shape(x), begin, end, strides, g): g scattered into zeros
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        let (begin, end, strides) = (gx.input(1), gx.input(2), gx.input(3));
        let index = gx.g.try_spec(begin)?.dtype;
        let shape = gx.g.op("Shape", super::Shape { out_type: index }, &[x])?;
        let m = self.masks();
        let dx = gx.g.op("StridedSliceGrad", grad_op(&m), &[shape, begin, end, strides, g])?;
        Ok(vec![Some(dx), None, None, None])
    }
}

fn grad_op(m: &Masks) -> StridedSliceGrad {
    StridedSliceGrad {
        begin_mask: m.begin,
        end_mask: m.end,
        ellipsis_mask: m.ellipsis,
        new_axis_mask: m.new_axis,
        shrink_axis_mask: m.shrink_axis,
    }
}

impl Op for StridedSliceGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(5)?;
        let index = check_spec_inputs(cx, 1)?;
        if cx.input(0).dtype != index {
            return Err(OpError::DType { input: 0, expected: index.to_string(), got: cx.input(0).dtype });
        }
        let dy = cx.input(4);
        let shape = &cx.input(0).shape;
        if shape.rank().is_some_and(|r| r != 1) {
            return Err(crate::invalid!("shape must be a vector, got shape {shape}"));
        }
        let dims: Option<Vec<Option<usize>>> = match (cx.ints(0)?, shape.dims()) {
            (Some(v), _) => Some(super::fill::dims_from(&v)?.into_iter().map(Some).collect()),
            (None, Some([Some(r)])) => Some(vec![None; *r]),
            _ => None,
        };
        if let Some(c) = infer_cut(cx, dims.as_deref(), 1, &self.masks())? {
            let want = Shape::partial(&c.final_dims);
            if !want.is_compatible(&dy.shape) {
                return Err(crate::invalid!("shape of dy was {} instead of {want}", dy.shape));
            }
        }
        single(dy.dtype, dims.map_or(Shape::unknown(), |d| Shape::partial(&d)))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let s = k.input(0)?;
        if s.rank() != 1 {
            return Err(crate::invalid!("shape must be a vector, got shape {:?}", s.shape()));
        }
        let dims = super::fill::dims_from(&s.to_i64_vec()?)?;
        let c = run_cut(k, &dims, 1, &self.masks())?;
        let dy = k.input(4)?;
        if c.final_shape().as_deref() != Some(dy.shape()) {
            return Err(crate::invalid!("shape of dy was {:?} instead of {:?}", dy.shape(), c.final_dims));
        }
        let info = c.slice_info()?;
        let processing = c.processing().ok_or_else(|| crate::invalid!("strided slice of unknown size"))?;
        fn scatter<T: Item>(
            dy: &ArcArrayD<T>,
            dims: &[usize],
            info: &[ndarray::SliceInfoElem],
            processing: &[usize],
        ) -> OpResult<Tensor> {
            let mut out = ArrayD::from_elem(IxDyn(dims), T::default());
            let values: Vec<T> = dy.iter().cloned().collect();
            let piece = ArrayD::from_shape_vec(IxDyn(processing), values).map_err(|e| crate::invalid!("{e}"))?;
            out.slice_mut(info).assign(&piece);
            Ok(T::wrap(out.into_shared()))
        }
        one(with_array!(dy, a => scatter(a, &dims, &info, &processing)?))
    }
    // d/ddy = StridedSlice(g, begin, end, strides): the elements dy was scattered to
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (begin, end, strides, g) = (gx.input(1), gx.input(2), gx.input(3), gx.grad(0));
        let m = self.masks();
        let op = StridedSlice {
            begin_mask: m.begin,
            end_mask: m.end,
            ellipsis_mask: m.ellipsis,
            new_axis_mask: m.new_axis,
            shrink_axis_mask: m.shrink_axis,
        };
        let ddy = gx.g.op("StridedSlice", op, &[g, begin, end, strides])?;
        Ok(vec![None, None, None, None, Some(ddy)])
    }
}

impl Graph {
    /// `StridedSlice(x, begin, end, strides)` with the masks of `spec` (`tf.strided_slice`; what
    /// `x[...]` builds in Python).
    ///
    /// ```
    /// use stepflow::{Graph, Session, Tensor, ops::array::StridedSlice};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[5], vec![0i32, 1, 2, 3, 4])?)?;
    /// // x[::-2]
    /// let spec = StridedSlice { begin_mask: 1, end_mask: 1, ..StridedSlice::default() };
    /// let y = g.strided_slice(x, &[0], &[0], &[-2], spec)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![4.0, 2.0, 0.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn strided_slice(
        &mut self,
        x: Output,
        begin: &[i64],
        end: &[i64],
        strides: &[i64],
        spec: StridedSlice,
    ) -> Result<Output> {
        let [b, e, s] = [begin, end, strides].map(|v| v.iter().map(|&i| i as i32).collect::<Vec<_>>());
        let (b, e, s) = (self.constant_vec(b)?, self.constant_vec(e)?, self.constant_vec(s)?);
        self.op("strided_slice", spec, &[x, b, e, s])
    }
}
