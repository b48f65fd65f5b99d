//! The fused gradients, losses and pass-throughs of TF's training graphs. Expected values worked
//! out by hand from TF's kernel formulas (e.g. SeluGrad at an output of −0.5 is
//! 2 · (−0.5 + 1.7580993408) = 2.5161986817), including the values at the kinks.

use super::math::un;
use super::tiles::{eval_broadcast, eval_tiled};
use super::util::*;
use stepflow::ops::{fused_grad, nn_grad};
use stepflow::{Graph, Output, Result, Tensor};

/// Runs the fused op `op` on two fed tensors (and on them repeated past the split threshold).
fn pair(op: impl stepflow::ops::Op + Clone, name: &str, a: Tensor, b: Tensor) -> Result<Tensor> {
    eval_tiled(&[a, b], |g, x| g.op(name, op.clone(), x))
}

pub fn relu6_grad() {
    // gradients · (0 < features < 6): 0 at 0 and 6 and at a NaN feature; NaN · 0 is NaN.
    let g = f32s(&[7], &[1., 2., 3., 4., 5., f32::NAN, 7.]);
    let f = f32s(&[7], &[-1., 0., 3., 6., 7., 9., f32::NAN]);
    let t = pair(nn_grad::Relu6Grad {}, "Relu6Grad", g, f).unwrap();
    assert_close(&t, &[7], &[0., 0., 3., 0., 0., f64::NAN, 0.]);
    let t = pair(nn_grad::Relu6Grad {}, "Relu6Grad", i32s(&[3], &[5, 5, 5]), i32s(&[3], &[0, 5, 6])).unwrap();
    assert_exact(&t, &[3], &[0., 5., 0.]);
    let bad = pair(nn_grad::Relu6Grad {}, "Relu6Grad", f32s(&[2], &[1., 2.]), f32s(&[3], &[1., 2., 3.]));
    assert!(bad.is_err(), "gradients and features of different shapes");
}

pub fn elu_grad() {
    // (outputs + 1) · gradients where outputs < 0, else gradients: 2 · 0.5, 2, 2
    let t = pair(nn_grad::EluGrad {}, "EluGrad", f64s(&[3], &[2., 2., 2.]), f64s(&[3], &[-0.5, 0., 1.])).unwrap();
    assert_close(&t, &[3], &[1., 2., 2.]);
}

pub fn selu_grad() {
    // gradients · (outputs + 1.7580993408473769) where outputs < 0, else gradients · 1.0507009873554805
    let t = pair(nn_grad::SeluGrad {}, "SeluGrad", f64s(&[3], &[2., 2., 3.]), f64s(&[3], &[-0.5, 0., 1.])).unwrap();
    assert_close(&t, &[3], &[2.5161986816947538, 2.101401974710961, 3.1521029620664415]);
}

pub fn softplus_grad() {
    // gradients / (e^−features + 1): 1 / 2, 2 / (1/3 + 1), 3 / (3 + 1)
    let f = f64s(&[3], &[0., 3f64.ln(), -(3f64.ln())]);
    let t = pair(nn_grad::SoftplusGrad {}, "SoftplusGrad", f64s(&[3], &[1., 2., 3.]), f).unwrap();
    assert_close(&t, &[3], &[0.5, 1.5, 0.75]);
}

pub fn leaky_relu_grad() {
    // gradients where features > 0, else alpha · gradients (so at 0 too)
    let op = nn_grad::LeakyReluGrad { alpha: 0.25 };
    let t = pair(op, "LeakyReluGrad", f32s(&[3], &[2., 2., 2.]), f32s(&[3], &[-1., 0., 1.])).unwrap();
    assert_close(&t, &[3], &[0.5, 0.5, 2.]);
}

pub fn sigmoid_grad() {
    // dy · y · (1 − y): 4 · 0.5 · 0.5, 8 · 0.25 · 0.75, 3 · 1 · 0
    let t = pair(fused_grad::SigmoidGrad {}, "SigmoidGrad", f32s(&[3], &[0.5, 0.25, 1.]), f32s(&[3], &[4., 8., 3.]))
        .unwrap();
    assert_close(&t, &[3], &[1., 1.5, 0.]);
}

pub fn sqrt_grad() {
    // dy · 0.5 / y: 4 · 0.5 / 2, 1 · 0.5 / 0.5; 0 where dy is 0 (even at y = 0); 1 · 0.5 / 0 = inf
    let y = f32s(&[4], &[2., 0.5, 0., 0.]);
    let t = pair(fused_grad::SqrtGrad {}, "SqrtGrad", y, f32s(&[4], &[4., 1., 0., 1.])).unwrap();
    assert_close(&t, &[4], &[1., 1., 0., f64::INFINITY]);
}

pub fn rsqrt_grad() {
    // dy · (−0.5) · y³: −0.5 · 8, 4 · (−0.5) · 0.125; 0 where dy is 0 (even at y = inf)
    let y = f64s(&[3], &[2., 0.5, f64::INFINITY]);
    let t = pair(fused_grad::RsqrtGrad {}, "RsqrtGrad", y, f64s(&[3], &[1., 4., 0.])).unwrap();
    assert_close(&t, &[3], &[-4., -0.25, 0.]);
}

pub fn reciprocal_grad() {
    // −dy · y²: −4, −4 · 0.25; 0 where dy is 0 (even at y = inf)
    let y = f32s(&[3], &[2., -0.5, f32::INFINITY]);
    let t = pair(fused_grad::ReciprocalGrad {}, "ReciprocalGrad", y, f32s(&[3], &[1., 4., 0.])).unwrap();
    assert_close(&t, &[3], &[-4., -1., 0.]);
}

pub fn selu() {
    // 1.0507009873554805 · x for x >= 0; 1.7580993408473769 · (e^x − 1) below:
    // at −1, 1.7580993408473769 · (−0.6321205588285577)
    let t = un(f64s(&[4], &[-1., 0., 2., -0.0]), Graph::selu);
    assert_close(&t, &[4], &[-1.1113307378125628, 0., 2.101401974710961, 0.]);
    let neg_zero = t.to_f64_vec()[3];
    assert!(neg_zero == 0.0 && neg_zero.is_sign_negative(), "Selu(−0) is −0, as TF: {neg_zero}");
    assert!(eval_tiled(&[i32s(&[1], &[1])], |g, x| g.selu(x[0])).is_err(), "Selu takes floats only");
}

pub fn reciprocal() {
    let t = un(f32s(&[4], &[2., -4., 0., -0.0]), Graph::reciprocal);
    assert_close(&t, &[4], &[0.5, -0.25, f64::INFINITY, f64::NEG_INFINITY]);
    assert!(eval_tiled(&[i32s(&[1], &[1])], |g, x| g.reciprocal(x[0])).is_err(), "TF has no integer kernel");
}

pub fn l2_loss() {
    // (1 + 4 + 9 + 16) / 2; an empty tensor gives 0
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 2], &[1., 2., 3., 4.]))?;
        g.l2_loss(x)
    })
    .unwrap();
    assert_close(&t, &[], &[15.]);
    let t = eval1(|g| {
        let x = feed(g, f64s(&[0, 3], &[]))?;
        g.l2_loss(x)
    })
    .unwrap();
    assert_close(&t, &[], &[0.]);
    let t = eval1(|g| {
        let x = feed(g, f64s(&[], &[-0.5]))?;
        g.l2_loss(x)
    })
    .unwrap();
    assert_close(&t, &[], &[0.125]);
}

pub fn squared_difference() {
    let sd = |g: &mut Graph, x: &[Output]| g.squared_difference(x[0], x[1]);
    let t = eval_broadcast(&[f32s(&[2, 1], &[1., 2.]), f32s(&[3], &[1., 2., 3.])], sd).unwrap();
    assert_close(&t, &[2, 3], &[0., 1., 4., 1., 0., 1.]);
    let t = eval_broadcast(&[i32s(&[2], &[5, -3]), i32s(&[2], &[2, 4])], sd).unwrap();
    assert_exact(&t, &[2], &[9., 49.]);
    // MAX − MIN wraps to −1, whose square is 1 (TF's kernel wraps the same way)
    let t = eval_broadcast(&[i32s(&[1], &[i32::MAX]), i32s(&[1], &[i32::MIN])], sd).unwrap();
    assert_exact(&t, &[1], &[1.]);
    assert!(eval_broadcast(&[f32s(&[2], &[1., 2.]), f32s(&[3], &[1., 2., 3.])], sd).is_err(), "[2] and [3]");
}

pub fn snapshot() {
    let t = eval1(|g| {
        let x = feed(g, bools(&[2], &[true, false]))?;
        g.snapshot(x)
    })
    .unwrap();
    assert_exact(&t, &[2], &[1., 0.]);
    let t = un(f32s(&[2], &[1.5, -0.0]), Graph::snapshot);
    assert!(t.bit_eq(&f32s(&[2], &[1.5, -0.0])), "a copy keeps every bit: {t}");
}

pub fn prevent_gradient() {
    let t = eval1(|g| {
        let x = feed(g, i32s(&[2], &[3, -4]))?;
        g.prevent_gradient(x, "no second derivative")
    })
    .unwrap();
    assert_exact(&t, &[2], &[3., -4.]);
}
