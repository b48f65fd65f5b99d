//! `tf.train.MomentumOptimizer`.

use super::{Hyper, Optimizer, slot};
use crate::error::Result;
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::ops::train::ApplyMomentum;

/// Momentum, TF1's form: `accum = accum · momentum + grad`, `var -= lr · accum` (the learning
/// rate scales the whole accumulator at each step), or Nesterov's
/// `var -= lr · grad + lr · momentum · accum`. Slot: `w/Momentum`.
#[derive(Clone, Copy, Debug)]
pub struct MomentumOptimizer {
    pub learning_rate: Hyper,
    pub momentum: Hyper,
    pub use_nesterov: bool,
}

impl MomentumOptimizer {
    /// Momentum without Nesterov.
    pub fn new(learning_rate: impl Into<Hyper>, momentum: impl Into<Hyper>) -> Self {
        MomentumOptimizer { learning_rate: learning_rate.into(), momentum: momentum.into(), use_nesterov: false }
    }
}

impl Optimizer for MomentumOptimizer {
    fn name(&self) -> &'static str {
        "Momentum"
    }
    fn validate(&self, g: &Graph) -> Result<()> {
        self.learning_rate.check(g, "learning_rate")?;
        self.momentum.check(g, "momentum")
    }
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId> {
        let accum = slot(g, var, self.name(), Initializer::Zeros)?;
        let d = g.try_spec(var)?.dtype;
        let lr = self.learning_rate.tensor(g, d, "learning_rate")?;
        let m = self.momentum.tensor(g, d, "momentum")?;
        let op = ApplyMomentum { use_nesterov: self.use_nesterov };
        g.add_node(NodeName::Default("ApplyMomentum"), op, &[var, accum, lr, grad, m], &[])
    }
}
