//! Graph functions: the `op` names of graph files that are TF Python functions rather than op
//! types (`Variable`, `exponential_decay`, `reduce_mean`, ...). Each expands into primitive nodes
//! through the builder; the last one takes the node's name, the others sit under it as a scope
//! (`learning_rate/Cast`), as TF names the pieces of a composite. A saved graph holds the
//! primitives, so it needs no functions to load.

use super::graph_def::NodeDef;
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
    ("exponential_decay", schedule::<ExponentialDecay>),
    ("step_decay", schedule::<StepDecay>),
    ("natural_exp_decay", schedule::<NaturalExpDecay>),
    ("inverse_time_decay", schedule::<InverseTimeDecay>),
    ("piecewise_constant", schedule::<PiecewiseConstant>),
    ("polynomial_decay", schedule::<PolynomialDecay>),
    ("linear_decay", schedule::<LinearDecay>),
    ("cosine_decay", schedule::<CosineDecay>),
    ("cosine_decay_restarts", schedule::<CosineDecayRestarts>),
    ("linear_cosine_decay", schedule::<LinearCosineDecay>),
    ("noisy_linear_cosine_decay", schedule::<NoisyLinearCosineDecay>),
    ("cyclical_learning_rate", schedule::<CyclicalLearningRate>),
    ("one_cycle", schedule::<OneCycle>),
    ("warmup", schedule::<Warmup>),
    ("sequential", schedule::<Sequential>),
    ("constant", schedule::<Constant>),
    ("reduce_lr_on_plateau", plateau),
];

/// Expands the graph function `def.op` into the graph.
pub(crate) fn build(g: &mut Graph, def: &NodeDef, inputs: &[Output], controls: &[NodeId], attrs: Value) -> Result<()> {
    let Some(&(_, f)) = FUNCTIONS.iter().find(|(n, _)| *n == def.op) else {
        return Err(Error::UnknownOp { node: def.name.clone(), op: def.op.clone() });
    };
    g.with_control_dependencies(controls, |g| f(g, &def.name, inputs, attrs)).map(|_| ())
}

fn parse<T: DeserializeOwned>(name: &str, function: &str, attrs: Value) -> Result<T> {
    serde_json::from_value(attrs).map_err(|e| Error::Node {
        node: name.into(),
        op: function.into(),
        source: crate::invalid!("attrs: {e}"),
    })
}

fn arity(name: &str, function: &str, inputs: &[Output], n: usize) -> Result<()> {
    if inputs.len() == n {
        return Ok(());
    }
    let e = crate::error::OpError::Arity { expected: n.to_string(), got: inputs.len() };
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

/// A schedule: input `[global_step]`, attributes its parameters.
fn schedule<S: Schedule + DeserializeOwned>(
    g: &mut Graph,
    name: &str,
    inputs: &[Output],
    attrs: Value,
) -> Result<Output> {
    arity(name, "schedule", inputs, 1)?;
    let s: S = parse(name, "schedule", attrs)?;
    g.named(name, |g| s.build(g, inputs[0]))
}
