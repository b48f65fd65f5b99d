//! Composing schedules: a linear warmup before any schedule, and schedules in sequence.

use super::{AnySchedule, Scalars, Schedule, ScheduleName, check_step, finite, float32};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// `max(step − offset, 0)` in the step's own dtype: the step a later schedule counts from.
fn shifted_step(g: &mut Graph, global_step: Output, offset: u64) -> Result<Output> {
    if offset == 0 {
        return Ok(global_step);
    }
    let d = g.try_spec(global_step)?.dtype;
    let off = g.constant(Tensor::filled(d, &[], offset as f64))?;
    let zero = g.constant(Tensor::filled(d, &[], 0.0))?;
    let k = g.sub(global_step, off)?;
    g.maximum(k, zero)
}

/// A linear warmup before any schedule: from `initial_learning_rate` at step 0 the rate rises
/// linearly to the schedule's first value at step `warmup_steps`; from there the schedule runs,
/// counted from `warmup_steps` (so decay starts where the warmup ends — Keras 3's `CosineDecay`
/// warmup, and the seam HF's and BERT's recipes once got wrong).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warmup {
    pub warmup_steps: u64,
    #[serde(default)]
    pub initial_learning_rate: f64,
    pub schedule: Box<AnySchedule>,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for Warmup {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        finite(f, &[("initial_learning_rate", self.initial_learning_rate)])?;
        if self.warmup_steps == 0 {
            return Err(Error::argument(f, "warmup_steps", "must be at least 1"));
        }
        g.with_name_scope("Warmup", |g| {
            let step_dtype = g.try_spec(global_step)?.dtype;
            let zero_step = g.constant(Tensor::filled(step_dtype, &[], 0.0))?;
            let target = self.schedule.build(g, zero_step)?;
            let target = g.cast(target, self.dtype)?;
            let after = shifted_step(g, global_step, self.warmup_steps)?;
            let later = self.schedule.build(g, after)?;
            let later = g.cast(later, self.dtype)?;
            let s = &mut Scalars { g, dtype: self.dtype };
            let k = s.step(global_step)?;
            let w = s.c(self.warmup_steps as f64)?;
            let frac = s.div(k, w)?;
            let init = s.c(self.initial_learning_rate)?;
            let rise = s.sub(target, init)?;
            let up = s.mul(rise, frac)?;
            let warm = s.add(init, up)?;
            let during = s.g.less(k, w)?;
            s.select(during, warm, later)
        })
    }
}

/// Schedules in sequence: `schedules[0]` until step `boundaries[0]`, then `schedules[1]` counted
/// from that step (its step 0 is `boundaries[0]`), and so on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequential {
    pub schedules: Vec<AnySchedule>,
    pub boundaries: Vec<u64>,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for Sequential {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        if self.schedules.is_empty() {
            return Err(Error::argument(f, "schedules", "must not be empty"));
        }
        if self.boundaries.len() + 1 != self.schedules.len() {
            let msg = format!(
                "must have one entry fewer than schedules ({} boundaries, {} schedules)",
                self.boundaries.len(),
                self.schedules.len()
            );
            return Err(Error::argument(f, "boundaries", msg));
        }
        if self.boundaries.windows(2).any(|w| w[1] <= w[0]) || self.boundaries.first() == Some(&0) {
            return Err(Error::argument(
                f,
                "boundaries",
                format!("must be positive and strictly increasing, got {:?}", self.boundaries),
            ));
        }
        g.with_name_scope("Sequential", |g| {
            let starts: Vec<u64> = std::iter::once(0).chain(self.boundaries.iter().copied()).collect();
            let mut values = Vec::with_capacity(self.schedules.len());
            for (sched, &start) in self.schedules.iter().zip(&starts) {
                let k = shifted_step(g, global_step, start)?;
                let v = sched.build(g, k)?;
                values.push(g.cast(v, self.dtype)?);
            }
            let step_dtype = g.try_spec(global_step)?.dtype;
            let mut out = values.pop().ok_or_else(|| Error::argument(f, "schedules", "must not be empty"))?;
            for (v, &b) in values.into_iter().zip(&self.boundaries).rev() {
                let bound = g.constant(Tensor::filled(step_dtype, &[], b as f64))?;
                let before = g.less(global_step, bound)?;
                out = g.select(before, v, out)?;
            }
            Ok(out)
        })
    }
}
