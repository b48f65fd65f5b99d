//! Convolution, pooling, batch-norm and bias kernels with TensorFlow's CPU semantics, as plain
//! functions on row-major slices described by a small geometry struct (NHWC images, HWIO
//! filters).
//!
//! - [`geometry`]: TF's output-size and padding rules ([`Padding`], [`WindowAxis`]) and the
//!   geometries ([`Conv2dGeometry`], [`PoolGeometry`]), every size checked for overflow;
//! - [`conv2d`](conv2d()): Conv2D and its input and filter gradients, im2col onto faer's GEMM;
//! - [`depthwise`]: DepthwiseConv2dNative and its gradients;
//! - [`pool`]: MaxPool, MaxPoolGrad, MaxPoolGradGrad, AvgPool, AvgPoolGrad;
//! - [`batch_norm`]: FusedBatchNormV3 (training and inference) and FusedBatchNormGradV3;
//! - [`bias`]: BiasAdd and BiasAddGrad, NHWC and NCHW.
//!
//! Every kernel takes `parallel`: with `true` it may split work across the rayon pool, and its
//! result is bit-identical to `parallel = false` for any number of threads (work is cut by the
//! geometry alone, and sums add fixed groups in a fixed order). Kernels that need temporary
//! memory take a `&mut Vec<T>` scratch buffer that they grow when it is too small, so a caller
//! that keeps one allocates once; each kernel family has a `*_scratch_len` for sizing it ahead.
//! Outputs are written to caller-provided slices of the length the geometry gives.

pub mod batch_norm;
pub mod bias;
mod conv2d;
pub mod depthwise;
pub mod geometry;
mod im2col;
pub mod pool;
mod split;

pub use batch_norm::{
    BatchNormGeometry, BatchNormGradInputs, BatchNormGrads, BatchNormInputs, BatchNormOutputs, batch_norm_scratch_len,
    fused_batch_norm_grad, fused_batch_norm_inference, fused_batch_norm_training,
};
pub use bias::{BiasGeometry, DataFormat, bias_add, bias_add_grad, bias_add_in_place, bias_scratch_len};
pub use conv2d::{conv2d, conv2d_backprop_filter, conv2d_backprop_input, conv2d_scratch_len, conv2d_then};
pub use depthwise::{
    DepthwiseGeometry, depthwise_conv2d, depthwise_conv2d_backprop_filter, depthwise_conv2d_backprop_input,
    depthwise_scratch_len,
};
pub use geometry::{Conv2dGeometry, Padding, PoolGeometry, Window2d, WindowAxis};
pub use pool::{avg_pool, avg_pool_grad, max_pool, max_pool_grad, max_pool_grad_grad, max_pool_grad_then};

/// The element types the kernels run on: f32 and f64 (floats that faer's GEMM takes).
pub trait ConvReal: crate::tensor::Real + faer::traits::ComplexField {}

impl<T: crate::tensor::Real + faer::traits::ComplexField> ConvReal for T {}
