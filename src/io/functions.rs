//! Graph functions: the `op` names of graph files that are TF Python functions rather than op
//! types (`Variable`, `exponential_decay`, `reduce_mean`, ...). Each expands into primitive nodes
//! through the builder; the last one takes the node's name, the others sit under it as a scope
//! (`learning_rate/Cast`), as TF names the pieces of a composite. A saved graph holds the
//! primitives, so it needs no functions to load.

use super::graph_def::NodeDef;
use super::layer_functions;
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::tensor::DType;
use crate::train::plateau::ReduceLrOnPlateau;
use crate::train::schedules::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

type Function = fn(&mut Graph, &str, &[Output], Value) -> Result<Output>;

/// Every graph function, by name.
pub const FUNCTIONS: &[(&str, Function)] = &[
    ("Variable", variable),
    ("global_step", global_step),
    ("reduce_sum", |g, n, i, a| reduce(g, n, i, a, Graph::reduce_sum)),
    ("reduce_mean", |g, n, i, a| reduce(g, n, i, a, Graph::reduce_mean)),
    ("reduce_max", |g, n, i, a| reduce(g, n, i, a, Graph::reduce_max)),
    ("reduce_min", |g, n, i, a| reduce(g, n, i, a, Graph::reduce_min)),
    ("sigmoid_cross_entropy_with_logits", sigmoid_xent),
    ("reduce_lr_on_plateau", plateau),
    ("minimize", minimize),
    ("dense", layer_functions::dense),
    ("flatten", layer_functions::flatten),
    ("dropout", layer_functions::dropout),
    ("conv2d", layer_functions::conv2d),
    ("max_pooling2d", |g, n, i, a| layer_functions::pooling(g, n, i, a, crate::layers::PoolKind::Max)),
    ("average_pooling2d", |g, n, i, a| layer_functions::pooling(g, n, i, a, crate::layers::PoolKind::Average)),
    ("batch_normalization", layer_functions::batch_normalization),
];

/// Expands the graph function `def.op` (one of [`FUNCTIONS`] or a schedule of [`SCHEDULES`])
/// into the graph.
pub(crate) fn build(g: &mut Graph, def: &NodeDef, inputs: &[Output], controls: &[NodeId], attrs: Value) -> Result<()> {
    let (f, attrs): (Function, Value) = match FUNCTIONS.iter().find(|(n, _)| *n == def.op) {
        Some(&(_, f)) => (f, attrs),
        None if SCHEDULES.contains(&def.op.as_str()) => (schedule, tagged(attrs, &def.op)),
        None => return Err(Error::UnknownOp { node: def.name.clone(), op: def.op.clone() }),
    };
    g.with_control_dependencies(controls, |g| f(g, &def.name, inputs, attrs)).map(|_| ())
}

pub(super) fn parse<T: DeserializeOwned>(name: &str, function: &str, attrs: Value) -> Result<T> {
    serde_json::from_value(attrs).map_err(|e| Error::Node {
        node: name.into(),
        op: function.into(),
        source: crate::invalid!("attrs: {e}"),
    })
}

fn arity(name: &str, function: &str, inputs: &[Output], n: usize) -> Result<()> {
    arity_range(name, function, inputs, n, n)
}

/// Fails unless the function has between `min` and `max` inputs.
pub(super) fn arity_range(name: &str, function: &str, inputs: &[Output], min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&inputs.len()) {
        return Ok(());
    }
    let expected = if min == max { min.to_string() } else { format!("{min} to {max}") };
    let e = crate::error::OpError::Arity { expected, got: inputs.len() };
    Err(Error::Node { node: name.into(), op: function.into(), source: e })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableAttrs {
    #[serde(default = "f32_dtype")]
    dtype: DType,
    shape: Vec<usize>,
    #[serde(default = "zeros")]
    initializer: Initializer,
    #[serde(default = "yes")]
    trainable: bool,
}

fn f32_dtype() -> DType {
    DType::Float32
}
fn zeros() -> Initializer {
    Initializer::Zeros
}
fn yes() -> bool {
    true
}

/// `Variable`: `tf.Variable` — a VariableV2 node with its initializer subgraph and `Assign`.
fn variable(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity(name, "Variable", inputs, 0)?;
    let a: VariableAttrs = parse(name, "Variable", attrs)?;
    g.variable_with(NodeName::Exact(name), a.dtype, &a.shape, a.initializer, a.trainable)
}

/// `global_step`: an int64 scalar variable initialized to 0, not trainable.
fn global_step(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity(name, "global_step", inputs, 0)?;
    parse::<Empty>(name, "global_step", attrs)?;
    g.variable_with(NodeName::Exact(name), DType::Int64, &[], Initializer::Zeros, false)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReduceAttrs {
    #[serde(default)]
    axis: Option<Vec<i64>>,
    #[serde(default)]
    keep_dims: bool,
}

type Reducer = fn(&mut Graph, Output, Option<&[i64]>, bool) -> Result<Output>;

/// `reduce_*`: a reduction over `axis` (all axes when absent) with `keep_dims`.
fn reduce(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value, f: Reducer) -> Result<Output> {
    arity(name, "reduce", inputs, 1)?;
    let a: ReduceAttrs = parse(name, "reduce", attrs)?;
    g.named(name, |g| f(g, inputs[0], a.axis.as_deref(), a.keep_dims))
}

/// `sigmoid_cross_entropy_with_logits`: inputs `[labels, logits]`.
fn sigmoid_xent(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity(name, "sigmoid_cross_entropy_with_logits", inputs, 2)?;
    parse::<Empty>(name, "sigmoid_cross_entropy_with_logits", attrs)?;
    g.named(name, |g| g.sigmoid_cross_entropy_with_logits(inputs[0], inputs[1]))
}

/// `reduce_lr_on_plateau`: input `[metric]`; the node is the current learning rate (a variable),
/// and `NAME/update` the target that applies the rule to the metric.
fn plateau(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity(name, "reduce_lr_on_plateau", inputs, 1)?;
    let p: ReduceLrOnPlateau = parse(name, "reduce_lr_on_plateau", attrs)?;
    let ops = g.in_exact_scope(name, |g| p.build(g, inputs[0]))?;
    g.rename_node(ops.update, &format!("{name}/update"))?;
    g.rename_node(ops.learning_rate.node, name)?;
    Ok(ops.learning_rate)
}

fn default_optimizer_lr() -> Option<f64> {
    None
}

/// The attributes of `minimize`: the optimizer and its hyper-parameters (TF's defaults where
/// TF has them), and optionally the variables to train.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinimizeAttrs {
    optimizer: String,
    #[serde(default = "default_optimizer_lr")]
    learning_rate: Option<f64>,
    #[serde(default)]
    momentum: Option<f64>,
    #[serde(default)]
    use_nesterov: bool,
    #[serde(default)]
    beta1: Option<f64>,
    #[serde(default)]
    beta2: Option<f64>,
    #[serde(default)]
    epsilon: Option<f64>,
    #[serde(default)]
    initial_accumulator_value: Option<f64>,
    #[serde(default)]
    decay: Option<f64>,
    #[serde(default)]
    centered: bool,
    #[serde(default)]
    var_list: Option<Vec<String>>,
    /// Also run the graph's `UPDATE_OPS` (batch normalization's moving averages) with every
    /// step: the train op is `tf.group(minimize, *update_ops)`.
    #[serde(default)]
    update_ops: bool,
}

/// `minimize`: inputs `[loss]`, then optionally a float scalar (the learning rate, when it is a
/// tensor such as a schedule or a placeholder) and an integer scalar (the global step), in any
/// order; the node is the train op.
fn minimize(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    use crate::train::optimizers::*;
    let a: MinimizeAttrs = parse(name, "minimize", attrs)?;
    let fail = |msg: String| Error::Node { node: name.into(), op: "minimize".into(), source: crate::invalid!("{msg}") };
    let (&loss, rest) = inputs.split_first().ok_or_else(|| fail("needs the loss as its first input".into()))?;
    let mut lr_tensor = None;
    let mut step = None;
    for &t in rest {
        let d = g.spec(t).dtype;
        let slot = if d.is_float() { &mut lr_tensor } else { &mut step };
        if slot.replace(t).is_some() {
            return Err(fail("takes at most one learning-rate tensor and one global step".into()));
        }
    }
    let lr: Hyper = match (lr_tensor, a.learning_rate) {
        (Some(t), None) => t.into(),
        (None, Some(v)) => v.into(),
        (None, None) => return Err(fail("needs a learning_rate (an input tensor or a number)".into())),
        (Some(_), Some(_)) => return Err(fail("has a learning_rate input and attribute; give one".into())),
    };
    let opt: Box<dyn Optimizer> = match a.optimizer.as_str() {
        "gradient_descent" => Box::new(GradientDescentOptimizer::new(lr)),
        "momentum" => Box::new(MomentumOptimizer {
            use_nesterov: a.use_nesterov,
            ..MomentumOptimizer::new(lr, a.momentum.ok_or_else(|| fail("momentum needs 'momentum'".into()))?)
        }),
        "adam" => Box::new(AdamOptimizer::with(
            lr,
            a.beta1.unwrap_or(0.9),
            a.beta2.unwrap_or(0.999),
            a.epsilon.unwrap_or(1e-8),
        )),
        "adagrad" => Box::new(AdagradOptimizer {
            initial_accumulator_value: a.initial_accumulator_value.unwrap_or(0.1),
            ..AdagradOptimizer::new(lr)
        }),
        "rmsprop" => Box::new(RMSPropOptimizer {
            decay: Hyper::Value(a.decay.unwrap_or(0.9)),
            momentum: Hyper::Value(a.momentum.unwrap_or(0.0)),
            epsilon: Hyper::Value(a.epsilon.unwrap_or(1e-10)),
            centered: a.centered,
            ..RMSPropOptimizer::new(lr)
        }),
        other => {
            return Err(fail(format!(
                "unknown optimizer '{other}' (gradient_descent, momentum, adam, adagrad or rmsprop)"
            )));
        }
    };
    let vars = a.var_list.map(|names| names.iter().map(|n| g.output(n)).collect::<Result<Vec<_>>>()).transpose()?;
    let mut train = opt.minimize(g, loss, step, vars.as_deref())?;
    if a.update_ops {
        let mut all = vec![train];
        all.extend_from_slice(g.collection(crate::graph::UPDATE_OPS));
        train = g.group(&all, "train_with_updates")?;
    }
    g.rename_node(train, name)?;
    Ok(train.into())
}

/// A schedule: input `[global_step]`, attributes its parameters.
/// The attributes of a schedule node with its function name as the `fn` tag of [`AnySchedule`].
fn tagged(attrs: Value, function: &str) -> Value {
    match attrs {
        Value::Object(mut o) => {
            o.insert("fn".into(), Value::from(function));
            Value::Object(o)
        }
        other => other,
    }
}

/// A schedule node: its attributes, tagged with its function name, are an [`AnySchedule`].
fn schedule(g: &mut Graph, name: &str, inputs: &[Output], attrs: Value) -> Result<Output> {
    arity(name, "schedule", inputs, 1)?;
    let s: AnySchedule = parse(name, "schedule", attrs)?;
    g.named(name, |g| s.build(g, inputs[0]))
}
