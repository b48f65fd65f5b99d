//! Integer and float sequences: Range (`tf.range`) and InvertPermutation.

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, one, single};
use crate::shape::{Shape, checked_elements};
use crate::tensor::{ArcArrayD, DType, Number, Tensor};
use ndarray::Array1;

op! {
    /// `[start, start + delta, ...]` up to but excluding `limit` (scalars of one dtype):
    /// `ceil(|limit - start| / |delta|)` elements, element `i` being `start + i * delta`.
    Range derive(Copy, Default) {}
}

/// A range's bounds in their own element type.
struct Bounds<T> {
    start: T,
    limit: T,
    delta: T,
}

fn scalar_of<T: Number>(t: &Tensor, what: &str) -> OpResult<T> {
    let a = t.array::<T>()?;
    if a.ndim() != 0 {
        return Err(crate::invalid!("{what} must be a scalar, not shape {:?}", a.shape()));
    }
    a.iter().next().copied().ok_or_else(|| crate::invalid!("{what} is empty"))
}

impl<T: Number> Bounds<T> {
    fn read(t: [&Tensor; 3]) -> OpResult<Self> {
        Ok(Bounds {
            start: scalar_of(t[0], "start")?,
            limit: scalar_of(t[1], "limit")?,
            delta: scalar_of(t[2], "delta")?,
        })
    }

    /// TF's checks: a non-zero delta that walks from start towards limit.
    fn check(&self) -> OpResult<()> {
        let Bounds { start, limit, delta } = *self;
        if delta == T::ZERO {
            return Err(crate::invalid!("requires delta != 0: {delta}"));
        }
        // NaN bounds pass neither test, as in TF.
        let walks_up = delta > T::ZERO;
        if walks_up && start.partial_cmp(&limit).is_none_or(|o| o.is_gt()) {
            return Err(crate::invalid!("requires start <= limit when delta > 0: {start}/{limit}"));
        }
        if !walks_up && start.partial_cmp(&limit).is_none_or(|o| o.is_lt()) {
            return Err(crate::invalid!("requires start >= limit when delta < 0: {start}/{limit}"));
        }
        Ok(())
    }
}

/// The number of elements, by TF's rule for the dtype: `divup(|limit - start|, |delta|)` for
/// integers (exact here, where TF's int32 arithmetic could overflow), `ceil(|(limit - start) /
/// delta|)` in the float's own precision.
fn size(t: [&Tensor; 3]) -> OpResult<usize> {
    let n = match t[0].dtype() {
        DType::Int32 | DType::Int64 => {
            let b = Bounds::<i64>::read_ints(t)?;
            b.check()?;
            let (span, step) = ((b.limit as i128 - b.start as i128).abs(), (b.delta as i128).abs());
            Some((span + step - 1) / step).and_then(|n| usize::try_from(n).ok())
        }
        DType::Float32 => {
            let b = Bounds::<f32>::read(t)?;
            b.check()?;
            float_size(((b.limit - b.start) / b.delta).abs().ceil() as f64)
        }
        DType::Float64 => {
            let b = Bounds::<f64>::read(t)?;
            b.check()?;
            float_size(((b.limit - b.start) / b.delta).abs().ceil())
        }
        d => return Err(crate::invalid!("Range of {d} is not supported")),
    };
    let n = n.ok_or_else(|| crate::invalid!("requires ((limit - start) / delta) <= {}", i64::MAX))?;
    checked_elements(&[n])
}

fn float_size(n: f64) -> Option<usize> {
    (n.is_finite() && n <= i64::MAX as f64).then_some(n as usize)
}

impl Bounds<i64> {
    fn read_ints(t: [&Tensor; 3]) -> OpResult<Self> {
        let one = |t: &Tensor, what: &str| -> OpResult<i64> {
            if t.rank() != 0 {
                return Err(crate::invalid!("{what} must be a scalar, not shape {:?}", t.shape()));
            }
            Ok(t.to_i64_vec()?[0])
        };
        Ok(Bounds { start: one(t[0], "start")?, limit: one(t[1], "limit")?, delta: one(t[2], "delta")? })
    }
}

fn sequence<T: Number>(start: T, delta: T, n: usize, from_index: impl Fn(usize) -> T) -> ArcArrayD<T> {
    Array1::from_shape_fn(n, |i| start.add(from_index(i).mul(delta))).into_dyn().into_shared()
}

fn range(t: [&Tensor; 3]) -> OpResult<Tensor> {
    let n = size(t)?;
    Ok(match t[0].dtype() {
        DType::Int32 => {
            let b = Bounds::<i64>::read_ints(t)?;
            let v: Vec<i32> = (0..n as i64).map(|i| (b.start + i * b.delta) as i32).collect();
            Tensor::from_vec(&[n], v)?
        }
        DType::Int64 => {
            let b = Bounds::<i64>::read_ints(t)?;
            Tensor::from_vec(&[n], (0..n as i64).map(|i| b.start + i * b.delta).collect())?
        }
        DType::Float32 => {
            let b = Bounds::<f32>::read(t)?;
            Tensor::F32(sequence(b.start, b.delta, n, |i| i as f32))
        }
        DType::Float64 => {
            let b = Bounds::<f64>::read(t)?;
            Tensor::F64(sequence(b.start, b.delta, n, |i| i as f64))
        }
        d => return Err(crate::invalid!("Range of {d} is not supported")),
    })
}

impl Op for Range {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(3)?;
        let d = cx.dtype_in(0, NUMBERS)?;
        for (i, what) in [(0, "start"), (1, "limit"), (2, "delta")] {
            cx.same_dtype(0, i)?;
            cx.scalar(i, what)?;
        }
        let n = match (cx.value(0), cx.value(1), cx.value(2)) {
            (Some(s), Some(l), Some(d)) => Some(size([s, l, d])?),
            _ => None,
        };
        single(d, Shape::partial(&[n]))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        one(range([k.input(0)?, k.input(1)?, k.input(2)?])?)
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None, None])
    }
}

op! {
    /// The inverse of a permutation vector: `y[x[i]] = i`.
    InvertPermutation derive(Copy, Default) {}
}

impl Op for InvertPermutation {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(1)?;
        let d = cx.dtype_in(0, INTS)?;
        let x = &cx.input(0).shape;
        let shape = x.merge(&Shape::unknown_dims(1)).map_err(|_| crate::invalid!("x must be a vector, got {x}"))?;
        single(d, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.input(0)?;
        if x.rank() != 1 {
            return Err(crate::invalid!("x must be a vector, got shape {:?}", x.shape()));
        }
        let n = x.len();
        if n > i32::MAX as usize {
            return Err(crate::invalid!("a permutation must have at most {} elements", i32::MAX));
        }
        let mut inverse: Vec<Option<i64>> = vec![None; n];
        for (i, d) in x.to_i64_vec()?.into_iter().enumerate() {
            let slot = usize::try_from(d)
                .ok()
                .and_then(|d| inverse.get_mut(d))
                .ok_or_else(|| crate::invalid!("{d} is not between 0 and {n}"))?;
            if slot.replace(i as i64).is_some() {
                return Err(crate::invalid!("{d} is duplicated in the input"));
            }
        }
        let y: Vec<i64> = inverse.into_iter().map(|v| v.unwrap_or(0)).collect();
        one(Tensor::from_vec(&[n], y)?.cast(x.dtype()))
    }
    // not differentiable
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None])
    }
}

impl Graph {
    /// `Range(start, limit, delta)` (`tf.range`): scalars of one dtype.
    ///
    /// ```
    /// use stepflow::{Graph, Session};
    /// let mut g = Graph::new();
    /// let (a, b, d) = (g.constant(5i32)?, g.constant(-1i32)?, g.constant(-2i32)?);
    /// let r = g.range(a, b, d)?;
    /// assert_eq!(Session::new(g).run(&[], &[r], &[])?[0].to_f64_vec(), vec![5.0, 3.0, 1.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn range(&mut self, start: Output, limit: Output, delta: Output) -> Result<Output> {
        self.op("range", Range {}, &[start, limit, delta])
    }

    /// `InvertPermutation(x)` (`tf.math.invert_permutation`).
    pub fn invert_permutation(&mut self, x: Output) -> Result<Output> {
        self.op("InvertPermutation", InvertPermutation {}, &[x])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sizes_round_up() {
        // -3, 0, 3: (|4 - -3| + 3 - 1) / 3 = 3
        let t = |v: i32| Tensor::scalar(v);
        assert_eq!(size([&t(-3), &t(4), &t(3)]).unwrap(), 3);
        assert_eq!(size([&t(4), &t(4), &t(-1)]).unwrap(), 0);
        assert!(size([&t(0), &t(4), &t(-1)]).is_err());
        assert!(size([&t(0), &t(4), &t(0)]).is_err());
    }
}
