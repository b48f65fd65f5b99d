//! Forward tests for every op, with values worked out by hand, run on fed values through both
//! executors and every schedule (see `run`). The table [`FORWARD`] must name every op type of
//! the registry: a new op fails `every_op_has_a_forward_test` until it has one, and each test
//! must build the op it is listed for. TensorFlow's values for the same ops are checked in
//! `golden` (from `tests/golden/ops.json`).

mod array;
mod batch_norm;
mod control;
mod conv;
mod dataflow;
mod golden;
mod grads;
mod math;
mod nn;
mod pooling;
mod resource;
mod run;
mod slicing;
mod state;
mod summary;
mod tiles;
mod train;
mod util;

use stepflow::ops::OP_TYPES;

type Check = fn();

/// Op type → the test of its forward values.
const FORWARD: &[(&str, Check)] = &[
    ("ScalarSummary", summary::scalar),
    ("HistogramSummary", summary::histogram),
    ("MergeSummary", summary::merge),
    ("Const", state::constant),
    ("Placeholder", state::placeholder),
    ("PlaceholderWithDefault", state::placeholder_with_default),
    ("VariableV2", state::variable),
    ("ReadVariableOp", state::read_variable_op),
    ("Assign", state::assign),
    ("AssignAdd", state::assign_add),
    ("AssignSub", state::assign_sub),
    ("Identity", state::identity),
    ("NoOp", state::no_op),
    ("If", control::if_op),
    ("Assert", control::assert),
    ("StatelessIf", control::stateless_if),
    ("Switch", dataflow::switch),
    ("Merge", dataflow::merge),
    ("StopGradient", state::stop_gradient),
    ("RandomStandardNormal", state::random_standard_normal),
    ("TruncatedNormal", state::truncated_normal),
    ("RandomUniform", state::random_uniform),
    ("AddV2", math::add),
    ("AddN", math::add_n),
    ("Sub", math::sub),
    ("Mul", math::mul),
    ("RealDiv", math::real_div),
    ("FloorDiv", math::floor_div),
    ("FloorMod", math::floor_mod),
    ("Pow", math::pow),
    ("Maximum", math::maximum),
    ("Minimum", math::minimum),
    ("Neg", math::neg),
    ("Abs", math::abs),
    ("Sign", math::sign),
    ("Square", math::square),
    ("Sqrt", math::sqrt),
    ("Rsqrt", math::rsqrt),
    ("Exp", math::exp),
    ("Log", math::log),
    ("Log1p", math::log1p),
    ("Floor", math::floor),
    ("Ceil", math::ceil),
    ("Round", math::round),
    ("Sin", math::sin),
    ("Cos", math::cos),
    ("Cast", math::cast),
    ("LogicalNot", math::logical_not),
    ("Less", math::comparisons),
    ("LessEqual", math::comparisons),
    ("Greater", math::comparisons),
    ("GreaterEqual", math::comparisons),
    ("Equal", math::comparisons),
    ("NotEqual", math::comparisons),
    ("LogicalAnd", math::logical_and_or),
    ("LogicalOr", math::logical_and_or),
    ("Select", math::select),
    ("SelectV2", math::select_v2),
    ("MatMul", math::matmul),
    ("Sum", math::sum),
    ("Mean", math::mean),
    ("Max", math::max),
    ("Min", math::min),
    ("Prod", math::prod),
    ("ArgMax", math::argmax),
    ("ArgMin", math::argmin),
    ("Reshape", array::reshape),
    ("Transpose", array::transpose),
    ("ExpandDims", array::expand_dims),
    ("Squeeze", array::squeeze),
    ("BroadcastTo", array::broadcast_to),
    ("Tile", array::tile),
    ("Pad", array::pad),
    ("ConcatV2", array::concat),
    ("Pack", array::pack),
    ("Slice", array::slice),
    ("GatherV2", array::gather),
    ("UnsortedSegmentSum", array::unsorted_segment_sum),
    ("OneHot", array::one_hot),
    ("Shape", array::shape_size_rank),
    ("Size", array::shape_size_rank),
    ("Rank", array::shape_size_rank),
    ("Fill", array::fill),
    ("ZerosLike", array::zeros_ones_like),
    ("OnesLike", array::zeros_ones_like),
    ("BroadcastGradientArgs", array::broadcast_gradient_args),
    ("Unpack", slicing::unpack),
    ("StridedSlice", slicing::strided_slice),
    ("StridedSliceGrad", slicing::strided_slice_grad),
    ("Range", slicing::range),
    ("ShapeN", slicing::shape_n),
    ("ConcatOffset", slicing::concat_offset),
    ("InvertPermutation", slicing::invert_permutation),
    ("DynamicStitch", slicing::dynamic_stitch),
    ("Split", slicing::split),
    ("SplitV", slicing::split_v_op),
    ("Relu", nn::relu),
    ("ReluGrad", nn::relu_grad),
    ("TanhGrad", nn::tanh_grad),
    ("BiasAdd", nn::bias_add),
    ("BiasAddGrad", nn::bias_add_grad),
    ("Conv2D", conv::conv2d),
    ("Conv2DBackpropInput", conv::conv2d_backprop_input),
    ("Conv2DBackpropFilter", conv::conv2d_backprop_filter),
    ("DepthwiseConv2dNative", conv::depthwise_conv2d),
    ("DepthwiseConv2dNativeBackpropInput", conv::depthwise_backprop_input),
    ("DepthwiseConv2dNativeBackpropFilter", conv::depthwise_backprop_filter),
    ("Relu6", nn::relu6),
    ("LeakyRelu", nn::leaky_relu),
    ("Elu", nn::elu),
    ("Sigmoid", nn::sigmoid),
    ("Tanh", nn::tanh),
    ("Softplus", nn::softplus),
    ("Softmax", nn::softmax),
    ("LogSoftmax", nn::log_softmax),
    ("SoftmaxCrossEntropyWithLogits", nn::softmax_xent),
    ("SparseSoftmaxCrossEntropyWithLogits", nn::sparse_softmax_xent),
    ("Relu6Grad", grads::relu6_grad),
    ("EluGrad", grads::elu_grad),
    ("SeluGrad", grads::selu_grad),
    ("SoftplusGrad", grads::softplus_grad),
    ("LeakyReluGrad", grads::leaky_relu_grad),
    ("SigmoidGrad", grads::sigmoid_grad),
    ("SqrtGrad", grads::sqrt_grad),
    ("RsqrtGrad", grads::rsqrt_grad),
    ("ReciprocalGrad", grads::reciprocal_grad),
    ("Selu", grads::selu),
    ("Reciprocal", grads::reciprocal),
    ("L2Loss", grads::l2_loss),
    ("SquaredDifference", grads::squared_difference),
    ("Snapshot", grads::snapshot),
    ("PreventGradient", grads::prevent_gradient),
    ("MaxPool", pooling::max_pool),
    ("MaxPoolGrad", pooling::max_pool_grad),
    ("MaxPoolGradGrad", pooling::max_pool_grad_grad),
    ("AvgPool", pooling::avg_pool),
    ("AvgPoolGrad", pooling::avg_pool_grad),
    ("FusedBatchNormV3", batch_norm::fused_batch_norm_v3),
    ("FusedBatchNormGradV3", batch_norm::fused_batch_norm_grad_v3),
    ("FusedBatchNorm", batch_norm::fused_batch_norm_v1_v2),
    ("FusedBatchNormV2", batch_norm::fused_batch_norm_v1_v2),
    ("FusedBatchNormGrad", batch_norm::fused_batch_norm_grad_v1_v2),
    ("FusedBatchNormGradV2", batch_norm::fused_batch_norm_grad_v1_v2),
    ("ApplyGradientDescent", train::gradient_descent),
    ("ApplyMomentum", train::momentum),
    ("ApplyAdam", train::adam),
    ("ApplyAdagrad", train::adagrad),
    ("ApplyRMSProp", train::rmsprop),
    ("ApplyCenteredRMSProp", train::centered_rmsprop),
    ("VarHandleOp", resource::var_handle_op),
    ("AssignVariableOp", resource::assign_variable_op),
    ("AssignAddVariableOp", resource::assign_add_variable_op),
    ("AssignSubVariableOp", resource::assign_sub_variable_op),
    ("VarIsInitializedOp", resource::var_is_initialized_op),
    ("ResourceApplyGradientDescent", resource::resource_apply_gradient_descent),
    ("ResourceApplyMomentum", resource::resource_apply_momentum),
    ("ResourceApplyAdam", resource::resource_apply_adam),
    ("ResourceApplyAdagrad", resource::resource_apply_adagrad),
    ("ResourceApplyRMSProp", resource::resource_apply_rmsprop),
    ("ResourceApplyCenteredRMSProp", resource::resource_apply_centered_rmsprop),
];

#[test]
fn every_op_has_a_forward_test() {
    let missing: Vec<&str> = OP_TYPES.iter().copied().filter(|op| !FORWARD.iter().any(|(n, _)| n == op)).collect();
    assert!(missing.is_empty(), "ops without a forward test: {missing:?}");
    let unknown: Vec<&str> = FORWARD.iter().map(|(n, _)| *n).filter(|n| !OP_TYPES.contains(n)).collect();
    assert!(unknown.is_empty(), "forward tests for unregistered ops: {unknown:?}");
}

#[test]
fn every_forward_test_passes() {
    let mut ran: Vec<(usize, std::collections::BTreeSet<&str>)> = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    for (name, check) in FORWARD {
        // Several op types share one check function; run each function once.
        let f = *check as usize;
        if !ran.iter().any(|(g, _)| *g == f) {
            util::take_built();
            if std::panic::catch_unwind(check).is_err() {
                failed.push(name);
            }
            ran.push((f, util::take_built()));
        }
    }
    assert!(failed.is_empty(), "forward tests failed for: {failed:?}");
    let unbuilt: Vec<&str> = FORWARD
        .iter()
        .filter(|(name, check)| ran.iter().any(|(f, built)| *f == *check as usize && !built.contains(name)))
        .map(|(name, _)| *name)
        .collect();
    assert!(unbuilt.is_empty(), "forward tests that never build the op they are listed for: {unbuilt:?}");
}

#[test]
fn sigmoid_cross_entropy_is_stable() {
    nn::sigmoid_xent_composite();
}

#[test]
fn squeeze_all_of_unknown_dims_has_unknown_rank() {
    array::squeeze_unknown_dims();
}

#[test]
fn unsorted_segment_sum_drops_negative_ids() {
    array::segment_sum_drops_negative_ids();
}

#[test]
fn softmax_xent_of_large_logits_keeps_precision() {
    nn::xent_of_large_logits();
}

#[test]
fn relu_passes_nan_and_relu_grad_multiplies() {
    nn::relu_nan();
}

#[test]
fn elu_is_tf_exp_minus_one_near_zero() {
    nn::elu_near_zero();
}

#[test]
fn argmax_and_argmin_never_choose_nan() {
    math::arg_extremes_skip_nan();
}

#[test]
fn slices_splits_and_ranges_of_constants_have_tf_static_shapes() {
    slicing::static_shapes();
}

#[test]
fn every_output_of_a_multi_output_op_of_constants_is_known_at_build_time() {
    slicing::multi_output_values();
}

#[test]
fn broadcast_gradient_args_reduces_common_ones() {
    array::broadcast_gradient_args_of_ones();
}

#[test]
fn dead_values_follow_control_edges() {
    dataflow::dead_control_edges();
}

#[test]
fn cond_builds_a_tf1_cond() {
    dataflow::cond_builder();
}

#[test]
fn convolutions_infer_static_shapes_from_partial_ones() {
    conv::static_shapes();
}

#[test]
fn summary_builders_follow_tf1() {
    summary::builders();
}
