//! AvgPool and its gradient AvgPoolGrad (`tf.nn.avg_pool2d`, the Keras average-pooling layer)
//! over NHWC images, wrapping the kernels of [`crate::ops::conv::pool`]. Primitives for speed:
//! one pass per window, dividing by the number of input elements in it (padding never counts,
//! as in TF), where a composite would need a second pooling of ones. SAME or VALID padding, as
//! TF's AvgPool; NCHW is refused when the node is wired.

use super::conv::{ConvReal, DataFormat, Padding, avg_pool, avg_pool_grad};
use super::conv_attrs::PaddingKind;
use super::conv_attrs::contiguous;
use super::pool::{PoolWindow, nhwc, padding_attrs};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, op, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{ArcArrayD, DType, Element, Tensor};

op! {
    /// The mean of the input elements in each `ksize` window of an NHWC image, the windows
    /// `strides` apart.
    AvgPool {
        ksize: Vec<i64>,
        strides: Vec<i64>,
        padding: PaddingKind,
        #[serde(default)] data_format: DataFormat,
    }
}

op! {
    /// The gradient of AvgPool: each window's `grad` divided by its element count and spread
    /// over its input elements, into an image of shape `orig_input_shape`.
    AvgPoolGrad {
        ksize: Vec<i64>,
        strides: Vec<i64>,
        padding: PaddingKind,
        #[serde(default)] data_format: DataFormat,
    }
}

impl AvgPool {
    fn window(&self) -> OpResult<PoolWindow> {
        PoolWindow::unpadded(&self.ksize, &self.strides, self.padding, self.data_format)
    }
}

impl AvgPoolGrad {
    fn window(&self) -> OpResult<PoolWindow> {
        PoolWindow::unpadded(&self.ksize, &self.strides, self.padding, self.data_format)
    }
}

impl Op for AvgPool {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let d = cx.dtype_in(0, FLOATS)?;
        single(d, self.window()?.infer(&cx.input(0).shape)?.0)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let w = self.window()?;
        one(match k.input(0)?.dtype() {
            DType::Float32 => pool_mean::<f32>(&w, k.array(0)?, k.parallel())?,
            DType::Float64 => pool_mean::<f64>(&w, k.array(0)?, k.parallel())?,
            other => return Err(crate::invalid!("AvgPool needs a float input, got {other}")),
        })
    }
    // d/dvalue = AvgPoolGrad(Shape(value), g): each window's g / count over its elements
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        let shape = gx.g.shape_of(x)?;
        let op = AvgPoolGrad {
            ksize: self.ksize.clone(),
            strides: self.strides.clone(),
            padding: self.padding,
            data_format: self.data_format,
        };
        Ok(vec![Some(gx.g.op("AvgPoolGrad", op, &[shape, g])?)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.window().map_or(0, |w| w.cost(&outputs[0].shape, &inputs[0].shape))
    }
}

fn pool_mean<T: ConvReal + Element>(w: &PoolWindow, x: &ArcArrayD<T>, par: bool) -> OpResult<Tensor> {
    let g = w.geometry(x.shape())?;
    let mut out = vec![T::zero(); g.output_len];
    avg_pool(&g, &contiguous(x), &mut out, par)?;
    Tensor::from_vec(&g.output_shape(), out)
}

/// `orig_input_shape` as the 4 dimensions of an image small enough to allocate.
fn image_shape(v: &[i64]) -> OpResult<[usize; 4]> {
    let dims: Vec<usize> = v
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| crate::invalid!("orig_input_shape must hold 4 non-negative dimensions (NHWC), got {v:?}"))?;
    let dims: [usize; 4] =
        dims.try_into().map_err(|_| crate::invalid!("orig_input_shape must hold 4 dimensions (NHWC), got {v:?}"))?;
    checked_elements(&dims)?;
    Ok(dims)
}

impl Op for AvgPoolGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(0, &[DType::Int32])?;
        let d = cx.dtype_in(1, FLOATS)?;
        let sizes = &cx.input(0).shape;
        if !sizes.is_compatible(&Shape::known(&[4])) {
            return Err(crate::invalid!("orig_input_shape must be a vector of 4 dimensions, got shape {sizes}"));
        }
        let w = self.window()?;
        let grad = &cx.input(1).shape;
        let Some(v) = cx.ints(0)? else {
            // The batch and the channels are the gradient's; height and width need the value.
            let g = grad.merge(&Shape::unknown_dims(4)).map_err(|_| crate::invalid!("grad must be 4-D, got {grad}"))?;
            let dim = |i: usize| g.dims().and_then(|d| d[i]);
            return single(d, Shape::partial(&[dim(0), None, None, dim(3)]));
        };
        let input = Shape::known(&image_shape(&v)?);
        let (out, _) = w.infer(&input)?;
        out.merge(grad).map_err(|_| crate::invalid!("grad must have the pool's output shape {out}, got {grad}"))?;
        single(d, input)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let input = image_shape(&k.input(0)?.to_i64_vec()?)?;
        let g = self.window()?.geometry(&input)?;
        let grad = k.input(1)?;
        if grad.shape() != g.output_shape() {
            return Err(crate::invalid!("grad must have shape {:?}, got {:?}", g.output_shape(), grad.shape()));
        }
        one(match grad.dtype() {
            DType::Float32 => spread::<f32>(&g, k.array(1)?, k.parallel())?,
            DType::Float64 => spread::<f64>(&g, k.array(1)?, k.parallel())?,
            other => return Err(crate::invalid!("AvgPoolGrad needs a float grad, got {other}")),
        })
    }
    // d/dgrad = AvgPool(g) (AvgPoolGrad is linear in grad, and AvgPool is its transpose)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let g = gx.grad(0);
        let op = AvgPool {
            ksize: self.ksize.clone(),
            strides: self.strides.clone(),
            padding: self.padding,
            data_format: self.data_format,
        };
        Ok(vec![None, Some(gx.g.op("AvgPool", op, &[g])?)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.window().map_or(0, |w| w.cost(&inputs[1].shape, &outputs[0].shape))
    }
}

fn spread<T: ConvReal + Element>(g: &super::conv::PoolGeometry, dy: &ArcArrayD<T>, par: bool) -> OpResult<Tensor> {
    let mut out = vec![T::zero(); g.input_len];
    avg_pool_grad(g, &contiguous(dy), &mut out, par)?;
    Tensor::from_vec(&[g.batch, g.window.rows.input, g.window.cols.input, g.channels], out)
}

impl Graph {
    /// `AvgPool(x)` (`tf.nn.avg_pool2d`): the mean of each `ksize` window (height, width) of an
    /// NHWC image, the windows `strides` apart; with SAME padding the windows at the borders
    /// average only the elements they cover. `padding` must be SAME or VALID.
    ///
    /// ```
    /// use stepflow::ops::conv::Padding;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[1, 1, 3, 1], vec![1.0f32, 2.0, 6.0])?)?;
    /// let y = g.avg_pool(x, [1, 2], [1, 2], Padding::Same)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![1.5, 6.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn avg_pool(&mut self, x: Output, ksize: [usize; 2], strides: [usize; 2], padding: Padding) -> Result<Output> {
        // EXPLICIT padding is refused when the node is wired.
        let (padding, _) = padding_attrs(padding);
        let op = AvgPool { ksize: nhwc(ksize), strides: nhwc(strides), padding, data_format: DataFormat::Nhwc };
        self.op("AvgPool", op, &[x])
    }
}
