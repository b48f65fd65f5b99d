//! The training config file (`"format": "stepflow.train"`): which graph, what to run, which data.
//!
//! ```json
//! {
//!   "format": "stepflow.train",
//!   "version": 1,
//!   "graph": "mlp.json",
//!   "train": "train",
//!   "loss": "loss",
//!   "learning_rate": "learning_rate",
//!   "metrics": ["accuracy"],
//!   "log": ["global_step"],
//!   "data": {
//!     "csv": "../data/digits.csv",
//!     "inputs": {
//!       "x": {"columns": "pixel_0:pixel_63", "scale": 0.0625},
//!       "labels": {"column": "label", "encoding": "integer"}
//!     },
//!     "validation_fraction": 0.2,
//!     "seed": 0
//!   },
//!   "batch_size": 32,
//!   "epochs": 20,
//!   "shuffle": true
//! }
//! ```
//!
//! - `graph`: a graph file (relative to the config) or the graph itself, inline.
//! - `train`: the node run at every step (the train op of `minimize`).
//! - `loss`: the scalar loss tensor; logged at every step and evaluated on the validation part.
//! - `learning_rate`: the scalar learning-rate tensor (a schedule's output or a placeholder);
//!   logged at every step, and the tensor that `lr-find` and `--learning-rate` feed.
//! - `training`: optionally, a bool scalar fed `true` at every training step and left at its
//!   default for evaluation (the training flag of batch normalization and dropout).
//! - `metrics`: more scalar tensors evaluated on the validation part each epoch (batch means).
//! - `log`: more scalar tensors recorded at every step.
//! - `data`: see [`DataSpec`]; its `seed` also seeds the shuffle of each epoch.
//! - `batch_size`, and `epochs` or `steps` (one of them): how long to train. The last batch of an
//!   epoch may be smaller.
//! - `plateau`: optionally, reduce the learning rate when a validation value stops improving; see
//!   [`PlateauSpec`].

use crate::data::DataSpec;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::io::{GraphDef, read_text};
use crate::train::plateau::{PlateauConfig, split_rule};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The `format` of a training config.
pub const FORMAT: &str = "stepflow.train";

/// A training config, as written in its file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub format: String,
    pub version: u32,
    /// A graph file's path (relative to the config) or an inline graph.
    pub graph: Value,
    /// The node to run at every step.
    pub train: String,
    /// The loss tensor.
    pub loss: String,
    /// The learning-rate tensor.
    #[serde(default)]
    pub learning_rate: Option<String>,
    /// A bool scalar fed `true` at every training step (the `training` flag of batch
    /// normalization and dropout, a `PlaceholderWithDefault(false)`); evaluation leaves it at
    /// its default.
    #[serde(default)]
    pub training: Option<String>,
    /// Tensors evaluated on the validation part each epoch, besides the loss.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// Tensors recorded at every step, besides the loss and learning rate.
    #[serde(default)]
    pub log: Vec<String>,
    /// The data set.
    pub data: DataSpec,
    /// Rows per training step.
    pub batch_size: usize,
    /// Passes over the training part (give this or `steps`).
    #[serde(default)]
    pub epochs: Option<u64>,
    /// Training steps (give this or `epochs`).
    #[serde(default)]
    pub steps: Option<u64>,
    /// Whether each epoch visits the training rows in a new seeded order.
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Rows per evaluation run on the validation part.
    #[serde(default = "eval_batch")]
    pub eval_batch_size: usize,
    /// Reduce the learning rate on a plateau of a validation value.
    #[serde(default)]
    pub plateau: Option<PlateauSpec>,
}

fn yes() -> bool {
    true
}
fn eval_batch() -> usize {
    1024
}
fn loss_name() -> String {
    "loss".into()
}

/// Reducing the learning rate on a plateau, checked after each epoch's validation, in one of the
/// two forms the source document shows:
/// - the rule in the training loop feeding a placeholder: `{"monitor": "loss", "feed":
///   "learning_rate", "initial_learning_rate": 0.1, "patience": 2, "factor": 0.5}` (the rule's
///   settings are [`PlateauConfig`]'s, Keras's defaults);
/// - the rule in the graph (a `reduce_lr_on_plateau` node): `{"monitor": "loss", "reducer":
///   "plateau", "metric": "val_loss"}` feeds the validation value to the reducer's metric input and
///   runs `plateau/update`; its state lives in variables, so checkpoints keep it.
#[derive(Clone, Debug, Serialize)]
pub struct PlateauSpec {
    /// The validation value watched: `loss` or one of `metrics`.
    #[serde(default = "loss_name")]
    pub monitor: String,
    /// In the loop: the placeholder the rate is fed to.
    #[serde(default)]
    pub feed: Option<String>,
    /// In the loop: the starting rate.
    #[serde(default)]
    pub initial_learning_rate: Option<f64>,
    /// In the graph: the `reduce_lr_on_plateau` node.
    #[serde(default)]
    pub reducer: Option<String>,
    /// In the graph: the placeholder the reducer reads the validation value from.
    #[serde(default)]
    pub metric: Option<String>,
    /// In the loop: the rule's settings.
    #[serde(flatten)]
    pub rule: PlateauConfig,
}

/// [`PlateauSpec`]'s own fields; the rest of the object is the rule's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFields {
    #[serde(default = "loss_name")]
    monitor: String,
    #[serde(default)]
    feed: Option<String>,
    #[serde(default)]
    initial_learning_rate: Option<f64>,
    #[serde(default)]
    reducer: Option<String>,
    #[serde(default)]
    metric: Option<String>,
}

impl<'de> Deserialize<'de> for PlateauSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let own = ["monitor", "feed", "initial_learning_rate", "reducer", "metric"];
        let (f, rule) = split_rule::<SpecFields, D>(d, &own)?;
        Ok(PlateauSpec {
            monitor: f.monitor,
            feed: f.feed,
            initial_learning_rate: f.initial_learning_rate,
            reducer: f.reducer,
            metric: f.metric,
            rule,
        })
    }
}

impl TrainConfig {
    /// Parses a config's text; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<TrainConfig> {
        let c: TrainConfig = serde_json::from_str(text).map_err(|e| Error::format(file, e.to_string()))?;
        c.check(file)?;
        Ok(c)
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<TrainConfig> {
        TrainConfig::from_json(&read_text(path)?, &path.display().to_string())
    }

    fn check(&self, file: &str) -> Result<()> {
        let bad = |msg: String| Err(Error::format(file, msg));
        if self.format != FORMAT {
            return bad(format!("format is '{}', expected '{FORMAT}'", self.format));
        }
        if self.version != 1 {
            return bad(format!("unsupported version {} (this build reads version 1)", self.version));
        }
        if self.batch_size == 0 || self.eval_batch_size == 0 {
            return bad("batch_size and eval_batch_size must be at least 1".into());
        }
        match (self.epochs, self.steps) {
            (Some(0), _) | (_, Some(0)) => return bad("epochs and steps must be at least 1".into()),
            (Some(_), Some(_)) => return bad("give 'epochs' or 'steps', not both".into()),
            (None, None) => return bad("give 'epochs' or 'steps'".into()),
            _ => {}
        }
        if let Some(p) = &self.plateau {
            p.rule.validate()?;
            let in_loop = p.feed.is_some() || p.initial_learning_rate.is_some();
            let in_graph = p.reducer.is_some() || p.metric.is_some();
            match (in_loop, in_graph) {
                (true, true) => {
                    return bad(
                        "plateau: give 'feed' and 'initial_learning_rate', or 'reducer' and 'metric', not both".into(),
                    );
                }
                (false, false) => {
                    return bad("plateau: give 'feed' and 'initial_learning_rate', or 'reducer' and 'metric'".into());
                }
                (true, false) if p.feed.is_none() || p.initial_learning_rate.is_none() => {
                    return bad("plateau: 'feed' and 'initial_learning_rate' go together".into());
                }
                (false, true) if p.reducer.is_none() || p.metric.is_none() => {
                    return bad("plateau: 'reducer' and 'metric' go together".into());
                }
                _ => {}
            }
            if p.monitor != "loss" && !self.metrics.contains(&p.monitor) {
                return bad(format!("plateau: monitor '{}' is neither 'loss' nor one of metrics", p.monitor));
            }
        }
        Ok(())
    }

    /// Builds the config's graph; a graph path is relative to `base` (the config's directory).
    pub fn graph(&self, base: &Path, file: &str) -> Result<Graph> {
        match &self.graph {
            Value::String(p) => Graph::load(resolve(base, p)),
            Value::Object(_) => {
                let def: GraphDef = serde_json::from_value(self.graph.clone())
                    .map_err(|e| Error::format(file, format!("graph: {e}")))?;
                def.to_graph(&format!("{file}: graph"))
            }
            _ => Err(Error::format(file, "graph must be a file name or a graph object")),
        }
    }
}

/// `path` relative to `base` unless absolute.
pub fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// The directory a config file's relative paths start from.
pub fn base_dir(config: &Path) -> PathBuf {
    config.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Loads a graph from a graph file (stepflow's own, or any form TensorFlow writes, see
/// [`Graph::load`]) or from a training config's graph, whichever `path` is.
///
/// ```
/// let g = stepflow::fit::load_graph("graphs/digits_mlp.json".as_ref())?;
/// assert!(g.node_id("train").is_ok());
/// # Ok::<(), stepflow::Error>(())
/// ```
pub fn load_graph(path: &Path) -> Result<Graph> {
    let bytes = crate::io::read_bytes(path)?;
    let file = path.display().to_string();
    let is_config = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .is_some_and(|v| v.get("format").and_then(Value::as_str) == Some(FORMAT));
    if is_config {
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::format(&file, e.to_string()))?;
        TrainConfig::from_json(text, &file)?.graph(&base_dir(path), &file)
    } else {
        Graph::load(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> String {
        format!(
            r#"{{"format": "stepflow.train", "version": 1, "graph": "g.json", "train": "train", "loss": "loss",
            "data": {{"csv": "d.csv", "inputs": {{}}}}, "batch_size": 4 {extra}}}"#
        )
    }

    #[test]
    fn checks_name_the_field() {
        let cases = [
            (config(""), "give 'epochs' or 'steps'"),
            (config(r#", "epochs": 1, "steps": 2"#), "not both"),
            (config(r#", "epochs": 0"#), "at least 1"),
            (config(r#", "epochs": 1, "bogus": 1"#), "unknown field `bogus`"),
            (config(r#", "epochs": 1, "plateau": {"feed": "lr"}"#), "go together"),
            (
                config(r#", "epochs": 1, "plateau": {"feed": "lr", "initial_learning_rate": 0.1, "patiense": 2}"#),
                "patiense",
            ),
            (
                config(r#", "epochs": 1, "plateau": {"feed": "lr", "initial_learning_rate": 0.1, "factor": 2}"#),
                "factor",
            ),
            (config(r#", "epochs": 1, "plateau": {"monitor": "acc", "reducer": "p", "metric": "m"}"#), "monitor 'acc'"),
        ];
        for (text, expected) in cases {
            let e = TrainConfig::from_json(&text, "c.json").unwrap_err().to_string();
            assert!(e.contains(expected), "{e} should contain {expected}");
        }
        let ok = TrainConfig::from_json(
            &config(r#", "steps": 3, "plateau": {"reducer": "p", "metric": "m", "patience": 3}"#),
            "c",
        );
        assert_eq!(ok.unwrap().plateau.unwrap().rule.patience, 3);
    }
}
