//! The array ops TF's training graphs use to cut, join and index: Unpack, StridedSlice and its
//! gradient, Range, ShapeN, ConcatOffset, InvertPermutation, DynamicStitch, Split, SplitV.

use super::util::*;
use stepflow::ops::array::{StridedSlice, StridedSliceGrad};
use stepflow::{Output, Result, Tensor};

fn grid() -> Tensor {
    f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.])
}

/// `[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]`.
fn twelve() -> Tensor {
    f32s(&[3, 4], &(0..12).map(|v| v as f32).collect::<Vec<_>>())
}

pub fn unpack() {
    let out = eval(|g| {
        let x = feed(g, grid())?;
        g.unstack(x, Some(3), 1)
    })
    .unwrap();
    assert_close(&out[0], &[2], &[1., 4.]);
    assert_close(&out[1], &[2], &[2., 5.]);
    assert_close(&out[2], &[2], &[3., 6.]);
    let out = eval(|g| {
        let x = feed(g, grid())?;
        g.unstack(x, Some(2), -2)
    })
    .unwrap();
    assert_close(&out[1], &[3], &[4., 5., 6.]);
    assert!(
        eval(|g| {
            let x = feed(g, grid())?;
            g.unstack(x, Some(3), 0)
        })
        .is_err()
    );
}

/// `x[spec]` with begin, end and strides fed too.
fn sliced(x: Tensor, b: &[i32], e: &[i32], s: &[i32], spec: StridedSlice) -> Result<Tensor> {
    let n = b.len();
    let (b, e, s) = (i32s(&[n], b), i32s(&[n], e), i32s(&[n], s));
    eval1(move |g| {
        let x = feed(g, x.clone())?;
        let (b, e, s) = (feed(g, b.clone())?, feed(g, e.clone())?, feed(g, s.clone())?);
        g.op("StridedSlice", spec, &[x, b, e, s])
    })
}

pub fn strided_slice() {
    // x[::-1, 1::2]
    let spec = StridedSlice { begin_mask: 1, end_mask: 3, ..StridedSlice::default() };
    let t = sliced(twelve(), &[0, 1], &[0, 0], &[-1, 2], spec).unwrap();
    assert_close(&t, &[3, 2], &[9., 11., 5., 7., 1., 3.]);
    // x[1]
    let spec = StridedSlice { shrink_axis_mask: 1, ..StridedSlice::default() };
    let t = sliced(twelve(), &[1], &[2], &[1], spec).unwrap();
    assert_close(&t, &[4], &[4., 5., 6., 7.]);
    // x[..., tf.newaxis, -1]
    let spec = StridedSlice { ellipsis_mask: 1, new_axis_mask: 2, shrink_axis_mask: 4, ..StridedSlice::default() };
    let t = sliced(twelve(), &[0, 0, -1], &[0, 0, 0], &[1, 1, 1], spec).unwrap();
    assert_close(&t, &[3, 1], &[3., 7., 11.]);
    // x[-2:10, :-5]: rows clamped to the end, columns to nothing
    let spec = StridedSlice { begin_mask: 2, ..StridedSlice::default() };
    let t = sliced(twelve(), &[-2, 0], &[10, -5], &[1, 1], spec).unwrap();
    assert_eq!(t.shape(), &[2, 0]);
    // x[2:0:-1, 3] on int32, through the builder (constant spec)
    let t = eval1(|g| {
        let x = feed(g, twelve().cast(stepflow::DType::Int32))?;
        g.strided_slice(x, &[2, 3], &[0, 4], &[-1, 1], StridedSlice { shrink_axis_mask: 2, ..StridedSlice::default() })
    })
    .unwrap();
    assert_exact(&t, &[2], &[11., 7.]);
    let spec = StridedSlice { shrink_axis_mask: 1, ..StridedSlice::default() };
    assert!(sliced(twelve(), &[3], &[4], &[1], spec).is_err(), "x[3] of 3 rows");
    assert!(sliced(twelve(), &[0], &[1], &[0], StridedSlice::default()).is_err(), "a zero stride");
}

pub fn strided_slice_grad() {
    // dy for x[::-1, 1::2] of a [3, 4] x, scattered back
    let t = eval1(|g| {
        let shape = feed(g, i32s(&[2], &[3, 4]))?;
        let b = feed(g, i32s(&[2], &[0, 1]))?;
        let e = feed(g, i32s(&[2], &[0, 0]))?;
        let s = feed(g, i32s(&[2], &[-1, 2]))?;
        let dy = feed(g, f32s(&[3, 2], &[1., 2., 3., 4., 5., 6.]))?;
        let spec = StridedSliceGrad { begin_mask: 1, end_mask: 3, ..StridedSliceGrad::default() };
        g.op("StridedSliceGrad", spec, &[shape, b, e, s, dy])
    })
    .unwrap();
    assert_close(&t, &[3, 4], &[0., 5., 0., 6., 0., 3., 0., 4., 0., 1., 0., 2.]);
    assert!(
        eval1(|g| {
            let shape = feed(g, i32s(&[1], &[3]))?;
            let b = feed(g, i32s(&[1], &[0]))?;
            let e = feed(g, i32s(&[1], &[2]))?;
            let s = feed(g, i32s(&[1], &[1]))?;
            let dy = feed(g, f32s(&[3], &[1., 2., 3.]))?;
            g.op("StridedSliceGrad", StridedSliceGrad::default(), &[shape, b, e, s, dy])
        })
        .is_err(),
        "dy of 3 for a slice of 2"
    );
}

fn range_of(start: Tensor, limit: Tensor, delta: Tensor) -> Result<Tensor> {
    eval1(move |g| {
        let (s, l, d) = (feed(g, start.clone())?, feed(g, limit.clone())?, feed(g, delta.clone())?);
        g.range(s, l, d)
    })
}

pub fn range() {
    let t = range_of(Tensor::scalar(5i32), Tensor::scalar(-1i32), Tensor::scalar(-2i32)).unwrap();
    assert_exact(&t, &[3], &[5., 3., 1.]);
    let t = range_of(Tensor::scalar(-3i64), Tensor::scalar(4i64), Tensor::scalar(3i64)).unwrap();
    assert_exact(&t, &[3], &[-3., 0., 3.]);
    let t = range_of(Tensor::scalar(0.0f32), Tensor::scalar(1.0f32), Tensor::scalar(0.25f32)).unwrap();
    assert_close(&t, &[4], &[0., 0.25, 0.5, 0.75]);
    let t = range_of(Tensor::scalar(2.0f64), Tensor::scalar(2.0f64), Tensor::scalar(1.0f64)).unwrap();
    assert_eq!(t.shape(), &[0]);
    assert!(range_of(Tensor::scalar(0i32), Tensor::scalar(3i32), Tensor::scalar(0i32)).is_err(), "delta 0");
    assert!(range_of(Tensor::scalar(3i32), Tensor::scalar(0i32), Tensor::scalar(1i32)).is_err(), "walks away");
}

pub fn shape_n() {
    let out = eval(|g| {
        let x = feed(g, grid())?;
        let y = feed(g, Tensor::scalar(1.0f32))?;
        g.shape_n(&[x, y])
    })
    .unwrap();
    assert_exact(&out[0], &[2], &[2., 3.]);
    assert_exact(&out[1], &[0], &[]);
    // TF's ShapeN takes N inputs of one dtype T
    assert!(
        eval(|g| {
            let x = feed(g, grid())?;
            let y = feed(g, Tensor::scalar(1i32))?;
            g.shape_n(&[x, y])
        })
        .is_err(),
        "inputs of two dtypes"
    );
}

fn offsets(shapes: &[&[i32]], axis: i32) -> Result<Vec<Tensor>> {
    let shapes: Vec<Tensor> = shapes.iter().map(|s| i32s(&[s.len()], s)).collect();
    eval(move |g| {
        let a = feed(g, Tensor::scalar(axis))?;
        let s: Vec<Output> = shapes.iter().map(|s| feed(g, s.clone())).collect::<Result<_>>()?;
        g.concat_offset(a, &s)
    })
}

pub fn concat_offset() {
    let out = offsets(&[&[2, 3], &[2, 1], &[2, 2]], 1).unwrap();
    assert_exact(&out[0], &[2], &[0., 0.]);
    assert_exact(&out[1], &[2], &[0., 3.]);
    assert_exact(&out[2], &[2], &[0., 4.]);
    let out = offsets(&[&[2, 3], &[4, 3]], -2).unwrap();
    assert_exact(&out[1], &[2], &[2., 0.]);
    assert!(offsets(&[&[2, 3], &[3, 1]], 1).is_err(), "dims other than the axis differ");
    assert!(offsets(&[&[2, 3], &[2, 1]], 2).is_err(), "axis out of range");
}

pub fn invert_permutation() {
    let t = eval1(|g| {
        let x = feed(g, i32s(&[4], &[2, 0, 3, 1]))?;
        g.invert_permutation(x)
    })
    .unwrap();
    assert_exact(&t, &[4], &[1., 3., 0., 2.]);
    for bad in [[0, 0, 1], [0, 3, 1]] {
        assert!(
            eval1(|g| {
                let x = feed(g, i32s(&[3], &bad))?;
                g.invert_permutation(x)
            })
            .is_err(),
            "{bad:?}"
        );
    }
}

fn stitched(indices: &[Tensor], data: &[Tensor]) -> Result<Tensor> {
    eval1(|g| {
        let i: Vec<Output> = indices.iter().map(|t| feed(g, t.clone())).collect::<Result<_>>()?;
        let d: Vec<Output> = data.iter().map(|t| feed(g, t.clone())).collect::<Result<_>>()?;
        g.dynamic_stitch(&i, &d)
    })
}

pub fn dynamic_stitch() {
    // row 2 is written by both inputs: the later one wins
    let indices = [i32s(&[2], &[0, 2]), i32s(&[1, 2], &[1, 2])];
    let data = [f32s(&[2, 2], &[1., 2., 3., 4.]), f32s(&[1, 2, 2], &[5., 6., 7., 8.])];
    let t = stitched(&indices, &data).unwrap();
    assert_close(&t, &[3, 2], &[1., 2., 5., 6., 7., 8.]);
    // rows no index names are zeros
    let t = stitched(&[i32s(&[2], &[3, 0])], &[i32s(&[2], &[7, 9])]).unwrap();
    assert_exact(&t, &[4], &[9., 0., 0., 7.]);
    assert!(stitched(&[i32s(&[2], &[0, -1])], &[f32s(&[2], &[1., 2.])]).is_err(), "a negative index");
    assert!(stitched(&[i32s(&[2], &[0, 1])], &[f32s(&[3], &[1., 2., 3.])]).is_err(), "data longer than indices");
}

pub fn split() {
    let out = eval(|g| {
        let x = feed(g, grid())?;
        g.split(x, 3, 1)
    })
    .unwrap();
    assert_close(&out[0], &[2, 1], &[1., 4.]);
    assert_close(&out[2], &[2, 1], &[3., 6.]);
    let out = eval(|g| {
        let x = feed(g, grid())?;
        g.split(x, 2, -2)
    })
    .unwrap();
    assert_close(&out[1], &[1, 3], &[4., 5., 6.]);
    assert!(
        eval(|g| {
            let x = feed(g, grid())?;
            g.split(x, 2, 1)
        })
        .is_err(),
        "2 pieces of 3 columns"
    );
}

fn split_v(sizes: &[i64], axis: i64) -> Result<Vec<Tensor>> {
    eval(|g| {
        let x = feed(g, grid())?;
        g.split_v(x, sizes, axis)
    })
}

pub fn split_v_op() {
    let out = split_v(&[1, -1], 1).unwrap();
    assert_close(&out[0], &[2, 1], &[1., 4.]);
    assert_close(&out[1], &[2, 2], &[2., 3., 5., 6.]);
    let out = split_v(&[0, 2], 0).unwrap();
    assert_eq!(out[0].shape(), &[0, 3]);
    assert_close(&out[1], &[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert!(split_v(&[2, 2], 1).is_err(), "sizes adding up to 4 of 3");
    assert!(split_v(&[-1, -1], 1).is_err(), "two -1s");
    assert!(split_v(&[-1], 1).is_err(), "one output must take the whole axis, as TF's kernel");
}

/// The static shape of `out`.
fn shape_of(g: &stepflow::Graph, out: Output) -> Vec<Option<usize>> {
    g.spec(out).shape.dims().expect("a known rank").to_vec()
}

/// TF's static shapes (as `tf.compat.v1` graphs report them) where the slice specs, split sizes
/// and range bounds are constants but some input dimensions are unknown.
pub fn static_shapes() {
    use stepflow::{DType, Shape};
    let mut g = stepflow::Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(4), Some(5)])).unwrap();
    let mut slice = |b: &[i64], e: &[i64], s: &[i64], spec: StridedSlice| {
        let y = g.strided_slice(x, b, e, s, spec).unwrap();
        shape_of(&g, y)
    };
    let d = StridedSlice::default;
    // x[:, 1:3]
    assert_eq!(
        slice(&[0, 1], &[0, 3], &[1, 1], StridedSlice { begin_mask: 1, end_mask: 1, ..d() }),
        [None, Some(2), Some(5)]
    );
    // x[1]
    assert_eq!(slice(&[1], &[2], &[1], StridedSlice { shrink_axis_mask: 1, ..d() }), [Some(4), Some(5)]);
    // x[..., 0]
    let spec = StridedSlice { ellipsis_mask: 1, shrink_axis_mask: 2, ..d() };
    assert_eq!(slice(&[0, 0], &[0, 1], &[1, 1], spec), [None, Some(4)]);
    // x[::-1, ::2, tf.newaxis]
    let spec = StridedSlice { begin_mask: 3, end_mask: 3, new_axis_mask: 4, ..d() };
    assert_eq!(slice(&[0, 0, 0], &[0, 0, 0], &[-1, 2, 1], spec), [None, Some(2), Some(1), Some(5)]);
    // x[-1:, -9:9:3, 4:0:-2]
    let spec = StridedSlice { end_mask: 1, ..d() };
    assert_eq!(slice(&[-1, -9, 4], &[0, 9, 0], &[1, 3, -2], spec), [None, Some(2), Some(2)]);

    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(6)])).unwrap();
    let thirds = g.split(y, 3, 1).unwrap();
    assert_eq!(shape_of(&g, thirds[2]), [None, Some(2)]);
    let parts = g.split_v(y, &[1, -1], 1).unwrap();
    assert_eq!((shape_of(&g, parts[0]), shape_of(&g, parts[1])), (vec![None, Some(1)], vec![None, Some(5)]));
    let cols = g.unstack(thirds[0], None, 1).unwrap();
    assert_eq!((cols.len(), shape_of(&g, cols[1])), (2, vec![None]));
    let (a, b, c) = (g.constant(0.0f32).unwrap(), g.constant(1.0f32).unwrap(), g.constant(0.25f32).unwrap());
    let r = g.range(a, b, c).unwrap();
    assert_eq!(shape_of(&g, r), [Some(4)]);
    let i0 = g.constant(i32s(&[2], &[0, 5])).unwrap();
    let i1 = g.constant(i32s(&[2, 1], &[2, 3])).unwrap();
    let d0 = g.placeholder(DType::Float32, Shape::partial(&[Some(2), None])).unwrap();
    let d1 = g.placeholder(DType::Float32, Shape::known(&[2, 1, 7])).unwrap();
    let s = g.dynamic_stitch(&[i0, i1], &[d0, d1]).unwrap();
    assert_eq!(shape_of(&g, s), [Some(6), Some(7)]);
}

/// Every output of a multi-output op of constants is known when the graph is built, as TF's shape
/// inference evaluates them: `unstack(shape(x))` gives a reshape a static shape, and a gradient
/// that needs a constant (Transpose's perm) reads the slot it was given.
pub fn multi_output_values() {
    use stepflow::{DType, Shape, grad::gradients};
    let mut g = stepflow::Graph::new();
    let x = g.placeholder(DType::Float64, Shape::known(&[2, 3, 4])).unwrap();
    let s = g.shape_of(x).unwrap();
    let d = g.unstack(s, None, 0).unwrap();
    let rest = g.mul(d[1], d[2]).unwrap();
    let target = g.stack(&[d[0], rest], 0).unwrap();
    let flat = g.reshape_dynamic(x, target).unwrap();
    assert_eq!(shape_of(&g, flat), [Some(2), Some(12)]);
    assert_eq!(g.value_of(d[2]).map(|t| t.to_f64_vec()), Some(vec![4.0]));
    // perms [2, 0, 1] and [1, 2, 0]; y = transpose(x, [1, 2, 0]) is [3, 4, 2]
    let both = g.constant(i32s(&[6], &[2, 0, 1, 1, 2, 0])).unwrap();
    let perms = g.split(both, 2, 0).unwrap();
    let y = g.op("Transpose", stepflow::ops::array::Transpose {}, &[x, perms[1]]).unwrap();
    assert_eq!(shape_of(&g, y), [Some(3), Some(4), Some(2)]);
    let dx = gradients(&mut g, &[y], &[x], None).unwrap()[0].unwrap();
    assert_eq!(shape_of(&g, dx), [Some(2), Some(3), Some(4)]);
}
