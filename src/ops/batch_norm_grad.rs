//! The gradients of fused batch normalization: FusedBatchNormGradV3 (and FusedBatchNormGrad /
//! FusedBatchNormGradV2, which lack the unused `reserve_space_3`), what TF's training graphs of
//! batch-normalized layers hold, wrapping [`crate::ops::conv::fused_batch_norm_grad`].

use super::batch_norm::{Norm, Scratch, channels, default_epsilon, geometry, input, vec_tensor, yes};
use super::conv::{BatchNormGradInputs, BatchNormGrads, ConvReal, DataFormat, fused_batch_norm_grad};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, op};
use crate::error::OpResult;
use crate::shape::Shape;
use crate::tensor::{DType, Element, Tensor};

const GRAD_OUTPUTS_V3: &[&str] =
    &["x_backprop", "scale_backprop", "offset_backprop", "reserve_space_4", "reserve_space_5"];
const GRAD_OUTPUTS: &[&str] =
    &["x_backprop", "scale_backprop", "offset_backprop", "reserve_space_3", "reserve_space_4"];

/// Declares a batch-norm gradient op of `$inputs` inputs (`reserve_space_3` is the sixth).
macro_rules! batch_norm_grad_op {
    ($(#[doc = $doc:literal])* $name:ident, $inputs:literal, $outputs:ident) => {
        op! {
            $(#[doc = $doc])*
            $name {
                #[serde(default = "default_epsilon")] epsilon: f32,
                #[serde(default)] data_format: DataFormat,
                #[serde(default = "yes")] is_training: bool,
            }
        }

        impl Op for $name {
            fn output_args(&self) -> &'static [&'static str] {
                $outputs
            }
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                cx.arity($inputs)?;
                infer_norm_grad(cx, &self.norm())
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let n = self.norm();
                match k.input(0)?.dtype() {
                    DType::Float32 => backprop::<f32>(k, &n),
                    DType::Float64 => backprop::<f64>(k, &n),
                    other => Err(crate::invalid!("{} needs float inputs, got {other}", stringify!($name))),
                }
            }
            fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
                // A few passes over x: the statistics, then the normalization.
                inputs[0].shape.known_elements().saturating_mul(4)
            }
        }

        impl $name {
            fn norm(&self) -> Norm {
                Norm { epsilon: self.epsilon, factor: 1.0, format: self.data_format, training: self.is_training }
            }
        }
    };
}

batch_norm_grad_op!(
    /// The gradient of FusedBatchNormV3 through `y`: `x_backprop`, `scale_backprop` and
    /// `offset_backprop` from `y_backprop`, `x`, `scale` and the mean and variance of
    /// `reserve_space_1` / `_2` (the batch's in training, the population's in inference);
    /// `reserve_space_3` is unused, as on TF's CPU, and `reserve_space_4` / `_5` are empty.
    /// (TF's own gradient of it is not implemented here: a gradient through it is an error.)
    FusedBatchNormGradV3, 6, GRAD_OUTPUTS_V3
);
batch_norm_grad_op!(
    /// FusedBatchNormGradV3 without `reserve_space_3` (the gradient of FusedBatchNorm).
    FusedBatchNormGrad, 5, GRAD_OUTPUTS
);
batch_norm_grad_op!(
    /// FusedBatchNormGradV3 without `reserve_space_3` (the gradient of FusedBatchNormV2).
    FusedBatchNormGradV2, 5, GRAD_OUTPUTS
);

fn infer_norm_grad(cx: &InferCx, n: &Norm) -> OpResult<Vec<TensorSpec>> {
    let d = cx.dtype_in(0, FLOATS)?;
    (1..cx.len()).try_for_each(|i| cx.same_dtype(0, i).map(|_| ()))?;
    n.check_format()?;
    let names = ["y_backprop", "x", "scale", "reserve_space_1", "reserve_space_2"];
    let (x, c) = channels(cx, 1, &names, &[2, 3, 4])?;
    let dy = &cx.input(0).shape;
    let x = x.merge(dy).map_err(|_| crate::invalid!("y_backprop must have the shape of x {x}, got {dy}"))?;
    let vector = TensorSpec::new(d, Shape::partial(&[c]));
    let empty = TensorSpec::new(d, Shape::known(&[0]));
    Ok(vec![TensorSpec::new(d, x), vector.clone(), vector, empty.clone(), empty])
}

fn backprop<T: ConvReal + Element + Scratch>(k: &Kernel, n: &Norm) -> OpResult<Outputs> {
    n.check_format()?;
    let g = geometry(k, 1, "x")?;
    if k.input(0)?.shape() != k.input(1)?.shape() {
        return Err(crate::invalid!(
            "y_backprop must have the shape of x {:?}, got {:?}",
            k.input(1)?.shape(),
            k.input(0)?.shape()
        ));
    }
    let (dy, x) = (input::<T>(k, 0, "y_backprop", false)?, input::<T>(k, 1, "x", false)?);
    let scale = input::<T>(k, 2, "scale", true)?;
    let (mean, variance) = (input::<T>(k, 3, "reserve_space_1", true)?, input::<T>(k, 4, "reserve_space_2", true)?);
    let p = BatchNormGradInputs {
        y_backprop: &dy,
        x: &x,
        scale: &scale,
        mean: &mean,
        variance: &variance,
        epsilon: T::from_f64(f64::from(n.epsilon)),
        is_training: n.training,
    };
    let c = g.channels;
    let (mut dx, mut dscale, mut doffset) = (vec![T::zero(); x.len()], vec![T::zero(); c], vec![T::zero(); c]);
    let out = BatchNormGrads { x_backprop: &mut dx, scale_backprop: &mut dscale, offset_backprop: &mut doffset };
    T::with_scratch(|s| fused_batch_norm_grad(&g, &p, out, s, k.parallel()))?;
    let empty = || vec_tensor(Vec::<T>::new());
    Ok(smallvec::smallvec![
        Tensor::from_vec(k.input(1)?.shape(), dx)?,
        vec_tensor(dscale)?,
        vec_tensor(doffset)?,
        empty()?,
        empty()?,
    ])
}
