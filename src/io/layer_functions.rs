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
use crate::layers::{
    Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Padding, PoolKind, Pooling2D, Training,
};
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

/// A window size or stride: one number for both axes, or `[height, width]`.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Pair {
    Both(usize),
    Each([usize; 2]),
}

impl Pair {
    fn get(self) -> [usize; 2] {
        match self {
            Pair::Both(n) => [n, n],
            Pair::Each(p) => p,
        }
    }
}

fn one_one() -> Pair {
    Pair::Both(1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvAttrs {
    filters: usize,
    kernel_size: Pair,
    #[serde(default = "one_one")]
    strides: Pair,
    #[serde(default)]
    padding: Padding,
    #[serde(default = "one_one")]
    dilation_rate: Pair,
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

/// `conv2d`: input `[x]` (NHWC).
pub(super) fn conv2d(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity_range(name, "conv2d", inputs, 1, 1)?;
    let a: ConvAttrs = parse(name, "conv2d", attrs)?;
    let layer = Conv2D {
        filters: a.filters,
        kernel_size: a.kernel_size.get(),
        strides: a.strides.get(),
        padding: a.padding,
        dilation_rate: a.dilation_rate.get(),
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
struct PoolAttrs {
    pool_size: Pair,
    strides: Pair,
    #[serde(default)]
    padding: Padding,
}

/// `max_pooling2d` and `average_pooling2d`: input `[x]` (NHWC).
pub(super) fn pooling(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value, kind: PoolKind) -> Result<Output> {
    let function = if kind == PoolKind::Max { "max_pooling2d" } else { "average_pooling2d" };
    arity_range(name, function, inputs, 1, 1)?;
    let a: PoolAttrs = parse(name, function, attrs)?;
    let layer =
        Pooling2D { kind, pool_size: a.pool_size.get(), strides: a.strides.get(), padding: a.padding, name: None };
    g.named(name, |g| layer.build(g, inputs[0]))
}

fn momentum() -> f64 {
    0.99
}

fn epsilon() -> f64 {
    1e-3
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchNormAttrs {
    #[serde(default = "momentum")]
    momentum: f64,
    #[serde(default = "epsilon")]
    epsilon: f64,
    #[serde(default = "yes")]
    center: bool,
    #[serde(default = "yes")]
    scale: bool,
    #[serde(default)]
    training: bool,
    #[serde(default = "yes")]
    trainable: bool,
}

/// `batch_normalization`: inputs `[x]` or `[x, training]`; its moving-average updates join
/// `UPDATE_OPS` (run them with `minimize`'s `"update_ops": true`).
pub(super) fn batch_normalization(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity_range(name, "batch_normalization", inputs, 1, 2)?;
    let a: BatchNormAttrs = parse(name, "batch_normalization", attrs)?;
    let layer = BatchNormalization {
        momentum: a.momentum,
        epsilon: a.epsilon,
        center: a.center,
        scale: a.scale,
        training: training(inputs, a.training),
        trainable: a.trainable,
        name: None,
    };
    g.named(name, |g| layer.build(g, inputs[0]))
}
