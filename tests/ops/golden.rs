//! TensorFlow's forward values (`tests/golden/ops.json`, written by
//! `tests/golden/make_op_goldens.py` with TF's raw ops in graph mode). Each case is loaded as a
//! graph file, the op named by its TF op type and attributes, with its inputs as placeholders (or
//! variables, for the ops that update one), and run under both executors. A case marked `refused`
//! holds inputs TF rejected: stepflow must reject them too.

use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use stepflow::ops::OP_TYPES;
use stepflow::{Executor, Graph, RunOptions, Session, Tensor};

/// Registered ops without a TF golden here: sources that compute nothing, random ops, whose
/// streams come from another generator than TF's, and ops checked against TF elsewhere.
const NOT_IN_GOLDENS: &[&str] = &[
    "Const",
    "Placeholder",
    "PlaceholderWithDefault",
    "VariableV2",
    "NoOp",
    // No outputs: what it does is fail a run, checked in its forward test.
    "Assert",
    "RandomStandardNormal",
    "TruncatedNormal",
    "RandomUniform",
    // Functional control flow runs a function of the graph's library, which a single raw-op case
    // cannot hold: checked against TF by the GraphDef cases of tests/tf (cosine_decay_restarts).
    "If",
    "StatelessIf",
    // Dataflow control flow: what matters is which nodes run, which a raw-op case cannot show;
    // checked against TF by the v1-control-flow GraphDef case of tests/tf (cond_*).
    "Switch",
    "Merge",
    // Resource variables: the reference ops' kernels on handles, checked equal to them in the
    // forward tests and against TF by the resource-variable GraphDef cases of tests/tf.
    "VarHandleOp",
    "AssignVariableOp",
    "AssignAddVariableOp",
    "AssignSubVariableOp",
    "VarIsInitializedOp",
    "ResourceApplyGradientDescent",
    "ResourceApplyMomentum",
    "ResourceApplyAdam",
    "ResourceApplyAdagrad",
    "ResourceApplyRMSProp",
    "ResourceApplyCenteredRMSProp",
    // Summaries: their outputs are serialized protos, checked byte for byte against TF's by
    // tests/summary_ops.rs (from tests/tensorboard/summary_ops_golden.json).
    "ScalarSummary",
    "HistogramSummary",
    "MergeSummary",
];

#[derive(Deserialize)]
struct File {
    source: String,
    cases: Vec<Case>,
}

/// One op run: its inputs in TF's order (the first `refs` of them variables) and TF's outputs,
/// or, for an update, every variable's value afterwards.
#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    attrs: Value,
    refs: usize,
    inputs: Vec<Tensor>,
    #[serde(default)]
    outputs: Vec<Tensor>,
    #[serde(default)]
    variables: Vec<Tensor>,
    /// TF refused these inputs (at graph construction or when running): stepflow must refuse too.
    #[serde(default)]
    refused: bool,
}

fn golden() -> File {
    serde_json::from_str(include_str!("../golden/ops.json")).expect("ops.json does not parse")
}

/// The case as a graph file: inputs `in0`, `in1`, ... and the op `op`; with `unknown_dims`, the
/// placeholders know only their rank, so shapes are checked when the op runs.
fn graph(case: &Case, unknown_dims: bool) -> stepflow::Result<Graph> {
    let mut nodes: Vec<Value> = case
        .inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (dtype, shape) = (json!(t.dtype()), json!(t.shape()));
            let fed = if unknown_dims { json!(vec![Value::Null; t.rank()]) } else { shape.clone() };
            match i < case.refs {
                true => json!({"name": format!("in{i}"), "op": "Variable",
                               "attrs": {"dtype": dtype, "shape": shape, "initializer": {"value": t}}}),
                false => {
                    json!({"name": format!("in{i}"), "op": "Placeholder", "attrs": {"dtype": dtype, "shape": fed}})
                }
            }
        })
        .collect();
    let inputs: Vec<String> = (0..case.inputs.len()).map(|i| format!("in{i}")).collect();
    nodes.push(json!({"name": "op", "op": case.op, "inputs": inputs, "attrs": case.attrs}));
    Graph::from_json(&json!({"format": "stepflow.graph", "version": 1, "nodes": nodes}).to_string(), &case.name)
}

/// Runs the case under `executor` in a fresh session: the op's outputs, or the variables after it.
fn run(case: &Case, g: &Arc<Graph>, executor: Executor) -> stepflow::Result<Vec<Tensor>> {
    let s = Session::from_arc(g.clone());
    s.initialize()?;
    let feeds = (case.refs..case.inputs.len())
        .map(|i| Ok((g.output(&format!("in{i}"))?, case.inputs[i].clone())))
        .collect::<stepflow::Result<Vec<_>>>()?;
    let options = RunOptions { executor, trace: false, check_outputs: true };
    if case.variables.is_empty() {
        let fetches =
            (0..case.outputs.len()).map(|k| g.output(&format!("op:{k}"))).collect::<stepflow::Result<Vec<_>>>()?;
        return s.run_with(options, &feeds, &fetches, &[]);
    }
    s.run_with(options, &feeds, &[], &[g.node_id("op")?])?;
    (0..case.refs).map(|i| s.variable_value(g.output(&format!("in{i}"))?)).collect()
}

/// Whether `got` matches TF's `want`: the same dtype and shape, integers and booleans exactly,
/// floats within 1e-5 relative (NaN and infinities as themselves).
fn matches(got: &Tensor, want: &Tensor) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!("got {:?} {:?}, TF has {:?} {:?}", got.dtype(), got.shape(), want.dtype(), want.shape()));
    }
    if want.dtype().is_int() {
        // As i64, not f64: int64 values past 2^53 must match too.
        let (g, w) = (got.to_i64_vec().map_err(|e| e.to_string())?, want.to_i64_vec().map_err(|e| e.to_string())?);
        return match g.iter().zip(&w).position(|(a, b)| a != b) {
            Some(i) => Err(format!("element {i}: got {}, TF has {}", g[i], w[i])),
            None => Ok(()),
        };
    }
    let exact = !want.dtype().is_float();
    for (i, (g, w)) in got.to_f64_vec().into_iter().zip(want.to_f64_vec()).enumerate() {
        let ok = match exact {
            true => g == w,
            false => (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 1e-5 * w.abs() + 1e-7,
        };
        if !ok {
            return Err(format!("element {i}: got {g}, TF has {w}"));
        }
    }
    Ok(())
}

/// A case TF refused: stepflow must refuse it when building the graph or when running it, with
/// known and with unknown dimensions.
fn check_refused(case: &Case) -> Result<(), String> {
    for unknown_dims in [false, true] {
        let Ok(g) = graph(case, unknown_dims) else { continue };
        let s = Session::new(g);
        let ran = (|| {
            let feeds = (0..case.inputs.len())
                .map(|i| Ok((s.graph().output(&format!("in{i}"))?, case.inputs[i].clone())))
                .collect::<stepflow::Result<Vec<_>>>()?;
            s.run(&feeds, &[s.graph().output("op")?], &[])
        })();
        if let Ok(out) = ran {
            return Err(format!("TF refuses it, stepflow gives {out:?} (unknown dims: {unknown_dims})"));
        }
    }
    Ok(())
}

/// Runs the case with placeholders of known shape under both executors, and of unknown
/// dimensions under the parallel one.
fn check(case: &Case) -> Result<(), String> {
    if case.refused {
        return check_refused(case);
    }
    let want = if case.variables.is_empty() { &case.outputs } else { &case.variables };
    let known = Arc::new(graph(case, false).map_err(|e| format!("does not build: {e}"))?);
    let unknown = Arc::new(graph(case, true).map_err(|e| format!("does not build with unknown dims: {e}"))?);
    for (g, executor, how) in [
        (&known, Executor::Serial, "serial"),
        (&known, Executor::Parallel, "parallel"),
        (&unknown, Executor::Parallel, "unknown dims"),
    ] {
        let got = run(case, g, executor).map_err(|e| format!("{how}: {e}"))?;
        if got.len() != want.len() {
            return Err(format!("{how}: {} values, TF has {}", got.len(), want.len()));
        }
        for (k, (x, w)) in got.iter().zip(want).enumerate() {
            matches(x, w).map_err(|e| format!("{how}, value {k}: {e}"))?;
        }
    }
    Ok(())
}

#[test]
fn every_op_golden_matches_tensorflow() {
    let file = golden();
    assert!(file.source.starts_with("tensorflow"), "ops.json does not say it comes from TF");
    let failed: Vec<String> =
        file.cases.iter().filter_map(|c| check(c).err().map(|e| format!("{}: {e}", c.name))).collect();
    assert!(failed.is_empty(), "{} of {} cases differ from TF:\n{}", failed.len(), file.cases.len(), failed.join("\n"));
}

#[test]
fn every_op_tensorflow_has_a_golden() {
    let file = golden();
    let missing: Vec<&str> = OP_TYPES
        .iter()
        .copied()
        .filter(|op| !NOT_IN_GOLDENS.contains(op) && !file.cases.iter().any(|c| c.op == *op))
        .collect();
    assert!(missing.is_empty(), "ops without a TF golden in ops.json: {missing:?}");
    let stale: Vec<&str> = NOT_IN_GOLDENS.iter().copied().filter(|op| file.cases.iter().any(|c| c.op == *op)).collect();
    assert!(stale.is_empty(), "ops listed as without a golden have one: {stale:?}");
}
