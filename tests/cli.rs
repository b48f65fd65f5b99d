//! End-to-end tests of the `stepflow` command: output of run / inspect / dot, and one-line errors
//! with a non-zero status (never a panic) on bad input.

use std::process::{Command, Output};

fn stepflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepflow")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_prints_one_line_per_step() {
    let o = stepflow(&[
        "run",
        "graphs/exponential_decay.json",
        "--fetch",
        "learning_rate",
        "--target",
        "increment",
        "--steps",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "step=0 learning_rate=0.1\nstep=1 learning_rate=0.1\nstep=2 learning_rate=0.1\n");
}

#[test]
fn run_feeds_any_tensor_and_prints_csv() {
    // Feeding global_step shows the staircase: floor(250000 / 100000) = 2 → 0.1 · 0.96².
    let o = stepflow(&[
        "run",
        "graphs/exponential_decay.json",
        "--fetch",
        "learning_rate",
        "--feed",
        "global_step=250000",
        "--format",
        "csv",
        "--steps",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "step,learning_rate\n0,0.09216\n1,0.09216\n");
}

#[test]
fn run_a_linear_model_with_fed_placeholders() {
    let o = stepflow(&[
        "run",
        "graphs/linear_model.json",
        "--fetch",
        "prediction",
        "--fetch",
        "loss",
        "--feed",
        "x=[[1,2,3],[0,0,1]]",
        "--feed",
        "y=[[4],[2]]",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // w = [0.5, -1, 2], b = 0.25: predictions 4.75 and 2.25; loss ((0.75)² + (0.25)²) / 2
    assert_eq!(stdout(&o), "step=0 prediction=[[4.75], [2.25]] loss=0.3125\n");
}

#[test]
fn inspect_lists_every_node() {
    let o = stepflow(&["inspect", "graphs/exponential_decay.json"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.lines().any(|l| l.starts_with("increment") && l.contains("AssignAdd") && l.contains("int64 []")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("learning_rate ") && l.contains("Mul") && l.contains("float32 []")),
        "{text}"
    );
    assert!(text.trim_end().ends_with("20 nodes, 1 variables"), "{text}");
}

#[test]
fn dot_draws_the_graph() {
    let o = stepflow(&["dot", "graphs/linear_model.json"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.starts_with("digraph {"), "{text}");
    assert!(text.contains("label=\"xw\\nMatMul\""), "{text}");
    assert!(text.contains("label=\"float32 [?,1]\""), "{text}");
}

#[test]
fn bad_input_is_a_one_line_error_not_a_panic() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "graphs/missing.json", "--fetch", "x"], "graphs/missing.json"),
        (&["run", "graphs/exponential_decay.json", "--fetch", "nope"], "no node named 'nope'"),
        (&["run", "graphs/exponential_decay.json", "--fetch", "learning_rate:3"], "has 1 output(s)"),
        (&["run", "graphs/linear_model.json", "--fetch", "loss"], "you must feed a value for placeholder 'x'"),
        (
            &["run", "graphs/linear_model.json", "--fetch", "loss", "--feed", "x=[[1,2]]", "--feed", "y=[[1]]"],
            "cannot feed a value of dtype float32 and shape [1,2] to 'x'",
        ),
        (&["run", "graphs/linear_model.json", "--fetch", "loss", "--feed", "x=[[1,2"], "value is not JSON"),
        (&["run", "graphs/linear_model.json", "--fetch", "loss", "--feed", "x"], "NAME=VALUE"),
        (&["run", "graphs/linear_model.json"], "give at least one --fetch or --target"),
        (&["inspect", "Cargo.toml"], "Cargo.toml"),
    ];
    for (args, expected) in cases {
        let o = stepflow(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: '{err}' should contain '{expected}'");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got '{err}'");
    }
}
