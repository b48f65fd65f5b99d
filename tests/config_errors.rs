//! Bad training configs and data: each is a one-line error naming the problem, with exit status
//! 1, never a panic, and nothing written.

mod common;

use common::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

const CSV: &str = "a,b,c,y\n1,2,3,4\n2,3,4,5\n3,4,5,6\n4,5,6,7\n5,6,7,8\n";

/// A linear-model config over `data.csv`, with `edit` applied to its JSON, in a directory of
/// its own under `dir`.
fn config(dir: &Path, csv: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    static CASE: AtomicUsize = AtomicUsize::new(0);
    let dir = dir.join(format!("case{}", CASE.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data.csv"), csv).unwrap();
    let mut v = serde_json::json!({
        "format": "stepflow.train", "version": 1,
        "graph": "model.json",
        "train": "train", "loss": "loss", "learning_rate": "lr",
        "data": {"csv": "data.csv", "inputs": {"x": {"columns": "a:c"}, "y": {"column": "y"}}},
        "batch_size": 2, "epochs": 2
    });
    let graph = r#"{"format": "stepflow.graph", "version": 1, "nodes": [
        {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 3]}},
        {"name": "y", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null]}},
        {"name": "w", "op": "Variable", "attrs": {"shape": [3, 1]}},
        {"name": "xw", "op": "MatMul", "inputs": ["x", "w"]},
        {"name": "shape", "op": "Const", "attrs": {"value": {"dtype": "int32", "data": [-1]}}},
        {"name": "prediction", "op": "Reshape", "inputs": ["xw", "shape"]},
        {"name": "error", "op": "Sub", "inputs": ["prediction", "y"]},
        {"name": "squared", "op": "Square", "inputs": ["error"]},
        {"name": "loss", "op": "reduce_mean", "inputs": ["squared"]},
        {"name": "lr", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": 0.01}}},
        {"name": "train", "op": "minimize", "inputs": ["loss", "lr"], "attrs": {"optimizer": "gradient_descent"}}
    ]}"#;
    std::fs::write(dir.join("model.json"), graph).unwrap();
    edit(&mut v);
    let path = dir.join("config.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

fn fails_with(args: &[&str], expected: &str) {
    let o = stepflow(args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail: {}{e}", stdout(&o));
    assert!(e.starts_with("error: ") && e.contains(expected), "{args:?}: '{e}' should contain '{expected}'");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(!e.contains("panicked"));
}

#[test]
fn the_base_config_trains() {
    let dir = scratch("config-ok");
    let c = config(&dir, CSV, |_| {});
    let text = ok(&stepflow(&["train", &c, "--out", s(&dir.join("out"))]));
    assert!(text.contains("validation loss"), "{text}");
}

#[test]
fn bad_configs_and_data_are_one_line_errors() {
    let dir = scratch("config-errors");
    let out = dir.join("out");
    let o = s(&out);
    fails_with(&["train", "graphs/missing.json"], "graphs/missing.json: No such file");
    let cases: Vec<(String, &str)> = vec![
        (config(&dir, CSV, |v| v["data"]["csv"] = "gone.csv".into()), "gone.csv: No such file"),
        (config(&dir, CSV, |v| v["graph"] = "gone.json".into()), "gone.json: No such file"),
        (
            config(&dir, CSV, |v| v["data"]["inputs"]["y"]["column"] = "target".into()),
            "argument 'target' is not a column (columns: a, b, c, y)",
        ),
        (config(&dir, "a,b,c,y\n1,2,3,4\n2,3,4\n", |_| {}), "line 3"),
        (config(&dir, "a,b,c,y\n1,2,3,4\n2,x3,4,5\n", |_| {}), "line 3, column 'b': 'x3' is not a number"),
        (
            config(&dir, CSV, |v| v["data"]["inputs"]["z"] = serde_json::json!({"column": "a"})),
            "argument 'z' is not a tensor of the graph",
        ),
        (
            config(&dir, CSV, |v| v["data"]["inputs"]["x"]["columns"] = "a:b".into()),
            "has 2 values per row, but the placeholder is [?,3]",
        ),
        (config(&dir, CSV, |v| v["train"] = "fit".into()), "argument 'train' no node named 'fit'"),
        (config(&dir, CSV, |v| v["loss"] = "squared".into()), "'squared' must be a scalar"),
        (config(&dir, CSV, |v| v["metrics"] = serde_json::json!(["accuracy"])), "no node named 'accuracy'"),
        (config(&dir, CSV, |v| v["batch_size"] = 0.into()), "batch_size and eval_batch_size must be at least 1"),
        (config(&dir, CSV, |v| v["epochs"] = (-1).into()), "invalid value: integer `-1`"),
        (config(&dir, CSV, |v| v["format"] = "stepflow.graph".into()), "expected 'stepflow.train'"),
        (
            config(&dir, CSV, |v| v["data"]["validation_fraction"] = 1.5.into()),
            "validation_fraction' must be in [0, 1)",
        ),
        (
            config(&dir, CSV, |v| v["data"]["inputs"]["y"]["encoding"] = "one_hot".into()),
            "one_hot needs the number of classes",
        ),
        (
            config(&dir, "a,b,c,y\n1,2,3,4.5\n", |v| v["data"]["inputs"]["y"]["encoding"] = "integer".into()),
            "label 4.5",
        ),
        (
            config(&dir, CSV, |v| {
                v["plateau"] = serde_json::json!({"feed": "lr", "initial_learning_rate": 0.1, "factor": 3})
            }),
            "argument 'factor' must be in (0, 1)",
        ),
    ];
    for (c, expected) in &cases {
        fails_with(&["train", c, "--out", o], expected);
    }
    assert!(!out.exists(), "a failed start writes nothing");
    let c = config(&dir, CSV, |_| {});
    fails_with(&["train", &c, "--learning-rate", "-1"], "'--learning-rate' must be a positive number");
    fails_with(&["train", &c, "--resume", s(&dir.join("nowhere"))], "checkpoint.json: No such file");
    fails_with(&["lr-find", &c, "--start", "0.1", "--end", "0.01"], "must be greater than --start");
    // A graph file is not a config, and a config's JSON must parse.
    fails_with(&["train", "graphs/linear_model.json"], "unknown field `nodes`");
    std::fs::write(dir.join("broken.json"), "{\"format\": \"stepflow.train\",").unwrap();
    fails_with(&["train", s(&dir.join("broken.json"))], "EOF while parsing");
}

#[test]
fn a_diverging_run_stops_with_an_error_naming_the_step() {
    let dir = scratch("config-diverge");
    let c = config(&dir, CSV, |v| v["epochs"] = 50.into());
    fails_with(
        &["train", &c, "--learning-rate", "10", "--out", s(&dir.join("out"))],
        "at learning rate 1e1: training diverged",
    );
}
