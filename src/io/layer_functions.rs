//! The graph functions of [`crate::layers`]: `tf.layers` in graph files. The node's name is the
//! layer's scope (`{"name": "hidden", "op": "dense"}` makes `hidden/kernel`, `hidden/bias`),
//! and the layer's output takes the node's name. A layer with a training behaviour takes the
//! flag as an optional second input (a bool scalar such as a `PlaceholderWithDefault`), or a
//! fixed `training` attribute.
//!
//! ```json
//! {"name": "hidden", "op": "dense", "inputs": ["pixels"], "attrs": {"units": 128, "activation": "relu"}}
//! {"name": "drop", "op": "dropout", "inputs": ["hidden", "training"], "attrs": {"rate": 0.3, "seed": 1}}
//! ```

use super::functions::{arity_range, parse};
use crate::error::Result;
use crate::graph::{Graph, Initializer, Output};
use crate::layers::{Activation, Dense, Dropout, Flatten, Training};
use serde::Deserialize;
use serde_json::Value;

fn yes() -> bool {
    true
}

fn zeros() -> Initializer {
    Initializer::Zeros
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenseAttrs {
    units: usize,
    #[serde(default)]
    activation: Activation,
    #[serde(default = "yes")]
    use_bias: bool,
    #[serde(default)]
    kernel_initializer: Option<Initializer>,
    #[serde(default = "zeros")]
    bias_initializer: Initializer,
    #[serde(default = "yes")]
    trainable: bool,
}

/// `dense`: input `[x]`.
pub(super) fn dense(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity_range(name, "dense", inputs, 1, 1)?;
    let a: DenseAttrs = parse(name, "dense", attrs)?;
    let layer = Dense {
        units: a.units,
        activation: a.activation,
        use_bias: a.use_bias,
        kernel_initializer: a.kernel_initializer,
        bias_initializer: a.bias_initializer,
        trainable: a.trainable,
        name: None,
    };
    g.named(name, |g| layer.build(g, inputs[0]))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// `flatten`: input `[x]`.
pub(super) fn flatten(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity_range(name, "flatten", inputs, 1, 1)?;
    parse::<Empty>(name, "flatten", attrs)?;
    g.named(name, |g| Flatten::default().build(g, inputs[0]))
}

/// The training mode of a layer: its second input when given, else its `training` attribute.
pub(super) fn training(inputs: &[Output], fixed: bool) -> Training {
    match inputs.get(1) {
        Some(&flag) => Training::Flag(flag),
        None if fixed => Training::Yes,
        None => Training::No,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropoutAttrs {
    rate: f64,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    training: bool,
}

/// `dropout`: inputs `[x]` or `[x, training]`.
pub(super) fn dropout(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity_range(name, "dropout", inputs, 1, 2)?;
    let a: DropoutAttrs = parse(name, "dropout", attrs)?;
    let layer = Dropout { rate: a.rate, training: training(inputs, a.training), seed: a.seed, name: None };
    g.named(name, |g| layer.build(g, inputs[0]))
}
