//! The fused gradients of activations that TF's gradient graphs hold: Relu6Grad, EluGrad,
//! SeluGrad, SoftplusGrad, LeakyReluGrad (ReluGrad and TanhGrad are beside their activations in
//! `nn`). Each takes the incoming `gradients` and what TF's gradient passes of the activation (its
//! `features` or its `outputs`), with TF's kernel formula, including its values at the kinks.
//!
//! Primitives so that TF's graphs import one to one; each has its own gradient, as TF's
//! `nn_grad.py` registers one.

use super::fused_grad::{abg, fused_grad_op, scalar_like};
use super::nn::{SELU_SCALE, SELU_SCALE_ALPHA};
use crate::tensor::{Number, Real};

fused_grad_op! {
    /// The gradient of Relu6: `gradients · (0 < features < 6)`, so 0 at 0 and at 6 and where a
    /// feature is NaN; a NaN or infinite gradient outside (0, 6) gives NaN, as TF's product.
    /// Integers too, as TF.
    Relu6Grad derive(Copy, Default) {}
    inputs("gradients", "features"), Number, kernel relu6_grad,
    // d/dgradients = Relu6Grad(g, features); d/dfeatures = 0
    grad(|_op, gx| {
        let (_, f, g) = abg(gx);
        let d_g = gx.g.op("Relu6Grad", Relu6Grad {}, &[g, f])?;
        let d_f = gx.g.zeros_like(f)?;
        Ok(vec![Some(d_g), Some(d_f)])
    })
}

fn relu6_grad<T: Number>(g: T, f: T, _: &Relu6Grad) -> T {
    g.mul(if f > T::ZERO && f < T::from_f64(6.0) { T::ONE } else { T::ZERO })
}

/// `where(outputs < 0, g · gradients, 0)`: the derivative of EluGrad and SeluGrad with respect
/// to the activation's output, where they are `gradients · (outputs + c)`.
fn grad_by_outputs(gx: &mut crate::grad::GradCx) -> crate::error::Result<crate::graph::Output> {
    let (grads, y, g) = abg(gx);
    let zero = scalar_like(gx, y, 0.0)?;
    let neg = gx.g.less(y, zero)?;
    let gg = gx.g.mul(g, grads)?;
    let zeros = gx.g.zeros_like(y)?;
    gx.g.select(neg, gg, zeros)
}

fused_grad_op! {
    /// The gradient of Elu from its output: `(outputs + 1) · gradients` where `outputs < 0`,
    /// else `gradients` (so at 0 the gradient passes).
    EluGrad derive(Copy, Default) {}
    inputs("gradients", "outputs"), Real, kernel elu_grad,
    // d/dgradients = EluGrad(g, outputs); d/doutputs = g·gradients where outputs < 0, else 0
    grad(|_op, gx| {
        let (_, y, g) = abg(gx);
        let d_g = gx.g.op("EluGrad", EluGrad {}, &[g, y])?;
        Ok(vec![Some(d_g), Some(grad_by_outputs(gx)?)])
    })
}

fn elu_grad<T: Real>(g: T, y: T, _: &EluGrad) -> T {
    if y < T::ZERO { (y + T::ONE) * g } else { g }
}

fused_grad_op! {
    /// The gradient of Selu from its output: `gradients · (outputs + scale·alpha)` where
    /// `outputs < 0`, else `gradients · scale`.
    SeluGrad derive(Copy, Default) {}
    inputs("gradients", "outputs"), Real, kernel selu_grad,
    // d/dgradients = SeluGrad(g, outputs); d/doutputs = g·gradients where outputs < 0, else 0
    grad(|_op, gx| {
        let (_, y, g) = abg(gx);
        let d_g = gx.g.op("SeluGrad", SeluGrad {}, &[g, y])?;
        Ok(vec![Some(d_g), Some(grad_by_outputs(gx)?)])
    })
}

fn selu_grad<T: Real>(g: T, y: T, _: &SeluGrad) -> T {
    if y < T::ZERO { g * (y + T::from_f64(SELU_SCALE_ALPHA)) } else { g * T::from_f64(SELU_SCALE) }
}

fused_grad_op! {
    /// The gradient of Softplus from its input: `gradients / (e^−features + 1)`.
    SoftplusGrad derive(Copy, Default) {}
    inputs("gradients", "features"), Real, kernel softplus_grad,
    // d/dgradients = SoftplusGrad(g, features); d/dfeatures = g·gradients / (e^−x + 2 + e^x)
    grad(|_op, gx| {
        let (grads, x, g) = abg(gx);
        let d_g = gx.g.op("SoftplusGrad", SoftplusGrad {}, &[g, x])?;
        let nx = gx.g.neg(x)?;
        let en = gx.g.exp(nx)?;
        let two = scalar_like(gx, x, 2.0)?;
        let en2 = gx.g.add(en, two)?;
        let ep = gx.g.exp(x)?;
        let den = gx.g.add(en2, ep)?;
        let gg = gx.g.mul(g, grads)?;
        let d_x = gx.g.div(gg, den)?;
        Ok(vec![Some(d_g), Some(d_x)])
    })
}

fn softplus_grad<T: Real>(g: T, x: T, _: &SoftplusGrad) -> T {
    g / ((-x).exp() + T::ONE)
}

fused_grad_op! {
    /// The gradient of LeakyRelu: `gradients` where `features > 0`, else `gradients · alpha`
    /// (so `alpha · gradients` at 0).
    LeakyReluGrad derive(Copy) { #[serde(default = "default_alpha")] alpha: f32 }
    inputs("gradients", "features"), Real, kernel leaky_relu_grad,
    // d/dgradients = LeakyReluGrad(g, features); d/dfeatures = 0
    grad(|op, gx| {
        let (_, f, g) = abg(gx);
        let d_g = gx.g.op("LeakyReluGrad", *op, &[g, f])?;
        let d_f = gx.g.zeros_like(f)?;
        Ok(vec![Some(d_g), Some(d_f)])
    })
}

/// TF's default `alpha` of LeakyRelu and LeakyReluGrad.
fn default_alpha() -> f32 {
    0.2
}

fn leaky_relu_grad<T: Real>(g: T, f: T, op: &LeakyReluGrad) -> T {
    if f > T::ZERO { g } else { g * T::from_f64(op.alpha as f64) }
}
