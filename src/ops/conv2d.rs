//! Conv2D and its two backprops, Conv2DBackpropInput and Conv2DBackpropFilter (`tf.nn.conv2d`
//! and its gradients), NHWC with HWIO filters, on the im2col kernels of [`crate::ops::conv`].
//! Primitives for speed: a convolution as a composite of slices and matmuls would copy every
//! patch through the graph. Each op's gradient is built from the other two and itself, as TF's
//! `nn_grad.py` builds it, so gradients of any order exist.

use super::conv::{Conv2dGeometry, DataFormat, conv2d_backprop_filter, conv2d_backprop_input, conv2d_then};
use super::conv_attrs::{
    ConvElement, ConvOptions, Family, PaddingKind, Paddings, Window, WindowFields, WindowInts, contiguous, conv_op,
    conv_output, dims_of, dims4, flops, known4, sizes,
};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{DType, Tensor};

conv_op! {
    /// `Conv2D(input, filter)`: `output[b, i, j, o] = Σ input[b, i·sh + di·dh - top, j·sw + dj·dw
    /// - left, c] · filter[di, dj, c, o]`, zero outside the input; NHWC input, HWIO filter.
    Conv2D, use_cudnn_on_gpu
}

conv_op! {
    /// `Conv2DBackpropInput(input_sizes, filter, out_backprop)`: the gradient of Conv2D with
    /// respect to an input of shape `input_sizes` (4 entries, or 2: height and width).
    Conv2DBackpropInput, use_cudnn_on_gpu
}

conv_op! {
    /// `Conv2DBackpropFilter(input, filter_sizes, out_backprop)`: the gradient of Conv2D with
    /// respect to a filter of shape `filter_sizes`.
    Conv2DBackpropFilter, use_cudnn_on_gpu
}

/// Checks the dtypes of a float `a` and `b` pair and returns it.
fn floats(cx: &InferCx, a: usize, b: usize) -> OpResult<DType> {
    let d = cx.dtype_in(a, FLOATS)?;
    cx.same_dtype(a, b)?;
    Ok(d)
}

/// The dimensions `input_sizes` names: 4, or height and width with the batch of `out_backprop`
/// and the depth of the filter (as TF allows).
fn input_dims(v: &[usize], filter: [Option<usize>; 4], dy: [Option<usize>; 4]) -> OpResult<[Option<usize>; 4]> {
    match *v {
        [n, h, w, c] => Ok([Some(n), Some(h), Some(w), Some(c)]),
        [h, w] => Ok([dy[0], Some(h), Some(w), filter[2]]),
        _ => Err(crate::invalid!("input_sizes must have 4 entries (or 2: height and width), got {v:?}")),
    }
}

impl Op for Conv2D {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let d = floats(cx, 0, 1)?;
        let w = self.window()?;
        let (x, f) = (dims4("input", &cx.input(0).shape)?, dims4("filter", &cx.input(1).shape)?);
        single(d, Shape::partial(&conv_output(&w, Family::Conv2d, x, f, [None; 4])?))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (self.window()?, k.parallel());
        one(match k.input(0)?.dtype() {
            DType::Float32 => forward::<f32>(&w, k, parallel)?,
            DType::Float64 => forward::<f64>(&w, k, parallel)?,
            other => return Err(crate::invalid!("Conv2D needs float inputs, got {other}")),
        })
    }
    // y = x ⋆ f, linear in each: dx = Conv2DBackpropInput(shape(x), f, g),
    // df = Conv2DBackpropFilter(x, shape(f), g), the shapes from one ShapeN as in TF
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, f, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let shapes = gx.g.shape_n(&[x, f])?;
        let dx = gx.g.op("Conv2DBackpropInput", Conv2DBackpropInput::from(self.fields()), &[shapes[0], f, g])?;
        let df = gx.g.op("Conv2DBackpropFilter", Conv2DBackpropFilter::from(self.fields()), &[x, shapes[1], g])?;
        Ok(vec![Some(dx), Some(df)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        flops(&outputs[0].shape, &inputs[1].shape, Family::Conv2d)
    }
    fn flops(&self, inputs: &[&[usize]], outputs: &[&[usize]]) -> Option<f64> {
        conv_flops(outputs.first()?, inputs.get(1)?)
    }
    fn fuse(&self, consumer: &dyn Op) -> Option<std::sync::Arc<dyn Op>> {
        super::fused_conv::FusedConv2D::new(self.clone(), &[]).fuse(consumer)
    }
}

/// The operations of a convolution with output (or output gradient) `dy` and HWIO `filter`: a
/// multiply-add per filter tap and input channel for every output element.
pub(super) fn conv_flops(dy: &[usize], filter: &[usize]) -> Option<f64> {
    let &[h, w, c, _] = filter else { return None };
    Some(2.0 * dy.iter().product::<usize>() as f64 * (h * w * c) as f64)
}

/// A concrete shape as the dimensions of a 4-D one (all unknown for another rank).
fn concrete(s: &[usize]) -> [Option<usize>; 4] {
    <[usize; 4]>::try_from(s).map_or([None; 4], |d| d.map(Some))
}

fn geometry(w: &Window, input: [usize; 4], filter: [usize; 4]) -> OpResult<Conv2dGeometry> {
    Conv2dGeometry::new(input, filter, w.strides, w.dilations, w.padding)
}

/// Fails unless `out_backprop` has the shape of the convolution's output.
fn check_out(g: &Conv2dGeometry, dy: &[usize]) -> OpResult<()> {
    let want = g.output_shape();
    if dy == want {
        Ok(())
    } else {
        Err(crate::invalid!("out_backprop has shape {dy:?}, but the convolution's output is {want:?}"))
    }
}

// The kernels borrow their inputs, so the executor keeps the buffers of the ones that die.
fn forward<T: ConvElement>(w: &Window, k: &Kernel, parallel: bool) -> OpResult<Tensor> {
    forward_then::<T>(w, k, parallel, |_| {})
}

/// Conv2D of inputs 0 and 1, with `epilogue` applied to each piece of the output (whole
/// output pixels) as it is computed.
pub(super) fn forward_then<T: ConvElement>(
    w: &Window,
    k: &Kernel,
    parallel: bool,
    epilogue: impl Fn(&mut [T]) + Sync,
) -> OpResult<Tensor> {
    let (x, f) = (k.array::<T>(0)?, k.array::<T>(1)?);
    let g = geometry(w, known4("input", x.shape())?, known4("filter", f.shape())?)?;
    checked_elements(&g.output_shape())?;
    let mut out = k.output_vec(g.output_len);
    T::with_scratch(|s| conv2d_then(&g, &contiguous(x), &contiguous(f), &mut out, s, parallel, epilogue))?;
    Tensor::from_vec(&g.output_shape(), out)
}

impl Op for Conv2DBackpropInput {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = floats(cx, 1, 2)?;
        let w = self.window()?;
        let (f, dy) = (dims4("filter", &cx.input(1).shape)?, dims4("out_backprop", &cx.input(2).shape)?);
        let x = match sizes(cx, 0, "input_sizes")? {
            Some(v) => input_dims(&v, f, dy)?,
            None => [dy[0], None, None, f[2]],
        };
        conv_output(&w, Family::Conv2d, x, f, dy)?;
        single(d, Shape::partial(&x))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (self.window()?, k.parallel());
        let v = dims_of("input_sizes", &k.input(0)?.to_i64_vec()?)?;
        let (f, dy) = (k.input(1)?, k.input(2)?);
        let [Some(n), Some(h), Some(wd), Some(c)] = input_dims(&v, concrete(f.shape()), concrete(dy.shape()))? else {
            return Err(crate::invalid!("filter {:?} and out_backprop {:?} must be 4-D", f.shape(), dy.shape()));
        };
        let x = [n, h, wd, c];
        checked_elements(&x)?;
        one(match f.dtype() {
            DType::Float32 => backprop_input::<f32>(&w, x, k, parallel)?,
            DType::Float64 => backprop_input::<f64>(&w, x, k, parallel)?,
            other => return Err(crate::invalid!("Conv2DBackpropInput needs float inputs, got {other}")),
        })
    }
    // dx = Cᵀ(f, dy), linear in each: d/df = Conv2DBackpropFilter(g, shape(f), dy),
    // d/ddy = Conv2D(g, f); input_sizes gets none
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (f, dy, g) = (gx.input(1), gx.input(2), gx.grad(0));
        let fs = gx.g.shape_of(f)?;
        let df = gx.g.op("Conv2DBackpropFilter", Conv2DBackpropFilter::from(self.fields()), &[g, fs, dy])?;
        let ddy = gx.g.op("Conv2D", Conv2D::from(self.fields()), &[g, f])?;
        Ok(vec![None, Some(df), Some(ddy)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        flops(&inputs[2].shape, &inputs[1].shape, Family::Conv2d)
    }
    fn flops(&self, inputs: &[&[usize]], _: &[&[usize]]) -> Option<f64> {
        conv_flops(inputs.get(2)?, inputs.get(1)?)
    }
}

fn backprop_input<T: ConvElement>(w: &Window, x: [usize; 4], k: &Kernel, parallel: bool) -> OpResult<Tensor> {
    let (f, dy) = (k.array::<T>(1)?, k.array::<T>(2)?);
    let g = geometry(w, x, known4("filter", f.shape())?)?;
    check_out(&g, dy.shape())?;
    let mut dx = k.output_vec(g.input_len);
    T::with_scratch(|s| conv2d_backprop_input(&g, &contiguous(f), &contiguous(dy), &mut dx, s, parallel))?;
    Tensor::from_vec(&x, dx)
}

impl Op for Conv2DBackpropFilter {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = floats(cx, 0, 2)?;
        let w = self.window()?;
        let (x, dy) = (dims4("input", &cx.input(0).shape)?, dims4("out_backprop", &cx.input(2).shape)?);
        let f = match sizes(cx, 1, "filter_sizes")? {
            Some(v) => known4("filter_sizes", &v)?.map(Some),
            None => [None, None, x[3], dy[3]],
        };
        conv_output(&w, Family::Conv2d, x, f, dy)?;
        single(d, Shape::partial(&f))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (w, parallel) = (self.window()?, k.parallel());
        let f = known4("filter_sizes", &dims_of("filter_sizes", &k.input(1)?.to_i64_vec()?)?)?;
        one(match k.input(0)?.dtype() {
            DType::Float32 => backprop_filter::<f32>(&w, k, f, parallel)?,
            DType::Float64 => backprop_filter::<f64>(&w, k, f, parallel)?,
            other => return Err(crate::invalid!("Conv2DBackpropFilter needs float inputs, got {other}")),
        })
    }
    // df = Σ patches(x)ᵀ · dy, linear in each: d/dx = Conv2DBackpropInput(shape(x), g, dy),
    // d/ddy = Conv2D(x, g); filter_sizes gets none
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, dy, g) = (gx.input(0), gx.input(2), gx.grad(0));
        let xs = gx.g.shape_of(x)?;
        let dx = gx.g.op("Conv2DBackpropInput", Conv2DBackpropInput::from(self.fields()), &[xs, g, dy])?;
        let ddy = gx.g.op("Conv2D", Conv2D::from(self.fields()), &[x, g])?;
        Ok(vec![Some(dx), None, Some(ddy)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        flops(&inputs[2].shape, &outputs[0].shape, Family::Conv2d)
    }
    fn flops(&self, inputs: &[&[usize]], outputs: &[&[usize]]) -> Option<f64> {
        conv_flops(inputs.get(2)?, outputs.first()?)
    }
}

fn backprop_filter<T: ConvElement>(w: &Window, k: &Kernel, f: [usize; 4], parallel: bool) -> OpResult<Tensor> {
    let (x, dy) = (k.array::<T>(0)?, k.array::<T>(2)?);
    let g = geometry(w, known4("input", x.shape())?, f)?;
    check_out(&g, dy.shape())?;
    let mut df = k.output_vec(g.filter_len);
    T::with_scratch(|s| conv2d_backprop_filter(&g, &contiguous(x), &contiguous(dy), &mut df, s, parallel))?;
    Tensor::from_vec(&f, df)
}

impl Graph {
    /// `Conv2D(input, filter)` (`tf.nn.conv2d`) with `strides` along height and width and TF's
    /// padding: `input` is NHWC `[batch, height, width, in_channels]`, `filter` HWIO
    /// `[filter_height, filter_width, in_channels, out_channels]`.
    ///
    /// ```
    /// use stepflow::ops::conv::Padding;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[1, 2, 2, 1], vec![1.0f32, 2.0, 3.0, 4.0])?)?;
    /// let f = g.constant(Tensor::from_vec(&[2, 2, 1, 1], vec![1.0f32, 0.0, 0.0, 1.0])?)?;
    /// let y = g.conv2d(x, f, [1, 1], Padding::Valid)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![5.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn conv2d(
        &mut self,
        input: Output,
        filter: Output,
        strides: [usize; 2],
        padding: super::conv::Padding,
    ) -> Result<Output> {
        self.conv2d_with(input, filter, ConvOptions { strides, padding, ..ConvOptions::default() })
    }

    /// `Conv2D(input, filter)` with every window option, dilations included (`tf.nn.conv2d`'s
    /// `dilations`).
    ///
    /// ```
    /// use stepflow::ops::conv::Padding;
    /// use stepflow::ops::conv_attrs::ConvOptions;
    /// use stepflow::{Graph, Session, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.constant(Tensor::from_vec(&[1, 3, 3, 1], (1..=9).map(|v| v as f32).collect())?)?;
    /// let f = g.constant(Tensor::from_vec(&[2, 2, 1, 1], vec![1.0f32; 4])?)?;
    /// // A 2×2 filter dilated by 2 reads the four corners: 1 + 3 + 7 + 9.
    /// let o = ConvOptions { dilations: [2, 2], ..ConvOptions::default() };
    /// let y = g.conv2d_with(x, f, o)?;
    /// assert_eq!(Session::new(g).run(&[], &[y], &[])?[0].to_f64_vec(), vec![20.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn conv2d_with(&mut self, input: Output, filter: Output, options: ConvOptions) -> Result<Output> {
        self.op("Conv2D", Conv2D::from(WindowFields::from(options)), &[input, filter])
    }

    /// `Conv2DBackpropInput(input_sizes, filter, out_backprop)`
    /// (`tf.compat.v1.nn.conv2d_backprop_input`): the gradient of [`conv2d_with`](Graph::conv2d_with)
    /// with respect to an input of shape `input_sizes` (an int32 vector).
    pub fn conv2d_backprop_input(
        &mut self,
        input_sizes: Output,
        filter: Output,
        out_backprop: Output,
        options: ConvOptions,
    ) -> Result<Output> {
        let op = Conv2DBackpropInput::from(WindowFields::from(options));
        self.op("Conv2DBackpropInput", op, &[input_sizes, filter, out_backprop])
    }

    /// `Conv2DBackpropFilter(input, filter_sizes, out_backprop)`
    /// (`tf.compat.v1.nn.conv2d_backprop_filter`): the gradient of
    /// [`conv2d_with`](Graph::conv2d_with) with respect to a filter of shape `filter_sizes`.
    pub fn conv2d_backprop_filter(
        &mut self,
        input: Output,
        filter_sizes: Output,
        out_backprop: Output,
        options: ConvOptions,
    ) -> Result<Output> {
        let op = Conv2DBackpropFilter::from(WindowFields::from(options));
        self.op("Conv2DBackpropFilter", op, &[input, filter_sizes, out_backprop])
    }
}
