//! MaxPool with its gradients MaxPoolGrad and MaxPoolGradGrad (`tf.nn.max_pool2d`, the Keras
//! max-pooling layer), over NHWC images, wrapping the kernels of [`crate::ops::conv::pool`], and
//! the window attributes every pooling op shares ([`PoolWindow`]). Primitives: a window scan
//! with TF's tie rule (the first maximum) cannot be composed from reductions. Float inputs only
//! (TF's MaxPool also takes integers); NCHW and pooling across the batch or the channels are
//! refused when the node is wired.

use super::conv::{
    ConvReal, DataFormat, Padding, PoolGeometry, WindowAxis, max_pool, max_pool_grad, max_pool_grad_grad,
};
use super::conv_attrs::{PaddingKind, contiguous};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, op, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{DType, Element, Tensor};

/// The validated window of a pooling op: what the kernel geometry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolWindow {
    pub ksize: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
}

/// The spatial pair of a 4-entry NHWC attribute, whose batch and channel entries must be 1.
fn spatial(name: &str, v: &[i64]) -> OpResult<[usize; 2]> {
    if v.len() != 4 {
        return Err(crate::invalid!("{name} must have 4 entries (NHWC), got {v:?}"));
    }
    if v[0] != 1 || v[3] != 1 {
        return Err(crate::invalid!("{name} {v:?}: pooling across the batch or the channels is not supported"));
    }
    let positive = |x: i64| usize::try_from(x).ok().filter(|&x| x > 0);
    match (positive(v[1]), positive(v[2])) {
        (Some(h), Some(w)) => Ok([h, w]),
        _ => Err(crate::invalid!("{name} entries must be positive, got {v:?}")),
    }
}

/// `explicit_paddings` as the kernel's padding: 8 non-negative entries, zero for the batch and
/// the channels, each smaller than the window (so no window lies wholly in the padding, as TF).
fn explicit(p: &[i64], ksize: [usize; 2]) -> OpResult<Padding> {
    if p.len() != 8 {
        return Err(crate::invalid!("explicit_paddings must have 8 entries with EXPLICIT padding, got {p:?}"));
    }
    if p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0 {
        return Err(crate::invalid!("explicit_paddings {p:?}: padding the batch or the channels is not supported"));
    }
    let pad = |i: usize| {
        usize::try_from(p[i])
            .ok()
            .filter(|&v| v < ksize[(i - 2) / 2])
            .ok_or_else(|| crate::invalid!("explicit_paddings {p:?} must be non-negative and smaller than ksize"))
    };
    Ok(Padding::Explicit { top: pad(2)?, bottom: pad(3)?, left: pad(4)?, right: pad(5)? })
}

impl PoolWindow {
    /// The window of TF's pooling attributes, or a one-line error naming the attribute at fault.
    pub fn new(
        ksize: &[i64],
        strides: &[i64],
        padding: PaddingKind,
        explicit_paddings: &[i64],
        data_format: DataFormat,
    ) -> OpResult<Self> {
        if data_format != DataFormat::Nhwc {
            return Err(crate::invalid!("data_format NCHW is not supported (only NHWC)"));
        }
        let (ksize, strides) = (spatial("ksize", ksize)?, spatial("strides", strides)?);
        if padding != PaddingKind::Explicit && !explicit_paddings.is_empty() {
            return Err(crate::invalid!("explicit_paddings must be empty unless padding is EXPLICIT"));
        }
        let padding = match padding {
            PaddingKind::Same => Padding::Same,
            PaddingKind::Valid => Padding::Valid,
            PaddingKind::Explicit => explicit(explicit_paddings, ksize)?,
        };
        Ok(PoolWindow { ksize, strides, padding })
    }

    /// The window of an op whose `padding` may be SAME or VALID only (AvgPool, AvgPoolGrad,
    /// MaxPoolGradGrad), as in TF.
    pub fn unpadded(ksize: &[i64], strides: &[i64], padding: PaddingKind, data_format: DataFormat) -> OpResult<Self> {
        if padding == PaddingKind::Explicit {
            return Err(crate::invalid!("padding EXPLICIT is not supported by this op (only SAME or VALID)"));
        }
        PoolWindow::new(ksize, strides, padding, &[], data_format)
    }

    /// The geometry over an NHWC input of `shape`, its output small enough to allocate.
    pub fn geometry(&self, shape: &[usize]) -> OpResult<PoolGeometry> {
        let input: [usize; 4] =
            shape.try_into().map_err(|_| crate::invalid!("input must be 4-D (NHWC), got shape {shape:?}"))?;
        let g = PoolGeometry::new(input, self.ksize, self.strides, self.padding)?;
        checked_elements(&g.output_shape())?;
        Ok(g)
    }

    /// The static output shape for an input of static shape `input` (unknown dimensions stay
    /// unknown), and the input shape as a 4-D shape.
    pub fn infer(&self, input: &Shape) -> OpResult<(Shape, Shape)> {
        let input = input
            .merge(&Shape::unknown_dims(4))
            .map_err(|_| crate::invalid!("input must be 4-D (NHWC), got shape {input}"))?;
        if let Some(known) = input.to_known() {
            return Ok((Shape::known(&self.geometry(&known)?.output_shape()), input));
        }
        let d = input.dims().unwrap_or(&[]).to_vec();
        let pads = match self.padding {
            Padding::Same => [None, None],
            Padding::Valid => [Some((0, 0)), Some((0, 0))],
            Padding::Explicit { top, bottom, left, right } => [Some((top, bottom)), Some((left, right))],
        };
        let axis = |i: usize| -> OpResult<Option<usize>> {
            d[i + 1]
                .map(|n| WindowAxis::new(n, self.ksize[i], self.strides[i], 1, pads[i]).map(|a| a.output))
                .transpose()
        };
        Ok((Shape::partial(&[d[0], axis(0)?, axis(1)?, d[3]]), input))
    }

    /// The work of one pass: output elements times the input elements a window can hold.
    pub fn cost(&self, output: &Shape, input: &Shape) -> usize {
        let dim = |s: &Shape, i: usize| s.dims().and_then(|d| d.get(i).copied().flatten()).unwrap_or(1);
        let taps = self.ksize[0].min(dim(input, 1)).saturating_mul(self.ksize[1].min(dim(input, 2)));
        output.known_elements().saturating_mul(taps)
    }
}

/// Declares a max-pooling op with TF's window attributes and its `window()`.
macro_rules! max_pool_op {
    ($(#[doc = $doc:literal])* $name:ident) => {
        op! {
            $(#[doc = $doc])*
            $name {
                ksize: Vec<i64>,
                strides: Vec<i64>,
                padding: PaddingKind,
                #[serde(default)] explicit_paddings: Vec<i64>,
                #[serde(default)] data_format: DataFormat,
            }
        }

        impl $name {
            pub(super) fn window(&self) -> OpResult<PoolWindow> {
                PoolWindow::new(&self.ksize, &self.strides, self.padding, &self.explicit_paddings, self.data_format)
            }
        }
    };
}

max_pool_op!(
    /// The largest element of each `ksize` window of an NHWC image, the windows `strides` apart
    /// (the first maximum where several tie).
    MaxPool
);
max_pool_op!(
    /// The gradient of MaxPool: `grad` (shaped like MaxPool's output) routed to the first
    /// maximum of each window of `orig_input`, summed where windows share it.
    MaxPoolGrad
);
op! {
    /// The gradient of MaxPoolGrad in its `grad`: for each window of `orig_input`, `grad`
    /// (shaped like `orig_input`) at the window's first maximum. SAME or VALID padding only,
    /// as in TF.
    MaxPoolGradGrad {
        ksize: Vec<i64>,
        strides: Vec<i64>,
        padding: PaddingKind,
        #[serde(default)] data_format: DataFormat,
    }
}

impl MaxPoolGradGrad {
    fn window(&self) -> OpResult<PoolWindow> {
        PoolWindow::unpadded(&self.ksize, &self.strides, self.padding, self.data_format)
    }
}

impl Op for MaxPool {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let d = cx.dtype_in(0, FLOATS)?;
        single(d, self.window()?.infer(&cx.input(0).shape)?.0)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let w = self.window()?;
        one(match k.input(0)?.dtype() {
            DType::Float32 => pool_max::<f32>(&w, k)?,
            DType::Float64 => pool_max::<f64>(&w, k)?,
            other => return Err(crate::invalid!("MaxPool needs a float input, got {other}")),
        })
    }
    // d/dinput = MaxPoolGrad(input, output, g): g at each window's first maximum
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, y, g) = (gx.input(0), gx.output(0), gx.grad(0));
        let op = MaxPoolGrad {
            ksize: self.ksize.clone(),
            strides: self.strides.clone(),
            padding: self.padding,
            explicit_paddings: self.explicit_paddings.clone(),
            data_format: self.data_format,
        };
        Ok(vec![Some(gx.g.op("MaxPoolGrad", op, &[x, y, g])?)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.window().map_or(0, |w| w.cost(&outputs[0].shape, &inputs[0].shape))
    }
}

fn pool_max<T: ConvReal + Element>(w: &PoolWindow, k: &Kernel) -> OpResult<Tensor> {
    let x = k.array::<T>(0)?;
    let g = w.geometry(x.shape())?;
    let mut out = k.output_vec(g.output_len);
    max_pool(&g, &contiguous(x), &mut out, k.parallel())?;
    Tensor::from_vec(&g.output_shape(), out)
}

/// Checks the three inputs of MaxPoolGrad or MaxPoolGradGrad: one float dtype, `orig_input`
/// 4-D, `orig_output` shaped as the pool's output and `grad` as `grad_like` (0: `orig_input`,
/// 1: `orig_output`). Returns the dtype and the two shapes.
pub(super) fn infer_grad(cx: &InferCx, w: &PoolWindow, grad_like: usize) -> OpResult<(DType, Shape, Shape)> {
    cx.arity(3)?;
    let d = cx.dtype_in(0, FLOATS)?;
    cx.same_dtype(0, 1)?;
    cx.same_dtype(0, 2)?;
    let (out, input) = w.infer(&cx.input(0).shape)?;
    let out = out.merge(&cx.input(1).shape).map_err(|_| {
        crate::invalid!("orig_output must have the pool's output shape {out}, got {}", cx.input(1).shape)
    })?;
    let like = if grad_like == 0 { &input } else { &out };
    let grad = &cx.input(2).shape;
    let merged = like.merge(grad).map_err(|_| crate::invalid!("grad must have shape {like}, got {grad}"))?;
    Ok(if grad_like == 0 { (d, merged, out) } else { (d, input, merged) })
}

/// The geometry of a pooling gradient, with the shapes of `orig_output` and `grad` checked
/// against it (`grad_like`: 0 for `orig_input`'s shape, 1 for the output's).
pub(super) fn grad_geometry(w: &PoolWindow, k: &Kernel, grad_like: usize) -> OpResult<PoolGeometry> {
    let g = w.geometry(k.input(0)?.shape())?;
    let out = g.output_shape();
    if k.input(1)?.shape() != out {
        return Err(crate::invalid!("orig_output must have shape {out:?}, got {:?}", k.input(1)?.shape()));
    }
    let like = if grad_like == 0 { k.input(0)?.shape() } else { &out[..] };
    if k.input(2)?.shape() != like {
        return Err(crate::invalid!("grad must have shape {like:?}, got {:?}", k.input(2)?.shape()));
    }
    Ok(g)
}

impl Op for MaxPoolGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        let (d, input, _) = infer_grad(cx, &self.window()?, 1)?;
        single(d, input)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let g = grad_geometry(&self.window()?, k, 1)?;
        one(match k.input(0)?.dtype() {
            DType::Float32 => route::<f32>(&g, k, max_pool_grad::<f32>, k.input(0)?.shape())?,
            DType::Float64 => route::<f64>(&g, k, max_pool_grad::<f64>, k.input(0)?.shape())?,
            other => return Err(crate::invalid!("MaxPoolGrad needs float inputs, got {other}")),
        })
    }
    // d/dgrad = MaxPoolGradGrad(orig_input, orig_output, g); piecewise constant in the others
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, y, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let op = MaxPoolGradGrad {
            ksize: self.ksize.clone(),
            strides: self.strides.clone(),
            padding: self.padding,
            data_format: self.data_format,
        };
        let dgrad = gx.g.op("MaxPoolGradGrad", op, &[x, y, g])?;
        Ok(vec![Some(gx.g.zeros_like(x)?), Some(gx.g.zeros_like(y)?), Some(dgrad)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        self.window().map_or(0, |w| w.cost(&inputs[1].shape, &inputs[0].shape))
    }
    fn fuse(&self, consumer: &dyn Op) -> Option<std::sync::Arc<dyn Op>> {
        super::fused_pool::MaxPoolGradReluGrad::after(self, consumer)
    }
}

impl Op for MaxPoolGradGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        let (d, _, out) = infer_grad(cx, &self.window()?, 0)?;
        single(d, out)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let g = grad_geometry(&self.window()?, k, 0)?;
        one(match k.input(0)?.dtype() {
            DType::Float32 => route::<f32>(&g, k, max_pool_grad_grad::<f32>, &g.output_shape())?,
            DType::Float64 => route::<f64>(&g, k, max_pool_grad_grad::<f64>, &g.output_shape())?,
            other => return Err(crate::invalid!("MaxPoolGradGrad needs float inputs, got {other}")),
        })
    }
    // d/dgrad = MaxPoolGrad(orig_input, orig_output, g); piecewise constant in the others
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, y, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let op = MaxPoolGrad {
            ksize: self.ksize.clone(),
            strides: self.strides.clone(),
            padding: self.padding,
            explicit_paddings: Vec::new(),
            data_format: self.data_format,
        };
        let dgrad = gx.g.op("MaxPoolGrad", op, &[x, y, g])?;
        Ok(vec![Some(gx.g.zeros_like(x)?), Some(gx.g.zeros_like(y)?), Some(dgrad)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.window().map_or(0, |w| w.cost(&outputs[0].shape, &inputs[0].shape))
    }
}

type RouteKernel<T> = fn(&PoolGeometry, &[T], &[T], &mut [T], bool) -> OpResult<()>;

/// Runs a kernel of `(orig_input, grad)` into an output of `shape`: the input's (MaxPoolGrad)
/// or the pool output's (MaxPoolGradGrad).
fn route<T: ConvReal + Element>(g: &PoolGeometry, k: &Kernel, f: RouteKernel<T>, shape: &[usize]) -> OpResult<Tensor> {
    let (x, grad) = (k.array::<T>(0)?, k.array::<T>(2)?);
    let mut out = k.output_vec(shape.iter().product());
    f(g, &contiguous(x), &contiguous(grad), &mut out, k.parallel())?;
    Tensor::from_vec(shape, out)
}

/// The attributes of a pooling op for `padding` as the kernel's [`Padding`].
pub(crate) fn padding_attrs(padding: Padding) -> (PaddingKind, Vec<i64>) {
    match padding {
        Padding::Same => (PaddingKind::Same, Vec::new()),
        Padding::Valid => (PaddingKind::Valid, Vec::new()),
        Padding::Explicit { top, bottom, left, right } => {
            let p = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
            (PaddingKind::Explicit, vec![0, 0, p(top), p(bottom), p(left), p(right), 0, 0])
        }
    }
}

/// `[1, h, w, 1]`: a spatial pair as TF's 4-entry NHWC attribute.
pub(crate) fn nhwc(v: [usize; 2]) -> Vec<i64> {
    let p = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    vec![1, p(v[0]), p(v[1]), 1]
}

impl Graph {
    /// `MaxPool(x)` (`tf.nn.max_pool2d`): the largest element of each `ksize` window (height,
    /// width) of an NHWC image, the windows `strides` apart, placed by `padding`.
    ///
    /// ```
    /// use stepflow::ops::conv::Padding;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[1, 2, 3, 1], vec![1.0f32, 5.0, 2.0, 4.0, 3.0, 6.0])?)?;
    /// let y = g.max_pool(x, [2, 2], [1, 2], Padding::Same)?;
    /// let got = Session::new(g).run(&[], &[y], &[])?.remove(0);
    /// // Windows: rows {0, 1} and {1} by columns {0, 1} and {2} (padding never counts).
    /// assert_eq!((got.shape(), got.to_f64_vec()), (&[1, 2, 2, 1][..], vec![5.0, 6.0, 4.0, 6.0]));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn max_pool(&mut self, x: Output, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Output> {
        let (padding, explicit_paddings) = padding_attrs(padding);
        let op = MaxPool {
            ksize: nhwc(ksize),
            strides: nhwc(strides),
            padding,
            explicit_paddings,
            data_format: DataFormat::Nhwc,
        };
        self.op("MaxPool", op, &[x])
    }
}
