//! The gradient check: every differentiable op's symbolic gradient against central finite
//! differences in f64, on random values and several shapes (broadcasting, unknown dimensions).
//! [`CHECKS`] and [`NOT_DIFFERENTIABLE`] together must name every registered op, so an op added
//! later cannot skip the check.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::grad::gradients;
use stepflow::ops::OP_TYPES;
use stepflow::ops::array::{StridedSlice, StridedSliceGrad};
use stepflow::ops::avg_pool::AvgPoolGrad;
use stepflow::ops::batch_norm::{FusedBatchNorm, FusedBatchNormV2, FusedBatchNormV3};
use stepflow::ops::conv::{DataFormat, Padding};
use stepflow::ops::conv_attrs::PaddingKind;
use stepflow::ops::pool::{MaxPoolGrad, MaxPoolGradGrad};
use stepflow::ops::{fused_grad, nn_grad};
use stepflow::{DType, Graph, Output, Result, Session, Shape, Tensor};

#[path = "gradients/conv.rs"]
mod conv;

/// One input of a check: its shape, the range its values are drawn from, and whether the
/// placeholder declares its dimensions (false: all unknown, exercising dynamic shape paths).
#[derive(Clone, Copy)]
struct In {
    shape: &'static [usize],
    lo: f64,
    hi: f64,
    known: bool,
}

const fn inp(shape: &'static [usize], lo: f64, hi: f64) -> In {
    In { shape, lo, hi, known: true }
}

const fn unknown(shape: &'static [usize], lo: f64, hi: f64) -> In {
    In { shape, lo, hi, known: false }
}

type Build = Box<dyn Fn(&mut Graph, &[Output]) -> Result<Output>>;

/// One gradient check: inputs and the function of them.
struct Check {
    inputs: Vec<In>,
    build: Build,
}

fn c(inputs: &[In], build: impl Fn(&mut Graph, &[Output]) -> Result<Output> + 'static) -> Check {
    Check { inputs: inputs.to_vec(), build: Box::new(build) }
}

const M23: &[usize] = &[2, 3];
const V3: &[usize] = &[3];
const S: &[usize] = &[];

/// Values drawn uniformly from the input's range.
fn values(rng: &mut ChaCha8Rng, i: &In) -> Tensor {
    let n: usize = i.shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| i.lo + (i.hi - i.lo) * rng.random::<f64>()).collect();
    Tensor::from_vec(i.shape, v).unwrap()
}

/// Values with |x| in [lo, hi] and a sign fixed per check (negative here; `inp` covers the
/// positive side), away from kinks at 0.
fn signed(shape: &'static [usize], lo: f64, hi: f64) -> In {
    In { shape, lo: -hi, hi: -lo, known: true }
}

fn pos(shape: &'static [usize]) -> In {
    inp(shape, 0.5, 2.0)
}

fn any(shape: &'static [usize]) -> In {
    inp(shape, -2.0, 2.0)
}

/// Op type → its checks.
fn checks() -> Vec<(&'static str, Vec<Check>)> {
    vec![
        ("AddV2", binary_checks(|g, x| g.add(x[0], x[1]), any, any)),
        ("Sub", binary_checks(|g, x| g.sub(x[0], x[1]), any, any)),
        ("Mul", binary_checks(|g, x| g.mul(x[0], x[1]), any, any)),
        ("RealDiv", binary_checks(|g, x| g.div(x[0], x[1]), any, pos)),
        ("Pow", binary_checks(|g, x| g.pow(x[0], x[1]), pos, any)),
        ("FloorMod", vec![c(&[inp(M23, 0.1, 0.9), inp(V3, 1.5, 1.6)], |g, x| g.floor_mod(x[0], x[1]))]),
        (
            "Maximum",
            vec![
                c(&[inp(M23, 0.0, 1.0), inp(V3, 1.5, 2.5)], |g, x| g.maximum(x[0], x[1])),
                c(&[inp(M23, 1.5, 2.5), inp(V3, 0.0, 1.0)], |g, x| g.maximum(x[0], x[1])),
            ],
        ),
        (
            "Minimum",
            vec![
                c(&[inp(M23, 0.0, 1.0), inp(V3, 1.5, 2.5)], |g, x| g.minimum(x[0], x[1])),
                c(&[inp(M23, 1.5, 2.5), inp(S, 0.0, 1.0)], |g, x| g.minimum(x[0], x[1])),
            ],
        ),
        ("AddN", vec![c(&[inp(M23, -1.0, 1.0), inp(M23, -1.0, 1.0), inp(M23, -1.0, 1.0)], |g, x| g.add_n(x))]),
        ("Neg", vec![c(&[any(M23)], |g, x| g.neg(x[0]))]),
        ("Abs", vec![c(&[signed(M23, 0.2, 2.0)], |g, x| g.abs(x[0]))]),
        ("Square", vec![c(&[any(M23)], |g, x| g.square(x[0]))]),
        ("Sqrt", vec![c(&[pos(M23)], |g, x| g.sqrt(x[0]))]),
        ("Rsqrt", vec![c(&[pos(M23)], |g, x| g.rsqrt(x[0]))]),
        ("Exp", vec![c(&[any(M23)], |g, x| g.exp(x[0]))]),
        ("Log", vec![c(&[pos(M23)], |g, x| g.log(x[0]))]),
        ("Log1p", vec![c(&[inp(M23, -0.5, 2.0)], |g, x| g.log1p(x[0]))]),
        ("Sin", vec![c(&[any(M23)], |g, x| g.sin(x[0]))]),
        ("Cos", vec![c(&[any(M23)], |g, x| g.cos(x[0]))]),
        (
            "Cast",
            vec![c(&[any(M23)], |g, x| g.op("Cast", stepflow::ops::unary::Cast { dtype: DType::Float64 }, &[x[0]]))],
        ),
        ("Identity", vec![c(&[any(M23)], |g, x| g.identity(x[0]))]),
        ("PlaceholderWithDefault", vec![c(&[any(M23)], |g, x| g.placeholder_with_default(x[0], Shape::unknown()))]),
        ("Relu", vec![c(&[signed(M23, 0.2, 2.0)], |g, x| g.relu(x[0]))]),
        (
            "Relu6",
            vec![c(&[inp(&[2, 2], 0.3, 5.7)], |g, x| g.relu6(x[0])), c(&[inp(V3, 6.3, 8.0)], |g, x| g.relu6(x[0]))],
        ),
        (
            "LeakyRelu",
            vec![c(&[signed(M23, 0.2, 2.0)], |g, x| {
                g.op("LeakyRelu", stepflow::ops::nn::LeakyRelu { alpha: 0.3 }, &[x[0]])
            })],
        ),
        ("Elu", vec![c(&[signed(M23, 0.2, 2.0)], |g, x| g.elu(x[0]))]),
        ("Sigmoid", vec![c(&[any(M23)], |g, x| g.sigmoid(x[0]))]),
        ("Tanh", vec![c(&[any(M23)], |g, x| g.tanh(x[0]))]),
        (
            "TanhGrad",
            vec![c(&[inp(M23, -0.9, 0.9), any(M23)], |g, x| {
                g.op("TanhGrad", stepflow::ops::nn::TanhGrad {}, &[x[0], x[1]])
            })],
        ),
        ("BiasAdd", vec![c(&[any(M23), any(V3)], |g, x| g.bias_add(x[0], x[1]))]),
        (
            "BiasAddGrad",
            vec![c(&[any(M23)], |g, x| g.op("BiasAddGrad", stepflow::ops::bias::BiasAddGrad::default(), &[x[0]]))],
        ),
        ("Pack", vec![c(&[any(V3), any(V3)], |g, x| g.stack(x, 1))]),
        ("Softplus", vec![c(&[any(M23)], |g, x| g.softplus(x[0]))]),
        (
            "ReluGrad",
            vec![c(&[any(M23), signed(M23, 0.2, 2.0)], |g, x| {
                g.op("ReluGrad", stepflow::ops::nn::ReluGrad {}, &[x[0], x[1]])
            })],
        ),
        ("Softmax", vec![c(&[any(M23)], |g, x| g.softmax(x[0]))]),
        ("LogSoftmax", vec![c(&[any(M23)], |g, x| g.log_softmax(x[0]))]),
        // TF's gradient (softmax − labels) is the derivative when each label row sums to 1, as
        // TF requires: the labels here are a softmax of the second input.
        (
            "SoftmaxCrossEntropyWithLogits",
            vec![c(&[any(M23), any(M23)], |g, x| {
                let labels = g.softmax(x[1])?;
                g.softmax_cross_entropy_with_logits(labels, x[0])
            })],
        ),
        (
            "SparseSoftmaxCrossEntropyWithLogits",
            vec![c(&[any(M23)], |g, x| {
                let labels = g.constant(Tensor::from_vec(&[2], vec![2i32, 0])?)?;
                g.sparse_softmax_cross_entropy_with_logits(labels, x[0])
            })],
        ),
        (
            "MatMul",
            vec![
                c(&[any(&[2, 3]), any(&[3, 4])], |g, x| g.matmul_t(x[0], x[1], false, false)),
                c(&[any(&[3, 2]), any(&[3, 4])], |g, x| g.matmul_t(x[0], x[1], true, false)),
                c(&[any(&[2, 3]), any(&[4, 3])], |g, x| g.matmul_t(x[0], x[1], false, true)),
                c(&[any(&[3, 2]), any(&[4, 3])], |g, x| g.matmul_t(x[0], x[1], true, true)),
                c(&[unknown(&[2, 3], -2.0, 2.0), any(&[3, 4])], |g, x| g.matmul(x[0], x[1])),
            ],
        ),
        ("Sum", reduce_checks(|g, x, a, k| g.reduce_sum(x, a, k), any)),
        ("Mean", reduce_checks(|g, x, a, k| g.reduce_mean(x, a, k), any)),
        ("Max", reduce_checks(|g, x, a, k| g.reduce_max(x, a, k), any)),
        ("Min", reduce_checks(|g, x, a, k| g.reduce_min(x, a, k), any)),
        ("Prod", reduce_checks(|g, x, a, k| g.reduce_prod(x, a, k), pos)),
        (
            "Reshape",
            vec![
                c(&[any(M23)], |g, x| g.reshape(x[0], &[3, -1])),
                c(&[unknown(M23, -1.0, 1.0)], |g, x| g.reshape(x[0], &[-1])),
            ],
        ),
        ("Transpose", vec![c(&[any(&[2, 3, 2])], |g, x| g.transpose(x[0], &[2, 0, 1]))]),
        ("ExpandDims", vec![c(&[any(M23)], |g, x| g.expand_dims(x[0], 1))]),
        ("Squeeze", vec![c(&[any(&[2, 1, 3])], |g, x| g.squeeze(x[0], &[]))]),
        (
            "BroadcastTo",
            vec![c(&[any(&[2, 1])], |g, x| {
                let s = g.constant_vec(vec![3i32, 2, 4])?;
                g.broadcast_to(x[0], s)
            })],
        ),
        ("Tile", vec![c(&[any(M23)], |g, x| g.tile(x[0], &[2, 1]))]),
        ("Pad", vec![c(&[any(M23)], |g, x| g.pad(x[0], &[(1, 0), (0, 2)]))]),
        (
            "ConcatV2",
            vec![
                c(&[any(M23), any(&[2, 2])], |g, x| g.concat(&[x[0], x[1]], 1)),
                c(&[any(M23), any(&[1, 3])], |g, x| g.concat(&[x[0], x[1]], 0)),
            ],
        ),
        (
            "Slice",
            vec![
                c(&[any(&[3, 4])], |g, x| g.slice(x[0], &[1, 0], &[2, 3])),
                c(&[unknown(&[3, 4], -1.0, 1.0)], |g, x| g.slice(x[0], &[0, 1], &[-1, 2])),
            ],
        ),
        (
            "GatherV2",
            vec![
                c(&[any(&[4, 2])], |g, x| {
                    let i = g.constant(Tensor::from_vec(&[3], vec![3i32, 0, 3])?)?;
                    g.gather(x[0], i, 0)
                }),
                c(&[any(&[2, 3, 2])], |g, x| {
                    let i = g.constant(Tensor::from_vec(&[2, 2], vec![2i64, 2, 0, 1])?)?;
                    g.gather(x[0], i, 1)
                }),
            ],
        ),
        (
            "UnsortedSegmentSum",
            vec![
                c(&[any(&[4, 2])], |g, x| {
                    let ids = g.constant(Tensor::from_vec(&[4], vec![1i32, 0, 1, 2])?)?;
                    let n = g.constant(3i32)?;
                    g.op("UnsortedSegmentSum", stepflow::ops::array::UnsortedSegmentSum {}, &[x[0], ids, n])
                }),
                // A negative id drops its row, which then has no gradient.
                c(&[any(&[4, 2])], |g, x| {
                    let ids = g.constant(Tensor::from_vec(&[4], vec![1i32, -1, 0, 2])?)?;
                    let n = g.constant(3i32)?;
                    g.op("UnsortedSegmentSum", stepflow::ops::array::UnsortedSegmentSum {}, &[x[0], ids, n])
                }),
            ],
        ),
        (
            "Fill",
            vec![c(&[any(S)], |g, x| {
                let d = g.constant_vec(vec![2i32, 3])?;
                g.fill(d, x[0])
            })],
        ),
        (
            "Select",
            vec![c(&[any(M23), any(M23)], |g, x| {
                let cond = g.constant(Tensor::from_vec(&[2], vec![true, false])?)?;
                g.op("Select", stepflow::ops::compare::Select {}, &[cond, x[0], x[1]])
            })],
        ),
        (
            "SelectV2",
            vec![c(&[any(M23), any(V3)], |g, x| {
                let cond = g.constant(Tensor::from_vec(&[2, 1], vec![true, false])?)?;
                g.select(cond, x[0], x[1])
            })],
        ),
        // The fused gradients of TF's training graphs, each differentiated again, and the losses.
        (
            "Relu6Grad",
            vec![
                c(&[any(M23), inp(M23, 0.3, 5.7)], |g, x| g.op("Relu6Grad", nn_grad::Relu6Grad {}, x)),
                c(&[any(V3), inp(V3, 6.3, 8.0)], |g, x| g.op("Relu6Grad", nn_grad::Relu6Grad {}, x)),
            ],
        ),
        (
            "EluGrad",
            vec![
                c(&[any(M23), inp(M23, -0.9, -0.1)], |g, x| g.op("EluGrad", nn_grad::EluGrad {}, x)),
                c(&[any(M23), inp(M23, 0.2, 2.0)], |g, x| g.op("EluGrad", nn_grad::EluGrad {}, x)),
            ],
        ),
        (
            "SeluGrad",
            vec![
                c(&[any(M23), inp(M23, -1.5, -0.1)], |g, x| g.op("SeluGrad", nn_grad::SeluGrad {}, x)),
                c(&[any(M23), inp(M23, 0.2, 2.0)], |g, x| g.op("SeluGrad", nn_grad::SeluGrad {}, x)),
            ],
        ),
        ("SoftplusGrad", vec![c(&[any(M23), any(M23)], |g, x| g.op("SoftplusGrad", nn_grad::SoftplusGrad {}, x))]),
        (
            "LeakyReluGrad",
            vec![
                c(&[any(M23), signed(M23, 0.2, 2.0)], |g, x| {
                    g.op("LeakyReluGrad", nn_grad::LeakyReluGrad { alpha: 0.3 }, x)
                }),
                c(&[any(M23), pos(M23)], |g, x| g.op("LeakyReluGrad", nn_grad::LeakyReluGrad { alpha: 0.3 }, x)),
            ],
        ),
        (
            "SigmoidGrad",
            vec![c(&[inp(M23, 0.1, 0.9), any(M23)], |g, x| g.op("SigmoidGrad", fused_grad::SigmoidGrad {}, x))],
        ),
        ("SqrtGrad", vec![c(&[pos(M23), any(M23)], |g, x| g.op("SqrtGrad", fused_grad::SqrtGrad {}, x))]),
        ("RsqrtGrad", vec![c(&[pos(M23), any(M23)], |g, x| g.op("RsqrtGrad", fused_grad::RsqrtGrad {}, x))]),
        (
            "ReciprocalGrad",
            vec![c(&[any(M23), any(M23)], |g, x| g.op("ReciprocalGrad", fused_grad::ReciprocalGrad {}, x))],
        ),
        ("Selu", vec![c(&[signed(M23, 0.2, 2.0)], |g, x| g.selu(x[0])), c(&[pos(M23)], |g, x| g.selu(x[0]))]),
        (
            "Reciprocal",
            vec![c(&[pos(M23)], |g, x| g.reciprocal(x[0])), c(&[signed(M23, 0.5, 2.0)], |g, x| g.reciprocal(x[0]))],
        ),
        ("L2Loss", vec![c(&[any(M23)], |g, x| g.l2_loss(x[0])), c(&[unknown(M23, -2.0, 2.0)], |g, x| g.l2_loss(x[0]))]),
        ("SquaredDifference", binary_checks(|g, x| g.squared_difference(x[0], x[1]), any, any)),
        (
            "Unpack",
            vec![
                c(&[any(M23)], |g, x| {
                    let cols = g.unstack(x[0], Some(3), 1)?;
                    g.stack(&cols, 0)
                }),
                // Only one output used: the others' gradients are zeros.
                c(&[unknown(M23, -1.0, 1.0)], |g, x| Ok(g.unstack(x[0], Some(2), 0)?[1])),
            ],
        ),
        (
            "StridedSlice",
            vec![
                c(&[any(&[3, 4])], |g, x| {
                    let spec = StridedSlice { begin_mask: 1, end_mask: 3, ..StridedSlice::default() };
                    g.strided_slice(x[0], &[0, 1], &[0, 0], &[-1, 2], spec)
                }),
                c(&[any(&[3, 4, 2])], |g, x| {
                    let spec = StridedSlice {
                        ellipsis_mask: 1,
                        new_axis_mask: 2,
                        shrink_axis_mask: 4,
                        ..StridedSlice::default()
                    };
                    g.strided_slice(x[0], &[0, 0, -1], &[0, 0, 0], &[1, 1, 1], spec)
                }),
                c(&[unknown(&[3, 4], -1.0, 1.0)], |g, x| {
                    let spec = StridedSlice { shrink_axis_mask: 2, ..StridedSlice::default() };
                    g.strided_slice(x[0], &[1, -1], &[3, 0], &[1, 1], spec)
                }),
            ],
        ),
        (
            "StridedSliceGrad",
            vec![c(&[any(&[3, 2])], |g, x| {
                let shape = g.constant_vec(vec![3i32, 4])?;
                let (b, e, s) =
                    (g.constant_vec(vec![0i32, 1])?, g.constant_vec(vec![0i32, 0])?, g.constant_vec(vec![-1i32, 2])?);
                let spec = StridedSliceGrad { begin_mask: 1, end_mask: 3, ..StridedSliceGrad::default() };
                g.op("StridedSliceGrad", spec, &[shape, b, e, s, x[0]])
            })],
        ),
        (
            "DynamicStitch",
            vec![c(&[any(&[2, 2]), any(&[1, 2, 2])], |g, x| {
                let i0 = g.constant(Tensor::from_vec(&[2], vec![0i32, 3])?)?;
                let i1 = g.constant(Tensor::from_vec(&[1, 2], vec![2i32, 1])?)?;
                g.dynamic_stitch(&[i0, i1], &[x[0], x[1]])
            })],
        ),
        (
            "Split",
            vec![
                c(&[any(&[2, 4])], |g, x| {
                    let halves = g.split(x[0], 2, 1)?;
                    g.mul(halves[0], halves[1])
                }),
                c(&[unknown(&[4, 3], -1.0, 1.0)], |g, x| Ok(g.split(x[0], 2, -2)?[1])),
            ],
        ),
        (
            "SplitV",
            vec![c(&[any(&[5, 2])], |g, x| {
                let p = g.split_v(x[0], &[2, -1, 1], 0)?;
                let a = g.concat(&[p[2], p[0]], 0)?;
                let b = g.square(p[1])?;
                g.concat(&[a, b], 0)
            })],
        ),
        ("Conv2D", conv::conv2d()),
        ("Conv2DBackpropInput", conv::conv2d_backprop_input()),
        ("Conv2DBackpropFilter", conv::conv2d_backprop_filter()),
        ("DepthwiseConv2dNative", conv::depthwise()),
        ("DepthwiseConv2dNativeBackpropInput", conv::depthwise_backprop_input()),
        ("DepthwiseConv2dNativeBackpropFilter", conv::depthwise_backprop_filter()),
        ("MaxPool", pool_checks(|g, x, k, s, p| g.max_pool(x[0], k, s, p))),
        (
            "MaxPoolGrad",
            vec![
                c(&[any(&[1, 4, 5, 2]), any(&[1, 2, 3, 2])], |g, x| max_grad(g, x, Padding::Same)),
                c(&[any(&[1, 4, 5, 2]), any(&[1, 2, 2, 2])], |g, x| max_grad(g, x, Padding::Valid)),
            ],
        ),
        (
            "MaxPoolGradGrad",
            vec![c(&[any(&[1, 4, 5, 2]), any(&[1, 4, 5, 2])], |g, x| {
                let y = g.max_pool(x[0], [2, 2], [2, 2], Padding::Same)?;
                g.op("MaxPoolGradGrad", max_pool_grad_grad(), &[x[0], y, x[1]])
            })],
        ),
        ("AvgPool", pool_checks(|g, x, k, s, p| g.avg_pool(x[0], k, s, p)).into_iter().take(3).collect()),
        (
            "AvgPoolGrad",
            vec![c(&[any(&[1, 2, 3, 2])], |g, x| {
                let shape = g.constant_vec(vec![1i32, 4, 5, 2])?;
                let op = AvgPoolGrad {
                    ksize: vec![1, 2, 2, 1],
                    strides: vec![1, 2, 2, 1],
                    padding: PaddingKind::Same,
                    data_format: DataFormat::Nhwc,
                };
                g.op("AvgPoolGrad", op, &[shape, x[0]])
            })],
        ),
        ("FusedBatchNormV3", batch_norm_checks("FusedBatchNormV3", v3)),
        ("FusedBatchNorm", batch_norm_checks("FusedBatchNorm", v1)),
        ("FusedBatchNormV2", batch_norm_checks("FusedBatchNormV2", v2)),
        ("Switch", [false, true].into_iter().map(cond_check).collect()),
        ("Merge", [false, true].into_iter().map(cond_check).collect()),
    ]
}

type Pool = fn(&mut Graph, &[Output], [usize; 2], [usize; 2], Padding) -> Result<Output>;

const EXPLICIT: Padding = Padding::Explicit { top: 1, bottom: 0, left: 0, right: 1 };

/// Pooling checks: SAME with an odd window and stride, VALID overlapping, unknown dimensions,
/// and (MaxPool) EXPLICIT.
fn pool_checks(f: Pool) -> Vec<Check> {
    vec![
        c(&[any(&[2, 5, 4, 2])], move |g, x| f(g, x, [3, 2], [2, 1], Padding::Same)),
        c(&[any(&[1, 4, 5, 3])], move |g, x| f(g, x, [2, 3], [1, 2], Padding::Valid)),
        c(&[unknown(&[1, 4, 4, 1], -2.0, 2.0)], move |g, x| f(g, x, [2, 2], [2, 2], Padding::Same)),
        c(&[any(&[1, 4, 5, 2])], move |g, x| f(g, x, [2, 2], [2, 2], EXPLICIT)),
    ]
}

/// MaxPoolGrad on MaxPool's own output, 2x2 windows with stride 2. (Its gradient,
/// MaxPoolGradGrad, has no EXPLICIT padding, as in TF.)
fn max_grad(g: &mut Graph, x: &[Output], padding: Padding) -> Result<Output> {
    let y = g.max_pool(x[0], [2, 2], [2, 2], padding)?;
    let padding = if padding == Padding::Same { PaddingKind::Same } else { PaddingKind::Valid };
    let op = MaxPoolGrad {
        ksize: vec![1, 2, 2, 1],
        strides: vec![1, 2, 2, 1],
        padding,
        explicit_paddings: vec![],
        data_format: DataFormat::Nhwc,
    };
    g.op("MaxPoolGrad", op, &[x[0], y, x[1]])
}

fn max_pool_grad_grad() -> MaxPoolGradGrad {
    MaxPoolGradGrad {
        ksize: vec![1, 2, 2, 1],
        strides: vec![1, 2, 2, 1],
        padding: PaddingKind::Same,
        data_format: DataFormat::Nhwc,
    }
}

fn v3(is_training: bool, exponential_avg_factor: f32, epsilon: f32) -> FusedBatchNormV3 {
    FusedBatchNormV3 { is_training, exponential_avg_factor, epsilon, data_format: DataFormat::Nhwc }
}

fn v1(is_training: bool, exponential_avg_factor: f32, epsilon: f32) -> FusedBatchNorm {
    FusedBatchNorm { is_training, exponential_avg_factor, epsilon, data_format: DataFormat::Nhwc }
}

fn v2(is_training: bool, exponential_avg_factor: f32, epsilon: f32) -> FusedBatchNormV2 {
    FusedBatchNormV2 { is_training, exponential_avg_factor, epsilon, data_format: DataFormat::Nhwc }
}

/// `y` of a batch norm with respect to x, scale and offset: in training (with and without
/// averaging, and with an unknown batch) and in inference, on constant statistics.
fn batch_norm_checks<O: stepflow::ops::Op + Clone>(name: &'static str, op: fn(bool, f32, f32) -> O) -> Vec<Check> {
    let x = any(&[2, 2, 3, 3]);
    let modes = [(true, 1.0, false), (true, 0.3, false), (true, 1.0, true), (false, 1.0, false), (false, 0.5, true)];
    modes
        .into_iter()
        .map(|(training, factor, unknown_batch)| {
            let x = In { known: !unknown_batch, ..x };
            c(&[x, inp(V3, 0.5, 2.0), any(V3)], move |g, xs| {
                let mean = g.constant_vec(vec![0.1f64, -0.2, 0.3])?;
                let variance = g.constant_vec(vec![0.5f64, 1.5, 2.0])?;
                g.op(name, op(training, factor, 0.01), &[xs[0], xs[1], xs[2], mean, variance])
            })
        })
        .collect()
}

/// A TF1 cond on a constant predicate: `taken ? x·y : 3x` through Switch and Merge, so the
/// gradient flows only through the taken branch (and reaches `y` only when it is the true one).
fn cond_check(taken: bool) -> Check {
    c(&[any(M23), any(M23)], move |g, x| {
        let pred = g.constant(taken)?;
        let (xf, xt) = g.switch(x[0], pred)?;
        let (_, yt) = g.switch(x[1], pred)?;
        let three = g.constant(3.0f64)?;
        let plain = g.mul(xf, three)?;
        let product = g.mul(xt, yt)?;
        Ok(g.merge(&[plain, product])?.0)
    })
}

/// Checks of a binary element-wise op with and without broadcasting, and with an input of
/// unknown dimensions (so the gradient sums back through `BroadcastGradientArgs` at run time).
fn binary_checks(
    build: fn(&mut Graph, &[Output]) -> Result<Output>,
    a: fn(&'static [usize]) -> In,
    b: fn(&'static [usize]) -> In,
) -> Vec<Check> {
    let unknown_a = |s: &'static [usize]| In { known: false, ..a(s) };
    vec![
        c(&[a(M23), b(M23)], build),
        c(&[a(M23), b(V3)], build),
        c(&[a(&[2, 1]), b(&[1, 3])], build),
        c(&[a(S), b(M23)], build),
        c(&[unknown_a(M23), b(V3)], build),
        c(&[unknown_a(&[2, 1]), b(M23)], build),
    ]
}

type Reduce = fn(&mut Graph, Output, Option<&[i64]>, bool) -> Result<Output>;

/// Checks of a reduction over several axis sets, with and without keep_dims, and over an input
/// of unknown dimensions.
fn reduce_checks(f: Reduce, values: fn(&'static [usize]) -> In) -> Vec<Check> {
    let x = values(&[2, 3, 2]);
    let variants: [(In, Option<&'static [i64]>, bool); 5] = [
        (x, Some(&[1]), false),
        (x, Some(&[0, 2]), true),
        (x, None, false),
        (x, Some(&[-1]), true),
        (In { known: false, ..x }, Some(&[0]), false),
    ];
    variants.into_iter().map(|(input, axes, keep)| c(&[input], move |g, xs| f(g, xs[0], axes, keep))).collect()
}

/// Builds `y = f(xs)` on placeholders and returns the graph, the placeholders and y.
fn build(check: &Check) -> Result<(Graph, Vec<Output>, Output)> {
    let mut g = Graph::new();
    let xs: Vec<Output> = check
        .inputs
        .iter()
        .map(|i| {
            let shape = if i.known { Shape::known(i.shape) } else { Shape::unknown_dims(i.shape.len()) };
            g.placeholder(DType::Float64, shape)
        })
        .collect::<Result<_>>()?;
    let y = (check.build)(&mut g, &xs)?;
    Ok((g, xs, y))
}

/// A session over `L`, with the inputs, `L` itself and dL/dinputs.
struct Weighted {
    session: Session,
    xs: Vec<Output>,
    loss: Output,
    grads: Vec<Option<Output>>,
}

/// `L = sum(y · w)` for a fixed random `w`: a scalar that weighs every output element.
fn weighted_loss(check: &Check, w: &Tensor) -> Result<Weighted> {
    let (mut g, xs, y) = build(check)?;
    let y64 = g.cast(y, DType::Float64)?;
    let wc = g.constant(w.clone())?;
    let prod = g.mul(y64, wc)?;
    let loss = g.reduce_sum(prod, None, false)?;
    let grads = gradients(&mut g, &[loss], &xs, None)?;
    Ok(Weighted { session: Session::new(g), xs, loss, grads })
}

fn run_check(op: &str, check: &Check, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x0: Vec<Tensor> = check.inputs.iter().map(|i| values(&mut rng, i)).collect();
    let (g, xs, y) = build(check).unwrap_or_else(|e| panic!("{op}: {e}"));
    let s = Session::new(g);
    let feeds: Vec<(Output, Tensor)> = xs.iter().copied().zip(x0.iter().cloned()).collect();
    let y_shape = s.run(&feeds, &[y], &[]).unwrap_or_else(|e| panic!("{op}: {e}"))[0].shape().to_vec();
    let n: usize = y_shape.iter().product();
    let w = Tensor::from_vec(&y_shape, (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect()).unwrap();
    let Weighted { session: s, xs, loss, grads } =
        weighted_loss(check, &w).unwrap_or_else(|e| panic!("{op}: gradient: {e}"));
    let feeds: Vec<(Output, Tensor)> = xs.iter().copied().zip(x0.iter().cloned()).collect();
    for (i, grad) in grads.iter().enumerate() {
        let Some(grad) = grad else { panic!("{op}: no gradient for input {i}") };
        let symbolic = s.run(&feeds, &[*grad], &[]).unwrap_or_else(|e| panic!("{op}: {e}"))[0].to_f64_vec();
        let base = x0[i].to_f64_vec();
        assert_eq!(symbolic.len(), base.len(), "{op}: gradient {i} has the input's size");
        for j in 0..base.len() {
            let h = 1e-6 * base[j].abs().max(1.0);
            let at = |d: f64| {
                let mut v = base.clone();
                v[j] += d;
                let mut f = feeds.clone();
                f[i].1 = Tensor::from_vec(x0[i].shape(), v).unwrap();
                s.run(&f, &[loss], &[]).unwrap()[0].scalar_f64().unwrap()
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            let ok = (numeric - symbolic[j]).abs() <= 1e-6 + 1e-5 * numeric.abs();
            assert!(
                ok,
                "{op}: d/dx{i}[{j}]: symbolic {} numeric {numeric} (inputs {:?})",
                symbolic[j],
                check.inputs.iter().map(|i| i.shape).collect::<Vec<_>>()
            );
        }
    }
}

/// Ops without a gradient to check, and why.
const NOT_DIFFERENTIABLE: &[(&str, &str)] = &[
    ("Const", "a source"),
    ("Placeholder", "a source"),
    ("VariableV2", "a source: gradients stop at variables"),
    ("ReadVariableOp", "a read of a variable: a source"),
    ("Assign", "a state update"),
    ("AssignAdd", "a state update"),
    ("AssignSub", "a state update"),
    ("NoOp", "no outputs"),
    ("Assert", "no outputs"),
    ("If", "no gradient through a branch (TF's If gradient is not implemented)"),
    ("StatelessIf", "no gradient through a branch (TF's If gradient is not implemented)"),
    ("StopGradient", "stops gradients by definition (checked below)"),
    ("RandomStandardNormal", "random, from an integer shape"),
    ("TruncatedNormal", "random, from an integer shape"),
    ("RandomUniform", "random, from an integer shape"),
    ("FloorDiv", "piecewise constant (TF: None)"),
    ("Floor", "piecewise constant (TF: None)"),
    ("Ceil", "piecewise constant (TF: None)"),
    ("Round", "piecewise constant (TF: None)"),
    ("Sign", "piecewise constant (TF: zeros)"),
    ("Less", "bool output"),
    ("LessEqual", "bool output"),
    ("Greater", "bool output"),
    ("GreaterEqual", "bool output"),
    ("Equal", "bool output"),
    ("NotEqual", "bool output"),
    ("LogicalAnd", "bool"),
    ("LogicalOr", "bool"),
    ("LogicalNot", "bool"),
    ("ArgMax", "integer output"),
    ("ArgMin", "integer output"),
    ("Shape", "integer output"),
    ("Size", "integer output"),
    ("Rank", "integer output"),
    ("ZerosLike", "constant in its input (TF: None)"),
    ("OnesLike", "constant in its input (TF: None)"),
    ("OneHot", "integer input"),
    ("ScalarSummary", "string output (TF: NotDifferentiable)"),
    ("HistogramSummary", "string output (TF: NotDifferentiable)"),
    ("MergeSummary", "string output (TF: NotDifferentiable)"),
    ("BroadcastGradientArgs", "integer shapes"),
    ("Range", "a sequence from its bounds (TF: None)"),
    ("ShapeN", "integer output"),
    ("ConcatOffset", "integer shapes"),
    ("InvertPermutation", "integer permutation"),
    ("ApplyGradientDescent", "an optimizer update"),
    ("ApplyMomentum", "an optimizer update"),
    ("ApplyAdam", "an optimizer update"),
    ("ApplyAdagrad", "an optimizer update"),
    ("ApplyRMSProp", "an optimizer update"),
    ("ApplyCenteredRMSProp", "an optimizer update"),
    ("VarHandleOp", "a source: gradients stop at variables"),
    ("AssignVariableOp", "a state update"),
    ("AssignAddVariableOp", "a state update"),
    ("AssignSubVariableOp", "a state update"),
    ("VarIsInitializedOp", "bool output"),
    ("ResourceApplyGradientDescent", "an optimizer update"),
    ("ResourceApplyMomentum", "an optimizer update"),
    ("ResourceApplyAdam", "an optimizer update"),
    ("ResourceApplyAdagrad", "an optimizer update"),
    ("ResourceApplyRMSProp", "an optimizer update"),
    ("ResourceApplyCenteredRMSProp", "an optimizer update"),
    ("Snapshot", "TF registers no gradient for it: a gradient through it is an error (checked below)"),
    ("PreventGradient", "a gradient through it is an error carrying its message, by definition (checked below)"),
    (
        "FusedBatchNormGradV3",
        "TF's gradient of it (_FusedBatchNormGradGrad) is not implemented: a gradient through it is an error naming the node",
    ),
    ("FusedBatchNormGrad", "as FusedBatchNormGradV3: its gradient is not implemented"),
    ("FusedBatchNormGradV2", "as FusedBatchNormGradV3: its gradient is not implemented"),
];

#[test]
fn every_op_is_checked_or_declared_not_differentiable() {
    let table = checks();
    for op in OP_TYPES {
        let checked = table.iter().any(|(n, _)| n == op);
        let declared = NOT_DIFFERENTIABLE.iter().any(|(n, _)| n == op);
        assert!(checked ^ declared, "{op}: checked {checked}, declared not differentiable {declared}");
    }
}

#[test]
fn symbolic_gradients_match_finite_differences() {
    for (op, list) in checks() {
        for (k, check) in list.iter().enumerate() {
            for seed in 0..3 {
                run_check(op, check, 1000 * k as u64 + seed);
            }
        }
    }
}

#[test]
fn not_differentiable_ops_give_no_gradient() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float64, Shape::known(&[3])).unwrap();
    let ys = [g.floor(x).unwrap(), g.ceil(x).unwrap(), g.round(x).unwrap(), g.stop_gradient(x).unwrap()];
    for y in ys {
        assert_eq!(gradients(&mut g, &[y], &[x], None).unwrap()[0], None);
    }
    let cmp = g.less(x, x).unwrap();
    let f = g.cast(cmp, DType::Float64).unwrap();
    assert_eq!(gradients(&mut g, &[f], &[x], None).unwrap()[0], None);
    let unrelated = g.constant(1.0f64).unwrap();
    assert_eq!(gradients(&mut g, &[unrelated], &[x], None).unwrap()[0], None, "an x no y depends on gets None");
}

#[test]
fn an_op_without_a_gradient_on_the_path_is_an_error_naming_it() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::known(&[2])).unwrap();
    let v = g.variable("v", DType::Float32, &[2], stepflow::Initializer::Zeros).unwrap();
    let a = g.assign_add(v, x).unwrap();
    let y = g.square(a).unwrap();
    let e = gradients(&mut g, &[y], &[x], None).unwrap_err().to_string();
    assert_eq!(e, "no gradient defined for op AssignAdd (node 'AssignAdd')");
}

#[test]
fn fan_in_gradients_are_summed() {
    // y = x·x + 3x: dy/dx = 2x + 3
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float64, Shape::scalar()).unwrap();
    let three = g.constant(3.0f64).unwrap();
    let xx = g.mul(x, x).unwrap();
    let x3 = g.mul(three, x).unwrap();
    let y = g.add(xx, x3).unwrap();
    let dx = gradients(&mut g, &[y], &[x], None).unwrap()[0].unwrap();
    let s = Session::new(g);
    assert_eq!(s.run(&[(x, Tensor::scalar(2.0f64))], &[dx], &[]).unwrap()[0].to_f64_vec(), vec![7.0]);
}

#[test]
fn gradients_can_be_differentiated_again() {
    // d²/dx² tanh(x) = -2 tanh(x) (1 - tanh²(x)); d²/dx² x³ = 6x.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float64, Shape::scalar()).unwrap();
    let t = g.tanh(x).unwrap();
    let three = g.constant(3.0f64).unwrap();
    let cube = g.pow(x, three).unwrap();
    let d1 = gradients(&mut g, &[t], &[x], None).unwrap()[0].unwrap();
    let d2 = gradients(&mut g, &[d1], &[x], None).unwrap()[0].unwrap();
    let c1 = gradients(&mut g, &[cube], &[x], None).unwrap()[0].unwrap();
    let c2 = gradients(&mut g, &[c1], &[x], None).unwrap()[0].unwrap();
    let s = Session::new(g);
    let out = s.run(&[(x, Tensor::scalar(0.7f64))], &[d2, c2], &[]).unwrap();
    let th = 0.7f64.tanh();
    assert!((out[0].to_f64_vec()[0] - (-2.0 * th * (1.0 - th * th))).abs() < 1e-12);
    assert!((out[1].to_f64_vec()[0] - 4.2).abs() < 1e-12);
}

#[test]
fn prevent_gradient_is_an_error_naming_the_node_and_its_message() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::known(&[2])).unwrap();
    let p = g.prevent_gradient(x, "second derivative not supported").unwrap();
    let y = g.square(p).unwrap();
    let e = gradients(&mut g, &[y], &[x], None).unwrap_err();
    assert!(matches!(e, stepflow::Error::GradientDisabled { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "gradient explicitly disabled at node 'PreventGradient' (PreventGradient); \
         reason: second derivative not supported"
    );
    // Off the path from x to y, it is no error.
    let z = g.square(x).unwrap();
    assert!(gradients(&mut g, &[z], &[x], None).unwrap()[0].is_some());
}

#[test]
fn snapshot_has_no_gradient_as_in_tf() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::known(&[2])).unwrap();
    let s = g.snapshot(x).unwrap();
    let e = gradients(&mut g, &[s], &[x], None).unwrap_err().to_string();
    assert_eq!(e, "no gradient defined for op Snapshot (node 'Snapshot')");
}
