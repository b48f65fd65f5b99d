//! DepthwiseConv2dNative and its backprops (`tf.nn.depthwise_conv2d` and its gradients): each
//! input channel convolved with its own `channel_multiplier` filters, output channel
//! `c · multiplier + m`, on the kernels of [`crate::ops::conv::depthwise`]. A primitive for speed,
//! as Conv2D. As TF's CPU kernels, equal strides along height and width and no dilation
//! (`tf.nn.depthwise_conv2d` with a `rate` builds space-to-batch around a rate-1 op).

use super::conv::{
    DataFormat, DepthwiseGeometry, Padding, depthwise_conv2d, depthwise_conv2d_backprop_filter,
    depthwise_conv2d_backprop_input,
};
use super::conv_attrs::{
    ConvElement, ConvOptions, Family, PaddingKind, Paddings, Window, WindowFields, WindowInts, contiguous, conv_op,
    conv_output, dims_of, dims4, flops, known4, sizes,
};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{ArcArrayD, DType, Tensor};

conv_op! {
    /// `DepthwiseConv2dNative(input, filter)`: `output[b, i, j, c·M + m] = Σ input[b, i·s + di -
    /// top, j·s + dj - left, c] · filter[di, dj, c, m]`; NHWC input, filter `[h, w, channels,
    /// multiplier]`.
    DepthwiseConv2dNative
}

conv_op! {
    /// `DepthwiseConv2dNativeBackpropInput(input_sizes, filter, out_backprop)`: the gradient of
    /// DepthwiseConv2dNative with respect to an input of shape `input_sizes` (4 entries).
    DepthwiseConv2dNativeBackpropInput
}

conv_op! {
    /// `DepthwiseConv2dNativeBackpropFilter(input, filter_sizes, out_backprop)`: the gradient of
    /// DepthwiseConv2dNative with respect to a filter of shape `filter_sizes`.
    DepthwiseConv2dNativeBackpropFilter
}

/// The window, with TF's CPU rules for the depthwise ops on top of the common ones.
fn checked(fields: WindowFields) -> OpResult<Window> {
    let w = fields.window()?;
    if w.strides[0] != w.strides[1] {
        return Err(crate::invalid!(
            "only equal strides in the row and column dimensions are supported, got {:?}",
            fields.strides
        ));
    }
    if w.dilations != [1, 1] {
        return Err(crate::invalid!("dilations are not supported, got {:?}", fields.dilations));
    }
    Ok(w)
}

fn floats(cx: &InferCx, a: usize, b: usize) -> OpResult<DType> {
    let d = cx.dtype_in(a, FLOATS)?;
    cx.same_dtype(a, b)?;
    Ok(d)
}

fn geometry(w: &Window, input: [usize; 4], filter: [usize; 4]) -> OpResult<DepthwiseGeometry> {
    DepthwiseGeometry::new(input, filter, w.strides, w.dilations, w.padding)
}

fn check_out(g: &DepthwiseGeometry, dy: &[usize]) -> OpResult<()> {
    let want = g.output_shape();
    if dy == want {
        Ok(())
    } else {
        Err(crate::invalid!("out_backprop has shape {dy:?}, but the convolution's output is {want:?}"))
    }
}

impl Op for DepthwiseConv2dNative {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let d = floats(cx, 0, 1)?;
        let w = checked(self.fields())?;
        let (x, f) = (dims4("input", &cx.input(0).shape)?, dims4("filter", &cx.input(1).shape)?);
        single(d, Shape::partial(&conv_output(&w, Family::Depthwise, x, f, [None; 4])?))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (checked(self.fields())?, k.parallel());
        let (x, f) = (k.take(0)?, k.take(1)?);
        one(match x.dtype() {
            DType::Float32 => forward::<f32>(&w, x.into_array()?, f.into_array()?, parallel)?,
            DType::Float64 => forward::<f64>(&w, x.into_array()?, f.into_array()?, parallel)?,
            other => return Err(crate::invalid!("DepthwiseConv2dNative needs float inputs, got {other}")),
        })
    }
    // y = x ⋆ f per channel, linear in each: dx = BackpropInput(shape(x), f, g),
    // df = BackpropFilter(x, shape(f), g)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, f, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let (xs, fs) = (gx.g.shape_of(x)?, gx.g.shape_of(f)?);
        let dx = gx.g.op("DepthwiseConv2dNativeBackpropInput", BackpropInput::from(self.fields()), &[xs, f, g])?;
        let df = gx.g.op("DepthwiseConv2dNativeBackpropFilter", BackpropFilter::from(self.fields()), &[x, fs, g])?;
        Ok(vec![Some(dx), Some(df)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        flops(&outputs[0].shape, &inputs[1].shape, Family::Depthwise)
    }
}

type BackpropInput = DepthwiseConv2dNativeBackpropInput;
type BackpropFilter = DepthwiseConv2dNativeBackpropFilter;

fn forward<T: ConvElement>(w: &Window, x: ArcArrayD<T>, f: ArcArrayD<T>, parallel: bool) -> OpResult<Tensor> {
    let g = geometry(w, known4("input", x.shape())?, known4("filter", f.shape())?)?;
    checked_elements(&g.output_shape())?;
    let mut out = vec![T::zero(); g.output_len];
    depthwise_conv2d(&g, &contiguous(&x), &contiguous(&f), &mut out, parallel)?;
    Tensor::from_vec(&g.output_shape(), out)
}

impl Op for DepthwiseConv2dNativeBackpropInput {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = floats(cx, 1, 2)?;
        let w = checked(self.fields())?;
        let (f, dy) = (dims4("filter", &cx.input(1).shape)?, dims4("out_backprop", &cx.input(2).shape)?);
        let x = match sizes(cx, 0, "input_sizes")? {
            Some(v) => known4("input_sizes", &v)?.map(Some),
            None => [dy[0], None, None, f[2]],
        };
        conv_output(&w, Family::Depthwise, x, f, dy)?;
        single(d, Shape::partial(&x))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (checked(self.fields())?, k.parallel());
        let x = known4("input_sizes", &dims_of("input_sizes", &k.input(0)?.to_i64_vec()?)?)?;
        let (f, dy) = (k.take(1)?, k.take(2)?);
        one(match f.dtype() {
            DType::Float32 => backprop_input::<f32>(&w, x, f.into_array()?, dy.into_array()?, parallel)?,
            DType::Float64 => backprop_input::<f64>(&w, x, f.into_array()?, dy.into_array()?, parallel)?,
            other => return Err(crate::invalid!("DepthwiseConv2dNativeBackpropInput needs float inputs, got {other}")),
        })
    }
    // linear in f and dy: d/df = BackpropFilter(g, shape(f), dy), d/ddy = DepthwiseConv2dNative(g, f)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (f, dy, g) = (gx.input(1), gx.input(2), gx.grad(0));
        let fs = gx.g.shape_of(f)?;
        let df = gx.g.op("DepthwiseConv2dNativeBackpropFilter", BackpropFilter::from(self.fields()), &[g, fs, dy])?;
        let ddy = gx.g.op("DepthwiseConv2dNative", DepthwiseConv2dNative::from(self.fields()), &[g, f])?;
        Ok(vec![None, Some(df), Some(ddy)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        flops(&inputs[2].shape, &inputs[1].shape, Family::Depthwise)
    }
}

fn backprop_input<T: ConvElement>(
    w: &Window,
    x: [usize; 4],
    f: ArcArrayD<T>,
    dy: ArcArrayD<T>,
    parallel: bool,
) -> OpResult<Tensor> {
    let g = geometry(w, x, known4("filter", f.shape())?)?;
    check_out(&g, dy.shape())?;
    let mut dx = vec![T::zero(); g.input_len];
    depthwise_conv2d_backprop_input(&g, &contiguous(&f), &contiguous(&dy), &mut dx, parallel)?;
    Tensor::from_vec(&x, dx)
}

impl Op for DepthwiseConv2dNativeBackpropFilter {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = floats(cx, 0, 2)?;
        let w = checked(self.fields())?;
        let (x, dy) = (dims4("input", &cx.input(0).shape)?, dims4("out_backprop", &cx.input(2).shape)?);
        let f = match sizes(cx, 1, "filter_sizes")? {
            Some(v) => known4("filter_sizes", &v)?.map(Some),
            None => [None, None, x[3], None],
        };
        conv_output(&w, Family::Depthwise, x, f, dy)?;
        single(d, Shape::partial(&f))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (checked(self.fields())?, k.parallel());
        let f = known4("filter_sizes", &dims_of("filter_sizes", &k.input(1)?.to_i64_vec()?)?)?;
        let (x, dy) = (k.take(0)?, k.take(2)?);
        one(match x.dtype() {
            DType::Float32 => backprop_filter::<f32>(&w, x.into_array()?, f, dy.into_array()?, parallel)?,
            DType::Float64 => backprop_filter::<f64>(&w, x.into_array()?, f, dy.into_array()?, parallel)?,
            other => {
                return Err(crate::invalid!("DepthwiseConv2dNativeBackpropFilter needs float inputs, got {other}"));
            }
        })
    }
    // linear in x and dy: d/dx = BackpropInput(shape(x), g, dy), d/ddy = DepthwiseConv2dNative(x, g)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, dy, g) = (gx.input(0), gx.input(2), gx.grad(0));
        let xs = gx.g.shape_of(x)?;
        let dx = gx.g.op("DepthwiseConv2dNativeBackpropInput", BackpropInput::from(self.fields()), &[xs, g, dy])?;
        let ddy = gx.g.op("DepthwiseConv2dNative", DepthwiseConv2dNative::from(self.fields()), &[x, g])?;
        Ok(vec![Some(dx), None, Some(ddy)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        flops(&inputs[2].shape, &outputs[0].shape, Family::Depthwise)
    }
}

fn backprop_filter<T: ConvElement>(
    w: &Window,
    x: ArcArrayD<T>,
    f: [usize; 4],
    dy: ArcArrayD<T>,
    parallel: bool,
) -> OpResult<Tensor> {
    let g = geometry(w, known4("input", x.shape())?, f)?;
    check_out(&g, dy.shape())?;
    let mut df = vec![T::zero(); g.filter_len];
    T::with_scratch(|s| depthwise_conv2d_backprop_filter(&g, &contiguous(&x), &contiguous(&dy), &mut df, s, parallel))?;
    Tensor::from_vec(&f, df)
}

impl Graph {
    /// `DepthwiseConv2dNative(input, filter)` (`tf.nn.depthwise_conv2d` at rate 1): NHWC `input`
    /// `[batch, height, width, channels]`, `filter` `[filter_height, filter_width, channels,
    /// multiplier]`, output `[batch, out_height, out_width, channels · multiplier]`. The two
    /// strides must be equal, as in TF.
    ///
    /// ```
    /// use stepflow::ops::conv::Padding;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// // One pixel of two channels, each scaled by its own 1×1 filter.
    /// let x = g.constant(Tensor::from_vec(&[1, 1, 1, 2], vec![3.0f32, 4.0])?)?;
    /// let f = g.constant(Tensor::from_vec(&[1, 1, 2, 1], vec![10.0f32, 100.0])?)?;
    /// let y = g.depthwise_conv2d(x, f, [1, 1], Padding::Same)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![30.0, 400.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn depthwise_conv2d(
        &mut self,
        input: Output,
        filter: Output,
        strides: [usize; 2],
        padding: Padding,
    ) -> Result<Output> {
        let fields = WindowFields::from(ConvOptions { strides, padding, ..ConvOptions::default() });
        self.op("DepthwiseConv2dNative", DepthwiseConv2dNative::from(fields), &[input, filter])
    }
}
