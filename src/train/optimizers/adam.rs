//! `tf.train.AdamOptimizer`.

use super::{Hyper, Optimizer, slot};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::ops::train::ApplyAdam;
use crate::tensor::Tensor;
use std::cell::Cell;

/// Adam in TF1's form: bias correction folded into the step size
/// `lr·√(1 − β2ᵗ)/(1 − β1ᵗ)`, epsilon added outside the square root. The powers `β1ᵗ`, `β2ᵗ` are
/// the non-slot variables `beta1_power` and `beta2_power` (starting at β1, β2), multiplied by β1
/// and β2 after all variable updates; they count Adam's own steps, independent of
/// `global_step`. Slots: `w/Adam` (m) and `w/Adam_1` (v). Defaults: lr 0.001, β1 0.9, β2 0.999,
/// epsilon 1e-8.
#[derive(Clone, Debug)]
pub struct AdamOptimizer {
    pub learning_rate: Hyper,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    powers: Cell<Option<(Output, Output)>>,
}

impl AdamOptimizer {
    /// With TF's defaults for β1, β2 and epsilon.
    pub fn new(learning_rate: impl Into<Hyper>) -> Self {
        AdamOptimizer {
            learning_rate: learning_rate.into(),
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            powers: Cell::new(None),
        }
    }

    /// With every hyper-parameter given.
    pub fn with(learning_rate: impl Into<Hyper>, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        AdamOptimizer { learning_rate: learning_rate.into(), beta1, beta2, epsilon, powers: Cell::new(None) }
    }

    fn powers(&self) -> Result<(Output, Output)> {
        self.powers.get().ok_or_else(|| Error::argument("AdamOptimizer", "beta1_power", "was not created"))
    }
}

impl Optimizer for AdamOptimizer {
    fn name(&self) -> &'static str {
        "Adam"
    }
    fn validate(&self, g: &Graph) -> Result<()> {
        self.learning_rate.check(g, "learning_rate")?;
        for (name, v) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                return Err(Error::argument("AdamOptimizer", name, format!("must be in [0, 1), got {v}")));
            }
        }
        if !self.epsilon.is_finite() || self.epsilon < 0.0 {
            return Err(Error::argument("AdamOptimizer", "epsilon", format!("must be >= 0, got {}", self.epsilon)));
        }
        Ok(())
    }
    fn prepare(&self, g: &mut Graph, first_var: Output) -> Result<()> {
        let d = g.try_spec(first_var)?.dtype;
        let power = |g: &mut Graph, name: &str, v: f64| {
            g.at_root(|g| g.non_trainable_variable(name, d, &[], Initializer::Value(Tensor::filled(d, &[], v))))
        };
        let b1 = power(g, "beta1_power", self.beta1)?;
        let b2 = power(g, "beta2_power", self.beta2)?;
        self.powers.set(Some((b1, b2)));
        Ok(())
    }
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId> {
        let m = slot(g, var, self.name(), Initializer::Zeros)?;
        let v = slot(g, var, self.name(), Initializer::Zeros)?;
        let (b1p, b2p) = self.powers()?;
        let d = g.try_spec(var)?.dtype;
        let b1p = g.cast(b1p, d)?;
        let b2p = g.cast(b2p, d)?;
        let lr = self.learning_rate.tensor(g, d, "learning_rate")?;
        let (beta1, beta2, eps) = (g.scalar(d, self.beta1)?, g.scalar(d, self.beta2)?, g.scalar(d, self.epsilon)?);
        let inputs = [var, m, v, b1p, b2p, lr, beta1, beta2, eps, grad];
        g.add_node(NodeName::Default("ApplyAdam"), ApplyAdam {}, &inputs, &[])
    }
    fn finish(&self, g: &mut Graph, _updates: &[NodeId]) -> Result<Vec<NodeId>> {
        let (b1p, b2p) = self.powers()?;
        let d = g.try_spec(b1p)?.dtype;
        let beta1 = g.scalar(d, self.beta1)?;
        let beta2 = g.scalar(d, self.beta2)?;
        let n1 = g.mul(b1p, beta1)?;
        let n2 = g.mul(b2p, beta2)?;
        Ok(vec![g.assign(b1p, n1)?.node, g.assign(b2p, n2)?.node])
    }
}
