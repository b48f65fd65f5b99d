//! Pack (`tf.stack`): N tensors of one shape joined along a new axis.

use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::ops::op;
use crate::ops::{InferCx, Kernel, Op, Outputs, TensorSpec, normalize_axis, one, single};
use crate::shape::Shape;
use crate::tensor::{ArcArrayD, Item, Tensor};
use ndarray::Axis;

op! {
    /// Stacks its inputs, all of one dtype and shape, along a new axis `axis` (negative counts
    /// from the end of the output's axes).
    Pack derive(Copy, Default) { #[serde(default)] axis: i64 }
}

impl Op for Pack {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(OpError::Arity { expected: "at least 1".into(), got: 0 });
        }
        let d = cx.input(0).dtype;
        let mut shape = cx.input(0).shape.clone();
        for i in 1..cx.len() {
            cx.same_dtype(0, i)?;
            shape = shape.merge(&cx.input(i).shape)?;
        }
        let Some(dims) = shape.dims() else { return single(d, Shape::unknown()) };
        let axis = normalize_axis(self.axis, dims.len() + 1)?;
        let mut out = dims.to_vec();
        out.insert(axis, Some(cx.len()));
        single(d, Shape::partial(&out))
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let first = k.input(0)?;
        let axis = normalize_axis(self.axis, first.rank() + 1)?;
        fn stack<T: Item>(k: &Kernel, axis: usize) -> OpResult<Tensor> {
            let arrays: Vec<&ArcArrayD<T>> = (0..k.num_inputs()).map(|i| k.array::<T>(i)).collect::<OpResult<_>>()?;
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            let out = ndarray::stack(Axis(axis), &views).map_err(|e| crate::invalid!("cannot stack: {e}"))?;
            Ok(T::wrap(out.into_shared()))
        }
        one(crate::with_dtype!(first.dtype(), T => stack::<T>(k, axis)?))
    }
    // d/dx_i = g at index i of the new axis
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        let n = gx.g.node(gx.output(0).node).inputs().len();
        let g = gx.grad(0);
        let rank =
            gx.g.try_spec(g)?
                .shape
                .rank()
                .ok_or_else(|| crate::error::Error::argument("gradient of Pack", "values", "need a known rank"))?;
        let axis = normalize_axis(self.axis, rank)
            .map_err(|e| crate::error::Error::argument("gradient of Pack", "axis", e.to_string()))?;
        (0..n)
            .map(|i| {
                let index = gx.g.constant(i as i32)?;
                Ok(Some(gx.g.gather(g, index, axis as i64)?))
            })
            .collect()
    }
}

impl Graph {
    /// `Pack(values, axis)` (`tf.stack`): the values stacked along a new axis.
    ///
    /// ```
    /// use stepflow::{Graph, Session};
    /// let mut g = Graph::new();
    /// let (a, b) = (g.constant(1i32)?, g.constant(2i32)?);
    /// let s = g.stack(&[a, b], 0)?;
    /// assert_eq!(Session::new(g).run(&[], &[s], &[])?[0].to_f64_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn stack(&mut self, values: &[Output], axis: i64) -> Result<Output> {
        self.op("Pack", Pack { axis }, values)
    }
}
