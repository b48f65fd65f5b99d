//! MaxPool, AvgPool and their gradients on small NHWC images, values worked out by hand from
//! TF's window rules: SAME pads `(out - 1)·stride + k - in` zeros with the odd one after, and
//! padding never counts (neither as a maximum nor in a mean).

use super::util::*;
use stepflow::ops::avg_pool::{AvgPool, AvgPoolGrad};
use stepflow::ops::conv::{DataFormat, Padding};
use stepflow::ops::conv_attrs::PaddingKind;
use stepflow::ops::pool::{MaxPool, MaxPoolGrad, MaxPoolGradGrad};
use stepflow::{Graph, Output, Result, Tensor};

/// `[1, h, w, 1]` of `values`.
fn image(h: usize, w: usize, values: &[f32]) -> Tensor {
    f32s(&[1, h, w, 1], values)
}

fn one_to_nine() -> Tensor {
    image(3, 3, &[1., 2., 3., 4., 5., 6., 7., 8., 9.])
}

/// MaxPool's attributes (used for its gradients too).
fn max_attrs(ksize: [i64; 2], strides: [i64; 2], padding: PaddingKind, explicit: Vec<i64>) -> MaxPool {
    MaxPool {
        ksize: vec![1, ksize[0], ksize[1], 1],
        strides: vec![1, strides[0], strides[1], 1],
        padding,
        explicit_paddings: explicit,
        data_format: DataFormat::Nhwc,
    }
}

fn max_pool_of(x: Tensor, op: MaxPool) -> Result<Tensor> {
    eval1(move |g| {
        let x = feed(g, x.clone())?;
        g.op("MaxPool", op.clone(), &[x])
    })
}

pub fn max_pool() {
    // Channel 0 is 1..9, channel 1 its negation: the maximum of negatives is not the zero
    // padding would give.
    let both: Vec<f32> = (1..=9).flat_map(|v| [v as f32, -(v as f32)]).collect();
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 3, 3, 2], &both))?;
        g.max_pool(x, [2, 2], [1, 1], Padding::Valid)
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 2], &[5., -1., 6., -2., 8., -4., 9., -5.]);
    // SAME, stride 2 on 3x3: one zero after each axis; windows rows {0,1},{2} by cols {0,1},{2}.
    let t = eval1(|g| {
        let x = feed(g, one_to_nine())?;
        g.max_pool(x, [2, 2], [2, 2], Padding::Same)
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 1], &[5., 6., 8., 9.]);
    // EXPLICIT, one before each axis: windows rows {0},{1,2} by cols {0},{1,2}.
    let explicit = Padding::Explicit { top: 1, bottom: 0, left: 1, right: 0 };
    let t = eval1(|g| {
        let x = feed(g, image(3, 3, &[-1., -2., -3., -4., -5., -6., -7., -8., -9.]))?;
        g.max_pool(x, [2, 2], [2, 2], explicit)
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 1], &[-1., -2., -4., -5.]);
    // A 1x3 window with stride 2 over 1x5, VALID: columns {0,1,2} and {2,3,4}.
    let t = max_pool_of(image(1, 5, &[3., 1., 2., 7., 0.]), max_attrs([1, 3], [1, 2], PaddingKind::Valid, vec![]));
    assert_close(&t.unwrap(), &[1, 1, 2, 1], &[3., 7.]);
    max_pool_refusals();
}

fn max_pool_refusals() {
    let bad = [
        MaxPool { ksize: vec![1, 2, 2], ..max_attrs([2, 2], [1, 1], PaddingKind::Valid, vec![]) },
        MaxPool { data_format: DataFormat::Nchw, ..max_attrs([2, 2], [1, 1], PaddingKind::Valid, vec![]) },
        MaxPool { ksize: vec![1, 1, 1, 2], ..max_attrs([1, 1], [1, 1], PaddingKind::Valid, vec![]) },
        MaxPool { strides: vec![2, 1, 1, 1], ..max_attrs([1, 1], [1, 1], PaddingKind::Valid, vec![]) },
        max_attrs([0, 1], [1, 1], PaddingKind::Valid, vec![]),
        max_attrs([1, 1], [1, -1], PaddingKind::Valid, vec![]),
        max_attrs([2, 2], [1, 1], PaddingKind::Same, vec![0, 0, 1, 1, 1, 1, 0, 0]),
        max_attrs([2, 2], [1, 1], PaddingKind::Explicit, vec![0, 0, 1, 1]),
        // Padding as large as the window, and padding the channels.
        max_attrs([2, 2], [1, 1], PaddingKind::Explicit, vec![0, 0, 2, 0, 0, 0, 0, 0]),
        max_attrs([2, 2], [1, 1], PaddingKind::Explicit, vec![0, 0, 0, 0, 0, 0, 1, 0]),
        // A window past the input with VALID padding.
        max_attrs([5, 1], [1, 1], PaddingKind::Valid, vec![]),
    ];
    for op in bad {
        assert!(max_pool_of(one_to_nine(), op.clone()).is_err(), "{op:?}");
    }
    assert!(max_pool_of(f32s(&[3, 3], &[0.; 9]), max_attrs([1, 1], [1, 1], PaddingKind::Valid, vec![])).is_err());
}

/// `op(x, MaxPool(x), grad)` for a MaxPool gradient op with the window of `attrs`.
fn max_grad(x: Tensor, grad: Tensor, attrs: MaxPool, grad_grad: bool) -> Result<Tensor> {
    eval1(move |g| {
        let x = feed(g, x.clone())?;
        let y = feed(g, Tensor::zeros(stepflow::DType::Float32, &[1, 1, 2, 1]))?;
        let dy = feed(g, grad.clone())?;
        let a = attrs.clone();
        if grad_grad {
            let op =
                MaxPoolGradGrad { ksize: a.ksize, strides: a.strides, padding: a.padding, data_format: a.data_format };
            return g.op("MaxPoolGradGrad", op, &[x, y, dy]);
        }
        let op = MaxPoolGrad {
            ksize: a.ksize,
            strides: a.strides,
            padding: a.padding,
            explicit_paddings: a.explicit_paddings,
            data_format: a.data_format,
        };
        g.op("MaxPoolGrad", op, &[x, y, dy])
    })
}

pub fn max_pool_grad() {
    // Overlapping 1x2 windows over [1, 5, 2] both pick 5: their gradients add there.
    let overlap = max_attrs([1, 2], [1, 1], PaddingKind::Valid, vec![]);
    let t = max_grad(image(1, 3, &[1., 5., 2.]), image(1, 2, &[1., 2.]), overlap.clone(), false).unwrap();
    assert_close(&t, &[1, 1, 3, 1], &[0., 3., 0.]);
    // A tie goes to the first maximum in scan order; SAME with stride 2 gives windows {0,1},{2}.
    let same = max_attrs([1, 2], [1, 2], PaddingKind::Same, vec![]);
    let t = max_grad(image(1, 3, &[4., 4., -1.]), image(1, 2, &[10., 20.]), same, false).unwrap();
    assert_close(&t, &[1, 1, 3, 1], &[10., 0., 20.]);
    assert!(max_grad(image(1, 3, &[1., 5., 2.]), image(1, 3, &[1., 2., 3.]), overlap, false).is_err(), "grad shape");
}

pub fn max_pool_grad_grad() {
    // Each window's maximum is at column 1: the output takes grad there, twice.
    let overlap = max_attrs([1, 2], [1, 1], PaddingKind::Valid, vec![]);
    let t = max_grad(image(1, 3, &[1., 5., 2.]), image(1, 3, &[10., 20., 30.]), overlap.clone(), true).unwrap();
    assert_close(&t, &[1, 1, 2, 1], &[20., 20.]);
    let t = max_grad(image(1, 3, &[4., 4., 9.]), image(1, 3, &[10., 20., 30.]), overlap.clone(), true).unwrap();
    assert_close(&t, &[1, 1, 2, 1], &[10., 30.]);
    assert!(max_grad(image(1, 3, &[1., 5., 2.]), image(1, 2, &[1., 2.]), overlap, true).is_err(), "grad shape");
}

fn avg_attrs(ksize: [i64; 2], strides: [i64; 2], padding: PaddingKind) -> AvgPool {
    AvgPool {
        ksize: vec![1, ksize[0], ksize[1], 1],
        strides: vec![1, strides[0], strides[1], 1],
        padding,
        data_format: DataFormat::Nhwc,
    }
}

pub fn avg_pool() {
    // SAME, 2x2 stride 2 on 1..9: (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1 — padding not counted.
    let t = eval1(|g| {
        let x = feed(g, one_to_nine())?;
        g.avg_pool(x, [2, 2], [2, 2], Padding::Same)
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 1], &[3., 4.5, 7.5, 9.]);
    let t = eval1(|g| {
        let x = feed(g, one_to_nine())?;
        g.avg_pool(x, [2, 2], [1, 1], Padding::Valid)
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2, 1], &[3., 4., 6., 7.]);
    for op in [
        avg_attrs([2, 2], [1, 1], PaddingKind::Explicit),
        AvgPool { ksize: vec![2, 2], ..avg_attrs([1, 1], [1, 1], PaddingKind::Same) },
    ] {
        let refused = eval1(|g| {
            let x = feed(g, one_to_nine())?;
            g.op("AvgPool", op.clone(), &[x])
        });
        assert!(refused.is_err(), "{op:?}");
    }
}

fn avg_grad(shape: &[i32], grad: Tensor, attrs: AvgPool) -> Result<Tensor> {
    eval1(move |g| {
        let s = feed(g, i32s(&[shape.len()], shape))?;
        let dy = feed(g, grad.clone())?;
        let a = attrs.clone();
        let op = AvgPoolGrad { ksize: a.ksize, strides: a.strides, padding: a.padding, data_format: a.data_format };
        g.op("AvgPoolGrad", op, &[s, dy])
    })
}

pub fn avg_pool_grad() {
    // The SAME windows above, with counts 4, 2, 2, 1: 4/4 to each of the first window's four
    // elements, 4/2 to each of the second's two, 2/2 and 3/1.
    let same = avg_attrs([2, 2], [2, 2], PaddingKind::Same);
    let t = avg_grad(&[1, 3, 3, 1], image(2, 2, &[4., 4., 2., 3.]), same.clone()).unwrap();
    assert_close(&t, &[1, 3, 3, 1], &[1., 1., 2., 1., 1., 2., 1., 1., 3.]);
    // Overlapping VALID 1x2 windows over 1x3 add in the middle.
    let t = avg_grad(&[1, 1, 3, 1], image(1, 2, &[2., 4.]), avg_attrs([1, 2], [1, 1], PaddingKind::Valid)).unwrap();
    assert_close(&t, &[1, 1, 3, 1], &[1., 3., 2.]);
    assert!(avg_grad(&[1, 3, 3, 1], image(3, 3, &[0.; 9]), same.clone()).is_err(), "grad of the wrong shape");
    assert!(avg_grad(&[1, 3, -3, 1], image(2, 2, &[0.; 4]), same.clone()).is_err(), "a negative dimension");
    assert!(avg_grad(&[3, 3, 1], image(2, 2, &[0.; 4]), same).is_err(), "three dimensions");
}

/// The ops' shapes with unknown dimensions: batch and channels pass through, height and width
/// follow when known.
#[test]
fn pool_shapes_with_unknown_dimensions() {
    let mut g = Graph::new();
    let x = g.placeholder(stepflow::DType::Float32, stepflow::Shape::partial(&[None, Some(5), None, Some(3)])).unwrap();
    let y: Output = g.max_pool(x, [2, 2], [2, 2], Padding::Same).unwrap();
    assert_eq!(g.spec(y).shape.to_string(), "[?,3,?,3]");
    let a = g.avg_pool(x, [3, 1], [1, 1], Padding::Valid).unwrap();
    assert_eq!(g.spec(a).shape.to_string(), "[?,3,?,3]");
    let grads = stepflow::grad::gradients(&mut g, &[a], &[x], None).unwrap();
    assert_eq!(g.spec(grads[0].unwrap()).shape.to_string(), "[?,?,?,3]");
}
