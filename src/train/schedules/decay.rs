//! TF1's decay functions of `tf.train`: exponential, natural exponential, inverse time,
//! polynomial and piecewise constant, with their ops in TF's order.

use super::{Scalars, Schedule, ScheduleName, check_step, finite, float32, positive};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// `tf.train.exponential_decay`: `learning_rate · decay_rate^(global_step / decay_steps)`, the
/// exponent floored when `staircase` — the source document's step decay `ε0·α^⌊k/N⌋` and its
/// exponential decay `ε0·α^(k/N)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    pub decay_rate: f64,
    #[serde(default)]
    pub staircase: bool,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for ExponentialDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        finite(f, &[("learning_rate", self.learning_rate), ("decay_rate", self.decay_rate)])?;
        g.with_name_scope("ExponentialDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            exponential(s, global_step, self.learning_rate, self.decay_steps, self.decay_rate, self.staircase)
        })
    }
}

/// `lr · rate^p`, `p = step / N` (floored when staircase), as TF's ExponentialDecay.
fn exponential(s: &mut Scalars, step: Output, lr: f64, n: f64, rate: f64, staircase: bool) -> Result<Output> {
    let lr = s.c(lr)?;
    let k = s.step(step)?;
    let n = s.c(n)?;
    let rate = s.c(rate)?;
    let mut p = s.div(k, n)?;
    if staircase {
        p = s.floor(p)?;
    }
    let decay = s.pow(rate, p)?;
    s.mul(lr, decay)
}

/// `tf.train.exponential_decay` as a function, computing in float32.
///
/// ```
/// use stepflow::{Graph, Session, train::exponential_decay};
/// let mut g = Graph::new();
/// let step = g.get_or_create_global_step()?;
/// let lr = exponential_decay(&mut g, 0.1, step, 100, 0.96, true)?;
/// let s = Session::new(g);
/// s.initialize()?;
/// assert_eq!(s.run(&[], &[lr], &[])?[0].to_f64_vec(), vec![0.1f32 as f64]);
/// # Ok::<(), stepflow::Error>(())
/// ```
pub fn exponential_decay(
    g: &mut Graph,
    learning_rate: f64,
    global_step: Output,
    decay_steps: u64,
    decay_rate: f64,
    staircase: bool,
) -> Result<Output> {
    ExponentialDecay { learning_rate, decay_steps: decay_steps as f64, decay_rate, staircase, dtype: DType::Float32 }
        .build(g, global_step)
}

/// `tf.train.natural_exp_decay`: `learning_rate · e^(−decay_rate · global_step / decay_steps)`,
/// computed as TF 2's wrapper does, `(e^−decay_rate)^p`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NaturalExpDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    pub decay_rate: f64,
    #[serde(default)]
    pub staircase: bool,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for NaturalExpDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        finite(f, &[("learning_rate", self.learning_rate), ("decay_rate", self.decay_rate)])?;
        let rate = (-self.decay_rate).exp();
        g.with_name_scope("NaturalExpDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            exponential(s, global_step, self.learning_rate, self.decay_steps, rate, self.staircase)
        })
    }
}

/// `tf.train.inverse_time_decay`: `learning_rate / (1 + decay_rate · global_step / decay_steps)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTimeDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    pub decay_rate: f64,
    #[serde(default)]
    pub staircase: bool,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for InverseTimeDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        finite(f, &[("learning_rate", self.learning_rate), ("decay_rate", self.decay_rate)])?;
        if self.decay_rate < 0.0 {
            // 1 + rate·p reaches 0 (and the rate infinity) at some step.
            return Err(Error::argument(f, "decay_rate", format!("must be >= 0, got {}", self.decay_rate)));
        }
        g.with_name_scope("InverseTimeDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let n = s.c(self.decay_steps)?;
            let rate = s.c(self.decay_rate)?;
            let k = s.step(global_step)?;
            let mut p = s.div(k, n)?;
            if self.staircase {
                p = s.floor(p)?;
            }
            let one = s.c(1.0)?;
            let rp = s.mul(rate, p)?;
            let denom = s.add(one, rp)?;
            s.div(lr, denom)
        })
    }
}

fn default_end() -> f64 {
    1e-4
}

fn one() -> f64 {
    1.0
}

/// `tf.train.polynomial_decay`: `(learning_rate − end)·(1 − k/N)^power + end` with
/// `k = min(step, N)`; with `cycle` the horizon `N` grows to the next multiple of `decay_steps`
/// instead (a step of 0 counts as one period, as in TF). `end_learning_rate` defaults to 1e-4.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    #[serde(default = "default_end")]
    pub end_learning_rate: f64,
    #[serde(default = "one")]
    pub power: f64,
    #[serde(default)]
    pub cycle: bool,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for PolynomialDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        finite(
            f,
            &[
                ("learning_rate", self.learning_rate),
                ("end_learning_rate", self.end_learning_rate),
                ("power", self.power),
            ],
        )?;
        g.with_name_scope("PolynomialDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let end = s.c(self.end_learning_rate)?;
            let power = s.c(self.power)?;
            let mut k = s.step(global_step)?;
            let mut n = s.c(self.decay_steps)?;
            if self.cycle {
                let zero = s.c(0.0)?;
                let at_zero = s.g.equal(k, zero)?;
                let n_py = s.c(self.decay_steps)?;
                let q = s.div(k, n_py)?;
                let periods = s.g.ceil(q)?;
                let one = s.c(1.0)?;
                let multiplier = s.select(at_zero, one, periods)?;
                n = s.mul(n, multiplier)?;
            } else {
                k = s.min(k, n)?;
            }
            let p = s.div(k, n)?;
            let span = s.sub(lr, end)?;
            let one = s.c(1.0)?;
            let rest = s.sub(one, p)?;
            let shape = s.pow(rest, power)?;
            let scaled = s.mul(span, shape)?;
            s.add(scaled, end)
        })
    }
}

/// `tf.train.piecewise_constant`: `values[0]` while `step ≤ boundaries[0]`, `values[i]` while
/// `boundaries[i−1] < step ≤ boundaries[i]`, `values[-1]` after the last boundary (intervals are
/// left-open, right-closed). Boundaries must be increasing integers (compared in the step's
/// dtype); there is one more value than boundaries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiecewiseConstant {
    pub boundaries: Vec<f64>,
    pub values: Vec<f64>,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl PiecewiseConstant {
    fn validate(&self) -> Result<()> {
        let f = "piecewise_constant";
        if self.boundaries.is_empty() {
            return Err(Error::argument(f, "boundaries", "must not be empty"));
        }
        if self.values.len() != self.boundaries.len() + 1 {
            let msg = format!(
                "must have one more entry than boundaries ({} values, {} boundaries)",
                self.values.len(),
                self.boundaries.len()
            );
            return Err(Error::argument(f, "values", msg));
        }
        if let Some(b) = self.boundaries.iter().find(|b| !b.is_finite() || b.fract() != 0.0) {
            return Err(Error::argument(
                f,
                "boundaries",
                format!("must be integers for an integer global_step, got {b}"),
            ));
        }
        if self.boundaries.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::argument(
                f,
                "boundaries",
                format!("must be strictly increasing, got {:?}", self.boundaries),
            ));
        }
        let vals: Vec<(&str, f64)> = self.values.iter().map(|&v| ("values", v)).collect();
        finite(f, &vals)
    }
}

impl Schedule for PiecewiseConstant {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        check_step(g, self.name(), global_step, self.dtype)?;
        self.validate()?;
        let step_dtype = g.try_spec(global_step)?.dtype;
        g.with_name_scope("PiecewiseConstant", |g| {
            let last = self.values.len() - 1;
            let mut out = g.scalar(self.dtype, self.values[last])?;
            for i in (0..self.boundaries.len()).rev() {
                let b = g.constant(Tensor::filled(step_dtype, &[], self.boundaries[i]))?;
                let within = g.less_equal(global_step, b)?;
                let v = g.scalar(self.dtype, self.values[i])?;
                out = g.select(within, v, out)?;
            }
            Ok(out)
        })
    }
}
