//! `tf.train.RMSPropOptimizer`.

use super::{Hyper, Optimizer, slot};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::ops::train::{ApplyCenteredRMSProp, ApplyRMSProp};

/// RMSProp, TF1's form: `ms += (g² − ms)(1 − decay)`, `mom = mom·momentum + lr·g/√(ms + ε)`,
/// `var -= mom`; centered also tracks `mg` and divides by `√(ms − mg² + ε)`. Slots as TF names
/// them: `w/RMSProp` (ms, starting at ones), `w/RMSProp_1` (mg, centered only), then the
/// momentum slot. Defaults: decay 0.9, momentum 0, epsilon 1e-10.
#[derive(Clone, Copy, Debug)]
pub struct RMSPropOptimizer {
    pub learning_rate: Hyper,
    pub decay: Hyper,
    pub momentum: Hyper,
    pub epsilon: Hyper,
    pub centered: bool,
}

impl RMSPropOptimizer {
    /// With TF's defaults.
    pub fn new(learning_rate: impl Into<Hyper>) -> Self {
        RMSPropOptimizer {
            learning_rate: learning_rate.into(),
            decay: Hyper::Value(0.9),
            momentum: Hyper::Value(0.0),
            epsilon: Hyper::Value(1e-10),
            centered: false,
        }
    }
}

impl Optimizer for RMSPropOptimizer {
    fn name(&self) -> &'static str {
        "RMSProp"
    }
    fn validate(&self, g: &Graph) -> Result<()> {
        self.learning_rate.check(g, "learning_rate")?;
        self.momentum.check(g, "momentum")?;
        self.epsilon.check(g, "epsilon")?;
        self.decay.check(g, "decay")?;
        if let Hyper::Value(d) = self.decay
            && !(0.0..=1.0).contains(&d)
        {
            return Err(Error::argument("RMSPropOptimizer", "decay", format!("must be in [0, 1], got {d}")));
        }
        Ok(())
    }
    fn apply_dense(&self, g: &mut Graph, grad: Output, var: Output) -> Result<NodeId> {
        let ms = slot(g, var, self.name(), Initializer::Ones)?;
        let mg = if self.centered { Some(slot(g, var, self.name(), Initializer::Zeros)?) } else { None };
        let mom = slot(g, var, self.name(), Initializer::Zeros)?;
        let d = g.try_spec(var)?.dtype;
        let lr = self.learning_rate.tensor(g, d, "learning_rate")?;
        let rho = self.decay.tensor(g, d, "decay")?;
        let momentum = self.momentum.tensor(g, d, "momentum")?;
        let eps = self.epsilon.tensor(g, d, "epsilon")?;
        match mg {
            Some(mg) => {
                let inputs = [var, mg, ms, mom, lr, rho, momentum, eps, grad];
                g.add_node(NodeName::Default("ApplyCenteredRMSProp"), ApplyCenteredRMSProp {}, &inputs, &[])
            }
            None => {
                let inputs = [var, ms, mom, lr, rho, momentum, eps, grad];
                g.add_node(NodeName::Default("ApplyRMSProp"), ApplyRMSProp {}, &inputs, &[])
            }
        }
    }
}
