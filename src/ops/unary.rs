//! Element-wise functions of one tensor: Neg, Abs, Sign, Square, Sqrt, Rsqrt, Reciprocal, Exp, Log, Log1p,
//! Floor, Ceil, Round, Sin, Cos, LogicalNot, Cast.
//!
//! Each op is one `unary_op!` block: its function, its builder method and its gradient, with the
//! derivative as a one-line comment.

use super::elementwise::{map_same, map_to};
use super::op;
use super::{InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Real, Tensor};

pub(crate) fn infer_unary(cx: &InferCx, dtypes: &[DType]) -> OpResult<Vec<TensorSpec>> {
    cx.arity(1)?;
    let d = cx.dtype_in(0, dtypes)?;
    single(d, cx.input(0).shape.clone())
}

/// Applies a float function to an f32 or f64 tensor. The functions are generic (not pointers) so
/// they inline into the vectorized loops.
pub(crate) fn map_float(
    t: Tensor,
    par: bool,
    f32f: impl Fn(f32) -> f32 + Sync + Send,
    f64f: impl Fn(f64) -> f64 + Sync + Send,
) -> OpResult<Tensor> {
    match t {
        Tensor::F32(a) => Ok(Tensor::F32(map_same(a, par, f32f))),
        Tensor::F64(a) => Ok(Tensor::F64(map_same(a, par, f64f))),
        other => Err(crate::invalid!("expected a float tensor, got {}", other.dtype())),
    }
}

/// One element-wise function per number dtype.
pub(crate) type UnaryFns = (fn(f32) -> f32, fn(f64) -> f64, fn(i32) -> i32, fn(i64) -> i64);

/// Applies a numeric function to a tensor of any number dtype.
pub(crate) fn map_number(t: Tensor, par: bool, fs: UnaryFns) -> OpResult<Tensor> {
    match t {
        Tensor::F32(a) => Ok(Tensor::F32(map_same(a, par, fs.0))),
        Tensor::F64(a) => Ok(Tensor::F64(map_same(a, par, fs.1))),
        Tensor::I32(a) => Ok(Tensor::I32(map_same(a, par, fs.2))),
        Tensor::I64(a) => Ok(Tensor::I64(map_same(a, par, fs.3))),
        other => Err(crate::invalid!("expected a number tensor, got {}", other.dtype())),
    }
}

/// Defines an element-wise unary op: the struct, its `Op` impl, and a `Graph` builder method.
/// `Real` ops take f32/f64; `Number` ops also i32/i64.
macro_rules! unary_op {
    (@map Real, $t:expr, $par:expr, $name:ident) => {
        $crate::ops::unary::map_float($t, $par, $name::apply::<f32>, $name::apply::<f64>)
    };
    (@map Number, $t:expr, $par:expr, $name:ident) => {
        $crate::ops::unary::map_number($t, $par, ($name::apply::<f32>, $name::apply::<f64>, $name::apply::<i32>, $name::apply::<i64>))
    };
    (@dtypes Real) => { $crate::ops::FLOATS };
    (@dtypes Number) => { $crate::ops::NUMBERS };
    (
        $(#[doc = $doc:literal])*
        $name:ident, $method:ident, $kind:ident, |$x:ident| $f:expr,
        grad(|$gx:ident| $grad:expr)
    ) => {
        $crate::ops::op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
            builder $method(x)
        }

        impl $name {
            #[allow(unused_imports)]
            fn apply<T: $crate::tensor::$kind>($x: T) -> T {
                use $crate::tensor::Number as _;
                use num_traits::Float as _;
                $f
            }
        }

        impl $crate::ops::Op for $name {
            fn infer(&self, cx: &$crate::ops::InferCx) -> $crate::error::OpResult<Vec<$crate::ops::TensorSpec>> {
                $crate::ops::unary::infer_unary(cx, unary_op!(@dtypes $kind))
            }
            fn compute(&self, k: &mut $crate::ops::Kernel) -> $crate::error::OpResult<$crate::ops::Outputs> {
                let par = k.parallel();
                $crate::ops::one(unary_op!(@map $kind, k.take(0)?, par, $name)?)
            }
            fn grad(&self, $gx: &mut $crate::grad::GradCx) -> $crate::error::Result<Vec<Option<$crate::graph::Output>>> {
                Ok(vec![$grad])
            }
        }
    };
}

pub(crate) use unary_op;

/// The input, the output and the incoming gradient of the node being differentiated.
pub(crate) fn xyg(gx: &GradCx) -> (Output, Output, Output) {
    (gx.input(0), gx.output(0), gx.grad(0))
}

/// `g * f` where `f` is built from the graph: the common shape of unary gradients.
pub(crate) fn times(
    gx: &mut GradCx,
    f: impl FnOnce(&mut Graph, Output, Output) -> Result<Output>,
) -> Result<Option<Output>> {
    let (x, y, g) = xyg(gx);
    let d = f(gx.g, x, y)?;
    gx.g.mul(g, d).map(Some)
}

unary_op!(
    /// `-x`.
    Neg, neg, Number, |x| x.neg(),
    // dy/dx = -1
    grad(|gx| { let g = gx.grad(0); Some(gx.g.neg(g)?) })
);
unary_op!(
    /// `|x|`.
    Abs, abs, Number, |x| x.abs_(),
    // dy/dx = sign(x)
    grad(|gx| times(gx, |g, x, _| g.sign(x))?)
);
unary_op!(
    /// -1, 0 or 1 by the sign of x.
    Sign, sign, Number, |x| x.sign(),
    // dy/dx = 0 (TF returns zeros)
    grad(|gx| { let x = gx.input(0); Some(gx.g.zeros_like(x)?) })
);
unary_op!(
    /// `x * x`.
    Square, square, Number, |x| x.mul(x),
    // dy/dx = 2x
    grad(|gx| times(gx, |g, x, _| { let two = g.scalar(g.try_spec(x)?.dtype, 2.0)?; g.mul(x, two) })?)
);
unary_op!(
    /// `sqrt(x)`.
    Sqrt, sqrt, Real, |x| x.sqrt(),
    // dy/dx = 0.5 / y
    grad(|gx| times(gx, |g, _, y| { let h = g.scalar(g.try_spec(y)?.dtype, 0.5)?; g.div(h, y) })?)
);
unary_op!(
    /// `1 / sqrt(x)`.
    Rsqrt, rsqrt, Real, |x| x.sqrt().recip(),
    // dy/dx = -0.5 * y^3
    grad(|gx| times(gx, |g, _, y| {
        let h = g.scalar(g.try_spec(y)?.dtype, -0.5)?;
        let y2 = g.square(y)?;
        let y3 = g.mul(y2, y)?;
        g.mul(h, y3)
    })?)
);
unary_op!(
    /// `1 / x` (TF `Reciprocal`). TF's op definition also lists integer types, but TF has no CPU
    /// kernel for them, so a graph with one cannot run in TF either: floats only.
    Reciprocal, reciprocal, Real, |x| x.recip(),
    // dy/dx = −y² (fused as ReciprocalGrad)
    grad(|gx| {
        let (_, y, g) = xyg(gx);
        Some(gx.g.op("ReciprocalGrad", super::fused_grad::ReciprocalGrad {}, &[y, g])?)
    })
);
unary_op!(
    /// `e^x`.
    Exp, exp, Real, |x| x.exp(),
    // dy/dx = y
    grad(|gx| times(gx, |_, _, y| Ok(y))?)
);
unary_op!(
    /// Natural logarithm.
    Log, log, Real, |x| x.ln(),
    // dy/dx = 1 / x
    grad(|gx| { let (x, _, g) = xyg(gx); Some(gx.g.div(g, x)?) })
);
unary_op!(
    /// `log(1 + x)`, accurate for small x (a primitive for its numerics).
    Log1p, log1p, Real, |x| x.ln_1p(),
    // dy/dx = 1 / (1 + x)
    grad(|gx| {
        let (x, _, g) = xyg(gx);
        let one = gx.g.scalar(gx.g.try_spec(x)?.dtype, 1.0)?;
        let d = gx.g.add(one, x)?;
        Some(gx.g.div(g, d)?)
    })
);
unary_op!(
    /// Largest integer not greater than x.
    Floor, floor, Real, |x| x.floor(),
    // piecewise constant: no gradient (TF returns None)
    grad(|_gx| None)
);
unary_op!(
    /// Smallest integer not less than x.
    Ceil, ceil, Real, |x| x.ceil(),
    // piecewise constant: no gradient (TF returns None)
    grad(|_gx| None)
);
unary_op!(
    /// Nearest integer, halves to even (banker's rounding, as TF).
    Round, round, Real, |x| round_half_even(x),
    // piecewise constant: no gradient (TF returns None)
    grad(|_gx| None)
);
unary_op!(
    /// Sine.
    Sin, sin, Real, |x| x.sin(),
    // dy/dx = cos(x)
    grad(|gx| times(gx, |g, x, _| g.cos(x))?)
);
unary_op!(
    /// Cosine.
    Cos, cos, Real, |x| x.cos(),
    // dy/dx = -sin(x)
    grad(|gx| times(gx, |g, x, _| { let s = g.sin(x)?; g.neg(s) })?)
);

/// Rounds half to even, as TF's Round.
fn round_half_even<T: Real>(x: T) -> T {
    let r = x.round();
    if (x - x.trunc()).abs() == T::from_f64(0.5) { T::from_f64(2.0) * (x / T::from_f64(2.0)).round() } else { r }
}

op! {
    /// Logical negation of a bool tensor.
    LogicalNot derive(Copy, Default) {}
}

impl Op for LogicalNot {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_unary(cx, &[DType::Bool])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let a = k.take(0)?.into_array::<bool>()?;
        one(Tensor::Bool(map_same(a, par, |b| !b)))
    }
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None])
    }
}

op! {
    /// Converts to another dtype with TF's rules (see [`Tensor::cast`]).
    Cast derive(Copy) { dtype as "DstT": DType }
}

impl Op for Cast {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let from = cx.input(0).dtype;
        if from != self.dtype && (from == DType::String || self.dtype == DType::String) {
            return Err(crate::invalid!("cannot cast {from} to {}", self.dtype));
        }
        single(self.dtype, cx.input(0).shape.clone())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let t = k.take(0)?;
        let par = k.parallel();
        one(match (&t, self.dtype) {
            (Tensor::I64(a), DType::Float32) => Tensor::F32(map_to(a, par, |v| v as f32)),
            (Tensor::F32(a), DType::Float64) => Tensor::F64(map_to(a, par, |v| v as f64)),
            (Tensor::F64(a), DType::Float32) => Tensor::F32(map_to(a, par, |v| v as f32)),
            _ => t.cast(self.dtype),
        })
    }
    // d cast(x)/dx = 1 between float types; no gradient into or out of integers and bool
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let src = gx.input_spec(0).dtype;
        if !(src.is_float() && self.dtype.is_float()) {
            return Ok(vec![None]);
        }
        let g = gx.grad(0);
        Ok(vec![Some(gx.g.cast(g, src)?)])
    }
}

impl Graph {
    /// `LogicalNot(x)`.
    pub fn logical_not(&mut self, x: Output) -> Result<Output> {
        self.op("LogicalNot", LogicalNot {}, &[x])
    }

    /// `Cast(x, dtype)`; a cast to the same dtype returns x itself, as `tf.cast`.
    pub fn cast(&mut self, x: Output, dtype: DType) -> Result<Output> {
        if self.try_spec(x)?.dtype == dtype {
            return Ok(x);
        }
        self.op("Cast", Cast { dtype }, &[x])
    }
}
