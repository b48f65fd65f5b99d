//! Array and shape ops.

use super::util::*;
use stepflow::{DType, Graph, Shape, Tensor};

fn grid() -> Tensor {
    f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.])
}

pub fn reshape() {
    let t = eval1(|g| {
        let x = feed(g, grid())?;
        g.reshape(x, &[3, -1])
    })
    .unwrap();
    assert_close(&t, &[3, 2], &[1., 2., 3., 4., 5., 6.]);
    assert!(
        eval1(|g| {
            let x = feed(g, grid())?;
            g.reshape(x, &[4, -1])
        })
        .is_err()
    );
}

pub fn transpose() {
    let t = eval1(|g| {
        let x = feed(g, grid())?;
        g.transpose(x, &[1, 0])
    })
    .unwrap();
    assert_close(&t, &[3, 2], &[1., 4., 2., 5., 3., 6.]);
}

pub fn expand_dims() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[3], &[1., 2., 3.]))?;
        g.expand_dims(x, -1)
    })
    .unwrap();
    assert_close(&t, &[3, 1], &[1., 2., 3.]);
}

pub fn squeeze() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 3, 1], &[1., 2., 3.]))?;
        g.squeeze(x, &[])
    })
    .unwrap();
    assert_close(&t, &[3], &[1., 2., 3.]);
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 3, 1], &[1., 2., 3.]))?;
        g.squeeze(x, &[2])
    })
    .unwrap();
    assert_eq!(t.shape(), &[1, 3]);
}

pub fn broadcast_to() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[3], &[1., 2., 3.]))?;
        let s = feed(g, i32s(&[2], &[2, 3]))?;
        g.broadcast_to(x, s)
    })
    .unwrap();
    assert_close(&t, &[2, 3], &[1., 2., 3., 1., 2., 3.]);
}

pub fn tile() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 2], &[1., 2.]))?;
        g.tile(x, &[2, 2])
    })
    .unwrap();
    assert_close(&t, &[2, 4], &[1., 2., 1., 2., 1., 2., 1., 2.]);
    // np.tile(np.arange(6.).reshape(2, 3), (2, 2)); and a zero multiple empties an axis
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[0., 1., 2., 3., 4., 5.]))?;
        g.tile(x, &[2, 2])
    })
    .unwrap();
    let row0 = [0., 1., 2., 0., 1., 2.];
    let row1 = [3., 4., 5., 3., 4., 5.];
    assert_close(&t, &[4, 6], &[row0, row1, row0, row1].concat());
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[0., 1., 2., 3., 4., 5.]))?;
        g.tile(x, &[0, 1])
    })
    .unwrap();
    assert_close(&t, &[0, 3], &[]);
}

pub fn pad() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 1], &[7.]))?;
        g.pad(x, &[(1, 0), (0, 2)])
    })
    .unwrap();
    assert_close(&t, &[2, 3], &[0., 0., 0., 7., 0., 0.]);
}

pub fn concat() {
    let t = eval1(|g| {
        let a = feed(g, grid())?;
        let b = feed(g, f32s(&[2, 1], &[7., 8.]))?;
        g.concat(&[a, b], 1)
    })
    .unwrap();
    assert_close(&t, &[2, 4], &[1., 2., 3., 7., 4., 5., 6., 8.]);
    assert!(
        eval1(|g| {
            let a = feed(g, grid())?;
            let b = feed(g, f32s(&[2, 1], &[7., 8.]))?;
            g.concat(&[a, b], 0)
        })
        .is_err()
    );
}

pub fn slice() {
    let t = eval1(|g| {
        let x = feed(g, grid())?;
        g.slice(x, &[0, 1], &[2, -1])
    })
    .unwrap();
    assert_close(&t, &[2, 2], &[2., 3., 5., 6.]);
    assert!(
        eval1(|g| {
            let x = feed(g, grid())?;
            g.slice(x, &[1, 1], &[2, 1])
        })
        .is_err()
    );
}

pub fn gather() {
    let t = eval1(|g| {
        let p = feed(g, f32s(&[3], &[10., 20., 30.]))?;
        let i = feed(g, i32s(&[2], &[2, 0]))?;
        g.gather(p, i, 0)
    })
    .unwrap();
    assert_close(&t, &[2], &[30., 10.]);
    let t = eval1(|g| {
        let p = feed(g, grid())?;
        let i = feed(g, i32s(&[2, 2], &[2, 0, 1, 1]))?;
        g.gather(p, i, 1)
    })
    .unwrap();
    assert_close(&t, &[2, 2, 2], &[3., 1., 2., 2., 6., 4., 5., 5.]);
    assert!(
        eval1(|g| {
            let p = feed(g, f32s(&[3], &[10., 20., 30.]))?;
            let i = feed(g, i32s(&[1], &[3]))?;
            g.gather(p, i, 0)
        })
        .is_err()
    );
}

pub fn unsorted_segment_sum() {
    let t = eval1(|g| {
        let d = feed(g, f32s(&[4], &[1., 2., 3., 4.]))?;
        let ids = feed(g, i32s(&[4], &[0, 1, 0, 1]))?;
        let n = feed(g, Tensor::scalar(2i32))?;
        g.op("UnsortedSegmentSum", stepflow::ops::array::UnsortedSegmentSum {}, &[d, ids, n])
    })
    .unwrap();
    assert_close(&t, &[2], &[4., 6.]);
}

pub fn one_hot() {
    let t = eval1(|g| {
        let i = feed(g, i32s(&[3], &[0, 2, 5]))?;
        g.one_hot(i, 3, DType::Float32)
    })
    .unwrap();
    assert_close(&t, &[3, 3], &[1., 0., 0., 0., 0., 1., 0., 0., 0.]);
}

pub fn shape_size_rank() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)])).unwrap();
    let (s, n, r) = (g.shape_of(x).unwrap(), g.size_of(x).unwrap(), g.rank_of(x).unwrap());
    let sess = session(g);
    let out = sess.run(&[(x, grid())], &[s, n, r], &[]).unwrap();
    assert_exact(&out[0], &[2], &[2., 3.]);
    assert_exact(&out[1], &[], &[6.]);
    assert_exact(&out[2], &[], &[2.]);
}

pub fn fill() {
    let t = eval1(|g| {
        let d = feed(g, i32s(&[2], &[2, 2]))?;
        let v = feed(g, Tensor::scalar(7.0f64))?;
        g.fill(d, v)
    })
    .unwrap();
    assert_close(&t, &[2, 2], &[7., 7., 7., 7.]);
}

pub fn zeros_ones_like() {
    let out = eval(|g| {
        let x = feed(g, i32s(&[2], &[5, 6]))?;
        Ok(vec![g.zeros_like(x)?, g.ones_like(x)?])
    })
    .unwrap();
    assert_exact(&out[0], &[2], &[0., 0.]);
    assert_exact(&out[1], &[2], &[1., 1.]);
}

/// Both outputs of `BroadcastGradientArgs(a, b)`, the shapes fed.
fn broadcast_gradient_args_of(a: &[i32], b: &[i32]) -> Vec<Tensor> {
    eval(|g| {
        let x = feed(g, i32s(&[a.len()], a))?;
        let y = feed(g, i32s(&[b.len()], b))?;
        let n = g.add_node(
            stepflow::NodeName::Default("bga"),
            stepflow::ops::array::BroadcastGradientArgs {},
            &[x, y],
            &[],
        )?;
        Ok(vec![stepflow::Output { node: n, slot: 0 }, stepflow::Output { node: n, slot: 1 }])
    })
    .unwrap()
}

pub fn broadcast_gradient_args() {
    let args = broadcast_gradient_args_of;
    let r = args(&[2, 3], &[3]);
    assert_exact(&r[0], &[0], &[]);
    assert_exact(&r[1], &[1], &[0.]);
    let r = args(&[2, 1], &[1, 3]);
    assert_exact(&r[0], &[1], &[1.]);
    assert_exact(&r[1], &[1], &[0.]);
}

pub fn pack() {
    let t = eval1(|g| {
        let a = feed(g, i32s(&[2], &[1, 2]))?;
        let b = feed(g, i32s(&[2], &[3, 4]))?;
        g.stack(&[a, b], 1)
    })
    .unwrap();
    assert_exact(&t, &[2, 2], &[1.0, 3.0, 2.0, 4.0]);
    let t = eval1(|g| {
        let a = feed(g, i32s(&[2], &[1, 2]))?;
        let b = feed(g, i32s(&[2], &[3, 4]))?;
        g.stack(&[a, b], -2)
    })
    .unwrap();
    assert_exact(&t, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let mismatched = eval1(|g| {
        let a = feed(g, i32s(&[2], &[1, 2]))?;
        let b = feed(g, i32s(&[3], &[3, 4, 5]))?;
        g.stack(&[a, b], 0)
    });
    assert!(mismatched.is_err(), "[2] and [3] do not stack");
}

/// Squeezing every size-1 dimension of a shape with unknown dimensions builds, with unknown rank
/// (as TF), and the kernel squeezes what the fed value has.
pub fn squeeze_unknown_dims() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::unknown_dims(3)).unwrap();
    let y = g.squeeze(x, &[]).unwrap();
    assert_eq!(g.spec(y).shape, Shape::unknown());
    let s = session(g);
    let out = s.run(&[(x, f32s(&[1, 2, 1], &[1., 2.]))], &[y], &[]).unwrap();
    assert_close(&out[0], &[2], &[1., 2.]);
}

/// As TF, a row with a negative segment id is dropped; an id past `num_segments` is an error.
pub fn segment_sum_drops_negative_ids() {
    let sum = |ids: &[i32]| {
        let ids = ids.to_vec();
        eval1(move |g| {
            let d = feed(g, f32s(&[4], &[1., 2., 3., 4.]))?;
            let ids = feed(g, i32s(&[4], &ids))?;
            let n = feed(g, Tensor::scalar(2i32))?;
            g.op("UnsortedSegmentSum", stepflow::ops::array::UnsortedSegmentSum {}, &[d, ids, n])
        })
    };
    assert_close(&sum(&[0, -1, 1, -5]).unwrap(), &[2], &[1., 3.]);
    assert!(sum(&[0, 2, 1, 1]).is_err(), "id 2 of 2 segments");
}

/// TF's BroadcastGradientArgs: an axis of size 1 in both shapes is reduced in both, and equal
/// shapes need no reduction at all.
pub fn broadcast_gradient_args_of_ones() {
    let args = broadcast_gradient_args_of;
    let r = args(&[1, 1], &[1]);
    assert_exact(&r[0], &[2], &[0., 1.]);
    assert_exact(&r[1], &[2], &[0., 1.]);
    let r = args(&[2, 1], &[2, 1]);
    assert_exact(&r[0], &[0], &[]);
    assert_exact(&r[1], &[0], &[]);
}
