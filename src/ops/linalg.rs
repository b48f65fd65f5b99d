//! MatMul with transpose_a / transpose_b. Float products use faer's SIMD matrix kernels (a safe
//! API); large products are split across the rayon pool that also runs the graph's nodes, so
//! nothing is oversubscribed. faer sums each element in the same order however the work is split
//! (a test pins this), so the parallel and serial executors agree bit for bit.

use super::op;
use super::{FLOATS, INTS, InferCx, Kernel, Op, Outputs, TensorSpec, one, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Element, Number, Tensor};
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2, Ix2};

/// Products with at least this many multiply-adds (about 20 µs on one core) are split across
/// threads; smaller ones finish before another thread would wake up.
const PARALLEL_MIN_FLOPS: usize = 1 << 21;

op! {
    /// `op(a) · op(b)` for rank-2 tensors, where `op` transposes when asked.
    MatMul derive(Copy, Default) {
        #[serde(default)] transpose_a: bool,
        #[serde(default)] transpose_b: bool,
    }
}

fn dims(shape: &Shape, transpose: bool) -> OpResult<(Option<usize>, Option<usize>)> {
    match shape.dims() {
        Some([r, c]) => Ok(if transpose { (*c, *r) } else { (*r, *c) }),
        Some(_) => Err(crate::invalid!("MatMul needs rank-2 inputs, got shape {shape}")),
        None => Ok((None, None)),
    }
}

impl Op for MatMul {
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
    fn flops(&self, inputs: &[&[usize]], outputs: &[&[usize]]) -> Option<f64> {
        let (&&[m, n], &&[r, c]) = (outputs.first()?, inputs.first()?) else { return None };
        let k = if self.transpose_a { r } else { c };
        Some(2.0 * m as f64 * n as f64 * k as f64)
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

    fn float<T: Element + faer::traits::ComplexField + num_traits::Zero + num_traits::One + std::ops::AddAssign>(
        &self,
        a: &ArcArrayD<T>,
        b: &ArcArrayD<T>,
        par: bool,
    ) -> OpResult<ArcArrayD<T>> {
        let (av, bv) = self.views(a, b)?;
        let (m, k, n) = (av.nrows(), av.ncols(), bv.ncols());
        if m * k * n <= SMALL_PRODUCT {
            return Ok(small_product(&av, &bv).into_dyn().into_shared());
        }
        let mut c = Array2::<T>::zeros((m, n));
        let threads = rayon::current_num_threads();
        let par = if par && threads > 1 && m * k * n >= PARALLEL_MIN_FLOPS { Par::rayon(threads) } else { Par::Seq };
        let (a_owned, b_owned);
        let lhs = match faer_view(&av) {
            Some(v) => v,
            None => {
                a_owned = av.as_standard_layout().into_owned();
                faer_view(&a_owned.view()).ok_or_else(|| crate::invalid!("cannot lay out input 0"))?
            }
        };
        let rhs = match faer_view(&bv) {
            Some(v) => v,
            None => {
                b_owned = bv.as_standard_layout().into_owned();
                faer_view(&b_owned.view()).ok_or_else(|| crate::invalid!("cannot lay out input 1"))?
            }
        };
        let out = c.as_slice_mut().ok_or_else(|| crate::invalid!("output is not contiguous"))?;
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(out, m, n),
            Accum::Replace,
            lhs,
            rhs,
            T::one(),
            par,
        );
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

/// Products with at most this many multiply-adds skip faer's blocking and packing.
const SMALL_PRODUCT: usize = 1024;

/// `a · b` by the textbook loop, summing over k in order: for tiny matrices, where setting up a
/// blocked kernel costs more than the arithmetic.
fn small_product<T: Element + faer::traits::ComplexField + num_traits::Zero + std::ops::AddAssign>(
    a: &ArrayView2<T>,
    b: &ArrayView2<T>,
) -> Array2<T> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for l in 0..k {
                acc += a[(i, l)] * b[(l, j)];
            }
            out.push(acc);
        }
    }
    Array2::from_shape_vec((m, n), out).unwrap_or_else(|_| Array2::zeros((m, n)))
}

/// A faer view of a row-major or column-major matrix (a transposed row-major one); `None` for
/// other strides.
fn faer_view<'a, T>(v: &ArrayView2<'a, T>) -> Option<MatRef<'a, T>> {
    let (r, c) = v.dim();
    if let Some(s) = v.to_slice() {
        return Some(MatRef::from_row_major_slice(s, r, c));
    }
    let t = v.reversed_axes();
    t.to_slice().map(|s| MatRef::from_row_major_slice(s, c, r).transpose())
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

    fn product(m: usize, k: usize, n: usize, par: bool, transpose_b: bool) -> ArcArrayD<f32> {
        let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 31 + j * 7) % 17) as f32 * 0.37 - 2.0)
            .into_dyn()
            .into_shared();
        let b = if transpose_b {
            Array2::from_shape_fn((n, k), |(i, j)| ((j * 13 + i * 5) % 19) as f32 * 0.11 - 1.0)
        } else {
            Array2::from_shape_fn((k, n), |(i, j)| ((i * 13 + j * 5) % 19) as f32 * 0.11 - 1.0)
        };
        MatMul { transpose_a: false, transpose_b }.float(&a, &b.into_dyn().into_shared(), par).unwrap()
    }

    #[test]
    fn parallel_products_are_bit_identical_to_serial() {
        for (m, k, n) in [(37, 300, 23), (5, 3000, 203), (256, 256, 256), (300, 64, 10)] {
            let serial = product(m, k, n, false, false);
            let parallel = product(m, k, n, true, false);
            assert!(serial.iter().zip(parallel.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}x{k}x{n}");
            let t = product(m, k, n, true, true);
            assert_eq!(t.shape(), serial.shape());
        }
    }
}
