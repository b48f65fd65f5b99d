//! `tf.train.GradientDescentOptimizer`.

use super::{Hyper, Optimizer};
use crate::error::Result;
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::ops::train::ApplyGradientDescent;

/// Plain gradient descent: `var -= learning_rate · grad`.
#[derive(Clone, Copy, Debug)]
pub struct GradientDescentOptimizer {
    pub learning_rate: Hyper,
}

impl GradientDescentOptimizer {
    /// With a learning rate that is a number or a tensor (a schedule, a placeholder).
    pub fn new(learning_rate: impl Into<Hyper>) -> Self {
        GradientDescentOptimizer { learning_rate: learning_rate.into() }
    }
}

impl Optimizer for GradientDescentOptimizer {
    fn name(&self) -> &'static str {
        "GradientDescent"
    }
    fn validate(&self, g: &Graph) -> Result<()> {
        self.learning_rate.check(g, "learning_rate")
    }
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId> {
        let lr = self.learning_rate.tensor(g, g.try_spec(var)?.dtype, "learning_rate")?;
        g.add_node(NodeName::Default("ApplyGradientDescent"), ApplyGradientDescent {}, &[var, lr, grad], &[])
    }
}
