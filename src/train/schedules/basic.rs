//! The source document's own schedules — step decay and linear decay — and a constant rate.

use super::{ExponentialDecay, Scalars, Schedule, ScheduleName, check_step, finite, float32, positive};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::DType;
use serde::{Deserialize, Serialize};

/// The document's step decay `ε_k = lr0 · alpha^⌊k/N⌋`: the learning rate drops by the factor
/// `alpha` every `N` steps. Built as `exponential_decay(lr0, k, N, alpha, staircase=True)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecay {
    pub learning_rate: f64,
    pub alpha: f64,
    #[serde(rename = "N")]
    pub n: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for StepDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        positive(self.name(), "N", self.n)?;
        let e = ExponentialDecay {
            learning_rate: self.learning_rate,
            decay_steps: self.n,
            decay_rate: self.alpha,
            staircase: true,
            dtype: self.dtype,
        };
        g.with_name_scope("StepDecay", |g| e.build(g, global_step))
    }
}

/// The document's linear decay `ε_k = (1 − k/τ)·lr0 + (k/τ)·lr_τ` until step τ, then `lr_τ`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearDecay {
    pub learning_rate: f64,
    pub lr_tau: f64,
    pub tau: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for LinearDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "tau", self.tau)?;
        finite(f, &[("learning_rate", self.learning_rate), ("lr_tau", self.lr_tau)])?;
        if self.lr_tau < 0.0 || self.learning_rate < 0.0 {
            return Err(Error::argument(f, "lr_tau", "and learning_rate must be >= 0"));
        }
        g.with_name_scope("LinearDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let k = s.step(global_step)?;
            let tau = s.c(self.tau)?;
            let k = s.min(k, tau)?;
            let a = s.div(k, tau)?;
            let one = s.c(1.0)?;
            let rest = s.sub(one, a)?;
            let lr0 = s.c(self.learning_rate)?;
            let lrt = s.c(self.lr_tau)?;
            let head = s.mul(rest, lr0)?;
            let tail = s.mul(a, lrt)?;
            s.add(head, tail)
        })
    }
}

/// A constant learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub learning_rate: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for Constant {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        check_step(g, self.name(), global_step, self.dtype)?;
        finite(self.name(), &[("learning_rate", self.learning_rate)])?;
        g.scalar(self.dtype, self.learning_rate)
    }
}
