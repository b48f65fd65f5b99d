//! The fused gradients of element-wise math functions that TF's gradient graphs hold, computed from
//! the function's output `y` and the incoming gradient `dy`: SigmoidGrad, SqrtGrad, RsqrtGrad,
//! ReciprocalGrad. Also the [`fused_grad_op!`] skeleton they share with the activation gradients
//! of `nn_grad`: two inputs of one dtype and one shape, one element-wise kernel.
//!
//! Each is a primitive so that TF's graphs import one to one, with TF's kernel formula (the order
//! of its products, and a zero `dy` giving 0 where TF's kernel says so). Each has its own gradient,
//! as TF's `math_grad.py` registers one, so a gradient graph can be differentiated again.

use super::elementwise::zip_same;
use super::{InferCx, TensorSpec, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::Output;
use crate::tensor::{DType, Real, Tensor};

/// Shape inference of a fused gradient: two inputs of one of `dtypes`, of one (merged) shape.
pub(crate) fn infer_pair(cx: &InferCx, dtypes: &[DType]) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let d = cx.dtype_in(0, dtypes)?;
    cx.same_dtype(0, 1)?;
    single(d, cx.input(0).shape.merge(&cx.input(1).shape)?)
}

/// Fails unless the two run-time inputs, named `names` as in TF's op definition, share a shape
/// (fed placeholders of unknown dimensions are checked here).
pub(crate) fn same_shape(a: &Tensor, b: &Tensor, names: [&str; 2]) -> OpResult<()> {
    if a.shape() == b.shape() {
        return Ok(());
    }
    Err(crate::invalid!("{} {:?} and {} {:?} must have the same shape", names[0], a.shape(), names[1], b.shape()))
}

/// Applies a float kernel to two f32 or f64 tensors of one dtype.
pub(crate) fn zip_real(
    a: Tensor,
    b: Tensor,
    par: bool,
    f32f: impl Fn(f32, f32) -> f32 + Sync + Send,
    f64f: impl Fn(f64, f64) -> f64 + Sync + Send,
) -> OpResult<Tensor> {
    match (a, b) {
        (Tensor::F32(a), Tensor::F32(b)) => Ok(Tensor::F32(zip_same(a, b, par, f32f)?)),
        (Tensor::F64(a), Tensor::F64(b)) => Ok(Tensor::F64(zip_same(a, b, par, f64f)?)),
        (a, b) => Err(OpError::DType { input: 1, expected: a.dtype().to_string(), got: b.dtype() }),
    }
}

/// Defines a fused gradient op: its `op!` block (with any attributes), shape inference, an
/// element-wise kernel `kernel(a, b, &op)` generic over `Real` (f32, f64) or `Number` (also
/// i32, i64), and its gradient, built with the op in scope as `op`.
macro_rules! fused_grad_op {
    (@zip Real, $op:expr, $a:expr, $b:expr, $par:expr, $kernel:ident) => {
        $crate::ops::fused_grad::zip_real(
            $a,
            $b,
            $par,
            |x, y| $kernel::<f32>(x, y, $op),
            |x, y| $kernel::<f64>(x, y, $op),
        )
    };
    (@zip Number, $op:expr, $a:expr, $b:expr, $par:expr, $kernel:ident) => {
        $crate::ops::binary::zip_number(
            $a,
            $b,
            $par,
            (
                |x, y| $kernel::<f32>(x, y, $op),
                |x, y| $kernel::<f64>(x, y, $op),
                |x, y| $kernel::<i32>(x, y, $op),
                |x, y| $kernel::<i64>(x, y, $op),
            ),
        )
    };
    (@dtypes Real) => { $crate::ops::FLOATS };
    (@dtypes Number) => { $crate::ops::NUMBERS };
    (
        $(#[doc = $doc:literal])*
        $name:ident derive($($derive:ident),*) { $($fields:tt)* }
        inputs($a0:literal, $a1:literal), $kind:ident, kernel $kernel:ident,
        grad(|$self_:ident, $gx:ident| $grad:expr)
    ) => {
        $crate::ops::op! {
            $(#[doc = $doc])*
            $name derive($($derive),*) { $($fields)* }
        }

        impl $crate::ops::Op for $name {
            fn infer(&self, cx: &$crate::ops::InferCx) -> $crate::error::OpResult<Vec<$crate::ops::TensorSpec>> {
                $crate::ops::fused_grad::infer_pair(cx, $crate::ops::fused_grad::fused_grad_op!(@dtypes $kind))
            }
            fn compute(&self, k: &mut $crate::ops::Kernel) -> $crate::error::OpResult<$crate::ops::Outputs> {
                let par = k.parallel();
                let (a, b) = (k.take(0)?, k.take(1)?);
                $crate::ops::fused_grad::same_shape(&a, &b, [$a0, $a1])?;
                // The result goes into `a` when it is unshared; `b` then dies, and its buffer is
                // kept for later runs.
                let spare = $crate::with_array!(&a, x => x.is_unique()).then(|| b.clone());
                let out = $crate::ops::fused_grad::fused_grad_op!(@zip $kind, self, a, b, par, $kernel)?;
                if let Some(spare) = spare {
                    k.recycle(spare);
                }
                $crate::ops::one(out)
            }
            fn grad(
                &self,
                $gx: &mut $crate::grad::GradCx,
            ) -> $crate::error::Result<Vec<Option<$crate::graph::Output>>> {
                let $self_ = self;
                $grad
            }
        }
    };
}

pub(crate) use fused_grad_op;

/// The two inputs `(a, b)` and the incoming gradient of a fused gradient node.
pub(crate) fn abg(gx: &GradCx) -> (Output, Output, Output) {
    (gx.input(0), gx.input(1), gx.grad(0))
}

/// A scalar constant of the dtype of `like`.
pub(crate) fn scalar_like(gx: &mut GradCx, like: Output, v: f64) -> Result<Output> {
    let dt = gx.g.try_spec(like)?.dtype;
    gx.g.scalar(dt, v)
}

fused_grad_op! {
    /// The gradient of Sigmoid from its output: `SigmoidGrad(y, dy) = dy · y · (1 − y)`.
    SigmoidGrad derive(Copy, Default) {}
    inputs("y", "dy"), Real, kernel sigmoid_grad,
    // d/dy = g·dy·(1 − 2y); d/ddy = SigmoidGrad(y, g)
    grad(|_op, gx| {
        let (y, dy, g) = abg(gx);
        let gdy = gx.g.mul(g, dy)?;
        let two = scalar_like(gx, y, 2.0)?;
        let t = gx.g.mul(two, gdy)?;
        let ty = gx.g.mul(t, y)?;
        let d_y = gx.g.sub(gdy, ty)?;
        let d_dy = gx.g.op("SigmoidGrad", SigmoidGrad {}, &[y, g])?;
        Ok(vec![Some(d_y), Some(d_dy)])
    })
}

fn sigmoid_grad<T: Real>(y: T, dy: T, _: &SigmoidGrad) -> T {
    dy * y * (T::ONE - y)
}

fused_grad_op! {
    /// The gradient of Sqrt from its output: `SqrtGrad(y, dy) = dy · 0.5 / y`, and 0 where `dy`
    /// is 0 (TF's kernel: no NaN from a zero `y` that no gradient reaches).
    SqrtGrad derive(Copy, Default) {}
    inputs("y", "dy"), Real, kernel sqrt_grad,
    // z = 0.5·dy/y: d/dy = −(g/y)·z; d/ddy = 0.5·g/y
    grad(|_op, gx| {
        let (y, _, g) = abg(gx);
        let z = gx.output(0);
        let ga = gx.g.div(g, y)?;
        let gaz = gx.g.mul(ga, z)?;
        let d_y = gx.g.neg(gaz)?;
        let half = scalar_like(gx, y, 0.5)?;
        let d_dy = gx.g.mul(half, ga)?;
        Ok(vec![Some(d_y), Some(d_dy)])
    })
}

fn sqrt_grad<T: Real>(y: T, dy: T, _: &SqrtGrad) -> T {
    if dy == T::ZERO { T::ZERO } else { T::from_f64(0.5) * dy / y }
}

fused_grad_op! {
    /// The gradient of Rsqrt from its output: `RsqrtGrad(y, dy) = dy · (−0.5) · y³`, and 0 where
    /// `dy` is 0 (TF's kernel).
    RsqrtGrad derive(Copy, Default) {}
    inputs("y", "dy"), Real, kernel rsqrt_grad,
    // d/dy = −1.5·g·dy·y²; d/ddy = RsqrtGrad(y, g)
    grad(|_op, gx| {
        let (y, dy, g) = abg(gx);
        let k = scalar_like(gx, y, -1.5)?;
        let kg = gx.g.mul(k, g)?;
        let kgdy = gx.g.mul(kg, dy)?;
        let y2 = gx.g.square(y)?;
        let d_y = gx.g.mul(kgdy, y2)?;
        let d_dy = gx.g.op("RsqrtGrad", RsqrtGrad {}, &[y, g])?;
        Ok(vec![Some(d_y), Some(d_dy)])
    })
}

fn rsqrt_grad<T: Real>(y: T, dy: T, _: &RsqrtGrad) -> T {
    if dy == T::ZERO { T::ZERO } else { T::from_f64(-0.5) * (dy * y) * (y * y) }
}

fused_grad_op! {
    /// The gradient of Reciprocal from its output: `ReciprocalGrad(y, dy) = −dy · y²`, and 0
    /// where `dy` is 0 (TF's kernel).
    ReciprocalGrad derive(Copy, Default) {}
    inputs("y", "dy"), Real, kernel reciprocal_grad,
    // d/dy = −2·g·dy·y; d/ddy = ReciprocalGrad(y, g)
    grad(|_op, gx| {
        let (y, dy, g) = abg(gx);
        let k = scalar_like(gx, y, -2.0)?;
        let kg = gx.g.mul(g, k)?;
        let kgdy = gx.g.mul(kg, dy)?;
        let d_y = gx.g.mul(kgdy, y)?;
        let d_dy = gx.g.op("ReciprocalGrad", ReciprocalGrad {}, &[y, g])?;
        Ok(vec![Some(d_y), Some(d_dy)])
    })
}

fn reciprocal_grad<T: Real>(y: T, dy: T, _: &ReciprocalGrad) -> T {
    if dy == T::ZERO { T::ZERO } else { -y * y * dy }
}
