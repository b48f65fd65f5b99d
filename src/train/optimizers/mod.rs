//! TF1's optimizers and `minimize(loss, global_step, var_list)`.
//!
//! `minimize` is `compute_gradients` (symbolic gradients of the loss) followed by
//! `apply_gradients`: one update node per variable (`Optimizer/update_w/ApplyAdam`), which the
//! session runs in parallel since they are independent; the optimizer's finishing ops (Adam's
//! `beta1_power`/`beta2_power` updates) after all of them; and, when a `global_step` is given,
//! `global_step += 1` after everything, by a control dependency — so update k uses the learning
//! rate computed from step k − 1, as in TF. The returned node is the train op.

mod adagrad;
mod adam;
mod gradient_descent;
mod momentum;
mod rmsprop;

pub use adagrad::AdagradOptimizer;
pub use adam::AdamOptimizer;
pub use gradient_descent::GradientDescentOptimizer;
pub use momentum::MomentumOptimizer;
pub use rmsprop::RMSPropOptimizer;

use crate::error::{Error, Result};
use crate::grad::gradients;
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::tensor::{DType, Tensor};

/// A hyper-parameter: a number, or a scalar tensor of the graph (a schedule, a fed placeholder).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hyper {
    Value(f64),
    Tensor(Output),
}

impl From<f64> for Hyper {
    fn from(v: f64) -> Self {
        Hyper::Value(v)
    }
}

impl From<Output> for Hyper {
    fn from(t: Output) -> Self {
        Hyper::Tensor(t)
    }
}

impl Hyper {
    /// The hyper-parameter as a scalar of `dtype` (TF casts each to the variable's dtype).
    pub(crate) fn tensor(self, g: &mut Graph, dtype: DType, what: &str) -> Result<Output> {
        match self {
            Hyper::Value(v) => {
                if !v.is_finite() {
                    return Err(Error::argument("optimizer", what, format!("must be finite, got {v}")));
                }
                g.scalar(dtype, v)
            }
            Hyper::Tensor(t) => {
                let spec = g.try_spec(t)?.clone();
                if spec.shape.rank().is_some_and(|r| r != 0) {
                    return Err(Error::argument(
                        "optimizer",
                        what,
                        format!("must be a scalar, got shape {}", spec.shape),
                    ));
                }
                if !spec.dtype.is_float() {
                    return Err(Error::argument(
                        "optimizer",
                        what,
                        format!("must be a float tensor, got {}", spec.dtype),
                    ));
                }
                g.cast(t, dtype)
            }
        }
    }

    /// Checks a hyper-parameter without building anything.
    pub(crate) fn check(self, g: &Graph, what: &str) -> Result<()> {
        match self {
            Hyper::Value(v) if !v.is_finite() => {
                Err(Error::argument("optimizer", what, format!("must be finite, got {v}")))
            }
            Hyper::Tensor(t) if g.try_spec(t)?.shape.rank().is_some_and(|r| r != 0) => {
                Err(Error::argument("optimizer", what, format!("must be a scalar, got shape {}", g.try_spec(t)?.shape)))
            }
            _ => Ok(()),
        }
    }
}

/// A gradient (or none) and its variable.
pub type GradAndVar = (Option<Output>, Output);

/// A TF1 optimizer.
pub trait Optimizer {
    /// The optimizer's name: the scope of its nodes and of its slot names (`w/Adam`).
    fn name(&self) -> &'static str;

    /// Checks the hyper-parameters.
    fn validate(&self, g: &Graph) -> Result<()>;

    /// Builds the update of `var` from `grad`, creating its slots; returns the update node.
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId>;

    /// Nodes that run after every update (Adam's beta-power updates).
    fn finish(&self, _g: &mut Graph, _updates: &[NodeId]) -> Result<Vec<NodeId>> {
        Ok(Vec::new())
    }

    /// Prepares state shared by all variables before any update is built (Adam's beta powers).
    fn prepare(&self, _g: &mut Graph, _first_var: Output) -> Result<()> {
        Ok(())
    }

    /// The gradient of `loss` for each variable of `var_list` (the trainable variables when
    /// `None`); `None` where the loss does not depend on the variable.
    fn compute_gradients(&self, g: &mut Graph, loss: Output, var_list: Option<&[Output]>) -> Result<Vec<GradAndVar>> {
        let vars = match var_list {
            Some(v) => v.to_vec(),
            None => g.trainable_variables(),
        };
        if vars.is_empty() {
            return Err(Error::argument("compute_gradients", "var_list", "No variables to optimize."));
        }
        for &v in &vars {
            if g.node(v.node).var.is_none() {
                return Err(Error::argument("compute_gradients", g.node(v.node).name(), "is not a variable"));
            }
        }
        let grads = gradients(g, &[loss], &vars, None)?;
        Ok(grads.into_iter().zip(vars).collect())
    }

    /// One update per variable with a gradient, the finishing ops after them, then
    /// `global_step += 1` after everything; returns the train op (named after the optimizer).
    fn apply_gradients(
        &self,
        g: &mut Graph,
        grads_and_vars: &[GradAndVar],
        global_step: Option<Output>,
    ) -> Result<NodeId> {
        self.validate(g)?;
        if grads_and_vars.is_empty() {
            return Err(Error::argument("apply_gradients", "grads_and_vars", "No variables provided."));
        }
        if grads_and_vars.iter().all(|(gr, _)| gr.is_none()) {
            let names: Vec<&str> = grads_and_vars.iter().map(|(_, v)| g.node(v.node).name()).collect();
            let msg = format!("No gradients provided for any variable: {names:?}");
            return Err(Error::argument("apply_gradients", "grads_and_vars", msg));
        }
        if let Some(gs) = global_step
            && !g.try_spec(gs)?.dtype.is_int()
        {
            return Err(Error::argument("apply_gradients", "global_step", "must be an integer variable"));
        }
        let train = g.named_unique(self.name(), |g| {
            let first = grads_and_vars.iter().find(|(gr, _)| gr.is_some()).map(|(_, v)| *v);
            if let Some(v) = first {
                self.prepare(g, v)?;
            }
            let mut updates = Vec::new();
            for &(grad, var) in grads_and_vars {
                let Some(grad) = grad else { continue };
                let name = format!("update_{}", g.node(var.node).name());
                updates.push(g.with_name_scope(&name, |g| self.apply_dense(g, grad, var))?);
            }
            let extra = g.with_control_dependencies(&updates, |g| self.finish(g, &updates))?;
            let all: Vec<NodeId> = updates.into_iter().chain(extra).collect();
            let done = g.group(&all, "update")?;
            match global_step {
                Some(gs) => {
                    // The constant is made outside the control scope, so it folds into the plan.
                    let one = g.constant(Tensor::filled(g.try_spec(gs)?.dtype, &[], 1.0))?;
                    g.with_control_dependencies(&[done], |g| g.assign_add(gs, one))
                }
                None => Ok(done.into()),
            }
        })?;
        Ok(train.node)
    }

    /// `compute_gradients` then `apply_gradients` (TF's `optimizer.minimize`).
    ///
    /// ```
    /// use stepflow::{DType, Graph, Initializer, Session};
    /// use stepflow::train::optimizers::{GradientDescentOptimizer, Optimizer};
    /// let mut g = Graph::new();
    /// let w = g.variable("w", DType::Float32, &[], Initializer::Constant(3.0))?;
    /// let loss = g.square(w)?;
    /// let step = g.get_or_create_global_step()?;
    /// let train = GradientDescentOptimizer::new(0.25).minimize(&mut g, loss, Some(step), None)?;
    /// let s = Session::new(g);
    /// s.initialize()?;
    /// s.run(&[], &[], &[train])?; // w -= 0.25 · 2w
    /// assert_eq!(s.variable_value(w)?.to_f64_vec(), vec![1.5]);
    /// assert_eq!(s.variable_value(step)?.to_i64_vec()?, vec![1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn minimize(
        &self,
        g: &mut Graph,
        loss: Output,
        global_step: Option<Output>,
        var_list: Option<&[Output]>,
    ) -> Result<NodeId> {
        let grads = self.compute_gradients(g, loss, var_list)?;
        self.apply_gradients(g, &grads, global_step)
    }
}

/// A slot variable of `var` (`w/Adam`, `w/Adam_1`, ...): not trainable, shaped like `var`,
/// created at the top level as TF creates slots.
pub(crate) fn slot(g: &mut Graph, var: Output, optimizer: &str, init: Initializer) -> Result<Output> {
    let spec = g.try_spec(var)?.clone();
    let shape =
        spec.shape.to_known().ok_or_else(|| Error::argument("slot", g.node(var.node).name(), "needs a known shape"))?;
    let name = format!("{}/{optimizer}", g.node(var.node).name());
    g.at_root(|g| g.variable_with(NodeName::Default(&name), spec.dtype, &shape, init, false))
}
