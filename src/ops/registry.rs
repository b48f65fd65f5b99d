//! The one list of ops: every op type stepflow knows, under its TensorFlow name, which is also
//! its `"op"` in graph files. Tests loop over [`OP_TYPES`], so an op added here fails until it
//! has a forward test and, when differentiable, passes the gradient check.

use super::Op;
use super::{
    argmax, array, assert, avg_pool, batch_norm, batch_norm_grad, bias, binary, compare, control, conv2d, depthwise,
    fused_grad, linalg, loss, nn, nn_grad, passthrough, pool, random, reduce, resource, state, summary, switch, train,
    unary, xent,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

macro_rules! registry {
    ($($name:literal => $ty:ty),* $(,)?) => {
        /// Every op type, by TensorFlow name.
        pub const OP_TYPES: &[&str] = &[$($name),*];

        /// How to build each op of [`OP_TYPES`] (in the same order), and its attributes.
        const ENTRIES: &[Entry] = &[$(Entry { make: make::<$ty>, attributes: <$ty>::ATTRIBUTES }),*];
    };
}

/// One op type of the list: its constructor from JSON attributes, and its attributes.
struct Entry {
    make: fn(&serde_json::Value) -> Result<Arc<dyn Op>, String>,
    attributes: &'static [super::Attribute],
}

fn make<T: Op + serde::de::DeserializeOwned>(attrs: &serde_json::Value) -> Result<Arc<dyn Op>, String> {
    T::deserialize(attrs).map(|o| Arc::new(o) as Arc<dyn Op>).map_err(|e| e.to_string())
}

/// The entry of op `op_type`, found by hash (a graph file looks up every node's op).
fn entry(op_type: &str) -> Option<&'static Entry> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| OP_TYPES.iter().enumerate().map(|(i, &n)| (n, i)).collect());
    index.get(op_type).and_then(|&i| ENTRIES.get(i))
}

/// Builds the op `op_type` from its JSON attributes; `None` for an unknown op type, an error
/// message for attributes that do not fit it.
///
/// ```
/// let op = stepflow::ops::op_from_json("Sum", &serde_json::json!({"keep_dims": true}));
/// assert!(op.is_some_and(|op| op.is_ok()));
/// assert!(stepflow::ops::op_from_json("Sum", &serde_json::json!({"keep_dims": 1})).unwrap().is_err());
/// assert!(stepflow::ops::op_from_json("NoSuchOp", &serde_json::json!({})).is_none());
/// ```
pub fn op_from_json(op_type: &str, attrs: &serde_json::Value) -> Option<Result<Arc<dyn Op>, String>> {
    entry(op_type).map(|e| (e.make)(attrs))
}

/// The attributes of op `op_type` (name, Rust type and TF name of each), `None` for an unknown op.
pub fn op_attributes(op_type: &str) -> Option<&'static [super::Attribute]> {
    entry(op_type).map(|e| e.attributes)
}

registry! {
    // sources and state
    "Const" => state::Const,
    "Placeholder" => state::Placeholder,
    "PlaceholderWithDefault" => state::PlaceholderWithDefault,
    "VariableV2" => state::VariableV2,
    "ReadVariableOp" => state::ReadVariableOp,
    "Assign" => state::Assign,
    "AssignAdd" => state::AssignAdd,
    "AssignSub" => state::AssignSub,
    "Identity" => state::Identity,
    "NoOp" => state::NoOp,
    "Assert" => assert::Assert,
    "If" => control::If,
    "StatelessIf" => control::StatelessIf,
    "Switch" => switch::Switch,
    "Merge" => switch::Merge,
    "StopGradient" => state::StopGradient,
    "RandomStandardNormal" => random::RandomStandardNormal,
    "TruncatedNormal" => random::TruncatedNormal,
    "RandomUniform" => random::RandomUniform,
    // element-wise
    "AddV2" => binary::AddV2,
    "AddN" => binary::AddN,
    "Sub" => binary::Sub,
    "Mul" => binary::Mul,
    "RealDiv" => binary::RealDiv,
    "FloorDiv" => binary::FloorDiv,
    "FloorMod" => binary::FloorMod,
    "Pow" => binary::Pow,
    "Maximum" => binary::Maximum,
    "Minimum" => binary::Minimum,
    "Neg" => unary::Neg,
    "Abs" => unary::Abs,
    "Sign" => unary::Sign,
    "Square" => unary::Square,
    "Sqrt" => unary::Sqrt,
    "Rsqrt" => unary::Rsqrt,
    "Exp" => unary::Exp,
    "Log" => unary::Log,
    "Log1p" => unary::Log1p,
    "Floor" => unary::Floor,
    "Ceil" => unary::Ceil,
    "Round" => unary::Round,
    "Sin" => unary::Sin,
    "Cos" => unary::Cos,
    "Cast" => unary::Cast,
    "LogicalNot" => unary::LogicalNot,
    "Less" => compare::Less,
    "LessEqual" => compare::LessEqual,
    "Greater" => compare::Greater,
    "GreaterEqual" => compare::GreaterEqual,
    "Equal" => compare::Equal,
    "NotEqual" => compare::NotEqual,
    "LogicalAnd" => compare::LogicalAnd,
    "LogicalOr" => compare::LogicalOr,
    "Select" => compare::Select,
    "SelectV2" => compare::SelectV2,
    // linear algebra and reductions
    "MatMul" => linalg::MatMul,
    "Sum" => reduce::Sum,
    "Mean" => reduce::Mean,
    "Max" => reduce::Max,
    "Min" => reduce::Min,
    "Prod" => reduce::Prod,
    "ArgMax" => argmax::ArgMax,
    "ArgMin" => argmax::ArgMin,
    // arrays
    "Reshape" => array::Reshape,
    "Transpose" => array::Transpose,
    "ExpandDims" => array::ExpandDims,
    "Squeeze" => array::Squeeze,
    "BroadcastTo" => array::BroadcastTo,
    "Tile" => array::Tile,
    "Pad" => array::Pad,
    "ConcatV2" => array::ConcatV2,
    "Pack" => array::Pack,
    "Slice" => array::Slice,
    "GatherV2" => array::GatherV2,
    "UnsortedSegmentSum" => array::UnsortedSegmentSum,
    "OneHot" => array::OneHot,
    "Shape" => array::Shape,
    "Size" => array::Size,
    "Rank" => array::Rank,
    "Fill" => array::Fill,
    "ZerosLike" => array::ZerosLike,
    "OnesLike" => array::OnesLike,
    "BroadcastGradientArgs" => array::BroadcastGradientArgs,
    "Unpack" => array::Unpack,
    "StridedSlice" => array::StridedSlice,
    "StridedSliceGrad" => array::StridedSliceGrad,
    "Range" => array::Range,
    "ShapeN" => array::ShapeN,
    "ConcatOffset" => array::ConcatOffset,
    "InvertPermutation" => array::InvertPermutation,
    "DynamicStitch" => array::DynamicStitch,
    "Split" => array::Split,
    "SplitV" => array::SplitV,
    // neural networks
    "Relu" => nn::Relu,
    "ReluGrad" => nn::ReluGrad,
    "TanhGrad" => nn::TanhGrad,
    "BiasAdd" => bias::BiasAdd,
    "BiasAddGrad" => bias::BiasAddGrad,
    "Conv2D" => conv2d::Conv2D,
    "Conv2DBackpropInput" => conv2d::Conv2DBackpropInput,
    "Conv2DBackpropFilter" => conv2d::Conv2DBackpropFilter,
    "DepthwiseConv2dNative" => depthwise::DepthwiseConv2dNative,
    "DepthwiseConv2dNativeBackpropInput" => depthwise::DepthwiseConv2dNativeBackpropInput,
    "DepthwiseConv2dNativeBackpropFilter" => depthwise::DepthwiseConv2dNativeBackpropFilter,
    "Relu6" => nn::Relu6,
    "LeakyRelu" => nn::LeakyRelu,
    "Elu" => nn::Elu,
    "Sigmoid" => nn::Sigmoid,
    "Tanh" => nn::Tanh,
    "Softplus" => nn::Softplus,
    "Softmax" => nn::Softmax,
    "LogSoftmax" => nn::LogSoftmax,
    "SoftmaxCrossEntropyWithLogits" => xent::SoftmaxCrossEntropyWithLogits,
    "SparseSoftmaxCrossEntropyWithLogits" => xent::SparseSoftmaxCrossEntropyWithLogits,
    // training-graph gradients, losses and pass-throughs
    "Relu6Grad" => nn_grad::Relu6Grad,
    "EluGrad" => nn_grad::EluGrad,
    "SeluGrad" => nn_grad::SeluGrad,
    "SoftplusGrad" => nn_grad::SoftplusGrad,
    "LeakyReluGrad" => nn_grad::LeakyReluGrad,
    "SigmoidGrad" => fused_grad::SigmoidGrad,
    "SqrtGrad" => fused_grad::SqrtGrad,
    "RsqrtGrad" => fused_grad::RsqrtGrad,
    "ReciprocalGrad" => fused_grad::ReciprocalGrad,
    "Selu" => nn::Selu,
    "Reciprocal" => unary::Reciprocal,
    "L2Loss" => loss::L2Loss,
    "SquaredDifference" => binary::SquaredDifference,
    "Snapshot" => passthrough::Snapshot,
    "PreventGradient" => passthrough::PreventGradient,
    // pooling and batch normalization
    "MaxPool" => pool::MaxPool,
    "MaxPoolGrad" => pool::MaxPoolGrad,
    "MaxPoolGradGrad" => pool::MaxPoolGradGrad,
    "AvgPool" => avg_pool::AvgPool,
    "AvgPoolGrad" => avg_pool::AvgPoolGrad,
    "FusedBatchNormV3" => batch_norm::FusedBatchNormV3,
    "FusedBatchNormGradV3" => batch_norm_grad::FusedBatchNormGradV3,
    "FusedBatchNorm" => batch_norm::FusedBatchNorm,
    "FusedBatchNormGrad" => batch_norm_grad::FusedBatchNormGrad,
    "FusedBatchNormV2" => batch_norm::FusedBatchNormV2,
    "FusedBatchNormGradV2" => batch_norm_grad::FusedBatchNormGradV2,
    // optimizer updates
    "ApplyGradientDescent" => train::ApplyGradientDescent,
    "ApplyMomentum" => train::ApplyMomentum,
    "ApplyAdam" => train::ApplyAdam,
    "ApplyAdagrad" => train::ApplyAdagrad,
    "ApplyRMSProp" => train::ApplyRMSProp,
    "ApplyCenteredRMSProp" => train::ApplyCenteredRMSProp,
    // resource variables
    "VarHandleOp" => resource::VarHandleOp,
    "AssignVariableOp" => resource::AssignVariableOp,
    "AssignAddVariableOp" => resource::AssignAddVariableOp,
    "AssignSubVariableOp" => resource::AssignSubVariableOp,
    "VarIsInitializedOp" => resource::VarIsInitializedOp,
    "ResourceApplyGradientDescent" => resource::ResourceApplyGradientDescent,
    "ResourceApplyMomentum" => resource::ResourceApplyMomentum,
    "ResourceApplyAdam" => resource::ResourceApplyAdam,
    "ResourceApplyAdagrad" => resource::ResourceApplyAdagrad,
    "ResourceApplyRMSProp" => resource::ResourceApplyRMSProp,
    "ResourceApplyCenteredRMSProp" => resource::ResourceApplyCenteredRMSProp,
    // summaries
    "ScalarSummary" => summary::ScalarSummary,
    "HistogramSummary" => summary::HistogramSummary,
    "MergeSummary" => summary::MergeSummary,
}
