//! Activations and cross-entropies. Expected values computed by hand from the definitions
//! (e.g. softplus(1) = ln(1 + e) = 1.3132616875).

use super::math::un;
use super::tiles::eval_tiled;
use super::util::*;
use stepflow::{Graph, Output};

pub fn relu() {
    assert_close(&un(f32s(&[3], &[-1., 0., 2.]), Graph::relu), &[3], &[0., 0., 2.]);
}

pub fn relu_grad() {
    let inputs = [f32s(&[3], &[5., 5., 5.]), f32s(&[3], &[-1., 0., 2.])];
    let t = eval_tiled(&inputs, |g, x| g.op("ReluGrad", stepflow::ops::nn::ReluGrad {}, x)).unwrap();
    assert_close(&t, &[3], &[0., 0., 5.]);
}

pub fn tanh_grad() {
    // dy · (1 − y²): 2·(1 − 0.25), 4·(1 − 0), −1·(1 − 0.81)
    let t = eval1(|g| {
        let y = feed(g, f32s(&[3], &[0.5, 0., -0.9]))?;
        let dy = feed(g, f32s(&[3], &[2., 4., -1.]))?;
        g.op("TanhGrad", stepflow::ops::nn::TanhGrad {}, &[y, dy])
    })
    .unwrap();
    assert_close(&t, &[3], &[1.5, 4., -0.19]);
}

pub fn bias_add() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]))?;
        let b = feed(g, f32s(&[3], &[10., 20., 30.]))?;
        g.bias_add(x, b)
    })
    .unwrap();
    assert_close(&t, &[2, 3], &[11., 22., 33., 14., 25., 36.]);
    // NCHW: the bias runs along axis 1 of a [1, 2, 2] value.
    let t = eval1(|g| {
        let x = feed(g, f32s(&[1, 2, 2], &[1., 2., 3., 4.]))?;
        let b = feed(g, f32s(&[2], &[10., 20.]))?;
        let nchw = stepflow::ops::bias::BiasAdd { data_format: stepflow::ops::conv::DataFormat::Nchw };
        g.op("BiasAdd", nchw, &[x, b])
    })
    .unwrap();
    assert_close(&t, &[1, 2, 2], &[11., 12., 23., 24.]);
    let wrong = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]))?;
        let b = feed(g, f32s(&[2], &[10., 20.]))?;
        g.bias_add(x, b)
    });
    assert!(wrong.is_err(), "a bias of 2 for 3 channels");
}

pub fn bias_add_grad() {
    let t = eval1(|g| {
        let dy = feed(g, f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]))?;
        g.op("BiasAddGrad", stepflow::ops::bias::BiasAddGrad::default(), &[dy])
    })
    .unwrap();
    assert_close(&t, &[3], &[5., 7., 9.]);
}

pub fn relu6() {
    assert_close(&un(f32s(&[3], &[-1., 3., 7.]), Graph::relu6), &[3], &[0., 3., 6.]);
}

pub fn leaky_relu() {
    let leaky =
        |g: &mut stepflow::Graph, x: &[Output]| g.op("LeakyRelu", stepflow::ops::nn::LeakyRelu { alpha: 0.2 }, x);
    assert_close(&eval_tiled(&[f32s(&[2], &[-1., 2.])], leaky).unwrap(), &[2], &[-0.2, 2.]);
}

pub fn elu() {
    assert_close(&un(f64s(&[2], &[-1., 2.]), Graph::elu), &[2], &[-0.6321205588285577, 2.]);
}

pub fn sigmoid() {
    let t = un(f64s(&[4], &[0., 2., -800., 800.]), Graph::sigmoid);
    assert_close(&t, &[4], &[0.5, 0.8807970779778823, 0., 1.]);
}

pub fn tanh() {
    assert_close(&un(f64s(&[2], &[0., 1.]), Graph::tanh), &[2], &[0., 0.7615941559557649]);
}

pub fn softplus() {
    let t = un(f64s(&[4], &[0., 1., -100., 1000.]), Graph::softplus);
    assert_close(&t, &[4], &[std::f64::consts::LN_2, 1.3132616875182228, 3.720075976020836e-44, 1000.]);
}

pub fn softmax() {
    let t = un(f32s(&[2, 3], &[1., 2., 3., 1000., 1000., 1000.]), Graph::softmax);
    let third = 1.0 / 3.0;
    assert_close(&t, &[2, 3], &[0.09003057317, 0.24472847105, 0.66524095577, third, third, third]);
}

pub fn log_softmax() {
    let t = un(f32s(&[1, 3], &[1., 2., 3.]), Graph::log_softmax);
    assert_close(&t, &[1, 3], &[-2.40760596444, -1.40760596444, -0.40760596444]);
}

pub fn softmax_xent() {
    let out = eval(|g| {
        let logits = feed(g, f32s(&[2, 3], &[1., 2., 3., 0., 0., 0.]))?;
        let labels = feed(g, f32s(&[2, 3], &[0., 0., 1., 0.5, 0.5, 0.]))?;
        let loss = g.softmax_cross_entropy_with_logits(labels, logits)?;
        Ok(vec![loss, Output { node: loss.node, slot: 1 }])
    })
    .unwrap();
    assert_close(&out[0], &[2], &[0.40760596444, 1.09861228867]);
    let third = 1.0 / 3.0;
    assert_close(&out[1], &[2, 3], &[0.09003057317, 0.24472847105, -0.33475904423, third - 0.5, third - 0.5, third]);
}

pub fn sparse_softmax_xent() {
    let out = eval(|g| {
        let logits = feed(g, f32s(&[1, 3], &[1., 2., 3.]))?;
        let labels = feed(g, i32s(&[1], &[2]))?;
        let loss = g.sparse_softmax_cross_entropy_with_logits(labels, logits)?;
        Ok(vec![loss, Output { node: loss.node, slot: 1 }])
    })
    .unwrap();
    assert_close(&out[0], &[1], &[0.40760596444]);
    assert_close(&out[1], &[1, 3], &[0.09003057317, 0.24472847105, -0.33475904423]);
    let bad = eval1(|g| {
        let logits = feed(g, f32s(&[1, 3], &[1., 2., 3.]))?;
        let labels = feed(g, i32s(&[1], &[3]))?;
        g.sparse_softmax_cross_entropy_with_logits(labels, logits)
    });
    assert!(bad.is_err(), "an out-of-range label is an error");
}

pub fn sigmoid_xent_composite() {
    let t = eval1(|g| {
        let logits = feed(g, f64s(&[4], &[0., 100., -100., 2.]))?;
        let labels = feed(g, f64s(&[4], &[1., 0., 0., 0.25]))?;
        g.sigmoid_cross_entropy_with_logits(labels, logits)
    })
    .unwrap();
    // z log(1+e^-x) + (1-z) log(1+e^x); at x=2, z=1/4: 2 - 0.5 + ln(1 + e^-2) = 1.62692801104
    assert_close(&t, &[4], &[std::f64::consts::LN_2, 100., 3.720075976020836e-44, 1.6269280110429727]);
}

/// The loss of logits far from zero is computed on the shifted logits, as TF: `ln 3` for three
/// equal logits of 1000, not rounded at the scale of 1000.
pub fn xent_of_large_logits() {
    let out = eval(|g| {
        let logits = feed(g, f32s(&[1, 3], &[1000., 1000., 1000.]))?;
        let labels = feed(g, f32s(&[1, 3], &[0.5, 0.5, 0.]))?;
        let dense = g.softmax_cross_entropy_with_logits(labels, logits)?;
        let ids = feed(g, i32s(&[1], &[1]))?;
        Ok(vec![dense, g.sparse_softmax_cross_entropy_with_logits(ids, logits)?])
    })
    .unwrap();
    assert_close(&out[0], &[1], &[3f64.ln()]);
    assert_close(&out[1], &[1], &[3f64.ln()]);
}

/// Relu and Relu6 pass NaN through, and ReluGrad is `gradients * (features > 0)`, so a NaN or
/// infinite gradient at a non-positive feature is NaN: TF's values.
pub fn relu_nan() {
    let x = f32s(&[3], &[f32::NAN, -1., 7.]);
    assert_close(&un(x.clone(), Graph::relu), &[3], &[f64::NAN, 0., 7.]);
    assert_close(&un(x, Graph::relu6), &[3], &[f64::NAN, 0., 6.]);
    let inputs = [f32s(&[3], &[f32::NAN, f32::INFINITY, 2.]), f32s(&[3], &[-1., 0., f32::NAN])];
    let t = eval_tiled(&inputs, |g, x| g.op("ReluGrad", stepflow::ops::nn::ReluGrad {}, x)).unwrap();
    assert_close(&t, &[3], &[f64::NAN, f64::NAN, 0.]);
}

/// Elu is TF's `exp(x) − 1`, not `expm1`: at −1e-7 in f32, `exp` rounds to 1 − 2⁻²³, so TF's
/// value is −2⁻²³ = −1.1920928955078125e-7 (expm1 would give −1e-7); and −0 stays −0.
pub fn elu_near_zero() {
    let t = un(f32s(&[3], &[-1e-7, -0.0, 1e-7]), Graph::elu);
    // Exact: the two differ by less than the tolerance of `assert_close`.
    assert_eq!(t.to_f64_vec(), vec![-1.1920928955078125e-7, 0., 1e-7_f32 as f64], "{t}");
    assert!(t.to_f64_vec()[1].is_sign_negative(), "Elu(−0) is −0, as TF: {t}");
}
