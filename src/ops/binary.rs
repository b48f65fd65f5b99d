//! Element-wise arithmetic of two tensors with NumPy broadcasting: AddV2, Sub, Mul, RealDiv,
//! FloorDiv, FloorMod, Pow, Maximum, Minimum, SquaredDifference; and AddN over any number of same-shaped tensors.
//!
//! The gradient of a broadcast input is summed back to its shape ([`GradCx::sum_to_input`]).

use super::elementwise::zip_same;
use super::op;
use super::{FLOATS, InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Number, Tensor};

pub(crate) fn infer_binary(cx: &InferCx, dtypes: &[DType]) -> OpResult<Vec<TensorSpec>> {
    cx.arity(2)?;
    let d = cx.dtype_in(0, dtypes)?;
    cx.same_dtype(0, 1)?;
    single(d, cx.input(0).shape.broadcast(&cx.input(1).shape)?)
}

/// Applies a binary numeric function (one per number dtype, generic so it inlines into the
/// vectorized loops) to two tensors of the same dtype, broadcasting.
pub(crate) fn zip_number<A, B, C, D>(a: Tensor, b: Tensor, par: bool, fs: (A, B, C, D)) -> OpResult<Tensor>
where
    A: Fn(f32, f32) -> f32 + Sync + Send,
    B: Fn(f64, f64) -> f64 + Sync + Send,
    C: Fn(i32, i32) -> i32 + Sync + Send,
    D: Fn(i64, i64) -> i64 + Sync + Send,
{
    match (a, b) {
        (Tensor::F32(a), Tensor::F32(b)) => Ok(Tensor::F32(zip_same(a, b, par, fs.0)?)),
        (Tensor::F64(a), Tensor::F64(b)) => Ok(Tensor::F64(zip_same(a, b, par, fs.1)?)),
        (Tensor::I32(a), Tensor::I32(b)) => Ok(Tensor::I32(zip_same(a, b, par, fs.2)?)),
        (Tensor::I64(a), Tensor::I64(b)) => Ok(Tensor::I64(zip_same(a, b, par, fs.3)?)),
        (a, b) => Err(OpError::DType { input: 1, expected: a.dtype().to_string(), got: b.dtype() }),
    }
}

/// Rejects an integer divisor that contains zero (TF: "Integer division by zero").
fn check_divisor(b: &Tensor) -> OpResult<()> {
    fn has_zero<T: Number>(t: &Tensor) -> bool {
        t.array::<T>().is_ok_and(|a| a.iter().any(|v| v.is_int_zero()))
    }
    if has_zero::<i32>(b) || has_zero::<i64>(b) {
        return Err(crate::invalid!("integer division by zero"));
    }
    Ok(())
}

/// Rejects a negative integer exponent (TF: "Integers to negative integer powers are not allowed").
fn check_exponent(b: &Tensor) -> OpResult<()> {
    let negative = match b {
        Tensor::I32(a) => a.iter().any(|&v| v < 0),
        Tensor::I64(a) => a.iter().any(|&v| v < 0),
        _ => false,
    };
    if negative {
        return Err(crate::invalid!("integers to negative integer powers are not allowed"));
    }
    Ok(())
}

fn no_check(_: &Tensor) -> OpResult<()> {
    Ok(())
}

/// Defines an element-wise binary op: struct, `Op` impl and `Graph` builder method.
macro_rules! binary_op {
    (
        $(#[doc = $doc:literal])*
        $name:ident, $method:ident, $node_name:literal, $dtypes:expr, check $check:ident, |$a:ident, $b:ident| $f:expr,
        grad(|$gx:ident| $grad:expr)
        $(, rewrite $rewrite:ident)?
    ) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy, Default) {}
            builder $method(x, y) named $node_name
        }

        impl $name {
            fn apply<T: Number>($a: T, $b: T) -> T {
                $f
            }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_binary(cx, $dtypes)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                let par = k.parallel();
                let (a, b) = (k.take(0)?, k.take(1)?);
                $check(&b)?;
                let fs = ($name::apply::<f32>, $name::apply::<f64>, $name::apply::<i32>, $name::apply::<i64>);
                one(zip_number(a, b, par, fs)?)
            }
            fn grad(&self, $gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                $grad
            }
            $(fn rewrite(&self, constants: &[Option<&Tensor>]) -> Option<super::Rewrite> {
                $rewrite(constants)
            })?
        }
    };
}

/// Inputs and incoming gradient of a binary node.
fn xyg(gx: &GradCx) -> (Output, Output, Output) {
    (gx.input(0), gx.input(1), gx.grad(0))
}

/// Sums two raw gradients back to the shapes of the two inputs.
fn both(gx: &mut GradCx, gx_raw: Option<Output>, gy_raw: Option<Output>) -> Result<Vec<Option<Output>>> {
    let a = gx_raw.map(|g| gx.sum_to_input(g, 0)).transpose()?;
    let b = gy_raw.map(|g| gx.sum_to_input(g, 1)).transpose()?;
    Ok(vec![a, b])
}

binary_op!(
    /// `x + y` (TF `AddV2`).
    AddV2, add, "add", NUMBERS, check no_check, |a, b| a.add(b),
    // d/dx = 1, d/dy = 1
    grad(|gx| { let g = gx.grad(0); both(gx, Some(g), Some(g)) })
);
binary_op!(
    /// `x - y`.
    Sub, sub, "sub", NUMBERS, check no_check, |a, b| a.sub(b),
    // d/dx = 1, d/dy = -1
    grad(|gx| { let g = gx.grad(0); let ng = gx.g.neg(g)?; both(gx, Some(g), Some(ng)) })
);
binary_op!(
    /// `x * y`.
    Mul, mul, "mul", NUMBERS, check no_check, |a, b| a.mul(b),
    // d/dx = y, d/dy = x
    grad(|gx| {
        let (x, y, g) = xyg(gx);
        let dx = gx.g.mul(g, y)?;
        let dy = gx.g.mul(x, g)?;
        both(gx, Some(dx), Some(dy))
    })
);
binary_op!(
    /// `x / y` for floats (TF `RealDiv`, Python's `truediv`).
    RealDiv, div, "truediv", FLOATS, check no_check, |a, b| a.div(b),
    // d/dx = 1/y, d/dy = -x/y^2
    grad(|gx| {
        let (x, y, g) = xyg(gx);
        let dx = gx.g.div(g, y)?;
        let nx = gx.g.neg(x)?;
        let q = gx.g.div(nx, y)?;
        let q = gx.g.div(q, y)?;
        let dy = gx.g.mul(g, q)?;
        both(gx, Some(dx), Some(dy))
    }),
    rewrite by_reciprocal
);

/// TF's graph optimizer (grappler's constant folding) turns `x / c` with a constant float `c`
/// into `x · (1/c)`, the reciprocal rounded in `c`'s dtype; TF's numbers depend on it (a
/// polynomial decay near its end differs in the last bits of `1 − p`), so plans do the same.
fn by_reciprocal(constants: &[Option<&Tensor>]) -> Option<super::Rewrite> {
    let reciprocal = match constants.get(1).copied().flatten()? {
        Tensor::F32(a) => Tensor::F32(a.mapv(|v| 1.0 / v).into_shared()),
        Tensor::F64(a) => Tensor::F64(a.mapv(|v| 1.0 / v).into_shared()),
        _ => return None,
    };
    Some(super::Rewrite { op: std::sync::Arc::new(Mul {}), constants: vec![(1, reciprocal)] })
}
binary_op!(
    /// `floor(x / y)`; integer division by zero is an error.
    FloorDiv, floor_div, "floordiv", NUMBERS, check check_divisor, |a, b| a.floor_div(b),
    // piecewise constant: no gradient (TF returns None)
    grad(|_gx| Ok(vec![None, None]))
);
binary_op!(
    /// The remainder of floor division, with the sign of y (Python's `%`).
    FloorMod, floor_mod, "mod", NUMBERS, check check_divisor, |a, b| a.floor_mod(b),
    // d/dx = 1, d/dy = -floor(x / y)
    grad(|gx| {
        let (x, y, g) = xyg(gx);
        let q = gx.g.floor_div(x, y)?;
        let gq = gx.g.mul(g, q)?;
        let dy = gx.g.neg(gq)?;
        both(gx, Some(g), Some(dy))
    })
);
binary_op!(
    /// `x ^ y`; a negative integer exponent is an error.
    Pow, pow, "Pow", NUMBERS, check check_exponent, |a, b| a.pow(b),
    // d/dx = y x^(y-1), d/dy = x^y log(x) where x > 0, else 0
    grad(|gx| {
        let (x, y, g) = xyg(gx);
        let z = gx.output(0);
        let dt = gx.g.spec(x).dtype;
        let one = gx.g.scalar(dt, 1.0)?;
        let ym1 = gx.g.sub(y, one)?;
        let p = gx.g.pow(x, ym1)?;
        let yp = gx.g.mul(y, p)?;
        let dx = gx.g.mul(g, yp)?;
        let zero = gx.g.scalar(dt, 0.0)?;
        let pos = gx.g.greater(x, zero)?;
        let safe = gx.g.select(pos, x, one)?;
        let lg = gx.g.log(safe)?;
        let zeros = gx.g.zeros_like(x)?;
        let logx = gx.g.select(pos, lg, zeros)?;
        let zl = gx.g.mul(z, logx)?;
        let dy = gx.g.mul(g, zl)?;
        both(gx, Some(dx), Some(dy))
    })
);
binary_op!(
    /// Element-wise maximum (NaN propagates).
    Maximum, maximum, "Maximum", NUMBERS, check no_check, |a, b| a.max_(b),
    // d/dx = 1 where x >= y, d/dy = 1 where x < y
    grad(|gx| { let (x, y, g) = xyg(gx); let m = gx.g.greater_equal(x, y)?; masked(gx, m, g) })
);
binary_op!(
    /// Element-wise minimum (NaN propagates).
    Minimum, minimum, "Minimum", NUMBERS, check no_check, |a, b| a.min_(b),
    // d/dx = 1 where x <= y, d/dy = 1 where x > y
    grad(|gx| { let (x, y, g) = xyg(gx); let m = gx.g.less_equal(x, y)?; masked(gx, m, g) })
);
binary_op!(
    /// `(x − y)²` with broadcasting (TF `SquaredDifference`); integers wrap, as TF's kernel.
    SquaredDifference, squared_difference, "SquaredDifference", NUMBERS, check no_check,
    |a, b| { let d = a.sub(b); d.mul(d) },
    // d/dx = 2g·(x − y), d/dy = −2g·(x − y)
    grad(|gx| {
        let (x, y, g) = xyg(gx);
        let two = gx.g.scalar(gx.g.try_spec(x)?.dtype, 2.0)?;
        let g2 = gx.g.mul(two, g)?;
        let d = gx.g.sub(x, y)?;
        let dx = gx.g.mul(g2, d)?;
        let dy = gx.g.neg(dx)?;
        both(gx, Some(dx), Some(dy))
    })
);

/// Routes `g` to x where `mask` holds and to y elsewhere (Maximum/Minimum).
fn masked(gx: &mut GradCx, mask: Output, g: Output) -> Result<Vec<Option<Output>>> {
    let zeros = gx.g.zeros_like(g)?;
    let dx = gx.g.select(mask, g, zeros)?;
    let dy = gx.g.select(mask, zeros, g)?;
    both(gx, Some(dx), Some(dy))
}

op! {
    /// The sum of any number of tensors of one dtype and shape, added left to right.
    AddN derive(Copy, Default) {}
}

impl Op for AddN {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(OpError::Arity { expected: "at least 1".into(), got: 0 });
        }
        let d = cx.dtype_in(0, NUMBERS)?;
        let mut shape = cx.input(0).shape.clone();
        for i in 1..cx.len() {
            cx.same_dtype(0, i)?;
            shape = shape.merge(&cx.input(i).shape)?;
        }
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let mut acc = k.take(0)?;
        for i in 1..k.num_inputs() {
            let next = k.take(i)?;
            if next.shape() != acc.shape() {
                return Err(crate::invalid!(
                    "AddN inputs must have one shape: {:?} vs {:?}",
                    acc.shape(),
                    next.shape()
                ));
            }
            acc = zip_number(acc, next, par, (f32_add, f64_add, i32_add, i64_add))?;
        }
        one(acc)
    }
    // d/dx_i = 1
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let n = gx.g.node(gx.output(0).node).inputs().len();
        Ok(vec![Some(gx.grad(0)); n])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        inputs.iter().map(|i| i.shape.known_elements()).sum()
    }
}

fn f32_add(a: f32, b: f32) -> f32 {
    a + b
}
fn f64_add(a: f64, b: f64) -> f64 {
    a + b
}
fn i32_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
fn i64_add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

impl Graph {
    /// `AddN(xs)`: the sum of tensors of one dtype and shape (a single input is returned as is).
    pub fn add_n(&mut self, xs: &[Output]) -> Result<Output> {
        if xs.len() == 1 {
            return Ok(xs[0]);
        }
        self.op("AddN", AddN {}, xs)
    }
}

/// `old + value` for two tensors of one dtype and shape, in place when `old` is not shared
/// (AssignAdd).
pub(crate) fn add_in_place(old: Tensor, value: &Tensor) -> OpResult<Tensor> {
    same_shape_update(old, value, (f32_add, f64_add, i32_add, i64_add))
}

/// `old - value`, in place when `old` is not shared (AssignSub).
pub(crate) fn sub_in_place(old: Tensor, value: &Tensor) -> OpResult<Tensor> {
    same_shape_update(
        old,
        value,
        (|a, b| a - b, |a, b| a - b, |a: i32, b| a.wrapping_sub(b), |a: i64, b| a.wrapping_sub(b)),
    )
}

fn same_shape_update<A, B, C, D>(old: Tensor, value: &Tensor, fs: (A, B, C, D)) -> OpResult<Tensor>
where
    A: Fn(f32, f32) -> f32 + Sync + Send,
    B: Fn(f64, f64) -> f64 + Sync + Send,
    C: Fn(i32, i32) -> i32 + Sync + Send,
    D: Fn(i64, i64) -> i64 + Sync + Send,
{
    if old.shape() != value.shape() || old.dtype() != value.dtype() {
        return Err(crate::invalid!(
            "cannot update a {} variable of shape {:?} with a {} value of shape {:?}",
            old.dtype(),
            old.shape(),
            value.dtype(),
            value.shape()
        ));
    }
    zip_number(old, value.clone(), false, fs)
}
