//! `exponential_decay`: `lr0 · rate^(step / N)`, floored exponent when `staircase`.

use super::{Schedule, check_step, float32, positive};
use crate::error::Result;
use crate::graph::{Graph, Output};
use crate::tensor::DType;
use serde::{Deserialize, Serialize};

/// TF1's `tf.train.exponential_decay(learning_rate, global_step, decay_steps, decay_rate,
/// staircase)`: `learning_rate · decay_rate ^ (global_step / decay_steps)`, with
/// `floor(global_step / decay_steps)` when `staircase` — the source document's step decay
/// `ε0·α^⌊k/N⌋` and its exponential decay `ε0·α^(k/N)`.
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
    fn name(&self) -> &'static str {
        "exponential_decay"
    }

    fn build(&self, g: &mut Graph, global_step: Output) -> Result<Output> {
        let f = self.name();
        check_step(g, f, global_step, self.dtype)?;
        positive(f, "decay_steps", self.decay_steps)?;
        if !self.decay_rate.is_finite() || !self.learning_rate.is_finite() {
            return Err(crate::Error::argument(f, "decay_rate", "and learning_rate must be finite"));
        }
        let d = self.dtype;
        g.with_name_scope("ExponentialDecay", |g| {
            let lr = g.scalar(d, self.learning_rate)?;
            let step = g.cast(global_step, d)?;
            let n = g.scalar(d, self.decay_steps)?;
            let rate = g.scalar(d, self.decay_rate)?;
            let mut p = g.div(step, n)?;
            if self.staircase {
                p = g.floor(p)?;
            }
            let decay = g.pow(rate, p)?;
            g.mul(lr, decay)
        })
    }
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
