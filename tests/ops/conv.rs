//! Convolutions: Conv2D, DepthwiseConv2dNative and their backprops, NHWC. Expected values summed
//! by hand from the definitions (each output pixel is the sum of the filter taps times the input
//! pixels under them, zeros in the padding).

use super::util::*;
use stepflow::ops::conv::{DataFormat, Padding};
use stepflow::ops::conv_attrs::{ConvOptions, PaddingKind};
use stepflow::ops::conv2d::{Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput};
use stepflow::ops::depthwise::{
    DepthwiseConv2dNative, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput,
};
use stepflow::{Graph, Output, Result};

/// `[1, 3, 3, 1]` holding 1..9 row by row.
fn nine() -> stepflow::Tensor {
    f32s(&[1, 3, 3, 1], &[1., 2., 3., 4., 5., 6., 7., 8., 9.])
}

/// A 2×2 filter of one channel: `[[1, 2], [3, 4]]`.
fn taps() -> stepflow::Tensor {
    f32s(&[2, 2, 1, 1], &[1., 2., 3., 4.])
}

fn conv(x: stepflow::Tensor, f: stepflow::Tensor, o: ConvOptions) -> Result<stepflow::Tensor> {
    eval1(|g| {
        let (x, f) = (feed(g, x.clone())?, feed(g, f.clone())?);
        g.conv2d_with(x, f, o)
    })
}

pub fn conv2d() {
    // VALID: o(0,0) = 1·1 + 2·2 + 4·3 + 5·4 = 37, then 47, 67, 77.
    let t = conv(nine(), taps(), ConvOptions::default()).unwrap();
    assert_close(&t, &[1, 2, 2, 1], &[37., 47., 67., 77.]);
    // SAME, stride 2: out 2×2, one zero row and column after; o(0,1) = 3·1 + 6·3 = 21.
    let same = ConvOptions { strides: [2, 2], padding: Padding::Same, ..ConvOptions::default() };
    assert_close(&conv(nine(), taps(), same).unwrap(), &[1, 2, 2, 1], &[37., 21., 23., 9.]);
    // Channels: [1, 2] by [[1, 2, 3], [4, 5, 6]] = [9, 12, 15]; a batch of two pixels.
    let t =
        conv(f32s(&[1, 1, 1, 2], &[1., 2.]), f32s(&[1, 1, 2, 3], &[1., 2., 3., 4., 5., 6.]), ConvOptions::default());
    assert_close(&t.unwrap(), &[1, 1, 1, 3], &[9., 12., 15.]);
    let t = conv(f32s(&[2, 1, 1, 1], &[1., 2.]), f32s(&[1, 1, 1, 1], &[3.]), ConvOptions::default());
    assert_close(&t.unwrap(), &[2, 1, 1, 1], &[3., 6.]);
    // EXPLICIT: one zero row on top, one zero column on the right, times 2.
    let pad = Padding::Explicit { top: 1, bottom: 0, left: 0, right: 1 };
    let t = conv(
        f32s(&[1, 2, 2, 1], &[1., 2., 3., 4.]),
        f32s(&[1, 1, 1, 1], &[2.]),
        ConvOptions { padding: pad, ..ConvOptions::default() },
    );
    assert_close(&t.unwrap(), &[1, 3, 3, 1], &[0., 0., 0., 2., 4., 0., 6., 8., 0.]);
    // Dilation 2: the 2×2 filter reads the corners, 1·1 + 3·2 + 7·3 + 9·4 = 64.
    let dilated = ConvOptions { dilations: [2, 2], ..ConvOptions::default() };
    assert_close(&conv(nine(), taps(), dilated).unwrap(), &[1, 1, 1, 1], &[64.]);
    // float64 runs too.
    let t = conv(f64s(&[1, 1, 1, 1], &[1.5]), f64s(&[1, 1, 1, 1], &[2.]), ConvOptions::default());
    assert_close(&t.unwrap(), &[1, 1, 1, 1], &[3.]);
    refusals();
}

fn refusals() {
    let bad = |op: Conv2D| {
        eval1(|g| {
            let (x, f) = (feed(g, nine())?, feed(g, taps())?);
            g.op("Conv2D", op.clone(), &[x, f])
        })
        .is_err()
    };
    assert!(bad(Conv2D { data_format: DataFormat::Nchw, ..Conv2D::default() }), "NCHW");
    assert!(bad(Conv2D { strides: vec![1, 1, 1], ..Conv2D::default() }), "3 strides");
    assert!(bad(Conv2D { strides: vec![2, 1, 1, 1], ..Conv2D::default() }), "a batch stride");
    assert!(bad(Conv2D { strides: vec![1, 0, 1, 1], ..Conv2D::default() }), "a zero stride");
    assert!(bad(Conv2D { dilations: vec![1, 1, 1, 2], ..Conv2D::default() }), "a depth dilation");
    assert!(bad(Conv2D { explicit_paddings: vec![0; 8], ..Conv2D::default() }), "paddings for VALID");
    let explicit = |p: Vec<i64>| Conv2D { padding: PaddingKind::Explicit, explicit_paddings: p, ..Conv2D::default() };
    assert!(bad(explicit(vec![0; 6])), "6 paddings");
    assert!(bad(explicit(vec![0, 0, -1, 0, 0, 0, 0, 0])), "a negative padding");
    assert!(bad(explicit(vec![1, 0, 0, 0, 0, 0, 0, 0])), "a batch padding");
    let depth = eval1(|g| {
        let (x, f) = (feed(g, nine())?, feed(g, f32s(&[1, 1, 2, 1], &[1., 1.]))?);
        g.conv2d(x, f, [1, 1], Padding::Valid)
    });
    assert!(depth.is_err(), "a filter of depth 2 for an input of depth 1");
}

/// dy = [[1, 0], [0, 1]] over the 2×2 output of a 3×3 input.
fn corners() -> stepflow::Tensor {
    f32s(&[1, 2, 2, 1], &[1., 0., 0., 1.])
}

pub fn conv2d_backprop_input() {
    // The filter stamped at (0, 0) and at (1, 1): [[1, 2, 0], [3, 5, 2], [0, 3, 4]].
    let want = [1., 2., 0., 3., 5., 2., 0., 3., 4.];
    for sizes in [vec![1, 3, 3, 1], vec![3, 3]] {
        let t = eval1(|g| {
            let s = g.constant_vec(sizes.clone())?;
            let (f, dy) = (feed(g, taps())?, feed(g, corners())?);
            g.conv2d_backprop_input(s, f, dy, ConvOptions::default())
        })
        .unwrap();
        assert_close(&t, &[1, 3, 3, 1], &want);
    }
    let wrong = eval1(|g| {
        let s = g.constant_vec(vec![1i32, 4, 4, 1])?;
        let (f, dy) = (feed(g, taps())?, feed(g, corners())?);
        g.op("Conv2DBackpropInput", Conv2DBackpropInput::default(), &[s, f, dy])
    });
    assert!(wrong.is_err(), "a 4×4 input has a 3×3 output, not the 2×2 of out_backprop");
}

pub fn conv2d_backprop_filter() {
    // df[d] = x[d] + x[d + (1, 1)]: 1 + 5, 2 + 6, 4 + 8, 5 + 9.
    let t = eval1(|g| {
        let s = g.constant_vec(vec![2i32, 2, 1, 1])?;
        let (x, dy) = (feed(g, nine())?, feed(g, corners())?);
        g.conv2d_backprop_filter(x, s, dy, ConvOptions::default())
    })
    .unwrap();
    assert_close(&t, &[2, 2, 1, 1], &[6., 8., 12., 14.]);
    let negative = eval1(|g| {
        let s = g.constant_vec(vec![2i32, -2, 1, 1])?;
        let (x, dy) = (feed(g, nine())?, feed(g, corners())?);
        g.op("Conv2DBackpropFilter", Conv2DBackpropFilter::default(), &[x, s, dy])
    });
    assert!(negative.is_err(), "a negative filter size");
}

/// Two channels over 2×2 pixels: channel 0 holds 1..4, channel 1 holds 10..40.
fn two_channels() -> stepflow::Tensor {
    f32s(&[1, 2, 2, 2], &[1., 10., 2., 20., 3., 30., 4., 40.])
}

/// A 2×2 depthwise filter: channel 0 sums its window, channel 1 takes top-left minus bottom-right.
fn depthwise_taps() -> stepflow::Tensor {
    f32s(&[2, 2, 2, 1], &[1., 1., 1., 0., 1., 0., 1., -1.])
}

fn depthwise(g: &mut Graph, x: stepflow::Tensor, f: stepflow::Tensor, padding: Padding) -> Result<Output> {
    let (x, f) = (feed(g, x)?, feed(g, f)?);
    g.depthwise_conv2d(x, f, [1, 1], padding)
}

pub fn depthwise_conv2d() {
    // 1 + 2 + 3 + 4 = 10; 10 - 40 = -30.
    let t = eval1(|g| depthwise(g, two_channels(), depthwise_taps(), Padding::Valid)).unwrap();
    assert_close(&t, &[1, 1, 1, 2], &[10., -30.]);
    // Multiplier 2: channel 0 by [1, 2], channel 1 by [10, 20].
    let t = eval1(|g| {
        depthwise(g, f32s(&[1, 1, 1, 2], &[3., 4.]), f32s(&[1, 1, 2, 2], &[1., 2., 10., 20.]), Padding::Same)
    });
    assert_close(&t.unwrap(), &[1, 1, 1, 4], &[3., 6., 40., 80.]);
    // SAME pads a zero row and column after: the bottom-right output sees only pixel (1, 1).
    let t = eval1(|g| depthwise(g, two_channels(), depthwise_taps(), Padding::Same)).unwrap();
    assert_close(&t, &[1, 2, 2, 2], &[10., -30., 6., 20., 7., 30., 4., 40.]);
    let refuse = |op: DepthwiseConv2dNative| {
        eval1(|g| {
            let (x, f) = (feed(g, two_channels())?, feed(g, depthwise_taps())?);
            g.op("DepthwiseConv2dNative", op.clone(), &[x, f])
        })
        .is_err()
    };
    assert!(refuse(DepthwiseConv2dNative { strides: vec![1, 2, 1, 1], ..Default::default() }), "unequal strides");
    assert!(refuse(DepthwiseConv2dNative { dilations: vec![1, 2, 2, 1], ..Default::default() }), "dilations");
    assert!(refuse(DepthwiseConv2dNative { data_format: DataFormat::Nchw, ..Default::default() }), "NCHW");
}

pub fn depthwise_backprop_input() {
    // dx = dy[c] · f[.., c]: channel 0 gets 1 · [1, 1, 1, 1], channel 1 gets 2 · [1, 0, 0, -1].
    let t = eval1(|g| {
        let s = g.constant_vec(vec![1i32, 2, 2, 2])?;
        let (f, dy) = (feed(g, depthwise_taps())?, feed(g, f32s(&[1, 1, 1, 2], &[1., 2.]))?);
        g.op("DepthwiseConv2dNativeBackpropInput", DepthwiseConv2dNativeBackpropInput::default(), &[s, f, dy])
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 2], &[1., 2., 1., 0., 1., 0., 1., -2.]);
}

pub fn depthwise_backprop_filter() {
    // df = x[.., c] · dy[c]: channel 0 by 1, channel 1 by 2.
    let t = eval1(|g| {
        let s = g.constant_vec(vec![2i32, 2, 2, 1])?;
        let (x, dy) = (feed(g, two_channels())?, feed(g, f32s(&[1, 1, 1, 2], &[1., 2.]))?);
        g.op("DepthwiseConv2dNativeBackpropFilter", DepthwiseConv2dNativeBackpropFilter::default(), &[x, s, dy])
    })
    .unwrap();
    assert_close(&t, &[2, 2, 2, 1], &[1., 20., 2., 40., 3., 60., 4., 80.]);
}

/// Shapes known at build time: from the sizes input when it is a constant, else 4-D with the
/// batch and depths the other inputs show; unknown batch dimensions pass through.
pub fn static_shapes() {
    use stepflow::{DType, Shape};
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(28), Some(28), Some(3)])).unwrap();
    let f = g.placeholder(DType::Float32, Shape::known(&[5, 5, 3, 8])).unwrap();
    let same = ConvOptions { strides: [2, 2], padding: Padding::Same, ..ConvOptions::default() };
    let y = g.conv2d_with(x, f, same).unwrap();
    assert_eq!(g.spec(y).shape, Shape::partial(&[None, Some(14), Some(14), Some(8)]));
    let sizes = g.placeholder(DType::Int32, Shape::known(&[4])).unwrap();
    let dx = g.conv2d_backprop_input(sizes, f, y, same).unwrap();
    assert_eq!(g.spec(dx).shape, Shape::partial(&[None, None, None, Some(3)]));
    let known = g.constant_vec(vec![5i32, 5, 3, 8]).unwrap();
    let df = g.conv2d_backprop_filter(x, known, y, same).unwrap();
    assert_eq!(g.spec(df).shape, Shape::known(&[5, 5, 3, 8]));
    let grads = stepflow::grad::gradients(&mut g, &[y], &[x, f], None).unwrap();
    assert_eq!(g.spec(grads[0].unwrap()).shape.rank(), Some(4));
    // As in TF, one ShapeN gives both sizes; its values are known only at run time here, so
    // the filter gradient knows the depths alone.
    let df = &g.spec(grads[1].unwrap()).shape;
    assert!(df.is_compatible_with(&[5, 5, 3, 8]) && df.dims().unwrap()[2..] == [Some(3), Some(8)], "{df}");
}
