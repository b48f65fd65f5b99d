//! MatMul with transpose_a / transpose_b. Float products use matrixmultiply's kernels; large
//! products are split over output rows (or columns) across the rayon pool that also runs the
//! graph's nodes, so nothing is oversubscribed, and each element is summed in the same order
//! however the work is split.

use super::{FLOATS, INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Element, Number, Tensor};
use ndarray::LinalgScalar;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Ix2, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Products with at least this many multiply-adds are split across threads.
const PARALLEL_MIN_FLOPS: usize = 1 << 18;

/// `op(a) · op(b)` for rank-2 tensors, where `op` transposes when asked.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatMul {
    #[serde(default)]
    pub transpose_a: bool,
    #[serde(default)]
    pub transpose_b: bool,
}

fn dims(shape: &Shape, transpose: bool) -> OpResult<(Option<usize>, Option<usize>)> {
    match shape.dims() {
        Some([r, c]) => Ok(if transpose { (*c, *r) } else { (*r, *c) }),
        Some(_) => Err(crate::invalid!("MatMul needs rank-2 inputs, got shape {shape}")),
        None => Ok((None, None)),
    }
}

impl Op for MatMul {
    fn op_type(&self) -> &'static str {
        "MatMul"
    }
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        let d = cx.dtype_in(0, &[FLOATS, INTS].concat())?;
        cx.same_dtype(0, 1)?;
        let (m, k1) = dims(&cx.input(0).shape, self.transpose_a)?;
        let (k2, n) = dims(&cx.input(1).shape, self.transpose_b)?;
        if let (Some(a), Some(b)) = (k1, k2)
            && a != b
        {
            return Err(OpError::ShapeMismatch { lhs: cx.input(0).shape.clone(), rhs: cx.input(1).shape.clone() });
        }
        single(d, Shape::partial(&[m, n]))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let par = k.parallel();
        let (a, b) = (k.input(0)?, k.input(1)?);
        one(match (a, b) {
            (Tensor::F32(a), Tensor::F32(b)) => Tensor::F32(self.float(a, b, par)?),
            (Tensor::F64(a), Tensor::F64(b)) => Tensor::F64(self.float(a, b, par)?),
            (Tensor::I32(a), Tensor::I32(b)) => Tensor::I32(self.int(a, b)?),
            (Tensor::I64(a), Tensor::I64(b)) => Tensor::I64(self.int(a, b)?),
            (a, b) => {
                return Err(OpError::DType { input: 1, expected: a.dtype().to_string(), got: b.dtype() });
            }
        })
    }
    // d/da = g · op(b)^T, d/db = op(a)^T · g, arranged for each transpose case as TF does
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (a, b, g) = (gx.input(0), gx.input(1), gx.grad(0));
        let mm = |gx: &mut GradCx, x, y, ta, tb| gx.g.matmul_t(x, y, ta, tb);
        let (da, db) = match (self.transpose_a, self.transpose_b) {
            (false, false) => (mm(gx, g, b, false, true)?, mm(gx, a, g, true, false)?),
            (false, true) => (mm(gx, g, b, false, false)?, mm(gx, g, a, true, false)?),
            (true, false) => (mm(gx, b, g, false, true)?, mm(gx, a, g, false, false)?),
            (true, true) => (mm(gx, b, g, true, true)?, mm(gx, g, a, true, true)?),
        };
        Ok(vec![Some(da), Some(db)])
    }
    fn cost(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        let k = dims(&inputs[0].shape, self.transpose_a).ok().and_then(|d| d.1).unwrap_or(1);
        outputs[0].shape.known_elements() * k
    }
}

impl MatMul {
    fn views<'a, T>(
        &self,
        a: &'a ArcArrayD<T>,
        b: &'a ArcArrayD<T>,
    ) -> OpResult<(ArrayView2<'a, T>, ArrayView2<'a, T>)> {
        let rank2 = |x: &'a ArcArrayD<T>| {
            x.view()
                .into_dimensionality::<Ix2>()
                .map_err(|_| crate::invalid!("MatMul needs rank-2 inputs, got {:?}", x.shape()))
        };
        let (mut av, mut bv) = (rank2(a)?, rank2(b)?);
        if self.transpose_a {
            av = av.reversed_axes();
        }
        if self.transpose_b {
            bv = bv.reversed_axes();
        }
        if av.ncols() != bv.nrows() {
            return Err(OpError::ShapeMismatch { lhs: Shape::known(a.shape()), rhs: Shape::known(b.shape()) });
        }
        Ok((av, bv))
    }

    fn float<T: Element + LinalgScalar + Send + Sync>(
        &self,
        a: &ArcArrayD<T>,
        b: &ArcArrayD<T>,
        par: bool,
    ) -> OpResult<ArcArrayD<T>> {
        let (av, bv) = self.views(a, b)?;
        let mut c = Array2::<T>::zeros((av.nrows(), bv.ncols()));
        let work = av.nrows() * av.ncols() * bv.ncols();
        let parts = rayon::current_num_threads();
        if par && parts > 1 && work >= PARALLEL_MIN_FLOPS {
            split_product(&av, &bv, c.view_mut(), parts);
        } else {
            general_mat_mul(T::one(), &av, &bv, T::zero(), &mut c);
        }
        Ok(c.into_dyn().into_shared())
    }

    fn int<T: Number>(&self, a: &ArcArrayD<T>, b: &ArcArrayD<T>) -> OpResult<ArcArrayD<T>> {
        let (av, bv) = self.views(a, b)?;
        let c = Array2::from_shape_fn((av.nrows(), bv.ncols()), |(i, j)| {
            av.row(i).iter().zip(bv.column(j)).fold(T::ZERO, |acc, (&x, &y)| acc.add(x.mul(y)))
        });
        Ok(c.into_dyn().into_shared())
    }
}

/// `c = a · b`, with the longer output side cut into `parts` blocks computed in parallel.
fn split_product<T: LinalgScalar + Send + Sync>(
    a: &ArrayView2<T>,
    b: &ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    parts: usize,
) {
    let by_rows = c.nrows() >= c.ncols();
    let len = if by_rows { c.nrows() } else { c.ncols() };
    let chunk = len.div_ceil(parts).max(1);
    let axis = if by_rows { Axis(0) } else { Axis(1) };
    c.axis_chunks_iter_mut(axis, chunk).into_par_iter().enumerate().for_each(|(i, mut block)| {
        let start = i * chunk;
        if by_rows {
            let rows = block.nrows();
            general_mat_mul(T::one(), &a.slice(s![start..start + rows, ..]), b, T::zero(), &mut block);
        } else {
            let cols = block.ncols();
            general_mat_mul(T::one(), a, &b.slice(s![.., start..start + cols]), T::zero(), &mut block);
        }
    });
}

impl Graph {
    /// `MatMul(a, b)`.
    pub fn matmul(&mut self, a: Output, b: Output) -> Result<Output> {
        self.matmul_t(a, b, false, false)
    }

    /// `MatMul(a, b, transpose_a, transpose_b)`.
    pub fn matmul_t(&mut self, a: Output, b: Output, transpose_a: bool, transpose_b: bool) -> Result<Output> {
        self.op("MatMul", MatMul { transpose_a, transpose_b }, &[a, b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product_bits(m: usize, k: usize, n: usize, parts: usize) -> bool {
        let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 31 + j * 7) % 17) as f32 * 0.37 - 2.0);
        let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 13 + j * 5) % 19) as f32 * 0.11 - 1.0);
        let mut serial = Array2::zeros((m, n));
        general_mat_mul(1.0, &a.view(), &b.view(), 0.0, &mut serial);
        let mut split = Array2::zeros((m, n));
        split_product(&a.view(), &b.view(), split.view_mut(), parts);
        serial.iter().zip(split.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn split_products_are_bit_identical_to_serial() {
        for parts in [2, 3, 8] {
            assert!(product_bits(37, 300, 23, parts), "split by rows, {parts} parts");
            assert!(product_bits(5, 300, 203, parts), "split by columns, {parts} parts");
        }
    }
}
