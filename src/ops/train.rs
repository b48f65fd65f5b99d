//! The update kernels of TF1's optimizers: ApplyGradientDescent, ApplyMomentum, ApplyAdam,
//! ApplyAdagrad, ApplyRMSProp, ApplyCenteredRMSProp. Inputs follow TF's order: the variable and
//! its slots as references, then scalar hyper-parameters, then the gradient. Each op updates its
//! variables at once under their locks (atomic against concurrent runs) and outputs the new value
//! of the variable. The arithmetic follows TF's CPU kernels, term for term.
//!
//! The updates are written `x = x − …` as TF's formulas read (the generic element type has no
//! `-=`).
//!
//! The slots that decay (Adam's `m` and `v`, the momentum accumulators, RMSProp's mean squares)
//! are flushed to zero when they fall below the smallest normal number, as TF's kernels do: TF
//! runs every kernel with the processor's flush-to-zero and denormals-are-zero modes on. Without
//! it `v` would sit for thousands of steps among the subnormals (it shrinks by β2 per step), where
//! every operation on it takes a slow microcode path — ten times the cost of the whole update.
//! No variable's value changes: a subnormal `v` is far below `ε`'s rounding.
//!
//! These are primitives because an update writes several variables in place in one pass (speed),
//! and because TF's numbers come from exactly these formulas (numerics).

#![allow(clippy::assign_op_pattern)]

use super::op;
use super::{Access, FLOATS, InferCx, Kernel, Op, Outputs, State, TensorSpec, one};
use crate::error::{OpError, OpResult};
use crate::tensor::{ArcArrayD, DType, Real};
use smallvec::SmallVec;

/// Where an Apply op's inputs are: `refs` variable references first, the gradient at `grad`,
/// and scalar hyper-parameters everywhere else (TF's ApplyMomentum puts the gradient before the
/// momentum; the others put it last).
#[derive(Clone, Copy)]
struct Layout {
    refs: usize,
    inputs: usize,
    grad: usize,
}

impl Layout {
    fn hyper(self) -> impl Iterator<Item = usize> {
        (self.refs..self.inputs).filter(move |&i| i != self.grad)
    }
}

/// Checks an Apply op's inputs: variables of one float dtype and shape, scalar
/// hyper-parameters, a gradient of the variable's shape.
fn infer_apply(cx: &InferCx, l: Layout) -> OpResult<Vec<TensorSpec>> {
    cx.arity(l.inputs)?;
    let var = cx.input(0);
    cx.dtype_in(0, FLOATS)?;
    for i in 1..cx.len() {
        cx.same_dtype(0, i)?;
    }
    for i in 1..l.refs {
        if !cx.input(i).shape.is_compatible(&var.shape) {
            return Err(OpError::ShapeMismatch { lhs: var.shape.clone(), rhs: cx.input(i).shape.clone() });
        }
    }
    for i in l.hyper() {
        cx.scalar(i, &format!("hyper-parameter {i}"))?;
    }
    let grad = cx.input(l.grad);
    if !grad.shape.is_compatible(&var.shape) {
        return Err(crate::invalid!("var and grad do not have the same shape: {} vs {}", var.shape, grad.shape));
    }
    Ok(vec![var.clone()])
}

/// Runs `update` on the variables named by the refs (as row-major slices, written in place when
/// the session holds the only reference), with the gradient and the hyper-parameters (in input
/// order).
fn apply<T: Real>(k: &mut Kernel, l: Layout, update: impl Fn(&mut [&mut [T]], &[T], &[T]) + Sync) -> OpResult<Outputs> {
    let parallel = k.parallel();
    let h: SmallVec<[T; 6]> =
        l.hyper().map(|i| k.scalar_f64(i, "hyper-parameter").map(T::from_f64)).collect::<OpResult<_>>()?;
    let grad = k.take(l.grad)?.into_array::<T>()?;
    let grad = if grad.is_standard_layout() { grad } else { grad.as_standard_layout().into_owned().into_shared() };
    let g = grad.as_slice().ok_or_else(|| crate::invalid!("gradient is not contiguous"))?;
    let new = k.update_vars(|vars| {
        // Every check runs before a value is taken out, so a failure leaves the variables as
        // they were.
        for slot in vars.iter() {
            let t = slot.as_ref().ok_or_else(|| crate::invalid!("attempting to use an uninitialized variable"))?;
            if t.dtype() != T::DTYPE || t.shape() != grad.shape() {
                return Err(crate::invalid!(
                    "var and grad do not have the same dtype and shape: {} {:?} vs {} {:?}",
                    t.dtype(),
                    t.shape(),
                    T::DTYPE,
                    grad.shape()
                ));
            }
        }
        let mut arrays: SmallVec<[ArcArrayD<T>; 4]> = SmallVec::new();
        for slot in vars.iter_mut() {
            let a = slot.take().map(|t| t.into_array::<T>());
            match a {
                Some(Ok(a)) if a.is_standard_layout() => arrays.push(a),
                Some(Ok(a)) => arrays.push(a.as_standard_layout().into_owned().into_shared()),
                _ => return Err(crate::invalid!("variable changed while it was locked")),
            }
        }
        let slices: Slices<'_, T> = arrays.iter_mut().filter_map(|a| a.as_slice_mut()).collect();
        run_chunked(slices, g, &h, parallel, &update);
        for (slot, a) in vars.iter_mut().zip(arrays) {
            **slot = Some(T::wrap(a));
        }
        vars[0].clone().ok_or_else(|| crate::invalid!("variable vanished"))
    })?;
    one(new)
}

/// The variable and slot slices one update writes.
type Slices<'a, T> = SmallVec<[&'a mut [T]; 4]>;

/// The accesses of the Apply ops: each updates all its reference inputs.
static UPDATES: [Access; 4] = [Access::Update; 4];

/// Updates at least this many elements are split across threads.
const PARALLEL_MIN_UPDATE: usize = 1 << 17;

/// Runs an element-wise update over `slices` (the variable and its slots) and the gradient,
/// vectorized, in chunks across threads when large. Elements are independent, so the result does
/// not depend on the split.
fn run_chunked<T: Real>(
    mut slices: Slices<'_, T>,
    g: &[T],
    h: &[T],
    parallel: bool,
    update: &(impl Fn(&mut [&mut [T]], &[T], &[T]) + Sync),
) {
    let threads = rayon::current_num_threads();
    if !parallel || threads < 2 || g.len() < PARALLEL_MIN_UPDATE {
        super::elementwise::vectorized(
            #[inline(always)]
            || update(&mut slices, g, h),
        );
        return;
    }
    let chunk = g.len().div_ceil(threads * 4);
    let mut pieces: Vec<(Slices<'_, T>, &[T])> = Vec::new();
    let mut rest = slices;
    let mut grad = g;
    while !grad.is_empty() {
        let n = chunk.min(grad.len());
        let (head, tail): (Slices<'_, T>, Slices<'_, T>) = rest.into_iter().map(|s| s.split_at_mut(n)).unzip();
        let (gh, gt) = grad.split_at(n);
        pieces.push((head, gh));
        rest = tail;
        grad = gt;
    }
    use rayon::prelude::*;
    pieces.into_par_iter().for_each(|(mut s, gh)| {
        super::elementwise::vectorized(
            #[inline(always)]
            || update(&mut s, gh, h),
        )
    });
}

/// Dispatches an update over f32 and f64.
macro_rules! float_apply {
    ($k:expr, $l:expr, |$v:ident, $g:ident, $h:ident| $body:expr) => {{
        match $k.input($l.grad)?.dtype() {
            DType::Float32 => apply::<f32>(
                $k,
                $l,
                #[inline(always)]
                |$v: &mut [&mut [f32]], $g: &[f32], $h: &[f32]| $body,
            ),
            DType::Float64 => apply::<f64>(
                $k,
                $l,
                #[inline(always)]
                |$v: &mut [&mut [f64]], $g: &[f64], $h: &[f64]| $body,
            ),
            other => Err(crate::invalid!("optimizers update float variables, got {other}")),
        }
    }};
}

/// Defines an Apply op: its struct (attributes in braces), its input layout and its update.
macro_rules! apply_op {
    ($(#[doc = $doc:literal])* $name:ident { $($field:ident: $ty:ty = $default:expr),* }, $layout:expr,
     |$s:ident, $v:ident, $g:ident, $h:ident| $body:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy) { $(#[serde(default)] $field: $ty),* }
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_apply(cx, $layout)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let $s = self;
                float_apply!(k, $layout, |$v, $g, $h| $body)
            }
            fn state(&self) -> State {
                State::Variables(&UPDATES[..$layout.refs])
            }
            fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
                inputs[0].shape.known_elements() * $layout.refs
            }
        }
    };
}

apply_op!(
    /// `var -= lr · grad`. Inputs: var, alpha (lr), delta (grad).
    ApplyGradientDescent {}, Layout { refs: 1, inputs: 3, grad: 2 },
    |_s, v, g, h| {
        let lr = h[0];
        v[0].iter_mut().zip(g).for_each(|(w, &d)| *w = *w - d * lr);
    }
);

apply_op!(
    /// `accum = accum · momentum + grad`; `var -= lr · accum`, or with Nesterov
    /// `var -= grad · lr + accum · momentum · lr`. Inputs: var, accum, lr, grad, momentum (TF's
    /// order: the gradient before momentum).
    ApplyMomentum { use_nesterov: bool = false }, Layout { refs: 2, inputs: 5, grad: 3 },
    |s, v, g, h| {
        let (lr, momentum) = (h[0], h[1]);
        let [var, accum] = v else { return };
        let nesterov = s.use_nesterov;
        for ((w, a), &d) in var.iter_mut().zip(accum.iter_mut()).zip(g) {
            *a = flush(*a * momentum + d);
            *w = if nesterov { *w - (d * lr + *a * momentum * lr) } else { *w - *a * lr };
        }
    }
);

apply_op!(
    /// TF1 Adam: `alpha = lr·√(1 − β2ᵗ)/(1 − β1ᵗ)`, `m += (g − m)(1 − β1)`,
    /// `v += (g² − v)(1 − β2)`, `var −= m·alpha/(√v + ε)` (ε outside the root, not corrected).
    /// Inputs: var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad.
    ApplyAdam {}, Layout { refs: 3, inputs: 10, grad: 9 },
    |_s, v, g, h| {
        let (b1p, b2p, lr, b1, b2, eps) = (h[0], h[1], h[2], h[3], h[4], h[5]);
        let one = one_like(lr);
        let alpha = lr * (one - b2p).sqrt() / (one - b1p);
        let [var, m, vv] = v else { return };
        for (((w, m), v), &d) in var.iter_mut().zip(m.iter_mut()).zip(vv.iter_mut()).zip(g) {
            *m = flush(*m + (d - *m) * (one - b1));
            *v = flush(*v + (d * d - *v) * (one - b2));
            *w = *w - (*m * alpha) / (v.sqrt() + eps);
        }
    }
);

apply_op!(
    /// `accum += grad²`; `var −= lr · grad / √accum` (no epsilon, as TF1's kernel).
    /// Inputs: var, accum, lr, grad.
    ApplyAdagrad {}, Layout { refs: 2, inputs: 4, grad: 3 },
    |_s, v, g, h| {
        let lr = h[0];
        let [var, accum] = v else { return };
        for ((w, a), &d) in var.iter_mut().zip(accum.iter_mut()).zip(g) {
            *a = *a + d * d;
            *w = *w - d * lr * a.sqrt().recip();
        }
    }
);

apply_op!(
    /// `ms += (g² − ms)(1 − ρ)`; `mom = mom·momentum + lr·g/√(ms + ε)`; `var −= mom`
    /// (ε inside the root). Inputs: var, ms, mom, lr, rho, momentum, epsilon, grad.
    ApplyRMSProp {}, Layout { refs: 3, inputs: 8, grad: 7 },
    |_s, v, g, h| {
        let (lr, rho, momentum, eps) = (h[0], h[1], h[2], h[3]);
        let one_minus_rho = one_like(rho) - rho;
        let [var, ms, mom] = v else { return };
        for (((w, s), m), &d) in var.iter_mut().zip(ms.iter_mut()).zip(mom.iter_mut()).zip(g) {
            *s = flush(*s + (d * d - *s) * one_minus_rho);
            *m = flush(*m * momentum + (d * lr) / (*s + eps).sqrt());
            *w = *w - *m;
        }
    }
);

apply_op!(
    /// Centered RMSProp: also `mg += (g − mg)(1 − ρ)`, and the denominator is
    /// `√(ms − mg² + ε)`. Inputs: var, mg, ms, mom, lr, rho, momentum, epsilon, grad.
    ApplyCenteredRMSProp {}, Layout { refs: 4, inputs: 9, grad: 8 },
    |_s, v, g, h| {
        let (lr, rho, momentum, eps) = (h[0], h[1], h[2], h[3]);
        let one_minus_rho = one_like(rho) - rho;
        let [var, mg, ms, mom] = v else { return };
        for ((((w, a), s), m), &d) in var.iter_mut().zip(mg.iter_mut()).zip(ms.iter_mut()).zip(mom.iter_mut()).zip(g) {
            *s = flush(*s + (d * d - *s) * one_minus_rho);
            *a = flush(*a + (d - *a) * one_minus_rho);
            let denom = (*s - *a * *a) + eps;
            *m = flush(*m * momentum + (d * lr) / denom.sqrt());
            *w = *w - *m;
        }
    }
);

/// `x`, or a zero of its sign when it is subnormal (TF's flush-to-zero).
#[inline(always)]
fn flush<T: Real>(x: T) -> T {
    if x.abs() < T::min_positive_value() { T::zero().copysign(x) } else { x }
}

/// `1` in the type of `x` (the update closures are generic over f32 and f64).
fn one_like<T: Real>(_x: T) -> T {
    T::one()
}
