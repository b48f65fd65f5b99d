//! MaxPoolGradReluGrad: a MaxPoolGrad followed by the ReluGrad of the activation before the
//! pool, in one pass. The plan builds it ([`Op::fuse`]) when the pool's gradient feeds nothing
//! but the ReluGrad: each image's gradient is masked by the activation while it is still in
//! cache, instead of in another pass over memory. Each element gets ReluGrad's own operation, so
//! the values are bit-identical.

use super::conv::max_pool_grad_then;
use super::conv_attrs::contiguous;
use super::nn::{ReluGrad, relu_grad};
use super::pool::{MaxPoolGrad, grad_geometry, infer_grad};
use super::{InferCx, Kernel, Op, Outputs, TensorSpec, one, op, single};
use crate::error::OpResult;
use crate::tensor::{DType, Element, Real, Tensor};
use std::sync::Arc;

op! {
    /// `ReluGrad(MaxPoolGrad(orig_input, orig_output, grad), features)`: the inputs of the pool's
    /// gradient, then the activation's `features`.
    MaxPoolGradReluGrad { pool: MaxPoolGrad }
}

impl MaxPoolGradReluGrad {
    /// The fusion of `pool` with `consumer`, when it is a ReluGrad.
    pub fn after(pool: &MaxPoolGrad, consumer: &dyn Op) -> Option<Arc<dyn Op>> {
        let relu_grad = consumer.as_any().downcast_ref::<ReluGrad>().is_some();
        relu_grad.then(|| Arc::new(MaxPoolGradReluGrad { pool: pool.clone() }) as Arc<dyn Op>)
    }

    fn masked<T: Real + super::conv::ConvReal + Element>(&self, k: &Kernel) -> OpResult<Tensor> {
        let g = grad_geometry(&self.pool.window()?, k, 1)?;
        let (x, grad, features) = (k.array::<T>(0)?, k.array::<T>(2)?, k.array::<T>(3)?);
        if features.shape() != x.shape() {
            return Err(crate::invalid!(
                "gradients {:?} and features {:?} differ in shape",
                x.shape(),
                features.shape()
            ));
        }
        let f = contiguous(features);
        let image = g.input_len / g.batch.max(1);
        let mut out = k.output_vec(g.input_len);
        let mask = |b: usize, dx: &mut [T]| {
            let f = &f[b * image..(b + 1) * image];
            dx.iter_mut().zip(f).for_each(|(d, &f)| *d = relu_grad(*d, f));
        };
        max_pool_grad_then(&g, &contiguous(x), &contiguous(grad), &mut out, k.parallel(), mask)?;
        Tensor::from_vec(x.shape(), out)
    }
}

impl Op for MaxPoolGradReluGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(4)?;
        let (d, input, _) =
            infer_grad(&InferCx { inputs: &cx.inputs[..3], values: &cx.values[..3] }, &self.pool.window()?, 1)?;
        cx.same_dtype(0, 3)?;
        if !cx.input(3).shape.is_compatible(&input) {
            return Err(crate::invalid!("features must have shape {input}, got {}", cx.input(3).shape));
        }
        single(d, input)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(match k.input(0)?.dtype() {
            DType::Float32 => self.masked::<f32>(k)?,
            DType::Float64 => self.masked::<f64>(k)?,
            other => return Err(crate::invalid!("MaxPoolGrad needs float inputs, got {other}")),
        })
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.pool.cost(&inputs[..3], outputs) + outputs[0].shape.known_elements()
    }
}
