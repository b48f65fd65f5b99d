//! Learning-rate schedules as graph ops whose input is `global_step`, built exactly as TF1's
//! `tf.train.*_decay` functions build them: the step and every hyper-parameter are cast to the
//! learning rate's dtype (float32 unless asked), the division is a float division and
//! `staircase` floors the float quotient. Their value is an ordinary tensor that an optimizer, a
//! fetch or a plot can use.
//!
//! Each schedule is a parameter struct (serde, for graph files and the golden runner)
//! implementing [`Schedule`], plus a TF-style function where TF has one.

mod exponential;

pub use exponential::{ExponentialDecay, exponential_decay};

use crate::error::Result;
use crate::graph::{Graph, Output};
use crate::tensor::DType;

/// A learning-rate schedule: something that builds its value from `global_step`.
pub trait Schedule {
    /// The TF function name (`exponential_decay`), used in graph files and goldens.
    fn name(&self) -> &'static str;

    /// Builds the schedule's value as graph nodes reading `global_step` (any integer dtype).
    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output>;
}

/// The dtype a schedule computes in unless told otherwise: TF's dtype of a Python float.
pub(crate) fn float32() -> DType {
    DType::Float32
}

/// Validates the common pieces: an integer step, a float dtype.
pub(crate) fn check_step(g: &Graph, function: &str, global_step: Output, dtype: DType) -> Result<()> {
    let spec = g.spec(global_step);
    if !spec.dtype.is_int() {
        return Err(crate::Error::argument(
            function,
            "global_step",
            format!("must be an integer tensor, got {}", spec.dtype),
        ));
    }
    if spec.shape.rank().is_some_and(|r| r != 0) {
        return Err(crate::Error::argument(
            function,
            "global_step",
            format!("must be a scalar, got shape {}", spec.shape),
        ));
    }
    if !dtype.is_float() {
        return Err(crate::Error::argument(function, "dtype", format!("must be float32 or float64, got {dtype}")));
    }
    Ok(())
}

/// Fails unless `value` is finite and positive (arguments TF would turn into NaN or infinity).
pub(crate) fn positive(function: &str, argument: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(crate::Error::argument(function, argument, format!("must be a finite number > 0, got {value}")))
    }
}
