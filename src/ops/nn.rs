//! Activations: Relu, Relu6, LeakyRelu, Elu, Selu, Sigmoid, Tanh, Softplus (with ReluGrad and TanhGrad,
//! the fused gradients TF's graphs hold), and Softmax / LogSoftmax over the last axis, in TF's stable forms.

use super::op;
use super::unary::{infer_unary, times, unary_op, xyg};
use super::{FLOATS, InferCx, Kernel, Op, Outputs, TensorSpec, one};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::Output;
use crate::tensor::{ArcArrayD, Real, Tensor};
use ndarray::Axis;

unary_op!(
    /// `max(x, 0)`.
    Relu, relu, Real, |x| if x > T::ZERO || x.is_nan() { x } else { T::ZERO },
    // dy/dx = 1 where y > 0 (fused as ReluGrad)
    grad(|gx| { let (_, y, g) = xyg(gx); Some(gx.g.op("ReluGrad", ReluGrad {}, &[g, y])?) })
);
unary_op!(
    /// `min(max(x, 0), 6)`.
    Relu6, relu6, Real, |x| if x.is_nan() { x } else { num_traits::Float::min(num_traits::Float::max(x, T::ZERO), T::from_f64(6.0)) },
    // dy/dx = 1 where 0 < x < 6
    grad(|gx| {
        let (x, _, g) = xyg(gx);
        let dt = gx.g.try_spec(x)?.dtype;
        let (zero, six) = (gx.g.scalar(dt, 0.0)?, gx.g.scalar(dt, 6.0)?);
        let above = gx.g.greater(x, zero)?;
        let below = gx.g.less(x, six)?;
        let inside = gx.g.logical_and(above, below)?;
        let zeros = gx.g.zeros_like(g)?;
        Some(gx.g.select(inside, g, zeros)?)
    })
);
unary_op!(
    /// `x` if `x >= 0`, else `e^x − 1`, computed as TF's kernel does (`exp(x) − 1`, not
    /// `expm1`: TF's values near 0 carry the rounding of `exp`), so `-0` stays `-0`.
    Elu, elu, Real, |x| if x < T::ZERO { x.exp() - T::ONE } else { x },
    // dy/dx = 1 where y > 0, else y + 1
    grad(|gx| {
        let (_, y, g) = xyg(gx);
        let dt = gx.g.try_spec(y)?.dtype;
        let (zero, one) = (gx.g.scalar(dt, 0.0)?, gx.g.scalar(dt, 1.0)?);
        let pos = gx.g.greater(y, zero)?;
        let y1 = gx.g.add(y, one)?;
        let gy1 = gx.g.mul(g, y1)?;
        Some(gx.g.select(pos, g, gy1)?)
    })
);
unary_op!(
    /// The logistic function `1 / (1 + e^-x)`, computed without overflow.
    Sigmoid, sigmoid, Real, |x| sigmoid(x),
    // dy/dx = y (1 - y)
    grad(|gx| times(gx, |g, _, y| {
        let one = g.scalar(g.try_spec(y)?.dtype, 1.0)?;
        let omy = g.sub(one, y)?;
        g.mul(y, omy)
    })?)
);
unary_op!(
    /// Hyperbolic tangent.
    Tanh, tanh, Real, |x| x.tanh(),
    // dy/dx = 1 - y^2
    grad(|gx| times(gx, |g, _, y| {
        let one = g.scalar(g.try_spec(y)?.dtype, 1.0)?;
        let y2 = g.square(y)?;
        g.sub(one, y2)
    })?)
);
unary_op!(
    /// `log(1 + e^x)`, computed as `max(x, 0) + log1p(e^-|x|)` so it neither overflows nor
    /// loses precision.
    Softplus, softplus, Real, |x| num_traits::Float::max(x, T::ZERO) + (-x.abs()).exp().ln_1p(),
    // dy/dx = sigmoid(x)
    grad(|gx| times(gx, |g, x, _| g.sigmoid(x))?)
);

unary_op!(
    /// Scaled exponential linear unit: `scale · x` if `x >= 0`, else `scale · alpha · (e^x − 1)`,
    /// with TF's constants and its `e^x − 1` (not `expm1`), so `-0` stays `-0`.
    Selu, selu, Real,
    |x| if x < T::ZERO { T::from_f64(SELU_SCALE_ALPHA) * (x.exp() - T::ONE) } else { T::from_f64(SELU_SCALE) * x },
    // dy/dx = scale where y >= 0, else y + scale·alpha (fused as SeluGrad)
    grad(|gx| { let (_, y, g) = xyg(gx); Some(gx.g.op("SeluGrad", super::nn_grad::SeluGrad {}, &[g, y])?) })
);

/// Selu's `scale` (TF's constant, rounded to the dtype).
pub(crate) const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// Selu's `scale · alpha` (TF's constant, rounded to the dtype).
pub(crate) const SELU_SCALE_ALPHA: f64 = 1.758_099_340_847_376_9;

fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

fn infer_same_float_pair(cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let d = cx.dtype_in(0, FLOATS)?;
    cx.same_dtype(0, 1)?;
    let s = cx.input(0).shape.merge(&cx.input(1).shape)?;
    super::single(d, s)
}

op! {
    /// The gradient of Relu: `gradients` where `features > 0`, else 0 (a primitive for speed: one pass
    /// instead of a comparison, a cast and a product).
    ReluGrad derive(Copy, Default) {}
}

impl Op for ReluGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_same_float_pair(cx)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let (g, f) = (k.take(0)?, k.take(1)?);
        if g.shape() != f.shape() {
            return Err(crate::invalid!("gradients {:?} and features {:?} differ in shape", g.shape(), f.shape()));
        }
        one(match (g, f) {
            (Tensor::F32(g), Tensor::F32(f)) => Tensor::F32(super::elementwise::zip_same(g, f, par, relu_grad)?),
            (Tensor::F64(g), Tensor::F64(f)) => Tensor::F64(super::elementwise::zip_same(g, f, par, relu_grad)?),
            (g, _) => {
                return Err(crate::invalid!("ReluGrad needs float inputs, got {}", g.dtype()));
            }
        })
    }
    // d/dgradients = ReluGrad(g, features); d/dfeatures = 0
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (f, g) = (gx.input(1), gx.grad(0));
        let dg = gx.g.op("ReluGrad", ReluGrad {}, &[g, f])?;
        let z = gx.g.zeros_like(f)?;
        Ok(vec![Some(dg), Some(z)])
    }
}

/// TF's `gradients * (features > 0)`: a NaN or infinite gradient where the feature is not
/// positive gives NaN, as in TF, not 0.
pub(super) fn relu_grad<T: Real>(g: T, f: T) -> T {
    g * if f > T::ZERO { T::ONE } else { T::ZERO }
}

op! {
    /// The gradient of Tanh from its output: `TanhGrad(y, dy) = dy · (1 − y²)` (what TF's
    /// gradient graphs hold; a primitive so TF's graphs import one to one).
    TanhGrad derive(Copy, Default) {}
}

impl Op for TanhGrad {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_same_float_pair(cx)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let (y, dy) = (k.take(0)?, k.take(1)?);
        if y.shape() != dy.shape() {
            return Err(crate::invalid!("y {:?} and dy {:?} differ in shape", y.shape(), dy.shape()));
        }
        one(match (y, dy) {
            (Tensor::F32(y), Tensor::F32(d)) => Tensor::F32(super::elementwise::zip_same(y, d, par, tanh_grad)?),
            (Tensor::F64(y), Tensor::F64(d)) => Tensor::F64(super::elementwise::zip_same(y, d, par, tanh_grad)?),
            (y, _) => return Err(crate::invalid!("TanhGrad needs float inputs, got {}", y.dtype())),
        })
    }
    // d/dy = −2·y·dy·g; d/ddy = TanhGrad(y, g)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (y, dy, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let dt = gx.g.try_spec(y)?.dtype;
        let minus_two = gx.g.scalar(dt, -2.0)?;
        let ydy = gx.g.mul(y, dy)?;
        let ydyg = gx.g.mul(ydy, g)?;
        let d_y = gx.g.mul(minus_two, ydyg)?;
        let d_dy = gx.g.op("TanhGrad", TanhGrad {}, &[y, g])?;
        Ok(vec![Some(d_y), Some(d_dy)])
    }
}

fn tanh_grad<T: Real>(y: T, dy: T) -> T {
    dy * (T::ONE - y * y)
}

op! {
    /// `x` where `x > 0`, else `alpha * x`.
    LeakyRelu derive(Copy) { #[serde(default = "default_alpha")] alpha: f32 }
}

fn default_alpha() -> f32 {
    0.2
}

impl Op for LeakyRelu {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        infer_unary(cx, FLOATS)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let a = self.alpha;
        one(match k.take(0)? {
            Tensor::F32(x) => {
                Tensor::F32(super::elementwise::map_same(x, par, move |v| if v > 0.0 { v } else { a * v }))
            }
            Tensor::F64(x) => {
                let a = a as f64;
                Tensor::F64(super::elementwise::map_same(x, par, move |v| if v > 0.0 { v } else { a * v }))
            }
            other => {
                return Err(crate::invalid!("LeakyRelu needs a float input, got {}", other.dtype()));
            }
        })
    }
    // dy/dx = 1 where x > 0, else alpha
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (x, _, g) = xyg(gx);
        let dt = gx.g.try_spec(x)?.dtype;
        let zero = gx.g.scalar(dt, 0.0)?;
        let alpha = gx.g.scalar(dt, self.alpha as f64)?;
        let pos = gx.g.greater(x, zero)?;
        let ag = gx.g.mul(alpha, g)?;
        Ok(vec![Some(gx.g.select(pos, g, ag)?)])
    }
}

/// Softmax or log-softmax of every lane along the last axis, shifted by the lane's maximum.
fn softmax_lanes<T: Real>(mut a: ArcArrayD<T>, log: bool) -> OpResult<ArcArrayD<T>> {
    let last = a.ndim().checked_sub(1).ok_or_else(|| crate::invalid!("softmax needs rank >= 1"))?;
    for mut lane in a.lanes_mut(Axis(last)) {
        let m = lane.iter().fold(T::neg_infinity(), |m, &v| if v > m || v.is_nan() { v } else { m });
        if log {
            let sum = lane.iter().fold(T::zero(), |s, &v| s + (v - m).exp());
            let ls = sum.ln();
            lane.mapv_inplace(|v| v - m - ls);
        } else {
            let mut sum = T::zero();
            lane.mapv_inplace(|v| {
                let e = (v - m).exp();
                sum = sum + e;
                e
            });
            lane.mapv_inplace(|e| e / sum);
        }
    }
    Ok(a)
}

/// Defines Softmax / LogSoftmax.
macro_rules! softmax_op {
    ($(#[doc = $doc:literal])* $name:ident, $method:ident, $log:expr, grad(|$gx:ident| $grad:expr)) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
            builder $method(logits)
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                let out = infer_unary(cx, FLOATS)?;
                if out[0].shape.rank() == Some(0) {
                    return Err(crate::invalid!("logits must have rank >= 1"));
                }
                Ok(out)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                one(match k.take(0)? {
                    Tensor::F32(a) => Tensor::F32(softmax_lanes(a, $log)?),
                    Tensor::F64(a) => Tensor::F64(softmax_lanes(a, $log)?),
                    other => return Err(crate::invalid!("expected float logits, got {}", other.dtype())),
                })
            }
            fn grad(&self, $gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                Ok(vec![Some($grad)])
            }
        }
    };
}

softmax_op!(
    /// `exp(x) / sum(exp(x))` over the last axis.
    Softmax, softmax, false,
    // dy/dx · g = (g - sum(g * y, -1)) * y
    grad(|gx| {
        let (_, y, g) = xyg(gx);
        let gy = gx.g.mul(g, y)?;
        let s = gx.g.reduce_sum(gy, Some(&[-1]), true)?;
        let d = gx.g.sub(g, s)?;
        gx.g.mul(d, y)?
    })
);
softmax_op!(
    /// `x - log(sum(exp(x)))` over the last axis.
    LogSoftmax, log_softmax, true,
    // dy/dx · g = g - sum(g, -1) * exp(y)
    grad(|gx| {
        let (_, y, g) = xyg(gx);
        let s = gx.g.reduce_sum(g, Some(&[-1]), true)?;
        let e = gx.g.exp(y)?;
        let se = gx.g.mul(s, e)?;
        gx.g.sub(g, se)?
    })
);
