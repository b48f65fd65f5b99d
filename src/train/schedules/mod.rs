//! Learning-rate schedules as graph ops whose input is `global_step`, built exactly as TF1's
//! `tf.train.*_decay` functions build them: the step and every hyper-parameter are cast to the
//! learning rate's dtype (float32 unless asked), divisions are float divisions, `staircase` floors
//! the float quotient, and values clamp past the end only where TF clamps. Their value is an
//! ordinary tensor that an optimizer, a fetch or a plot can use.
//!
//! | schedule | value at step k |
//! | --- | --- |
//! | [`ExponentialDecay`] | `lr0 · rate^(k/N)` (`⌊k/N⌋` with staircase) |
//! | [`StepDecay`] | `lr0 · α^⌊k/N⌋` (the source document's step decay) |
//! | [`NaturalExpDecay`] | `lr0 · e^(−rate·k/N)` |
//! | [`InverseTimeDecay`] | `lr0 / (1 + rate·k/N)` |
//! | [`PiecewiseConstant`] | `values[i]` for `boundaries[i−1] < k ≤ boundaries[i]` |
//! | [`PolynomialDecay`] | `(lr0 − end)·(1 − min(k,N)/N)^power + end`, or cycling |
//! | [`LinearDecay`] | `(1 − k/τ)·lr0 + (k/τ)·lr_τ`, then `lr_τ` (the document's linear decay) |
//! | [`CosineDecay`] | `lr0 · ((1−α)·½(1 + cos(π·min(k,N)/N)) + α)` |
//! | [`CosineDecayRestarts`] | SGDR: cosine periods growing by `t_mul`, heights by `m_mul` |
//! | [`LinearCosineDecay`] / [`NoisyLinearCosineDecay`] | linear × cosine (+ seeded noise) |
//! | [`CyclicalLearningRate`] | Smith's triangular, triangular2, exp_range cycles |
//! | [`OneCycle`] | warm up to `max_lr`, anneal to `max_lr/div/final_div` (two or three phases) |
//! | [`Warmup`] | linear ramp for `warmup_steps`, then any schedule |
//! | [`Sequential`] | schedule A until step s, then B counted from s |
//! | [`Constant`] | `learning_rate` |
//!
//! Arguments that TF would silently turn into NaN or infinity (`decay_steps ≤ 0`, boundaries not
//! increasing, a cycle of length 0, ...) are errors here, when the schedule is built, naming the
//! argument (Keras 3 validates `decay_steps > 0` the same way). `global_step` may be any integer
//! dtype; it is cast to the learning rate's dtype as TF casts it, so in float32 steps beyond 2^24
//! round (a staircase can move by one step there, exactly as in TF).

mod basic;
mod compose;
mod cosine;
mod cyclic;
mod decay;

pub use basic::{Constant, LinearDecay, StepDecay};
pub use compose::{Sequential, Warmup};
pub use cosine::{CosineDecay, CosineDecayRestarts, LinearCosineDecay, NoisyLinearCosineDecay};
pub use cyclic::{Anneal, CyclicMode, CyclicalLearningRate, OneCycle};
pub use decay::{
    ExponentialDecay, InverseTimeDecay, NaturalExpDecay, PiecewiseConstant, PolynomialDecay, exponential_decay,
};

use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::DType;
use serde::{Deserialize, Serialize};

/// A learning-rate schedule: something that builds its value from `global_step`.
pub trait Schedule: ScheduleName {
    /// Builds the schedule's value as graph nodes reading `global_step` (a scalar of any integer
    /// dtype). Invalid arguments are errors naming the argument.
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output>;
}

/// The function name of a schedule (`exponential_decay`): its `"op"` in graph files and its
/// `"fn"` in goldens and nested schedules. Written by the one list of schedules below.
pub trait ScheduleName {
    /// The function name.
    fn name(&self) -> &'static str;
}

/// The one list of schedules: each is registered here once, under its function name.
macro_rules! schedules {
    ($($name:literal => $ty:ident),* $(,)?) => {
        /// Any schedule, tagged by its function name: `{"fn": "cosine_decay", "learning_rate": 0.1,
        /// "decay_steps": 1000}`. The form of golden files, of nested schedules and of training
        /// configs.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "fn")]
        pub enum AnySchedule {
            $(#[serde(rename = $name)] $ty($ty),)*
        }

        /// Every schedule's function name.
        pub const SCHEDULES: &[&str] = &[$($name),*];

        $(impl ScheduleName for $ty {
            fn name(&self) -> &'static str {
                $name
            }
        })*

        impl AnySchedule {
            /// The schedule inside.
            pub fn inner(&self) -> &dyn Schedule {
                match self {
                    $(AnySchedule::$ty(s) => s,)*
                }
            }
        }
    };
}

impl AnySchedule {
    /// A schedule from a function name and its arguments (the golden files' `fn` and `args`).
    pub fn from_parts(function: &str, args: &serde_json::Value) -> Result<AnySchedule> {
        let mut obj = args.as_object().cloned().unwrap_or_default();
        obj.insert("fn".into(), serde_json::Value::from(function));
        serde_json::from_value(serde_json::Value::Object(obj))
            .map_err(|e| Error::argument(function, "args", e.to_string()))
    }
}

schedules! {
    "exponential_decay" => ExponentialDecay,
    "step_decay" => StepDecay,
    "natural_exp_decay" => NaturalExpDecay,
    "inverse_time_decay" => InverseTimeDecay,
    "piecewise_constant" => PiecewiseConstant,
    "polynomial_decay" => PolynomialDecay,
    "linear_decay" => LinearDecay,
    "cosine_decay" => CosineDecay,
    "cosine_decay_restarts" => CosineDecayRestarts,
    "linear_cosine_decay" => LinearCosineDecay,
    "noisy_linear_cosine_decay" => NoisyLinearCosineDecay,
    "cyclical_learning_rate" => CyclicalLearningRate,
    "one_cycle" => OneCycle,
    "warmup" => Warmup,
    "sequential" => Sequential,
    "constant" => Constant,
}

impl ScheduleName for AnySchedule {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
}

impl Schedule for AnySchedule {
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        self.inner().build(g, global_step)
    }
}

/// The dtype a schedule computes in unless told otherwise: TF's dtype of a Python float.
pub(crate) fn float32() -> DType {
    DType::Float32
}

/// Validates the common pieces: a scalar integer step, a float dtype.
pub(crate) fn check_step(g: &Graph, function: &str, global_step: Output, dtype: DType) -> Result<()> {
    let spec = g.try_spec(global_step)?;
    if !spec.dtype.is_int() {
        return Err(Error::argument(function, "global_step", format!("must be an integer tensor, got {}", spec.dtype)));
    }
    if spec.shape.rank().is_some_and(|r| r != 0) {
        return Err(Error::argument(function, "global_step", format!("must be a scalar, got shape {}", spec.shape)));
    }
    if !dtype.is_float() {
        return Err(Error::argument(function, "dtype", format!("must be float32 or float64, got {dtype}")));
    }
    Ok(())
}

/// Fails unless `value` is finite and positive.
pub(crate) fn positive(function: &str, argument: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::argument(function, argument, format!("must be a finite number > 0, got {value}")))
    }
}

/// Fails unless every value is finite.
pub(crate) fn finite(function: &str, args: &[(&str, f64)]) -> Result<()> {
    for (name, v) in args {
        if !v.is_finite() {
            return Err(Error::argument(function, name, format!("must be finite, got {v}")));
        }
    }
    Ok(())
}

/// Builds scalar arithmetic in one dtype, as TF's Python operators do on a schedule's tensors:
/// a Python number meeting a tensor becomes a constant of the tensor's dtype.
pub(crate) struct Scalars<'g> {
    pub(crate) g: &'g mut Graph,
    pub(crate) dtype: DType,
}

impl Scalars<'_> {
    /// A constant (a Python number converted to the schedule's dtype).
    pub(crate) fn c(&mut self, v: f64) -> Result<Output> {
        self.g.scalar(self.dtype, v)
    }
    /// The step cast to the schedule's dtype.
    pub(crate) fn step(&mut self, global_step: Output) -> Result<Output> {
        self.g.cast(global_step, self.dtype)
    }
    pub(crate) fn add(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.add(a, b)
    }
    pub(crate) fn sub(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.sub(a, b)
    }
    pub(crate) fn mul(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.mul(a, b)
    }
    pub(crate) fn div(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.div(a, b)
    }
    pub(crate) fn min(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.minimum(a, b)
    }
    pub(crate) fn max(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.maximum(a, b)
    }
    pub(crate) fn pow(&mut self, a: Output, b: Output) -> Result<Output> {
        self.g.pow(a, b)
    }
    pub(crate) fn floor(&mut self, a: Output) -> Result<Output> {
        self.g.floor(a)
    }
    pub(crate) fn cos(&mut self, a: Output) -> Result<Output> {
        self.g.cos(a)
    }
    /// `c · a` for a number `c`.
    pub(crate) fn scale(&mut self, c: f64, a: Output) -> Result<Output> {
        let k = self.c(c)?;
        self.g.mul(k, a)
    }
    /// `c + a` for a number `c`.
    pub(crate) fn shift(&mut self, c: f64, a: Output) -> Result<Output> {
        let k = self.c(c)?;
        self.g.add(k, a)
    }
    /// `cond ? a : b`.
    pub(crate) fn select(&mut self, cond: Output, a: Output, b: Output) -> Result<Output> {
        self.g.select(cond, a, b)
    }
}
