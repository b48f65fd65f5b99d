//! Cross-entropy losses in TF's numerically stable forms: SoftmaxCrossEntropyWithLogits and
//! SparseSoftmaxCrossEntropyWithLogits (fused primitives with a second output, the backprop, as
//! in TF), and `sigmoid_cross_entropy_with_logits`, which TF itself builds from primitives.

use super::op;
use super::{FLOATS, INTS, InferCx, Kernel, Op, Outputs, TensorSpec};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, NodeName, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Real, Tensor};
use ndarray::{Array1, Array2, Axis, Ix2};

/// The softmax of each row of logits, with what the losses need: the row's maximum and the log of
/// the sum of the shifted exponentials, so a loss term is `log_sum - (logit - max)` as in TF, with
/// no rounding at the scale of the logits.
struct Rows<T> {
    softmax: Array2<T>,
    max: Array1<T>,
    log_sum: Array1<T>,
}

impl<T: Real> Rows<T> {
    fn new(logits: &ArcArrayD<T>) -> OpResult<Self> {
        let l = logits
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| crate::invalid!("logits must be [batch, classes], got {:?}", logits.shape()))?;
        let mut softmax = Array2::zeros(l.raw_dim());
        let mut max = Array1::zeros(l.nrows());
        let mut log_sum = Array1::zeros(l.nrows());
        for (r, row) in l.axis_iter(Axis(0)).enumerate() {
            let m = row.iter().fold(T::neg_infinity(), |m, &v| if v > m || v.is_nan() { v } else { m });
            let mut out = softmax.row_mut(r);
            let mut sum = T::zero();
            for (o, &v) in out.iter_mut().zip(row.iter()) {
                *o = (v - m).exp();
                sum = sum + *o;
            }
            max[r] = m;
            log_sum[r] = sum.ln();
            out.mapv_inplace(|e| e / sum);
        }
        Ok(Rows { softmax, max, log_sum })
    }

    /// `-log softmax(logits)[r, c]`.
    fn neg_log_softmax(&self, r: usize, logit: T) -> T {
        self.log_sum[r] - (logit - self.max[r])
    }
}

fn infer_xent(cx: &InferCx, sparse: bool) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let d = cx.dtype_in(0, FLOATS)?;
    let logits = &cx.input(0).shape;
    if logits.rank().is_some_and(|r| r != 2) {
        return Err(crate::invalid!("logits must be [batch, classes], got {logits}"));
    }
    let batch = logits.dims().and_then(|d| d[0]);
    if sparse {
        cx.dtype_in(1, INTS)?;
        if cx.input(1).shape.rank().is_some_and(|r| r != 1) {
            return Err(crate::invalid!("labels must be [batch], got {}", cx.input(1).shape));
        }
        Shape::partial(&[batch]).merge(&cx.input(1).shape)?;
    } else {
        cx.same_dtype(0, 1)?;
        logits.merge(&cx.input(1).shape)?;
    }
    let b = batch.or_else(|| cx.input(1).shape.dims().and_then(|d| d[0]));
    Ok(vec![TensorSpec::new(d, Shape::partial(&[b])), TensorSpec::new(d, logits.merge(&Shape::unknown_dims(2))?)])
}

op! {
    /// `loss[b] = -sum_c labels[b,c] * log_softmax(logits)[b,c]` and its gradient
    /// `backprop = softmax(logits) - labels`, both from one pass.
    SoftmaxCrossEntropyWithLogits derive(Copy, Default) {}
}

fn dense_xent<T: Real>(logits: &ArcArrayD<T>, labels: &ArcArrayD<T>) -> OpResult<Outputs> {
    if logits.shape() != labels.shape() {
        return Err(crate::invalid!("logits {:?} and labels {:?} differ in shape", logits.shape(), labels.shape()));
    }
    let rows = Rows::new(logits)?;
    let (l, y) = (
        logits.view().into_dimensionality::<Ix2>().map_err(|e| crate::invalid!("{e}"))?,
        labels.view().into_dimensionality::<Ix2>().map_err(|e| crate::invalid!("{e}"))?,
    );
    let mut loss = Array1::zeros(l.nrows());
    for r in 0..l.nrows() {
        loss[r] = (0..l.ncols()).fold(T::zero(), |s, c| s + y[[r, c]] * rows.neg_log_softmax(r, l[[r, c]]));
    }
    let backprop = rows.softmax - y;
    Ok(smallvec::smallvec![Tensor::from_array(loss.into_dyn()), Tensor::from_array(backprop.into_dyn())])
}

impl Op for SoftmaxCrossEntropyWithLogits {
    fn output_args(&self) -> &'static [&'static str] {
        &["loss", "backprop"]
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_xent(cx, false)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        match (k.input(0)?, k.input(1)?) {
            (Tensor::F32(l), Tensor::F32(y)) => dense_xent(l, y),
            (Tensor::F64(l), Tensor::F64(y)) => dense_xent(l, y),
            (l, y) => {
                Err(crate::invalid!("logits and labels must be one float dtype, got {} and {}", l.dtype(), y.dtype()))
            }
        }
    }
    // d/dlogits = g[:, None] * backprop (+ the term for a gradient into backprop, as TF);
    // d/dlabels = g[:, None] * -log_softmax(logits)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (logits, g, gg) = (gx.input(0), gx.grad(0), gx.grad(1));
        let backprop = gx.output(1);
        let ge = gx.g.expand_dims(g, -1)?;
        let mut dlogits = gx.g.mul(ge, backprop)?;
        if gx.has_grad(1) {
            let sm = gx.g.softmax(logits)?;
            let ggs = gx.g.mul(gg, sm)?;
            let s = gx.g.reduce_sum(ggs, Some(&[-1]), true)?;
            let d = gx.g.sub(gg, s)?;
            let extra = gx.g.mul(d, sm)?;
            dlogits = gx.g.add(dlogits, extra)?;
        }
        let ls = gx.g.log_softmax(logits)?;
        let nls = gx.g.neg(ls)?;
        let dlabels = gx.g.mul(ge, nls)?;
        Ok(vec![Some(dlogits), Some(dlabels)])
    }
}

op! {
    /// Like [`SoftmaxCrossEntropyWithLogits`] with integer class labels `[batch]`; an out-of-range
    /// label is an error.
    SparseSoftmaxCrossEntropyWithLogits derive(Copy, Default) {}
}

fn sparse_xent<T: Real>(logits: &ArcArrayD<T>, labels: &[i64]) -> OpResult<Outputs> {
    let Rows { softmax: mut backprop, max, log_sum } = Rows::new(logits)?;
    let (rows, classes) = backprop.dim();
    if labels.len() != rows {
        return Err(crate::invalid!("{} labels for {rows} rows of logits", labels.len()));
    }
    let l = logits.view().into_dimensionality::<Ix2>().map_err(|e| crate::invalid!("{e}"))?;
    let mut loss = Array1::zeros(rows);
    for (r, &y) in labels.iter().enumerate() {
        let c = usize::try_from(y)
            .ok()
            .filter(|&c| c < classes)
            .ok_or_else(|| crate::invalid!("label {y} is out of range [0, {classes})"))?;
        loss[r] = log_sum[r] - (l[[r, c]] - max[r]);
        backprop[[r, c]] = backprop[[r, c]] - T::one();
    }
    Ok(smallvec::smallvec![Tensor::from_array(loss.into_dyn()), Tensor::from_array(backprop.into_dyn())])
}

impl Op for SparseSoftmaxCrossEntropyWithLogits {
    fn output_args(&self) -> &'static [&'static str] {
        &["loss", "backprop"]
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_xent(cx, true)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let labels = k.input(1)?.ints()?;
        match k.input(0)? {
            Tensor::F32(l) => sparse_xent(l, &labels),
            Tensor::F64(l) => sparse_xent(l, &labels),
            other => Err(crate::invalid!("logits must be float, got {}", other.dtype())),
        }
    }
    // d/dlogits = g[:, None] * backprop; labels are not differentiable
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let g = gx.grad(0);
        let backprop = gx.output(1);
        let ge = gx.g.expand_dims(g, -1)?;
        Ok(vec![Some(gx.g.mul(ge, backprop)?), None])
    }
}

impl Graph {
    /// The per-row loss of `SoftmaxCrossEntropyWithLogits(logits, labels)`
    /// (`tf.nn.softmax_cross_entropy_with_logits_v2`).
    pub fn softmax_cross_entropy_with_logits(&mut self, labels: Output, logits: Output) -> Result<Output> {
        let id = self.add_node(
            NodeName::Default("SoftmaxCrossEntropyWithLogits"),
            SoftmaxCrossEntropyWithLogits {},
            &[logits, labels],
            &[],
        )?;
        Ok(id.into())
    }

    /// The per-row loss of `SparseSoftmaxCrossEntropyWithLogits(logits, labels)` for integer labels.
    pub fn sparse_softmax_cross_entropy_with_logits(&mut self, labels: Output, logits: Output) -> Result<Output> {
        let id = self.add_node(
            NodeName::Default("SparseSoftmaxCrossEntropyWithLogits"),
            SparseSoftmaxCrossEntropyWithLogits {},
            &[logits, labels],
            &[],
        )?;
        Ok(id.into())
    }

    /// `tf.nn.sigmoid_cross_entropy_with_logits`, built as TF builds it:
    /// `max(x, 0) - x * z + log1p(exp(-|x|))`, stable for any logit.
    pub fn sigmoid_cross_entropy_with_logits(&mut self, labels: Output, logits: Output) -> Result<Output> {
        self.with_name_scope("logistic_loss", |g| {
            let zeros = g.zeros_like(logits)?;
            let cond = g.greater_equal(logits, zeros)?;
            let relu_logits = g.select(cond, logits, zeros)?;
            let neg = g.neg(logits)?;
            let neg_abs = g.select(cond, neg, logits)?;
            let xz = g.mul(logits, labels)?;
            let a = g.sub(relu_logits, xz)?;
            let e = g.exp(neg_abs)?;
            let l = g.log1p(e)?;
            g.add(a, l)
        })
    }
}
