//! Fused batch normalization (`tf.compat.v1.nn.fused_batch_norm`, the Keras BatchNormalization
//! layer with `fused=True`): FusedBatchNormV3 and its gradient FusedBatchNormGradV3, with TF's
//! older FusedBatchNorm / FusedBatchNormV2 (five outputs) and their gradients, over NHWC data,
//! wrapping the kernels of [`crate::ops::conv::batch_norm`]. Primitives for speed and for TF's
//! numbers: one pass for the statistics, one to normalize, as TF's CPU kernel.
//!
//! Float inputs of one dtype (f64 too, which TF's kernels do not take, so gradients can be
//! checked in f64); NCHW is refused when the node is wired. In training the given `mean` and
//! `variance` are read only when `exponential_avg_factor` is not 1 (TF then lets them be empty).

use super::batch_norm_grad::{FusedBatchNormGrad, FusedBatchNormGradV2, FusedBatchNormGradV3};
use super::conv::{
    BatchNormGeometry, BatchNormInputs, BatchNormOutputs, ConvReal, DataFormat, fused_batch_norm_inference,
    fused_batch_norm_training,
};
use super::conv_attrs::contiguous;
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, op};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Element, Tensor};
use std::cell::RefCell;

pub(super) fn default_epsilon() -> f32 {
    1e-4
}

fn one() -> f32 {
    1.0
}

pub(super) fn yes() -> bool {
    true
}

/// The attributes every batch-norm op reads (the gradients have no averaging factor).
#[derive(Debug, Clone, Copy)]
pub(super) struct Norm {
    pub(super) epsilon: f32,
    pub(super) factor: f32,
    pub(super) format: DataFormat,
    pub(super) training: bool,
}

impl Norm {
    /// Whether the given mean and variance are read: in inference, or to mix running averages.
    fn reads_statistics(&self) -> bool {
        !self.training || self.factor != 1.0
    }

    pub(super) fn check_format(&self) -> OpResult<()> {
        match self.format {
            DataFormat::Nhwc => Ok(()),
            DataFormat::Nchw => Err(crate::invalid!("data_format NCHW is not supported (only NHWC)")),
        }
    }
}

const FORWARD_OUTPUTS: &[&str] =
    &["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"];

/// Declares a forward batch-norm op with `$outputs` outputs whose gradient is `$grad`.
macro_rules! batch_norm_op {
    ($(#[doc = $doc:literal])* $name:ident, $outputs:literal, $grad:ident) => {
        op! {
            $(#[doc = $doc])*
            $name {
                #[serde(default = "default_epsilon")] epsilon: f32,
                #[serde(default = "one")] exponential_avg_factor: f32,
                #[serde(default)] data_format: DataFormat,
                #[serde(default = "yes")] is_training: bool,
            }
        }

        /// TF's defaults: epsilon 1e-4, no averaging, NHWC, training.
        impl Default for $name {
            fn default() -> Self {
                $name { epsilon: 1e-4, exponential_avg_factor: 1.0, data_format: DataFormat::Nhwc, is_training: true }
            }
        }

        impl Op for $name {
            fn output_args(&self) -> &'static [&'static str] {
                &FORWARD_OUTPUTS[..$outputs]
            }
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_norm(cx, &self.norm(), $outputs)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let n = self.norm();
                let mut out = match k.input(0)?.dtype() {
                    DType::Float32 => normalize::<f32>(k, &n)?,
                    DType::Float64 => normalize::<f64>(k, &n)?,
                    other => return Err(crate::invalid!("{} needs float inputs, got {other}", stringify!($name))),
                };
                out.truncate($outputs);
                Ok(out)
            }
            // training: (dx, dscale, doffset) = $grad(g, x, scale, batch mean, biased batch
            // variance); inference: the same with the given mean and variance (dx = g·scale/σ)
            fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                let op = $grad { epsilon: self.epsilon, data_format: self.data_format, is_training: self.is_training };
                norm_grad(gx, stringify!($grad), op, self.is_training, $outputs == 6)
            }
            fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
                // A few passes over x: the statistics, then the normalization.
                inputs[0].shape.known_elements().saturating_mul(4)
            }
        }

        impl $name {
            fn norm(&self) -> Norm {
                Norm {
                    epsilon: self.epsilon,
                    factor: self.exponential_avg_factor,
                    format: self.data_format,
                    training: self.is_training,
                }
            }
        }
    };
}

batch_norm_op!(
    /// `y = (x - mean) / sqrt(variance + epsilon) · scale + offset` per channel of an NHWC `x`.
    /// In training, `mean` and `variance` are the batch's (the variance biased), and the outputs
    /// `batch_mean` / `batch_variance` are the new running averages: the batch mean and the
    /// unbiased (Bessel-corrected) batch variance, mixed as `(1 - f) · old + f · new` with the
    /// given ones when `exponential_avg_factor` f is not 1; `reserve_space_1` / `_2` keep the
    /// batch mean and biased variance for the gradient, and `reserve_space_3` is a scalar zero.
    /// In inference the given mean and variance normalize and pass through as outputs 1 and 2
    /// (NaN for an empty `x`, as TF). Where TF's CPU kernel leaves a reserve space
    /// uninitialized (in inference, for an empty `x`, and `reserve_space_3`), it holds zeros.
    FusedBatchNormV3, 6, FusedBatchNormGradV3
);
batch_norm_op!(
    /// FusedBatchNormV3 without `reserve_space_3` (TF's first version).
    FusedBatchNorm, 5, FusedBatchNormGrad
);
batch_norm_op!(
    /// FusedBatchNormV3 without `reserve_space_3` (TF's second version).
    FusedBatchNormV2, 5, FusedBatchNormGradV2
);

/// The channel count of an NHWC `x` merged with the 1-D inputs that must match it.
fn infer_norm(cx: &InferCx, n: &Norm, outputs: usize) -> OpResult<Vec<TensorSpec>> {
    cx.arity(5)?;
    let d = cx.dtype_in(0, FLOATS)?;
    (1..5).try_for_each(|i| cx.same_dtype(0, i).map(|_| ()))?;
    n.check_format()?;
    let names = ["x", "scale", "offset", "mean", "variance"];
    let matched: &[usize] = if n.reads_statistics() { &[1, 2, 3, 4] } else { &[1, 2] };
    let (x, c) = channels(cx, 0, &names, matched)?;
    for i in [3, 4] {
        vector(&cx.input(i).shape, names[i])?;
    }
    let mut specs = vec![TensorSpec::new(d, x)];
    specs.extend((0..4).map(|_| TensorSpec::new(d, Shape::partial(&[c]))));
    if outputs == 6 {
        specs.push(TensorSpec::new(d, Shape::scalar()));
    }
    Ok(specs)
}

/// A 1-D shape, or an error naming the input.
fn vector(s: &Shape, name: &str) -> OpResult<Shape> {
    s.merge(&Shape::unknown_dims(1)).map_err(|_| crate::invalid!("{name} must be 1-D, got shape {s}"))
}

/// Input `xi` as a 4-D NHWC shape whose channels match the length of the 1-D inputs `matched`:
/// the merged shape and its channel count.
pub(super) fn channels(cx: &InferCx, xi: usize, names: &[&str], matched: &[usize]) -> OpResult<(Shape, Option<usize>)> {
    let s = &cx.input(xi).shape;
    let x =
        s.merge(&Shape::unknown_dims(4)).map_err(|_| crate::invalid!("{} must be 4-D (NHWC), got {s}", names[xi]))?;
    let mut c = x.dims().and_then(|d| d[3]);
    for &i in matched {
        let v = vector(&cx.input(i).shape, names[i])?;
        let merged = Shape::partial(&[c]).merge(&v).map_err(|_| {
            let want = c.map_or("?".to_string(), |c| c.to_string());
            crate::invalid!("{} must have {want} elements (the channels of {}), got {v}", names[i], names[xi])
        })?;
        c = merged.dims().and_then(|d| d[0]);
    }
    let dims = x.dims().map(|d| [d[0], d[1], d[2], c]).unwrap_or([None; 4]);
    Ok((Shape::partial(&dims), c))
}

/// A scratch buffer per thread and element type for the kernels' channel sums, grown once and
/// kept, so a training step does not allocate it anew. A kernel that finds its thread's buffer
/// taken (rayon may start another node on a thread that waits inside a parallel kernel) uses a
/// fresh one.
pub(super) trait Scratch: Sized + 'static {
    fn key() -> &'static std::thread::LocalKey<RefCell<Vec<Self>>>;

    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        Self::key().with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => f(&mut buffer),
            Err(_) => f(&mut Vec::new()),
        })
    }
}

thread_local! {
    static SCRATCH_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Scratch for f32 {
    fn key() -> &'static std::thread::LocalKey<RefCell<Vec<f32>>> {
        &SCRATCH_F32
    }
}

impl Scratch for f64 {
    fn key() -> &'static std::thread::LocalKey<RefCell<Vec<f64>>> {
        &SCRATCH_F64
    }
}

/// An input of the kernel as a contiguous slice of `T`, checked to be 1-D when `vector`.
pub(super) fn input<'a, T: Element>(
    k: &'a Kernel,
    i: usize,
    name: &str,
    vector: bool,
) -> OpResult<std::borrow::Cow<'a, [T]>> {
    let a: &ArcArrayD<T> = k.array(i)?;
    if vector && a.ndim() != 1 {
        return Err(crate::invalid!("{name} must be 1-D, got shape {:?}", a.shape()));
    }
    Ok(contiguous(a))
}

/// The NHWC geometry of input `i`.
pub(super) fn geometry(k: &Kernel, i: usize, name: &str) -> OpResult<BatchNormGeometry> {
    let shape = k.input(i)?.shape();
    let dims: [usize; 4] =
        shape.try_into().map_err(|_| crate::invalid!("{name} must be 4-D (NHWC), got shape {shape:?}"))?;
    BatchNormGeometry::new(dims)
}

/// A 1-D tensor of `v`.
pub(super) fn vec_tensor<T: Element>(v: Vec<T>) -> OpResult<Tensor> {
    Tensor::from_vec(&[v.len()], v)
}

/// The six outputs of FusedBatchNormV3 (the older versions drop the last).
fn normalize<T: ConvReal + Element + Scratch>(k: &Kernel, n: &Norm) -> OpResult<Outputs> {
    n.check_format()?;
    let g = geometry(k, 0, "x")?;
    let x = input::<T>(k, 0, "x", false)?;
    let [scale, offset, mean, variance] =
        [(1, "scale"), (2, "offset"), (3, "mean"), (4, "variance")].map(|(i, name)| input::<T>(k, i, name, true));
    let (scale, offset, mean, variance) = (scale?, offset?, mean?, variance?);
    // Unread in training without averaging, where TF lets them have any length: the kernel
    // checks lengths, so it gets the scale in their place.
    let (mean, variance) = if n.reads_statistics() { (&mean[..], &variance[..]) } else { (&scale[..], &scale[..]) };
    let p = BatchNormInputs {
        x: &x,
        scale: &scale,
        offset: &offset,
        mean,
        variance,
        epsilon: T::from_f64(f64::from(n.epsilon)),
        exponential_avg_factor: T::from_f64(f64::from(n.factor)),
    };
    let c = g.channels;
    let mut y = vec![T::zero(); x.len()];
    let mut stats = [(); 4].map(|_| vec![T::zero(); c]);
    if n.training {
        let [bm, bv, sm, sv] = &mut stats;
        let out =
            BatchNormOutputs { y: &mut y, batch_mean: bm, batch_variance: bv, saved_mean: sm, saved_variance: sv };
        T::with_scratch(|s| fused_batch_norm_training(&g, &p, out, s, k.parallel()))?;
    } else {
        fused_batch_norm_inference(&g, &p, &mut y, k.parallel())?;
        let pass = |v: &[T]| if x.is_empty() { vec![T::nan(); c] } else { v.to_vec() };
        (stats[0], stats[1]) = (pass(mean), pass(variance));
    }
    let [bm, bv, sm, sv] = stats;
    let mut out: Outputs = smallvec::smallvec![Tensor::from_vec(k.input(0)?.shape(), y)?];
    for v in [bm, bv, sm, sv] {
        out.push(vec_tensor(v)?);
    }
    out.push(Tensor::scalar(T::zero()));
    Ok(out)
}

/// The gradient of a forward op through its `y` (TF's `_BaseFusedBatchNormGrad`): the grad op
/// on the batch statistics of the reserve spaces in training, on the given mean and variance
/// in inference; nothing flows to the mean and variance inputs.
fn norm_grad(gx: &mut GradCx, name: &str, op: impl Op, training: bool, v3: bool) -> Result<Vec<Option<Output>>> {
    let (x, scale, g) = (gx.input(0), gx.input(1), gx.grad(0));
    let (mean, variance) = if training { (gx.output(3), gx.output(4)) } else { (gx.input(3), gx.input(4)) };
    let mut inputs = vec![g, x, scale, mean, variance];
    if v3 {
        inputs.push(gx.output(5));
    }
    let dx = gx.g.op(name, op, &inputs)?;
    let slot = |slot: u32| Some(Output { node: dx.node, slot });
    Ok(vec![slot(0), slot(1), slot(2), None, None])
}

/// The outputs of [`Graph::fused_batch_norm`], by TF's names.
#[derive(Debug, Clone, Copy)]
pub struct FusedBatchNormOutputs {
    /// The normalized, scaled and shifted `x`.
    pub y: Output,
    /// The new running mean (training) or the given mean (inference).
    pub batch_mean: Output,
    /// The new running, unbiased variance (training) or the given variance (inference).
    pub batch_variance: Output,
    /// The batch mean, for the gradient.
    pub reserve_space_1: Output,
    /// The biased batch variance, for the gradient.
    pub reserve_space_2: Output,
    /// Unused on the CPU: a scalar zero.
    pub reserve_space_3: Output,
}

impl Graph {
    /// `FusedBatchNormV3(x, scale, offset, mean, variance)` with the attributes of `op` (TF's
    /// defaults: `FusedBatchNormV3::default()`): batch normalization of an NHWC `x` per channel.
    /// In training `mean` and `variance` are read only when `exponential_avg_factor` is not 1,
    /// and may be empty otherwise.
    ///
    /// ```
    /// use stepflow::ops::batch_norm::FusedBatchNormV3;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[2, 1, 1, 1], vec![1.0f32, 3.0])?)?;
    /// let (scale, offset) = (g.constant_vec(vec![1.0f32])?, g.constant_vec(vec![0.0f32])?);
    /// let none = g.constant_vec(Vec::<f32>::new())?;
    /// let op = FusedBatchNormV3 { epsilon: 0.0, ..FusedBatchNormV3::default() };
    /// let bn = g.fused_batch_norm(x, scale, offset, none, none, op)?;
    /// let got = Session::new(g).run(&[], &[bn.y, bn.batch_mean, bn.batch_variance], &[])?;
    /// assert_eq!(got[0].to_f64_vec(), vec![-1.0, 1.0]);
    /// assert_eq!((got[1].to_f64_vec(), got[2].to_f64_vec()), (vec![2.0], vec![2.0])); // unbiased
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn fused_batch_norm(
        &mut self,
        x: Output,
        scale: Output,
        offset: Output,
        mean: Output,
        variance: Output,
        op: FusedBatchNormV3,
    ) -> Result<FusedBatchNormOutputs> {
        let y = self.op("FusedBatchNormV3", op, &[x, scale, offset, mean, variance])?;
        let slot = |slot: u32| Output { node: y.node, slot };
        Ok(FusedBatchNormOutputs {
            y,
            batch_mean: slot(1),
            batch_variance: slot(2),
            reserve_space_1: slot(3),
            reserve_space_2: slot(4),
            reserve_space_3: slot(5),
        })
    }
}
