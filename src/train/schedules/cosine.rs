//! Cosine schedules of `tf.train`: cosine decay, cosine decay with warm restarts (SGDR), linear
//! cosine decay and its seeded noisy variant. π is built in the schedule's dtype, so float64
//! works (TF builds it as float32 and fails there, see the reference's §1.0).

use super::{Scalars, Schedule, ScheduleName, check_step, finite, float32, positive};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::DType;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// `½ · (1 + cos(π · x))`.
fn half_cosine(s: &mut Scalars, x: Output) -> Result<Output> {
    let pi = s.c(PI)?;
    let px = s.mul(pi, x)?;
    let c = s.cos(px)?;
    let one_c = s.shift(1.0, c)?;
    s.scale(0.5, one_c)
}

/// `tf.train.cosine_decay`: `learning_rate · ((1 − alpha)·½(1 + cos(π·min(k, N)/N)) + alpha)`;
/// constant `learning_rate · alpha` after `decay_steps`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    #[serde(default)]
    pub alpha: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for CosineDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        finite(f, &[("learning_rate", self.learning_rate), ("alpha", self.alpha)])?;
        g.with_name_scope("CosineDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let n = s.c(self.decay_steps)?;
            let k = s.step(global_step)?;
            let k = s.min(k, n)?;
            let frac = s.div(k, n)?;
            let cosine = half_cosine(s, frac)?;
            let scaled = s.scale(1.0 - self.alpha, cosine)?;
            let decayed = s.shift(self.alpha, scaled)?;
            s.mul(lr, decayed)
        })
    }
}

fn two() -> f64 {
    2.0
}

fn one() -> f64 {
    1.0
}

/// `tf.train.cosine_decay_restarts` (SGDR): cosine periods of `first_decay_steps · t_mul^i`
/// steps, the i-th starting at height `m_mul^i` (the `alpha` floor, a fraction of
/// `learning_rate`, is not scaled). The restart happens at the boundary step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineDecayRestarts {
    pub learning_rate: f64,
    pub first_decay_steps: f64,
    #[serde(default = "two")]
    pub t_mul: f64,
    #[serde(default = "one")]
    pub m_mul: f64,
    #[serde(default)]
    pub alpha: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for CosineDecayRestarts {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "first_decay_steps", self.first_decay_steps)?;
        finite(f, &[("learning_rate", self.learning_rate), ("m_mul", self.m_mul), ("alpha", self.alpha)])?;
        if !(self.t_mul.is_finite() && self.t_mul >= 1.0) {
            // Below 1 the periods shrink geometrically and TF returns NaN after a finite step.
            return Err(Error::argument(f, "t_mul", format!("must be a finite number >= 1, got {}", self.t_mul)));
        }
        if self.m_mul < 0.0 {
            return Err(Error::argument(f, "m_mul", format!("must be >= 0, got {}", self.m_mul)));
        }
        g.with_name_scope("SGDRDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let first = s.c(self.first_decay_steps)?;
            let alpha = s.c(self.alpha)?;
            let t_mul = s.c(self.t_mul)?;
            let m_mul = s.c(self.m_mul)?;
            let k = s.step(global_step)?;
            let done = s.div(k, first)?;
            let (i, frac) = if self.t_mul == 1.0 { arithmetic(s, done)? } else { geometric(s, done, t_mul)? };
            let m_fac = s.pow(m_mul, i)?;
            let half_m = s.scale(0.5, m_fac)?;
            let pi = s.c(PI)?;
            let px = s.mul(pi, frac)?;
            let c = s.cos(px)?;
            let one_c = s.shift(1.0, c)?;
            let cosine = s.mul(half_m, one_c)?;
            let one = s.c(1.0)?;
            let keep = s.sub(one, alpha)?;
            let scaled = s.mul(keep, cosine)?;
            let decayed = s.add(scaled, alpha)?;
            s.mul(lr, decayed)
        })
    }
}

/// Restart index and fraction within the period, for periods of equal length.
fn arithmetic(s: &mut Scalars, done: Output) -> Result<(Output, Output)> {
    let i = s.floor(done)?;
    let frac = s.sub(done, i)?;
    Ok((i, frac))
}

/// Restart index and fraction within the period, for periods growing by `t_mul`.
fn geometric(s: &mut Scalars, done: Output, t_mul: Output) -> Result<(Output, Output)> {
    let one = s.c(1.0)?;
    let one_minus_t = s.sub(one, t_mul)?;
    let x = s.mul(done, one_minus_t)?;
    let inner = s.sub(one, x)?;
    let log_inner = s.g.log(inner)?;
    let log_t = s.g.log(t_mul)?;
    let q = s.div(log_inner, log_t)?;
    let i = s.floor(q)?;
    let t_i = s.pow(t_mul, i)?;
    let num = s.sub(one, t_i)?;
    let sum_r = s.div(num, one_minus_t)?;
    let into = s.sub(done, sum_r)?;
    let frac = s.div(into, t_i)?;
    Ok((i, frac))
}

fn half() -> f64 {
    0.5
}

fn beta_default() -> f64 {
    0.001
}

/// `tf.train.linear_cosine_decay`: `learning_rate · ((alpha + (N − k)/N) · ½(1 + cos(2π ·
/// num_periods · k/N)) + beta)` with `k = min(step, N)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearCosineDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    #[serde(default = "half")]
    pub num_periods: f64,
    #[serde(default)]
    pub alpha: f64,
    #[serde(default = "beta_default")]
    pub beta: f64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

/// The pieces shared by the linear cosine decays: `min(step, N)`, the linear part, the cosine part.
fn linear_cosine_parts(
    s: &mut Scalars,
    global_step: Output,
    decay_steps: f64,
    num_periods: f64,
) -> Result<(Output, Output, Output)> {
    let n = s.c(decay_steps)?;
    let periods = s.c(num_periods)?;
    let k = s.step(global_step)?;
    let k = s.min(k, n)?;
    let left = s.sub(n, k)?;
    let linear = s.div(left, n)?;
    let done = s.div(k, n)?;
    let two_p = s.scale(2.0, periods)?;
    let fraction = s.mul(two_p, done)?;
    let cosine = half_cosine(s, fraction)?;
    Ok((k, linear, cosine))
}

impl Schedule for LinearCosineDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        let args = [
            ("learning_rate", self.learning_rate),
            ("num_periods", self.num_periods),
            ("alpha", self.alpha),
            ("beta", self.beta),
        ];
        finite(f, &args)?;
        g.with_name_scope("LinearCosineDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let (_, linear, cosine) = linear_cosine_parts(s, global_step, self.decay_steps, self.num_periods)?;
            let alpha = s.c(self.alpha)?;
            let a = s.add(alpha, linear)?;
            let ac = s.mul(a, cosine)?;
            let beta = s.c(self.beta)?;
            let decayed = s.add(ac, beta)?;
            s.mul(lr, decayed)
        })
    }
}

fn variance_decay_default() -> f64 {
    0.55
}

/// `tf.train.noisy_linear_cosine_decay`: linear cosine decay with Gaussian noise of variance
/// `initial_variance / (1 + k)^variance_decay` added to the linear part, drawn afresh at every
/// evaluation from a stream fixed by `seed`. Nothing clamps the noise: the rate can be negative.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoisyLinearCosineDecay {
    pub learning_rate: f64,
    pub decay_steps: f64,
    #[serde(default = "one")]
    pub initial_variance: f64,
    #[serde(default = "variance_decay_default")]
    pub variance_decay: f64,
    #[serde(default = "half")]
    pub num_periods: f64,
    #[serde(default)]
    pub alpha: f64,
    #[serde(default = "beta_default")]
    pub beta: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "float32")]
    pub dtype: DType,
}

impl Schedule for NoisyLinearCosineDecay {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        let args = [
            ("learning_rate", self.learning_rate),
            ("variance_decay", self.variance_decay),
            ("num_periods", self.num_periods),
            ("alpha", self.alpha),
            ("beta", self.beta),
        ];
        finite(f, &args)?;
        if !(self.initial_variance.is_finite() && self.initial_variance >= 0.0) {
            return Err(Error::argument(
                f,
                "initial_variance",
                format!("must be a finite number >= 0, got {}", self.initial_variance),
            ));
        }
        g.with_name_scope("NoisyLinearCosineDecay", |g| {
            let s = &mut Scalars { g, dtype: self.dtype };
            let lr = s.c(self.learning_rate)?;
            let (k, linear, cosine) = linear_cosine_parts(s, global_step, self.decay_steps, self.num_periods)?;
            let iv = s.c(self.initial_variance)?;
            let vd = s.c(self.variance_decay)?;
            let k1 = s.shift(1.0, k)?;
            let denom = s.pow(k1, vd)?;
            let variance = s.div(iv, denom)?;
            let std = s.g.sqrt(variance)?;
            let z = s.g.random_normal(&[], self.dtype, self.seed)?;
            let noise = s.mul(z, std)?;
            let noisy = s.add(linear, noise)?;
            let alpha = s.c(self.alpha)?;
            let a = s.add(alpha, noisy)?;
            let ac = s.mul(a, cosine)?;
            let beta = s.c(self.beta)?;
            let decayed = s.add(ac, beta)?;
            s.mul(lr, decayed)
        })
    }
}
