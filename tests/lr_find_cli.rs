//! End-to-end tests of `stepflow lr-find` and `stepflow plot-schedule`, and the range test's
//! promise not to train the model.

mod common;

use common::*;
use stepflow::fit::{RangeTest, Stop, Sweep, Trainer};

/// The four suggested rates printed, in order: valley (the default), slide, steepest, minimum / 10.
fn suggestions(text: &str) -> [f64; 4] {
    assert!(text.contains("suggested learning rates:\n  valley (default)  "), "{text}");
    ["valley (default)", "slide", "steepest", "minimum / 10"].map(|name| number_after(text, &format!("\n  {name} ")))
}

#[test]
fn lr_find_suggests_a_rate_on_the_descending_curve_that_trains_digits() {
    let dir = scratch("lr-find");
    let text = ok(&stepflow(&["lr-find", "graphs/digits_mlp.json", "--out", s(&dir)]));
    let rates = suggestions(&text);
    let min10 = rates[3];
    let (header, rows) = read_csv(&dir.join("lr_find.csv"));
    assert_eq!(header, ["step", "learning_rate", "loss", "smoothed_loss", "smoothed_loss_min", "smoothed_loss_max"]);
    // One run: the band is the curve itself.
    assert!(rows.iter().all(|r| r[3] == r[4] && r[3] == r[5]));
    let col = |i: usize| rows.iter().map(|r| r[i].parse::<f64>().unwrap()).collect::<Vec<_>>();
    let (lr, smoothed) = (col(1), col(3));
    // The exponential sweep: rate k is 1e-7 · 1e8^(k/99).
    for (k, r) in lr.iter().enumerate() {
        assert!((r / (1e-7 * 1e8f64.powf(k as f64 / 99.0)) - 1.0).abs() < 1e-9);
    }
    // The default run diverges before the end, and stops at the first point past 4 × the minimum.
    let low = smoothed.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(text.contains("passed 4 × its minimum") && rows.len() < 100, "{text}");
    assert!(smoothed[smoothed.len() - 1] > 4.0 * low && smoothed[..smoothed.len() - 1].iter().all(|&v| v <= 4.0 * low));
    // Every suggestion lies where the smoothed loss falls: before its minimum, below its start.
    let lowest_at = lr[smoothed.iter().position(|&v| v == low).unwrap()];
    for rate in rates {
        let i = lr.iter().position(|&r| r >= rate * 0.999).unwrap();
        assert!(rate < lowest_at, "suggestion {rate} is past the minimum at {lowest_at}");
        assert!(
            smoothed[i] < smoothed[0] && smoothed[i + 1] < smoothed[i.saturating_sub(1)],
            "{rate} at {i}: {smoothed:?}"
        );
    }
    assert_eq!(png_size(&dir.join("lr_find.png")), (960, 600));
    let (w, h, lines) = svg_size(&dir.join("lr_find.svg"));
    assert!((w, h) == (960, 600) && lines >= 2);
    // Training with the suggested rate (fed in place of the schedule) reaches 95%.
    let out = dir.join("run");
    let trained =
        ok(&stepflow(&["train", "graphs/digits_mlp.json", "--learning-rate", &min10.to_string(), "--out", s(&out)]));
    assert!(number_after(&trained, "validation accuracy") >= 0.95, "{trained}");
    let (_, steps) = read_csv(&out.join("steps.csv"));
    assert!(steps.iter().all(|r| r[3].parse::<f32>().unwrap() == min10 as f32));
}

#[test]
fn the_range_test_puts_back_every_variable_and_the_place_in_the_data() {
    let mut t = Trainer::from_file(std::path::Path::new(ROOT).join("graphs/digits_mlp.json").as_path()).unwrap();
    for _ in 0..10 {
        t.step().unwrap();
    }
    let g = t.session().graph_arc();
    let before: Vec<_> = g.variables().iter().map(|v| t.session().variable_value(v.node.into()).unwrap()).collect();
    let position = t.position();
    let test = RangeTest { steps: 60, sweep: Sweep::Linear, start: 1e-4, end: 0.05, ..Default::default() };
    let r = test.run(&mut t, |_, _| {}).unwrap();
    assert_eq!((r.points.len(), r.runs[0].stop), (60, Stop::Completed));
    assert!(
        (r.points[59].learning_rate - 0.05).abs() < 1e-15
            && (r.points[1].learning_rate - (1e-4 + 0.0499 / 59.0)).abs() < 1e-15
    );
    for (v, b) in g.variables().iter().zip(&before) {
        assert!(t.session().variable_value(v.node.into()).unwrap().bit_eq(b), "{} changed", g.node(v.node).name());
    }
    assert_eq!(t.position(), position);
}

#[test]
fn lr_find_options_are_checked() {
    let cases: [(&[&str], &str); 7] = [
        (&["--start", "1", "--end", "0.1"], "argument '--end' must be greater than --start (1), got 0.1"),
        (&["--start", "0"], "argument '--start' must be a positive number"),
        (&["--steps", "1"], "argument '--steps' must be at least 2"),
        (&["--smooth", "1"], "argument '--smooth' must be in [0, 1)"),
        (&["--diverge", "0.5"], "argument '--diverge' must be a number > 1"),
        (&["--runs", "0"], "argument '--runs' must be at least 1"),
        (&["--batches-per-step", "0"], "argument '--batches-per-step' must be at least 1"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["lr-find", "graphs/digits_mlp.json"];
        all.extend_from_slice(args);
        let o = stepflow(&all);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(e.contains(expected) && e.lines().count() == 1, "{args:?}: {e}");
    }
    // A config without a learning-rate tensor cannot be swept.
    let dir = scratch("lr-find-no-rate");
    let text = std::fs::read_to_string(std::path::Path::new(ROOT).join("graphs/digits_mlp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["learning_rate"] = serde_json::Value::Null;
    v["data"]["csv"] = serde_json::json!(std::path::Path::new(ROOT).join("data/digits.csv"));
    std::fs::write(dir.join("c.json"), v.to_string()).unwrap();
    let o = stepflow(&["lr-find", s(&dir.join("c.json")), "--out", s(&dir)]);
    assert!(stderr(&o).contains("argument 'learning_rate' names no tensor"), "{}", stderr(&o));
}

#[test]
fn plot_schedule_draws_several_schedules_as_png_and_svg() {
    let dir = scratch("plot-schedule");
    let (png, svg) = (dir.join("schedules.png"), dir.join("schedules.svg"));
    let fetches = ["-f", "step_decay", "-f", "exponential_decay", "-f", "linear_decay", "-f", "cyclical"];
    for out in [&png, &svg] {
        let mut args = vec!["plot-schedule", "graphs/schedules_compared.json", "--steps", "500", "-o", s(out)];
        args.extend_from_slice(&fetches);
        assert!(ok(&stepflow(&args)).contains("wrote"));
    }
    assert_eq!(png_size(&png), (960, 600));
    let (w, h, lines) = svg_size(&svg);
    assert!((w, h) == (960, 600) && lines >= 4, "{lines} lines");
    let legend = std::fs::read_to_string(&svg).unwrap();
    assert!(fetches.iter().skip(1).step_by(2).all(|f| legend.contains(f)));
    // The document's staircase over 400,000 steps (sampled), on a training config's graph too.
    ok(&stepflow(&[
        "plot-schedule",
        "graphs/exponential_decay.json",
        "-f",
        "learning_rate",
        "-f",
        "learning_rate_continuous",
        "--steps",
        "400000",
        "-o",
        s(&dir.join("tf.png")),
    ]));
    ok(&stepflow(&[
        "plot-schedule",
        "graphs/digits_mlp.json",
        "-f",
        "learning_rate",
        "--steps",
        "900",
        "-o",
        s(&dir.join("digits.svg")),
    ]));
}

#[test]
fn plot_schedule_errors_name_the_problem() {
    let dir = scratch("plot-schedule-errors");
    let out = dir.join("x.png");
    let cases: [(Vec<&str>, &str); 5] = [
        (vec!["graphs/schedules_compared.json", "-f", "nope", "--steps", "5", "-o", s(&out)], "no node named 'nope'"),
        (
            vec!["graphs/schedules_compared.json", "-f", "cyclical", "--steps", "0", "-o", s(&out)],
            "'--steps' must be at least 1",
        ),
        (vec!["graphs/linear_model.json", "-f", "loss", "--steps", "5", "-o", s(&out)], "no node named 'global_step'"),
        (vec!["graphs/digits_mlp.json", "-f", "hidden/w", "--steps", "5", "-o", s(&out)], "'hidden/w' is not a scalar"),
        (
            vec!["graphs/schedules_compared.json", "-f", "cyclical", "--steps", "5", "-o", "x.gif"],
            "must end in .png or .svg",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["plot-schedule"];
        all.extend(args);
        let o = stepflow(&all);
        let e = stderr(&o);
        assert!(o.status.code() == Some(1) && e.contains(expected) && e.lines().count() == 1, "{all:?}: {e}");
    }
    assert!(!out.exists());
}

#[test]
fn the_digits_cnn_trains_past_its_target_and_its_range_test_restores_the_moving_statistics() {
    let dir = scratch("digits-cnn");
    let text = ok(&stepflow(&["train", "graphs/digits_cnn.json", "--out", s(&dir)]));
    assert!(number_after(&text, "validation accuracy") >= 0.985, "{text}");
    let mut t = Trainer::from_file(std::path::Path::new(ROOT).join("graphs/digits_cnn.json").as_path()).unwrap();
    for _ in 0..5 {
        t.step().unwrap();
    }
    let g = t.session().graph_arc();
    let moving = g.output("bn1/moving_mean").unwrap();
    let before: Vec<_> = g.variables().iter().map(|v| t.session().variable_value(v.node.into()).unwrap()).collect();
    let test = RangeTest { steps: 20, ..Default::default() };
    test.run(&mut t, |_, _| {}).unwrap();
    for (v, b) in g.variables().iter().zip(&before) {
        assert!(t.session().variable_value(v.node.into()).unwrap().bit_eq(b), "{} changed", g.node(v.node).name());
    }
    // A training step (the training flag fed true) moves the moving statistics; evaluation
    // (the flag at its default) does not.
    let mean = |t: &Trainer| t.session().variable_value(moving).unwrap().to_f64_vec();
    let m0 = mean(&t);
    t.evaluate().unwrap();
    assert_eq!(mean(&t), m0);
    t.step().unwrap();
    assert_ne!(mean(&t), m0);
}
