//! `tf.train.AdagradOptimizer`.

use super::{Hyper, Optimizer, slot};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::ops::train::ApplyAdagrad;

/// Adagrad, TF1's form: `accum += grad²`, `var -= lr · grad / √accum` (no epsilon). Slot:
/// `w/Adagrad`, starting at `initial_accumulator_value` (0.1 by default, must be > 0).
#[derive(Clone, Copy, Debug)]
pub struct AdagradOptimizer {
    pub learning_rate: Hyper,
    pub initial_accumulator_value: f64,
}

impl AdagradOptimizer {
    /// With TF's default initial accumulator, 0.1.
    pub fn new(learning_rate: impl Into<Hyper>) -> Self {
        AdagradOptimizer { learning_rate: learning_rate.into(), initial_accumulator_value: 0.1 }
    }
}

impl Optimizer for AdagradOptimizer {
    fn name(&self) -> &'static str {
        "Adagrad"
    }
    fn validate(&self, g: &Graph) -> Result<()> {
        self.learning_rate.check(g, "learning_rate")?;
        let v = self.initial_accumulator_value;
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::argument(
                "AdagradOptimizer",
                "initial_accumulator_value",
                format!("must be positive: {v}"),
            ));
        }
        Ok(())
    }
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId> {
        let accum = slot(g, var, self.name(), Initializer::Constant(self.initial_accumulator_value))?;
        let lr = self.learning_rate.tensor(g, g.try_spec(var)?.dtype, "learning_rate")?;
        g.add_node(NodeName::Default("ApplyAdagrad"), ApplyAdagrad {}, &[var, accum, lr, grad], &[])
    }
}
