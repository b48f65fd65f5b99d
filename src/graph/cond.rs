//! `tf.cond` with TF1's dataflow control flow: each input goes through a `Switch`, each branch
//! is built on its side after a pivot, and a `Merge` per output joins them. Only the taken
//! branch runs (see [`ControlFlow`](crate::ops::ControlFlow)).

use super::{Graph, Output};
use crate::error::{Error, Result};

/// A branch builder: given the inputs on its side of the switch, it returns its outputs.
pub type Branch<'a> = Box<dyn FnOnce(&mut Graph, &[Output]) -> Result<Vec<Output>> + 'a>;

impl Graph {
    /// `tf.cond(pred, true_fn, false_fn)` as TF1 builds it, under the name scope `cond`. The
    /// branches see `inputs` through `Switch`es on `pred` (a bool scalar), and every node a
    /// branch creates runs after the branch's pivot, so a branch's constants and updates run only
    /// when it is taken (a tensor made outside and returned as it is goes through an Identity in
    /// the branch). Both branches must return the same number of outputs; each pair is joined by
    /// a `Merge`.
    ///
    /// ```
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// let mut g = Graph::new();
    /// let pred = g.placeholder(DType::Bool, Shape::scalar())?;
    /// let x = g.placeholder(DType::Float32, Shape::scalar())?;
    /// let y = g.cond(
    ///     pred,
    ///     &[x],
    ///     Box::new(|g, x| Ok(vec![g.square(x[0])?])),
    ///     Box::new(|g, x| {
    ///         let ten = g.constant(10.0f32)?;
    ///         Ok(vec![g.add(x[0], ten)?])
    ///     }),
    /// )?;
    /// let s = Session::new(g);
    /// let run = |p: bool| s.run(&[(pred, Tensor::from(p)), (x, Tensor::from(3.0f32))], &[y[0]], &[]);
    /// assert_eq!(run(true)?[0].scalar_f64(), Some(9.0));
    /// assert_eq!(run(false)?[0].scalar_f64(), Some(13.0));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn cond(&mut self, pred: Output, inputs: &[Output], true_fn: Branch, false_fn: Branch) -> Result<Vec<Output>> {
        self.with_name_scope("cond", |g| {
            let (on_false, on_true) = g.switch(pred, pred)?;
            let pivots = [g.identity(on_false)?, g.identity(on_true)?];
            let mut sides: [Vec<Output>; 2] = [Vec::new(), Vec::new()];
            for &x in inputs {
                let (f, t) = g.switch(x, pred)?;
                sides[0].push(f);
                sides[1].push(t);
            }
            let outs_true = g.with_control_dependencies(&[pivots[1].node], |g| branch(g, true_fn, &sides[1]))?;
            let outs_false = g.with_control_dependencies(&[pivots[0].node], |g| branch(g, false_fn, &sides[0]))?;
            if outs_true.len() != outs_false.len() {
                return Err(Error::argument(
                    "cond",
                    "true_fn",
                    format!("returns {} outputs but false_fn returns {}", outs_true.len(), outs_false.len()),
                ));
            }
            outs_false.iter().zip(&outs_true).map(|(&f, &t)| Ok(g.merge(&[f, t])?.0)).collect()
        })
    }
}

/// Builds one branch. An output made outside the branch (a tensor the closure captured) goes
/// through an Identity after the pivot, so that it too is dead when the branch is not taken.
fn branch(g: &mut Graph, f: Branch, side: &[Output]) -> Result<Vec<Output>> {
    let outs = f(g, side)?;
    outs.into_iter().map(|o| if g.node(o.node).may_be_dead { Ok(o) } else { g.identity(o) }).collect()
}
