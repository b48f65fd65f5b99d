//! BiasAdd and its gradient BiasAddGrad (`tf.nn.bias_add`, what `tf.layers.dense` and the conv
//! layers add): a bias vector added along the channel axis. Primitives for speed: one pass over
//! the value instead of a broadcast, and a channel sum in fixed order for the gradient. The
//! kernels are shared with the convolution layers ([`crate::ops::conv::bias`]).

use super::conv::{BiasGeometry, ConvReal, DataFormat, bias_add, bias_add_grad, bias_add_in_place};
use super::conv_attrs::contiguous;
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, op, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, DType, Element, Tensor};

op! {
    /// `value + bias` along the channel axis of `data_format` (`NHWC`: the last).
    BiasAdd derive(Copy, Default) { #[serde(default)] data_format: DataFormat }
}

op! {
    /// The gradient of BiasAdd with respect to the bias: `out_backprop` summed over every axis
    /// but the channels.
    BiasAddGrad derive(Copy, Default) { #[serde(default)] data_format: DataFormat }
}

/// The channel axis of a value of rank `rank`, or an error when the rank is too small.
fn channel_axis(rank: usize, f: DataFormat) -> OpResult<usize> {
    match f {
        DataFormat::Nhwc if rank >= 2 => Ok(rank - 1),
        DataFormat::Nchw if rank >= 3 => Ok(1),
        DataFormat::Nhwc => Err(crate::invalid!("the value must be at least 2-D, got rank {rank}")),
        DataFormat::Nchw => Err(crate::invalid!("an NCHW value must be at least 3-D, got rank {rank}")),
    }
}

/// The channel count of a value of shape `shape`, if known.
fn channels(shape: &Shape, f: DataFormat) -> OpResult<Option<usize>> {
    match shape.dims() {
        Some(d) => Ok(d[channel_axis(d.len(), f)?]),
        None => Ok(None),
    }
}

impl Op for BiasAdd {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let d = cx.dtype_in(0, FLOATS)?;
        cx.same_dtype(0, 1)?;
        let bias = &cx.input(1).shape;
        if bias.rank().is_some_and(|r| r != 1) {
            return Err(crate::invalid!("bias must be 1-D, got shape {bias}"));
        }
        let c = channels(&cx.input(0).shape, self.data_format)?;
        if let (Some(c), Some(Some(b))) = (c, bias.dims().map(|d| d[0]))
            && c != b
        {
            return Err(crate::invalid!("bias of {b} elements for a value of {c} channels"));
        }
        single(d, cx.input(0).shape.clone())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (parallel, f) = (k.parallel(), self.data_format);
        let (value, bias) = (k.take(0)?, k.take(1)?);
        one(match value.dtype() {
            DType::Float32 => add::<f32>(value.into_array()?, bias.into_array()?, f, parallel)?,
            DType::Float64 => add::<f64>(value.into_array()?, bias.into_array()?, f, parallel)?,
            other => return Err(crate::invalid!("BiasAdd needs float inputs, got {other}")),
        })
    }
    // d/dvalue = g; d/dbias = BiasAddGrad(g)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let g = gx.grad(0);
        let db = gx.g.op("BiasAddGrad", BiasAddGrad { data_format: self.data_format }, &[g])?;
        Ok(vec![Some(g), Some(db)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        inputs[0].shape.known_elements()
    }
}

fn add<T: ConvReal + Element>(value: ArcArrayD<T>, bias: ArcArrayD<T>, f: DataFormat, par: bool) -> OpResult<Tensor> {
    let geo = BiasGeometry::new(value.shape(), f)?;
    if bias.ndim() != 1 || bias.len() != geo.channels {
        return Err(crate::invalid!("bias of shape {:?} for a value of {} channels", bias.shape(), geo.channels));
    }
    let bias = contiguous(&bias);
    let mut value = value;
    if value.is_unique()
        && let Some(data) = value.as_slice_mut()
    {
        // The last consumer of the value: add in place.
        bias_add_in_place(&geo, data, &bias, par)?;
        return Ok(T::wrap(value));
    }
    let mut out = vec![T::zero(); geo.len];
    bias_add(&geo, &contiguous(&value), &bias, &mut out, par)?;
    Tensor::from_vec(value.shape(), out)
}

impl Op for BiasAddGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let d = cx.dtype_in(0, FLOATS)?;
        let c = channels(&cx.input(0).shape, self.data_format)?;
        single(d, Shape::partial(&[c]))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (parallel, f) = (k.parallel(), self.data_format);
        one(match k.input(0)?.dtype() {
            DType::Float32 => sum::<f32>(k.array(0)?, f, parallel)?,
            DType::Float64 => sum::<f64>(k.array(0)?, f, parallel)?,
            other => return Err(crate::invalid!("BiasAddGrad needs a float input, got {other}")),
        })
    }
    // d/dout_backprop = the incoming gradient broadcast along the channels
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, g) = (gx.input(0), gx.grad(0));
        let zeros = gx.g.zeros_like(x)?;
        Ok(vec![Some(gx.g.op("BiasAdd", BiasAdd { data_format: self.data_format }, &[zeros, g])?)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        inputs[0].shape.known_elements()
    }
}

// Borrows its input, so the executor keeps the buffer of a gradient that dies here.
fn sum<T: ConvReal + Element>(g: &ArcArrayD<T>, f: DataFormat, parallel: bool) -> OpResult<Tensor> {
    let geo = BiasGeometry::new(g.shape(), f)?;
    let mut out = vec![T::zero(); geo.channels];
    bias_add_grad(&geo, &contiguous(g), &mut out, &mut Vec::new(), parallel)?;
    Tensor::from_vec(&[geo.channels], out)
}

impl Graph {
    /// `BiasAdd(value, bias)` (`tf.nn.bias_add`): `bias` added along the last axis.
    ///
    /// ```
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[2, 2], vec![1.0f32, 2.0, 3.0, 4.0])?)?;
    /// let b = g.constant(Tensor::from_vec(&[2], vec![10.0f32, 20.0])?)?;
    /// let y = g.bias_add(x, b)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![11.0, 22.0, 13.0, 24.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn bias_add(&mut self, value: Output, bias: Output) -> Result<Output> {
        self.op("BiasAdd", BiasAdd::default(), &[value, bias])
    }
}
