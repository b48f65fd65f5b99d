//! FusedConv2D: a Conv2D followed by its BiasAdd and Relu in one kernel, as TF Grappler's
//! remapper makes `_FusedConv2D`. The plan builds it ([`Op::fuse`]) when the convolution's
//! output feeds nothing but the bias add (and the bias add nothing but the activation): the bias
//! and the activation are applied to each piece of the output while the GEMM has it in cache,
//! instead of in two more passes over memory. Each element gets the same operations in the same
//! order as the unfused ops, so the values are bit-identical.

use super::bias::BiasAdd;
use super::conv_attrs::ConvElement;
use super::conv2d::{Conv2D, forward_then};
use super::nn::Relu;
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, op};
use crate::error::OpResult;
use crate::tensor::DType;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a fused convolution does to each output element after the product, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Epilogue {
    /// Adds the bias of the output channel (the op's third input): `BiasAdd`, NHWC.
    BiasAdd,
    /// `max(x, 0)`, NaN kept: `Relu`.
    Relu,
}

op! {
    /// `Conv2D(input, filter)`, then the `fused_ops` in order (`bias` the third input when one
    /// is `BiasAdd`).
    FusedConv2D { conv: Conv2D, fused_ops: Vec<Epilogue> }
}

impl FusedConv2D {
    /// The convolution `conv` followed by `fused_ops`.
    pub fn new(conv: Conv2D, fused_ops: &[Epilogue]) -> Self {
        FusedConv2D { conv, fused_ops: fused_ops.to_vec() }
    }

    fn has_bias(&self) -> bool {
        self.fused_ops.contains(&Epilogue::BiasAdd)
    }

    fn then(&self, e: Epilogue) -> Option<Arc<dyn Op>> {
        let mut fused_ops = self.fused_ops.clone();
        fused_ops.push(e);
        Some(Arc::new(FusedConv2D { conv: self.conv.clone(), fused_ops }))
    }
}

impl Op for FusedConv2D {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2 + usize::from(self.has_bias()))?;
        if self.has_bias() {
            cx.dtype_in(2, FLOATS)?;
            cx.same_dtype(0, 2)?;
        }
        self.conv.infer(&InferCx { inputs: &cx.inputs[..2], values: &cx.values[..2] })
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(match k.input(0)?.dtype() {
            DType::Float32 => self.forward::<f32>(k)?,
            DType::Float64 => self.forward::<f64>(k)?,
            other => return Err(crate::invalid!("Conv2D needs float inputs, got {other}")),
        })
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        self.conv.cost(&inputs[..2], outputs) + outputs[0].shape.known_elements()
    }
    fn flops(&self, inputs: &[&[usize]], outputs: &[&[usize]]) -> Option<f64> {
        self.conv.flops(inputs, outputs)
    }
    fn fuse(&self, consumer: &dyn Op) -> Option<Arc<dyn Op>> {
        let c = consumer.as_any();
        if let Some(b) = c.downcast_ref::<BiasAdd>() {
            let nhwc = b.data_format == super::conv::DataFormat::Nhwc;
            return (nhwc && self.fused_ops.is_empty()).then(|| self.then(Epilogue::BiasAdd)).flatten();
        }
        if c.downcast_ref::<Relu>().is_some() && self.fused_ops.last() != Some(&Epilogue::Relu) {
            return self.then(Epilogue::Relu);
        }
        None
    }
}

impl FusedConv2D {
    fn forward<T: ConvElement>(&self, k: &Kernel) -> OpResult<crate::Tensor> {
        let w = self.conv.window()?;
        let bias = if self.has_bias() { Some(super::conv_attrs::contiguous(k.array::<T>(2)?)) } else { None };
        let channels = k.array::<T>(1)?.shape().get(3).copied().unwrap_or(0);
        if let Some(b) = &bias
            && b.len() != channels
        {
            return Err(crate::invalid!("bias of {} elements for a value of {channels} channels", b.len()));
        }
        let relu = self.fused_ops.contains(&Epilogue::Relu);
        let epilogue = |piece: &mut [T]| {
            super::elementwise::vectorized(
                #[inline(always)]
                || {
                    if let Some(b) = bias.as_ref().filter(|_| channels > 0) {
                        piece
                            .chunks_exact_mut(channels)
                            .for_each(|row| row.iter_mut().zip(b.iter()).for_each(|(v, &b)| *v += b));
                    }
                    if relu {
                        piece.iter_mut().for_each(|v| *v = if *v > T::zero() || v.is_nan() { *v } else { T::zero() });
                    }
                },
            )
        };
        forward_then::<T>(&w, k, k.parallel(), epilogue)
    }
}
