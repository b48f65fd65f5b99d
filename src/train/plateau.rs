//! Reducing the learning rate when a metric stops improving, both ways the source document shows:
//! - [`PlateauController`]: a rule in the training loop whose rate is fed to a learning-rate
//!   placeholder at every `run` (the document's pattern);
//! - [`ReduceLrOnPlateau`]: the same rule in the graph, its state (best value, bad-epoch count,
//!   cooldown, current rate) in variables, advanced by running an update target with the metric
//!   as input, its rate a tensor an optimizer can take.
//!
//! Both follow Keras's `ReduceLROnPlateau` counting rule (TF's own; the reference's §3.1):
//! ```text
//! if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
//! if improved(metric, best): best = metric; wait = 0
//! elif cooldown_counter == 0:
//!     wait += 1
//!     if wait >= patience and lr > min_lr:
//!         lr = max(lr · factor, min_lr); cooldown_counter = cooldown; wait = 0
//! ```
//! So a flat metric first reduces after `patience` bad epochs, and (as in Keras) a `cooldown` of 1
//! has no effect: the period between reductions is `patience + max(cooldown − 1, 0)`. PyTorch
//! counts one more (`patience + 1`). `improved` is `metric < best − threshold` in `min` mode
//! (absolute threshold, Keras's `min_delta`), or `metric < best − |best|·threshold` with a
//! relative threshold — which, unlike PyTorch's `best·(1 − threshold)`, also works for negative
//! metrics. `max` mode mirrors it.

use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::tensor::{DType, Tensor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Whether the monitored metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    #[default]
    Min,
    Max,
}

/// How `threshold` is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// An absolute margin (Keras's `min_delta`).
    #[default]
    Abs,
    /// A fraction of `|best|`.
    Rel,
}

fn factor() -> f64 {
    0.1
}
fn patience() -> u64 {
    10
}
fn threshold() -> f64 {
    1e-4
}

/// The reduce-on-plateau rule's settings (Keras's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateauConfig {
    #[serde(default)]
    pub mode: PlateauMode,
    #[serde(default = "factor")]
    pub factor: f64,
    #[serde(default = "patience")]
    pub patience: u64,
    #[serde(default = "threshold")]
    pub threshold: f64,
    #[serde(default)]
    pub threshold_mode: ThresholdMode,
    #[serde(default)]
    pub cooldown: u64,
    #[serde(default)]
    pub min_lr: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: factor(),
            patience: patience(),
            threshold: threshold(),
            threshold_mode: ThresholdMode::Abs,
            cooldown: 0,
            min_lr: 0.0,
        }
    }
}

impl PlateauConfig {
    /// Checks the settings (Keras rejects `factor >= 1`; the rest would make the rule meaningless).
    pub fn validate(&self) -> Result<()> {
        let f = "reduce_lr_on_plateau";
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(Error::argument(f, "factor", format!("must be in (0, 1), got {}", self.factor)));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(Error::argument(
                f,
                "threshold",
                format!("must be a finite number >= 0, got {}", self.threshold),
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return Err(Error::argument(f, "min_lr", format!("must be a finite number >= 0, got {}", self.min_lr)));
        }
        Ok(())
    }

    fn improved(&self, metric: f64, best: f64) -> bool {
        // Clamped so that the initial infinite best gives `inf − finite`, not `inf − inf = NaN`.
        let margin = match self.threshold_mode {
            ThresholdMode::Abs => self.threshold,
            ThresholdMode::Rel => (best.abs() * self.threshold).min(f64::MAX),
        };
        match self.mode {
            PlateauMode::Min => metric < best - margin,
            PlateauMode::Max => metric > best + margin,
        }
    }

    fn initial_best(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }
}

/// The outcome of one [`PlateauController::step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauStep {
    /// The learning rate to use from now on.
    pub learning_rate: f64,
    /// Whether this step reduced it.
    pub reduced: bool,
}

/// A [`PlateauController`]'s state: the rate and counters (`best` is `None` before the first
/// finite metric).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    pub learning_rate: f64,
    pub best: Option<f64>,
    pub wait: u64,
    pub cooldown_counter: u64,
}

/// Reduce-on-plateau in the training loop: call [`step`](PlateauController::step) with the
/// monitored metric at the end of each epoch and feed
/// [`learning_rate`](PlateauController::learning_rate) to the learning-rate placeholder.
///
/// ```
/// use stepflow::train::plateau::{PlateauConfig, PlateauController};
/// let mut c = PlateauController::new(1.0, PlateauConfig { patience: 2, ..Default::default() })?;
/// let rates: Vec<f64> = (0..5).map(|_| c.step(0.5).learning_rate).collect();
/// assert_eq!(rates, vec![1.0, 1.0, 0.1, 0.1, 0.010000000000000002]);
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PlateauController {
    config: PlateauConfig,
    best: f64,
    wait: u64,
    cooldown_counter: u64,
    lr: f64,
}

impl PlateauController {
    /// A controller starting at `learning_rate`.
    pub fn new(learning_rate: f64, config: PlateauConfig) -> Result<Self> {
        config.validate()?;
        let best = config.initial_best();
        Ok(PlateauController { config, best, wait: 0, cooldown_counter: 0, lr: learning_rate })
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// The best metric so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The rule's counters and rate, to save beside a checkpoint.
    pub fn state(&self) -> PlateauState {
        let best = self.best.is_finite().then_some(self.best);
        PlateauState { learning_rate: self.lr, best, wait: self.wait, cooldown_counter: self.cooldown_counter }
    }

    /// Continues from a saved [`state`](Self::state).
    ///
    /// ```
    /// use stepflow::train::plateau::{PlateauConfig, PlateauController};
    /// let config = PlateauConfig { patience: 2, ..Default::default() };
    /// let mut a = PlateauController::new(1.0, config.clone())?;
    /// a.step(0.5);
    /// a.step(0.6);
    /// let mut b = PlateauController::with_state(config, a.state())?;
    /// assert_eq!(a.step(0.7), b.step(0.7));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn with_state(config: PlateauConfig, state: PlateauState) -> Result<Self> {
        let mut c = PlateauController::new(state.learning_rate, config)?;
        c.best = state.best.unwrap_or(c.best);
        c.wait = state.wait;
        c.cooldown_counter = state.cooldown_counter;
        Ok(c)
    }

    /// Applies the rule to one epoch's metric. A NaN metric counts as no improvement.
    pub fn step(&mut self, metric: f64) -> PlateauStep {
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        let mut reduced = false;
        if self.config.improved(metric, self.best) {
            self.best = metric;
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.config.patience && self.lr > self.config.min_lr {
                self.lr = (self.lr * self.config.factor).max(self.config.min_lr);
                self.cooldown_counter = self.config.cooldown;
                self.wait = 0;
                reduced = true;
            }
        }
        PlateauStep { learning_rate: self.lr, reduced }
    }
}

/// Reduce-on-plateau in the graph: the starting learning rate, its dtype, and the rule's
/// settings. Graph files write them flat: `{"learning_rate": 0.1, "patience": 2, "factor": 0.5}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReduceLrOnPlateau {
    pub learning_rate: f64,
    pub dtype: DType,
    #[serde(flatten)]
    pub rule: PlateauConfig,
}

impl ReduceLrOnPlateau {
    /// A reducer starting at `learning_rate` with these settings, in float32.
    pub fn new(learning_rate: f64, rule: PlateauConfig) -> Self {
        ReduceLrOnPlateau { learning_rate, dtype: DType::Float32, rule }
    }
}

/// [`ReduceLrOnPlateau`]'s own fields; the rest of its object is the rule's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReducerFields {
    learning_rate: f64,
    #[serde(default = "float32")]
    dtype: DType,
}

impl<'de> Deserialize<'de> for ReduceLrOnPlateau {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (own, rule) = split_rule::<ReducerFields, D>(d, &["learning_rate", "dtype"])?;
        Ok(ReduceLrOnPlateau { learning_rate: own.learning_rate, dtype: own.dtype, rule })
    }
}

/// Reads an object that holds a [`PlateauConfig`]'s fields flat beside fields of its own (the
/// keys `own`, read as `T`). Unlike serde's `flatten`, a misspelled field is an error.
pub(crate) fn split_rule<'de, T: DeserializeOwned, D: serde::Deserializer<'de>>(
    d: D,
    own: &[&str],
) -> std::result::Result<(T, PlateauConfig), D::Error> {
    use serde::de::Error as _;
    let mut rule = serde_json::Map::deserialize(d)?;
    let mine: serde_json::Map<String, serde_json::Value> =
        own.iter().filter_map(|k| rule.remove(*k).map(|v| (k.to_string(), v))).collect();
    let mine = serde_json::from_value(mine.into()).map_err(D::Error::custom)?;
    let rule = serde_json::from_value(rule.into()).map_err(D::Error::custom)?;
    Ok((mine, rule))
}

fn float32() -> DType {
    DType::Float32
}

/// The nodes of an in-graph plateau reducer.
#[derive(Clone, Copy, Debug)]
pub struct PlateauOps {
    /// The current learning rate (a variable's value): give it to an optimizer or fetch it.
    pub learning_rate: Output,
    /// The target that applies the rule to the metric input.
    pub update: NodeId,
    /// Whether the update run reduced the rate (fetch it with `update`).
    pub reduced: Output,
}

/// The reducer's state variables.
struct State {
    best: Output,
    wait: Output,
    cooldown: Output,
    lr: Output,
}

impl ReduceLrOnPlateau {
    /// Builds the state variables under the current scope and the update target reading `metric`
    /// (a scalar of any float dtype).
    ///
    /// ```
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// use stepflow::train::plateau::{PlateauConfig, ReduceLrOnPlateau};
    /// let mut g = Graph::new();
    /// let val_loss = g.placeholder(DType::Float32, Shape::scalar())?;
    /// let p = ReduceLrOnPlateau::new(1.0, PlateauConfig { patience: 1, ..Default::default() });
    /// let ops = p.build(&mut g, val_loss)?;
    /// let s = Session::new(g);
    /// s.initialize()?;
    /// for _ in 0..2 {
    ///     s.run(&[(val_loss, Tensor::scalar(0.5f32))], &[], &[ops.update])?;
    /// }
    /// assert_eq!(s.run(&[], &[ops.learning_rate], &[])?[0].to_f64_vec(), vec![0.1f32 as f64]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn build(&self, g: &mut Graph, metric: Output) -> Result<PlateauOps> {
        self.rule.validate()?;
        let f = "reduce_lr_on_plateau";
        if !self.dtype.is_float() {
            return Err(Error::argument(f, "dtype", format!("must be float32 or float64, got {}", self.dtype)));
        }
        let m = g.try_spec(metric)?.clone();
        if !m.dtype.is_float() || m.shape.rank().is_some_and(|r| r != 0) {
            return Err(Error::argument(f, "metric", format!("must be a float scalar, got {} {}", m.dtype, m.shape)));
        }
        g.with_name_scope("ReduceLROnPlateau", |g| {
            let st = self.state(g)?;
            let metric = g.cast(metric, self.dtype)?;
            self.update(g, &st, metric)
        })
    }

    fn state(&self, g: &mut Graph) -> Result<State> {
        let d = self.dtype;
        let var = |g: &mut Graph, name: &str, dtype: DType, v: f64| {
            g.variable_with(
                NodeName::Default(name),
                dtype,
                &[],
                Initializer::Value(Tensor::filled(dtype, &[], v)),
                false,
            )
        };
        Ok(State {
            best: var(g, "best", d, self.rule.initial_best())?,
            wait: var(g, "wait", DType::Int64, 0.0)?,
            cooldown: var(g, "cooldown_counter", DType::Int64, 0.0)?,
            lr: var(g, "learning_rate", d, self.learning_rate)?,
        })
    }

    /// The rule as graph ops; every state variable is assigned in one target.
    fn update(&self, g: &mut Graph, st: &State, metric: Output) -> Result<PlateauOps> {
        let c = &self.rule;
        let (zero_i, one_i) = (g.constant(0i64)?, g.constant(1i64)?);
        let cooling = g.greater(st.cooldown, zero_i)?;
        let cd_minus = g.sub(st.cooldown, one_i)?;
        let cd = g.select(cooling, cd_minus, st.cooldown)?;
        let wait = g.select(cooling, zero_i, st.wait)?;
        let improved = self.improved(g, metric, st.best)?;
        let best = g.select(improved, metric, st.best)?;
        let idle = g.equal(cd, zero_i)?;
        let not_improved = g.logical_not(improved)?;
        let bad = g.logical_and(not_improved, idle)?;
        let wait_plus = g.add(wait, one_i)?;
        let wait_bad = g.select(bad, wait_plus, wait)?;
        let wait = g.select(improved, zero_i, wait_bad)?;
        let patience = g.constant(c.patience as i64)?;
        let waited = g.greater_equal(wait, patience)?;
        let min_lr = g.scalar(self.dtype, c.min_lr)?;
        let above = g.greater(st.lr, min_lr)?;
        let trigger = g.logical_and(bad, waited)?;
        let reduce = g.logical_and(trigger, above)?;
        let factor = g.scalar(self.dtype, c.factor)?;
        let lower = g.mul(st.lr, factor)?;
        let lower = g.maximum(lower, min_lr)?;
        let lr = g.select(reduce, lower, st.lr)?;
        let cooldown = g.constant(c.cooldown as i64)?;
        let cd = g.select(reduce, cooldown, cd)?;
        let wait = g.select(reduce, zero_i, wait)?;
        let assigns =
            [g.assign(st.best, best)?, g.assign(st.wait, wait)?, g.assign(st.cooldown, cd)?, g.assign(st.lr, lr)?];
        let update = g.group(&assigns.map(|a| a.node), "update")?;
        Ok(PlateauOps { learning_rate: st.lr, update, reduced: reduce })
    }

    fn improved(&self, g: &mut Graph, metric: Output, best: Output) -> Result<Output> {
        let c = &self.rule;
        let t = g.scalar(self.dtype, c.threshold)?;
        let margin = match c.threshold_mode {
            ThresholdMode::Abs => t,
            ThresholdMode::Rel => {
                // Clamped to the largest finite value: the initial best is infinite.
                let a = g.abs(best)?;
                let m = g.mul(a, t)?;
                let most =
                    g.scalar(self.dtype, if self.dtype == DType::Float32 { f32::MAX as f64 } else { f64::MAX })?;
                g.minimum(m, most)?
            }
        };
        match c.mode {
            PlateauMode::Min => {
                let bar = g.sub(best, margin)?;
                g.less(metric, bar)
            }
            PlateauMode::Max => {
                let bar = g.add(best, margin)?;
                g.greater(metric, bar)
            }
        }
    }
}
