//! L2Loss (`tf.nn.l2_loss`): half the sum of squares, the weight-decay term of TF's training
//! graphs. A primitive so that TF's graphs import one to one.

use super::reduce::reduce_lane;
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one, op, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::Output;
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Real, Tensor};

op! {
    /// `sum(t²) / 2` over every element, a scalar (TF `L2Loss`): each square is halved, then the
    /// halves are summed in a fixed order; 0 for an empty tensor.
    L2Loss derive(Copy, Default) {}
    builder l2_loss(t)
}

impl Op for L2Loss {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let d = cx.dtype_in(0, FLOATS)?;
        single(d, Shape::scalar())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(match k.take(0)? {
            Tensor::F32(a) => Tensor::scalar(half_sum_of_squares(&a)),
            Tensor::F64(a) => Tensor::scalar(half_sum_of_squares(&a)),
            other => return Err(crate::invalid!("L2Loss needs a float input, got {}", other.dtype())),
        })
    }
    // d/dt = t · g
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (t, g) = (gx.input(0), gx.grad(0));
        Ok(vec![Some(gx.g.mul(t, g)?)])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        inputs[0].shape.known_elements()
    }
}

fn half_sum_of_squares<T: Real>(a: &ArcArrayD<T>) -> T {
    let half = T::from_f64(0.5);
    let halves: Vec<T> = a.iter().map(|&x| x * x * half).collect();
    reduce_lane(&halves, T::ZERO, &|s, v| s + v)
}
