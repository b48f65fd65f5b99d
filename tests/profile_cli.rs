//! `--profile` and `--trace` end to end: the per-op table of `stepflow train` and `stepflow run`,
//! with GFLOP/s worked out from the shapes, and the Chrome trace-event file it writes.

mod common;

use common::*;
use std::path::Path;

/// The table's row of `op`: count, total milliseconds, share (percent), GFLOP/s (if any).
fn row(table: &str, op: &str) -> (u64, f64, f64, Option<f64>) {
    let line =
        table.lines().find(|l| l.split_whitespace().next() == Some(op)).unwrap_or_else(|| panic!("{op}: {table}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    let share = cells[3].trim_end_matches('%').parse().unwrap();
    (cells[1].parse().unwrap(), cells[2].parse().unwrap(), share, cells.get(4).map(|c| c.parse().unwrap()))
}

fn trace_events(path: &Path) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["traceEvents"].as_array().unwrap().clone()
}

#[test]
fn train_profiles_its_steps_and_writes_a_chrome_trace() {
    let dir = scratch("profile-train");
    let trace = dir.join("trace.json");
    let args = ["train", "graphs/digits_mlp.json", "--out", s(&dir), "--max-steps", "30", "--trace", s(&trace)];
    let o = stepflow(&args);
    ok(&o);
    let table = stderr(&o);
    // digits_mlp: two products forward, three backward (the input needs no gradient), per step.
    let (count, ms, share, gflops) = row(&table, "MatMul");
    assert_eq!(count, 30 * 5, "{table}");
    assert!(ms > 0.0 && share > 0.0 && gflops.is_some_and(|g| g > 0.0), "{table}");
    assert_eq!(row(&table, "ApplyAdam").0, 30 * 4, "{table}");
    assert!(row(&table, "ApplyAdam").3.is_none(), "no operation count for an update: {table}");
    let shares: f64 = table.lines().skip(1).map(|l| row(&table, l.split_whitespace().next().unwrap()).2).sum();
    assert!((shares - 100.0).abs() < 1.0, "shares sum to {shares}");
    // The trace: thread names, then one complete event per node run, in the table's numbers.
    let events = trace_events(&trace);
    let nodes: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(nodes.iter().filter(|e| e["cat"] == "MatMul").count() as u64, count);
    assert!(events.iter().any(|e| e["ph"] == "M" && e["args"]["name"] == "caller"));
    let total: f64 = nodes.iter().filter(|e| e["cat"] == "MatMul").map(|e| e["dur"].as_f64().unwrap()).sum();
    assert!((total / 1e3 - ms).abs() < 0.01 + 1e-3 * ms, "trace {total} us, table {ms} ms");
    let last = nodes.iter().map(|e| e["ts"].as_f64().unwrap()).fold(0.0, f64::max);
    let first = nodes.iter().map(|e| e["ts"].as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    assert!(first >= 0.0 && last > first, "steps follow each other in time");
}

#[test]
fn run_profiles_its_runs_and_counts_a_products_operations() {
    let dir = scratch("profile-run");
    let trace = dir.join("run.json");
    let o = stepflow(&[
        "run",
        "graphs/linear_model.json",
        "--fetch",
        "loss",
        "--feed",
        "x=[[1,2,3],[0,0,1]]",
        "--feed",
        "y=[[4],[2]]",
        "--steps",
        "4",
        "--profile",
        "--trace",
        s(&trace),
    ]);
    assert_eq!(ok(&o).lines().count(), 4, "the values still print, one line a run");
    let table = stderr(&o);
    let (count, ms, _, gflops) = row(&table, "MatMul");
    // [2, 3] · [3, 1]: 2 · 2 · 3 · 1 = 12 operations a run, 48 in all.
    assert_eq!(count, 4);
    let rate = gflops.unwrap();
    assert!((rate - 48.0 / (ms * 1e6)).abs() <= 0.05 + 1e-3 * rate, "{rate} GFLOP/s from {ms} ms: {table}");
    assert_eq!(trace_events(&trace).iter().filter(|e| e["name"] == "xw").count(), 4);
}

/// A graph of a convolution, its bias and its relu, which the plan fuses into one step.
const CONV_GRAPH: &str = r#"{
  "format": "stepflow.graph",
  "version": 1,
  "nodes": [
    {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [1, 3, 3, 1]}},
    {"name": "w", "op": "Variable", "attrs": {"dtype": "float32", "shape": [2, 2, 1, 1],
     "initializer": {"value": {"dtype": "float32", "data": [[[[1.0]], [[-1.0]]], [[[2.0]], [[0.5]]]]}}}},
    {"name": "b", "op": "Variable", "attrs": {"dtype": "float32", "shape": [1], "initializer": {"constant": -1.0}}},
    {"name": "conv", "op": "Conv2D", "inputs": ["x", "w"], "attrs": {"strides": [1, 1, 1, 1], "padding": "VALID"}},
    {"name": "biased", "op": "BiasAdd", "inputs": ["conv", "b"]},
    {"name": "y", "op": "Relu", "inputs": ["biased"]}
  ]
}"#;

#[test]
fn no_optimize_runs_each_op_on_its_own_with_the_same_values() {
    let dir = scratch("no-optimize");
    let graph = dir.join("conv.json");
    std::fs::write(&graph, CONV_GRAPH).unwrap();
    let run = |extra: &[&str]| {
        let mut args =
            vec!["run", s(&graph), "--fetch", "y", "--feed", "x=[[[[1],[2],[3]],[[4],[5],[6]],[[7],[8],[9]]]]"];
        args.extend_from_slice(&["--profile"]);
        args.extend_from_slice(extra);
        let o = stepflow(&args);
        (ok(&o), stderr(&o))
    };
    let ((fused, fused_table), (plain, plain_table)) = (run(&[]), run(&["--no-optimize"]));
    // y(0, 0) = relu(1·1 + 2·(−1) + 4·2 + 5·0.5 − 1) = 8.5, and so on.
    assert_eq!(fused, "step=0 y=[[[[8.5], [11]], [[16], [18.5]]]]\n");
    assert_eq!(plain, fused);
    assert_eq!(row(&fused_table, "FusedConv2D").0, 1, "{fused_table}");
    assert!(!fused_table.contains("BiasAdd"), "{fused_table}");
    for op in ["Conv2D", "BiasAdd", "Relu"] {
        assert_eq!(row(&plain_table, op).0, 1, "{plain_table}");
    }
}
