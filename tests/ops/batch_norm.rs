//! Fused batch normalization and its gradients on tiny NHWC inputs chosen so the statistics are
//! round numbers, values worked out by hand from TF's formulas (biased variance to normalize,
//! unbiased in the running output).

use super::util::*;
use stepflow::ops::Op;
use stepflow::ops::batch_norm::{FusedBatchNorm, FusedBatchNormV2, FusedBatchNormV3};
use stepflow::ops::batch_norm_grad::{FusedBatchNormGrad, FusedBatchNormGradV2, FusedBatchNormGradV3};
use stepflow::ops::conv::DataFormat;
use stepflow::{Graph, Output, Result, Tensor};

/// x of shape [2, 1, 1, 2]: channel 0 holds 1, 3 (mean 2, biased variance 1), channel 1 holds
/// 2, 6 (mean 4, variance 4); scale [1, 2], offset [0, 1].
fn inputs(mean: &[f32], variance: &[f32]) -> [Tensor; 5] {
    [
        f32s(&[2, 1, 1, 2], &[1., 2., 3., 6.]),
        f32s(&[2], &[1., 2.]),
        f32s(&[2], &[0., 1.]),
        f32s(&[mean.len()], mean),
        f32s(&[variance.len()], variance),
    ]
}

/// Every output of the forward op `name`.
fn run(name: &'static str, op: impl Op + Clone, inputs: [Tensor; 5]) -> Result<Vec<Tensor>> {
    eval(move |g| {
        let xs: Vec<Output> = inputs.iter().map(|t| feed(g, t.clone())).collect::<Result<_>>()?;
        let y = g.op(name, op.clone(), &xs)?;
        let n = g.node(y.node).outputs().len() as u32;
        Ok((0..n).map(|slot| Output { node: y.node, slot }).collect())
    })
}

/// Checks the five outputs every version shares: y, the running mean and variance, the
/// reserve spaces.
fn check(out: &[Tensor], y: &[f64], mean: &[f64], variance: &[f64], saved: [&[f64]; 2]) {
    assert_close(&out[0], &[2, 1, 1, 2], y);
    assert_close(&out[1], &[2], mean);
    assert_close(&out[2], &[2], variance);
    assert_close(&out[3], &[2], saved[0]);
    assert_close(&out[4], &[2], saved[1]);
}

pub fn fused_batch_norm_v3() {
    // Normalized: channel 0 (x - 2)/1 = -1, 1; channel 1 (x - 4)/2 · 2 + 1 = -1, 3. The running
    // variance is unbiased: 1·2/1, 4·2/1.
    let op = FusedBatchNormV3 { epsilon: 0.0, ..FusedBatchNormV3::default() };
    let out = run("FusedBatchNormV3", op.clone(), inputs(&[], &[])).unwrap();
    check(&out, &[-1., -1., 1., 3.], &[2., 4.], &[2., 8.], [&[2., 4.], &[1., 4.]]);
    assert_close(&out[5], &[], &[0.]);
    // Averaging with factor 0.5 into mean [0, 0] and variance [1, 1].
    let avg = FusedBatchNormV3 { exponential_avg_factor: 0.5, ..op.clone() };
    let out = run("FusedBatchNormV3", avg.clone(), inputs(&[0., 0.], &[1., 1.])).unwrap();
    check(&out, &[-1., -1., 1., 3.], &[1., 2.], &[1.5, 4.5], [&[2., 4.], &[1., 4.]]);
    assert!(run("FusedBatchNormV3", avg, inputs(&[], &[])).is_err(), "averaging needs the running statistics");
    // Inference on the batch's own statistics gives the same y; they pass through.
    let inference = FusedBatchNormV3 { is_training: false, ..op.clone() };
    let out = run("FusedBatchNormV3", inference.clone(), inputs(&[2., 4.], &[1., 4.])).unwrap();
    check(&out, &[-1., -1., 1., 3.], &[2., 4.], &[1., 4.], [&[0., 0.], &[0., 0.]]);
    // epsilon 5 on variance 4: (x - 4)/3 · 2 + 1.
    let eps = FusedBatchNormV3 { epsilon: 5.0, ..inference.clone() };
    let out = run("FusedBatchNormV3", eps, inputs(&[2., 4.], &[-4., 4.])).unwrap();
    assert_close(&out[0], &[2, 1, 1, 2], &[-1., -1. / 3., 1., 7. / 3.]);
    assert!(run("FusedBatchNormV3", inference, inputs(&[], &[])).is_err(), "inference needs mean and variance");
    let nchw = FusedBatchNormV3 { data_format: DataFormat::Nchw, ..op.clone() };
    assert!(run("FusedBatchNormV3", nchw, inputs(&[], &[])).is_err());
    let [x, _, offset, mean, variance] = inputs(&[], &[]);
    assert!(run("FusedBatchNormV3", op, [x, f32s(&[3], &[1., 1., 1.]), offset, mean, variance]).is_err());
}

/// The first two versions: FusedBatchNormV3 without its last output.
pub fn fused_batch_norm_v1_v2() {
    let v1 = FusedBatchNorm { epsilon: 0.0, ..FusedBatchNorm::default() };
    let v2 = FusedBatchNormV2 { epsilon: 0.0, exponential_avg_factor: 0.5, ..FusedBatchNormV2::default() };
    let out = run("FusedBatchNorm", v1, inputs(&[], &[])).unwrap();
    assert_eq!(out.len(), 5);
    check(&out, &[-1., -1., 1., 3.], &[2., 4.], &[2., 8.], [&[2., 4.], &[1., 4.]]);
    let out = run("FusedBatchNormV2", v2, inputs(&[0., 0.], &[1., 1.])).unwrap();
    assert_eq!(out.len(), 5);
    check(&out, &[-1., -1., 1., 3.], &[1., 2.], &[1.5, 4.5], [&[2., 4.], &[1., 4.]]);
}

/// x of shape [3, 1, 1, 1] holding 0, 0, 6 (mean 2, deviations -2, -2, 4, biased variance 8),
/// epsilon 1 (so 1/σ = 1/3), dy 1, 2, 3, scale 3.
/// The mean and variance inputs are the batch's, which in inference stand for the population's.
fn grad_run(name: &'static str, op: impl Op + Clone, v3: bool) -> Result<Vec<Tensor>> {
    let mut inputs = vec![
        f32s(&[3, 1, 1, 1], &[1., 2., 3.]),
        f32s(&[3, 1, 1, 1], &[0., 0., 6.]),
        f32s(&[1], &[3.]),
        f32s(&[1], &[2.]),
        f32s(&[1], &[8.]),
    ];
    if v3 {
        inputs.push(Tensor::scalar(0.0f32));
    }
    eval(move |g| {
        let xs: Vec<Output> = inputs.iter().map(|t| feed(g, t.clone())).collect::<Result<_>>()?;
        let y = g.op(name, op.clone(), &xs)?;
        Ok((0..5).map(|slot| Output { node: y.node, slot }).collect())
    })
}

/// Training: dx = scale/σ · (dy - mean(dy) - dev · mean(dy · dev)/σ²) with mean(dy) = 2,
/// mean(dy · dev) = 6/3 = 2: 3/3 · ([-1, 0, 1] - [-2, -2, 4] · 2/9) = [-5/9, 4/9, 1/9];
/// dscale = Σ dy · dev / σ = 6/3; doffset = Σ dy. Inference: dx = dy · scale/σ = dy.
fn check_grads(out: &[Tensor], training: bool) {
    let dx: &[f64] = if training { &[-5. / 9., 4. / 9., 1. / 9.] } else { &[1., 2., 3.] };
    assert_close(&out[0], &[3, 1, 1, 1], dx);
    assert_close(&out[1], &[1], &[2.]);
    assert_close(&out[2], &[1], &[6.]);
    assert_close(&out[3], &[0], &[]);
    assert_close(&out[4], &[0], &[]);
}

pub fn fused_batch_norm_grad_v3() {
    for training in [true, false] {
        let op = FusedBatchNormGradV3 { epsilon: 1.0, data_format: DataFormat::Nhwc, is_training: training };
        check_grads(&grad_run("FusedBatchNormGradV3", op, true).unwrap(), training);
    }
    let nchw = FusedBatchNormGradV3 { epsilon: 1.0, data_format: DataFormat::Nchw, is_training: true };
    assert!(grad_run("FusedBatchNormGradV3", nchw, true).is_err());
}

pub fn fused_batch_norm_grad_v1_v2() {
    for training in [true, false] {
        let v1 = FusedBatchNormGrad { epsilon: 1.0, data_format: DataFormat::Nhwc, is_training: training };
        check_grads(&grad_run("FusedBatchNormGrad", v1, false).unwrap(), training);
        let v2 = FusedBatchNormGradV2 { epsilon: 1.0, data_format: DataFormat::Nhwc, is_training: training };
        check_grads(&grad_run("FusedBatchNormGradV2", v2, false).unwrap(), training);
    }
}

/// Shapes with an unknown batch, as imported graphs have them; the gradient of a training step
/// is FusedBatchNormGradV3 on the reserve spaces, and a gradient through that is an error
/// naming the node.
#[test]
fn batch_norm_shapes_and_gradient_graph() {
    let mut g = Graph::new();
    let x = g.placeholder(stepflow::DType::Float32, stepflow::Shape::partial(&[None, Some(4), Some(4), None])).unwrap();
    let scale = g.placeholder(stepflow::DType::Float32, stepflow::Shape::known(&[8])).unwrap();
    let offset = g.constant_vec(vec![0.0f32; 8]).unwrap();
    let none = g.constant_vec(Vec::<f32>::new()).unwrap();
    let bn = g.fused_batch_norm(x, scale, offset, none, none, FusedBatchNormV3::default()).unwrap();
    assert_eq!(g.spec(bn.y).shape.to_string(), "[?,4,4,8]");
    assert_eq!(g.spec(bn.batch_variance).shape.to_string(), "[8]");
    assert_eq!(g.spec(bn.reserve_space_3).shape.to_string(), "[]");
    let d = stepflow::grad::gradients(&mut g, &[bn.y], &[x, scale], None).unwrap();
    let dx = d[0].unwrap();
    assert_eq!(g.node(dx.node).op().op_type(), "FusedBatchNormGradV3");
    assert_eq!(g.spec(dx).shape.to_string(), "[?,4,4,8]");
    let err = stepflow::grad::gradients(&mut g, &[dx], &[x], None).unwrap_err().to_string();
    assert!(err.contains("FusedBatchNormGradV3"), "{err}");
}
