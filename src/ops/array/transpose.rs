//! Permuting axes: Transpose.

use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{INTS, InferCx, Kernel, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::shape::Shape;
use crate::tensor::Item;
use crate::with_array;
use ndarray::IxDyn;

op! {
    /// Permutes the axes: output axis i is input axis `perm[i]`.
    Transpose derive(Copy, Default) {}
}

fn check_perm(perm: &[i64], rank: usize) -> OpResult<Vec<usize>> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return Err(crate::invalid!("perm {perm:?} does not have {rank} entries"));
    }
    perm.iter()
        .map(|&p| {
            let a = normalize_axis(p, rank)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(crate::invalid!("perm {perm:?} is not a permutation"));
            }
            Ok(a)
        })
        .collect()
}

impl Op for Transpose {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(1, INTS)?;
        let x = cx.input(0);
        let shape = match (cx.ints(1)?, x.shape.dims()) {
            (Some(p), Some(d)) => Shape::partial(&check_perm(&p, d.len())?.iter().map(|&i| d[i]).collect::<Vec<_>>()),
            (_, Some(d)) => Shape::unknown_dims(d.len()),
            _ => Shape::unknown(),
        };
        single(x.dtype, shape)
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let x = k.take(0)?;
        let perm = check_perm(&k.input(1)?.ints()?, x.rank())?;
        one(with_array!(x, a => Item::wrap(a.permuted_axes(IxDyn(&perm)))))
    }
    // d/dx = transpose(g, inverse(perm))
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let (p, g) = (gx.input(1), gx.grad(0));
        let perm = gx.g.value_of(p).map(|t| t.to_i64_vec());
        let Some(Ok(perm)) = perm else {
            return Err(crate::error::Error::argument("gradient of Transpose", "perm", "must be a constant"));
        };
        let mut inv = vec![0i64; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            if let Some(slot) = inv.get_mut(p.rem_euclid(perm.len().max(1) as i64) as usize) {
                *slot = i as i64;
            }
        }
        Ok(vec![Some(gx.g.transpose(g, &inv)?), None])
    }
    fn cost(&self, _: &[TensorSpec], _: &[TensorSpec]) -> usize {
        1
    }
}

impl Graph {
    /// `Transpose(x, perm)`.
    pub fn transpose(&mut self, x: Output, perm: &[i64]) -> Result<Output> {
        let p = self.constant_vec(perm.iter().map(|&v| v as i32).collect())?;
        self.op("Transpose", Transpose {}, &[x, p])
    }
}
