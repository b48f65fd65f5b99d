//! The examples run and print what they should: the document's TF snippets (step decay,
//! exponential decay, the plateau loop, linear regression), the digits network, and the table of
//! the range test's suggestions.

use std::process::Command;

/// Runs an example binary (built by `cargo test` beside the test binaries) and returns stdout.
fn run_example(name: &str, args: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().join("examples").join(name);
    let out = Command::new(&dir).args(args).output().unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Rows of whitespace-separated numbers, skipping lines that do not start with a number.
fn rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .filter_map(|l| l.split_whitespace().map(|w| w.parse::<f64>()).collect::<Result<Vec<_>, _>>().ok())
        .filter(|r| !r.is_empty())
        .collect()
}

#[test]
fn staircase_decay_halves_every_ten_steps() {
    let r = rows(&run_example("staircase_decay", &["30"]));
    assert_eq!(r.len(), 30);
    for row in &r {
        // Exact in float32: 0.1 · 0.5^⌊k/10⌋ only changes the exponent.
        let want = 0.1f32 * 0.5f32.powi((row[0] as i32) / 10);
        assert_eq!(row[1] as f32, want, "step {}", row[0]);
    }
}

#[test]
fn continuous_decay_follows_the_formula() {
    let r = rows(&run_example("continuous_decay", &["25"]));
    assert_eq!(r.len(), 25);
    for row in &r {
        let want = 0.1 * 0.5f64.powf(row[0] / 10.0);
        assert!((row[1] - want).abs() < 1e-7, "step {}: {} vs {want}", row[0], row[1]);
    }
}

#[test]
fn plateau_loop_reduces_the_fed_rate_on_a_plateau() {
    let text = run_example("plateau_loop", &["40"]);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 40);
    let lr: Vec<f64> = lines.iter().map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap()).collect();
    let val: Vec<f64> = lines.iter().map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(lr[0], 0.5);
    assert!(val[39] < val[0] / 10.0, "the loss fell: {} -> {}", val[0], val[39]);
    // Each reduction halves the rate used from the next epoch on, and only after 3 bad epochs.
    let reductions: Vec<usize> =
        lines.iter().enumerate().filter(|(_, l)| l.ends_with("reduced")).map(|(i, _)| i).collect();
    assert!(!reductions.is_empty());
    for &i in &reductions {
        assert_eq!(lr[i + 1], lr[i] / 2.0, "epoch {i}");
    }
    assert!(reductions.windows(2).all(|w| w[1] - w[0] >= 3), "{reductions:?}");
}

#[test]
fn linear_regression_learns_the_weights_on_a_staircase() {
    let text = run_example("linear_regression", &["300"]);
    let r = rows(&text);
    assert_eq!(r.len(), 300);
    // step, loss, learning_rate, global_step: the rate of step k is 0.1 · 0.96^⌊k/20⌋ and the
    // step counter after run k is k + 1.
    for row in &r {
        let want = 0.1 * 0.96f64.powi((row[0] as i32) / 20);
        assert!((row[2] - want).abs() < 1e-6 * want, "step {}: rate {}", row[0], row[2]);
        assert_eq!(row[3], row[0] + 1.0);
    }
    assert!(r[299][1] < 1e-3 && r[299][1] < r[0][1] / 1000.0, "loss {} -> {}", r[0][1], r[299][1]);
    let w_line = text.lines().last().unwrap();
    assert!(w_line.starts_with("w = [[2.9") || w_line.starts_with("w = [[3.0"), "{w_line}");
}

#[test]
fn digits_reach_95_percent_on_held_out_data() {
    let text = run_example("digits_mlp", &["30"]);
    let last = text.lines().last().unwrap();
    let acc: f64 = last.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(acc >= 0.95, "{last}");
}

#[test]
fn the_suggestions_table_has_a_row_per_config_and_rate() {
    // One epoch each: the table's shape, not its values (README's come from the full run).
    let text = run_example("suggestions", &["1"]);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| graphs/")).collect();
    assert_eq!(rows.len(), 15, "{text}");
    assert!(rows.iter().all(|r| r.matches('|').count() == 7), "{text}");
    for choice in ["config's own", "valley (default)", "slide", "steepest", "minimum / 10"] {
        assert_eq!(rows.iter().filter(|r| r.contains(&format!("| {choice} |"))).count(), 3, "{text}");
    }
}
