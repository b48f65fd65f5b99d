//! Cyclical schedules beyond TF1: Smith's cyclical learning rates and the one-cycle policy.

use super::{Scalars, Schedule, ScheduleName, check_step, finite, float32, positive};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::DType;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How the amplitude of a cyclical schedule changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// The same triangle every cycle.
    Triangular,
    /// The amplitude halves every cycle.
    Triangular2,
    /// The amplitude shrinks by `gamma` every step.
    ExpRange,
}

fn triangular() -> CyclicMode {
    CyclicMode::Triangular
}

fn one() -> f64 {
    1.0
}

/// Cyclical learning rates (Smith 2017, "Cyclical Learning Rates for Training Neural Networks"):
/// the rate climbs linearly from `base_lr` to `max_lr` over `step_size` steps and back over the
/// next `step_size`:
/// `cycle = ⌊1 + k/(2·step_size)⌋`, `x = |k/step_size − 2·cycle + 1|`,
/// `lr = base_lr + (max_lr − base_lr) · max(0, 1 − x) · scale`, where `scale` is 1
/// (`triangular`), `1/2^(cycle−1)` (`triangular2`) or `gamma^k` (`exp_range`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclicalLearningRate {
    pub base_lr: f64,
    pub max_lr: f64,
    pub step_size: f64,
    #[serde(default = "triangular")]
    pub mode: CyclicMode,
    #[serde(default = "one")]
    pub gamma: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for CyclicalLearningRate {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "step_size", self.step_size)?;
        finite(f, &[("base_lr", self.base_lr), ("max_lr", self.max_lr), ("gamma", self.gamma)])?;
        if self.mode == CyclicMode::ExpRange && !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(Error::argument(f, "gamma", format!("must be in (0, 1] for exp_range, got {}", self.gamma)));
        }
        g.with_name_scope("CyclicalLearningRate", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let k = s.step(global_step)?;
            let size = s.c(self.step_size)?;
            let two_size = s.c(2.0 * self.step_size)?;
            let q = s.div(k, two_size)?;
            let q1 = s.shift(1.0, q)?;
            let cycle = s.floor(q1)?;
            let ks = s.div(k, size)?;
            let two_cycle = s.scale(2.0, cycle)?;
            let d = s.sub(ks, two_cycle)?;
            let d1 = s.shift(1.0, d)?;
            let x = s.g.abs(d1)?;
            let one = s.c(1.0)?;
            let rest = s.sub(one, x)?;
            let zero = s.c(0.0)?;
            let mut amp = s.max(zero, rest)?;
            match self.mode {
                CyclicMode::Triangular => {}
                CyclicMode::Triangular2 => {
                    let two = s.c(2.0)?;
                    let e = s.shift(-1.0, cycle)?;
                    let p = s.pow(two, e)?;
                    amp = s.div(amp, p)?;
                }
                CyclicMode::ExpRange => {
                    let gamma = s.c(self.gamma)?;
                    let p = s.pow(gamma, k)?;
                    amp = s.mul(amp, p)?;
                }
            }
            let span = s.c(self.max_lr - self.base_lr)?;
            let up = s.mul(span, amp)?;
            s.shift(self.base_lr, up)
        })
    }
}

/// How a one-cycle phase moves between its two rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anneal {
    /// Half a cosine wave.
    Cos,
    /// A straight line.
    Linear,
}

fn cos() -> Anneal {
    Anneal::Cos
}
fn pct_start() -> f64 {
    0.3
}
fn div_factor() -> f64 {
    25.0
}
fn final_div_factor() -> f64 {
    1e4
}

/// The one-cycle policy (Smith & Topin 2018; PyTorch's `OneCycleLR`): from
/// `max_lr/div_factor` up to `max_lr` over the first `pct_start` of `total_steps`, then down to
/// `max_lr/div_factor/final_div_factor` (two phases, as fastai and PyTorch by default), or back
/// to the start and then down (three phases, as the paper). Phase ends are PyTorch's
/// (`pct_start·T − 1`, `2·pct_start·T − 2`, `T − 1`); past the last step the rate stays at its
/// minimum (PyTorch raises an error there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycle {
    pub max_lr: f64,
    pub total_steps: u64,
    #[serde(default = "pct_start")]
    pub pct_start: f64,
    #[serde(default = "cos")]
    pub anneal_strategy: Anneal,
    #[serde(default = "div_factor")]
    pub div_factor: f64,
    #[serde(default = "final_div_factor")]
    pub final_div_factor: f64,
    #[serde(default)]
    pub three_phase: bool,
    #[serde(default = "float32")]
    pub dtype: DType,
}

/// One phase: it ends at step `end` and moves from `from` to `to`.
struct Phase {
    end: f64,
    from: f64,
    to: f64,
}

impl OneCycle {
    fn phases(&self) -> Result<Vec<Phase>> {
        let f = "one_cycle";
        positive(f, "max_lr", self.max_lr)?;
        positive(f, "div_factor", self.div_factor)?;
        positive(f, "final_div_factor", self.final_div_factor)?;
        if !(self.pct_start > 0.0 && self.pct_start < 1.0) {
            return Err(Error::argument(f, "pct_start", format!("must be in (0, 1), got {}", self.pct_start)));
        }
        let t = self.total_steps as f64;
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let p1 = self.pct_start * t - 1.0;
        let phases = if self.three_phase {
            vec![
                Phase { end: p1, from: initial, to: self.max_lr },
                Phase { end: 2.0 * self.pct_start * t - 2.0, from: self.max_lr, to: initial },
                Phase { end: t - 1.0, from: initial, to: min },
            ]
        } else {
            vec![Phase { end: p1, from: initial, to: self.max_lr }, Phase { end: t - 1.0, from: self.max_lr, to: min }]
        };
        let mut start = 0.0;
        for p in &phases {
            if p.end <= start || p.end.is_nan() {
                let msg = format!(
                    "{} steps leave an empty phase (ends {start} and {}); use more steps or another pct_start",
                    self.total_steps, p.end
                );
                return Err(Error::argument(f, "total_steps", msg));
            }
            start = p.end;
        }
        Ok(phases)
    }
}

impl Schedule for OneCycle {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        check_step(g, self.name(), global_step, self.dtype)?;
        let phases = self.phases()?;
        g.with_name_scope("OneCycle", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let k = s.step(global_step)?;
            let last = s.c(self.total_steps as f64 - 1.0)?;
            let k = s.min(k, last)?;
            let mut values = Vec::with_capacity(phases.len());
            let mut start = 0.0;
            for p in &phases {
                values.push(self.anneal(s, k, start, p)?);
                start = p.end;
            }
            let mut out = values.pop().ok_or_else(|| Error::argument("one_cycle", "phases", "none"))?;
            for (p, v) in phases.iter().zip(values).rev() {
                let end = s.c(p.end)?;
                let inside = s.g.less_equal(k, end)?;
                out = s.select(inside, v, out)?;
            }
            Ok(out)
        })
    }
}

impl OneCycle {
    /// The rate within one phase starting at step `start`.
    fn anneal(&self, s: &mut Scalars, k: Output, start: f64, p: &Phase) -> Result<Output> {
        let begin = s.c(start)?;
        let into = s.sub(k, begin)?;
        let len = s.c(p.end - start)?;
        let pct = s.div(into, len)?;
        match self.anneal_strategy {
            // end + (start − end)/2 · (cos(π·pct) + 1)
            Anneal::Cos => {
                let pi = s.c(PI)?;
                let x = s.mul(pi, pct)?;
                let c = s.cos(x)?;
                let c1 = s.shift(1.0, c)?;
                let h = s.scale((p.from - p.to) / 2.0, c1)?;
                s.shift(p.to, h)
            }
            // (end − start)·pct + start
            Anneal::Linear => {
                let d = s.scale(p.to - p.from, pct)?;
                s.shift(p.from, d)
            }
        }
    }
}
