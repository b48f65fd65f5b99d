//! The gradient checks of the convolutions: small images (finite differences run the graph twice
//! per input element) over VALID, SAME and EXPLICIT padding, strides, dilations and unknown
//! dimensions. The sizes inputs of the backprops are constants, so only the data inputs vary.

use super::{Check, any, c, unknown};
use stepflow::ops::conv::Padding;
use stepflow::ops::conv_attrs::{ConvOptions, WindowFields};
use stepflow::ops::depthwise::{DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput};
use stepflow::{Graph, Output, Result};

fn options(strides: [usize; 2], padding: Padding, dilations: [usize; 2]) -> ConvOptions {
    ConvOptions { strides, padding, dilations }
}

const VALID: ConvOptions = ConvOptions { strides: [1, 1], padding: Padding::Valid, dilations: [1, 1] };
const EXPLICIT: Padding = Padding::Explicit { top: 1, bottom: 0, left: 2, right: 1 };

fn sizes(g: &mut Graph, dims: &[i32]) -> Result<Output> {
    g.constant_vec(dims.to_vec())
}

pub fn conv2d() -> Vec<Check> {
    let same2 = options([2, 2], Padding::Same, [1, 1]);
    let dilated = options([1, 1], Padding::Same, [2, 2]);
    let explicit = options([1, 2], EXPLICIT, [1, 1]);
    vec![
        c(&[any(&[1, 4, 4, 2]), any(&[2, 2, 2, 3])], |g, x| g.conv2d_with(x[0], x[1], VALID)),
        c(&[any(&[2, 5, 5, 2]), any(&[3, 3, 2, 2])], move |g, x| g.conv2d_with(x[0], x[1], same2)),
        c(&[any(&[1, 5, 5, 1]), any(&[2, 2, 1, 2])], move |g, x| g.conv2d_with(x[0], x[1], dilated)),
        c(&[any(&[1, 3, 4, 2]), any(&[2, 3, 2, 1])], move |g, x| g.conv2d_with(x[0], x[1], explicit)),
        c(&[unknown(&[2, 4, 3, 2], -2.0, 2.0), any(&[2, 2, 2, 2])], move |g, x| g.conv2d_with(x[0], x[1], same2)),
    ]
}

pub fn conv2d_backprop_input() -> Vec<Check> {
    let same2 = options([2, 2], Padding::Same, [1, 1]);
    let dilated = options([1, 1], Padding::Valid, [2, 1]);
    vec![
        c(&[any(&[2, 2, 2, 3]), any(&[1, 3, 3, 3])], |g, x| {
            let s = sizes(g, &[1, 4, 4, 2])?;
            g.conv2d_backprop_input(s, x[0], x[1], VALID)
        }),
        c(&[any(&[3, 3, 2, 2]), any(&[1, 3, 3, 2])], move |g, x| {
            let s = sizes(g, &[1, 5, 6, 2])?;
            g.conv2d_backprop_input(s, x[0], x[1], same2)
        }),
        c(&[any(&[2, 2, 1, 2]), unknown(&[1, 3, 4, 2], -2.0, 2.0)], move |g, x| {
            let s = sizes(g, &[1, 5, 5, 1])?;
            g.conv2d_backprop_input(s, x[0], x[1], dilated)
        }),
    ]
}

pub fn conv2d_backprop_filter() -> Vec<Check> {
    let explicit = options([2, 1], EXPLICIT, [1, 1]);
    let dilated = options([1, 1], Padding::Same, [1, 2]);
    vec![
        c(&[any(&[1, 4, 4, 2]), any(&[1, 3, 3, 3])], |g, x| {
            let s = sizes(g, &[2, 2, 2, 3])?;
            g.conv2d_backprop_filter(x[0], s, x[1], VALID)
        }),
        c(&[any(&[1, 4, 3, 2]), any(&[1, 2, 5, 2])], move |g, x| {
            let s = sizes(g, &[2, 2, 2, 2])?;
            g.conv2d_backprop_filter(x[0], s, x[1], explicit)
        }),
        c(&[unknown(&[2, 3, 4, 1], -2.0, 2.0), any(&[2, 3, 4, 2])], move |g, x| {
            let s = sizes(g, &[2, 2, 1, 2])?;
            g.conv2d_backprop_filter(x[0], s, x[1], dilated)
        }),
    ]
}

fn fields(strides: [usize; 2], padding: Padding) -> WindowFields {
    WindowFields::from(options(strides, padding, [1, 1]))
}

pub fn depthwise() -> Vec<Check> {
    vec![
        c(&[any(&[1, 4, 4, 2]), any(&[2, 2, 2, 2])], |g, x| g.depthwise_conv2d(x[0], x[1], [1, 1], Padding::Valid)),
        c(&[any(&[2, 5, 5, 2]), any(&[3, 3, 2, 1])], |g, x| g.depthwise_conv2d(x[0], x[1], [2, 2], Padding::Same)),
        c(&[unknown(&[1, 3, 4, 2], -2.0, 2.0), any(&[2, 3, 2, 3])], |g, x| {
            g.depthwise_conv2d(x[0], x[1], [1, 1], EXPLICIT)
        }),
    ]
}

pub fn depthwise_backprop_input() -> Vec<Check> {
    let op = |strides, padding| DepthwiseConv2dNativeBackpropInput::from(fields(strides, padding));
    vec![
        c(&[any(&[2, 2, 2, 2]), any(&[1, 3, 3, 4])], move |g, x| {
            let s = sizes(g, &[1, 4, 4, 2])?;
            g.op("DepthwiseConv2dNativeBackpropInput", op([1, 1], Padding::Valid), &[s, x[0], x[1]])
        }),
        c(&[any(&[3, 3, 2, 1]), any(&[1, 3, 3, 2])], move |g, x| {
            let s = sizes(g, &[1, 5, 6, 2])?;
            g.op("DepthwiseConv2dNativeBackpropInput", op([2, 2], Padding::Same), &[s, x[0], x[1]])
        }),
    ]
}

pub fn depthwise_backprop_filter() -> Vec<Check> {
    let op = |strides, padding| DepthwiseConv2dNativeBackpropFilter::from(fields(strides, padding));
    vec![
        c(&[any(&[1, 4, 4, 2]), any(&[1, 3, 3, 4])], move |g, x| {
            let s = sizes(g, &[2, 2, 2, 2])?;
            g.op("DepthwiseConv2dNativeBackpropFilter", op([1, 1], Padding::Valid), &[x[0], s, x[1]])
        }),
        c(&[any(&[1, 3, 4, 2]), any(&[1, 3, 5, 6])], move |g, x| {
            let s = sizes(g, &[2, 3, 2, 3])?;
            g.op("DepthwiseConv2dNativeBackpropFilter", op([1, 1], EXPLICIT), &[x[0], s, x[1]])
        }),
    ]
}
