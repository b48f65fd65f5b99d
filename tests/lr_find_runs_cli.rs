//! End-to-end tests of the range test's runs and suggestions: `lr-find --runs` with its band,
//! `--batches-per-step`, the four suggestions, a loss that never falls, and
//! `train --learning-rate auto`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use stepflow::summary::proto::{event::What, summary::value::Value};
use stepflow::summary::{event_files, read_events};

/// The four suggested rates printed, in order: valley (the default), slide, steepest, minimum / 10.
fn suggestions(text: &str) -> [f64; 4] {
    assert!(text.contains("suggested learning rates:\n  valley (default)  "), "{text}");
    ["valley (default)", "slide", "steepest", "minimum / 10"].map(|name| number_after(text, &format!("\n  {name} ")))
}

/// The scalars of the one event file in `dir`: (tag, step, value).
fn scalars(dir: &Path) -> Vec<(String, i64, f32)> {
    let files = event_files(dir).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut out = Vec::new();
    for e in read_events(&files[0]).unwrap() {
        if let Some(What::Summary(s)) = &e.what {
            for v in &s.value {
                if let Some(Value::SimpleValue(x)) = v.value {
                    out.push((v.tag.clone(), e.step, x));
                }
            }
        }
    }
    out
}

#[test]
fn lr_find_runs_averages_the_runs_draws_their_band_and_prints_four_suggestions() {
    let dir = scratch("lr-find-runs");
    let args = ["lr-find", "graphs/digits_mlp.json", "--runs", "3", "--batches-per-step", "2", "--out", s(&dir)];
    let text = ok(&stepflow(&args));
    assert!(text.contains("range test: 3 runs (2 batches per step), mean curve over the "), "{text}");
    for run in 1..=3 {
        assert!(text.contains(&format!("\n  run {run}: ")), "{text}");
    }
    let rates = suggestions(&text);
    let (header, rows) = read_csv(&dir.join("lr_find.csv"));
    assert_eq!(header, ["step", "learning_rate", "loss", "smoothed_loss", "smoothed_loss_min", "smoothed_loss_max"]);
    let num = |r: &Vec<String>, i: usize| r[i].parse::<f64>().unwrap();
    // The mean lies within the band, and the runs differ (their own data orders).
    let within = |r: &Vec<String>| num(r, 4) <= num(r, 3) * (1.0 + 1e-12) && num(r, 3) <= num(r, 5) * (1.0 + 1e-12);
    assert!(rows.iter().all(within));
    assert!(rows.iter().filter(|r| num(r, 4) < num(r, 5)).count() > rows.len() * 9 / 10);
    // The suggestions are rates of the mean curve's falling part (minimum / 10: a tenth of one).
    let lr: Vec<f64> = rows.iter().map(|r| num(r, 1)).collect();
    let lowest = rows.iter().map(|r| num(r, 3)).fold(f64::INFINITY, f64::min);
    let lowest_at = lr[rows.iter().position(|r| num(r, 3) == lowest).unwrap()];
    for (i, rate) in rates.iter().enumerate() {
        assert!(*rate < lowest_at, "{rate} not below the minimum at {lowest_at}");
        if i < 3 {
            assert!(lr.iter().any(|r| (r / rate - 1.0).abs() < 1e-3), "{rate} is no rate of the curve");
        }
    }
    assert!((rates[3] * 10.0 / lowest_at - 1.0).abs() < 1e-3);
    // The chart: the band in the legend, each suggestion marked and named.
    let svg = std::fs::read_to_string(dir.join("lr_find.svg")).unwrap();
    assert!(svg.contains("smoothed loss, range of 3 runs") && svg.contains("<polygon"), "no band");
    for name in ["valley (default): ", "slide: ", "steepest: ", "minimum / 10: "] {
        assert!(svg.contains(name), "no mark for {name}");
    }
    assert_eq!(png_size(&dir.join("lr_find.png")), (960, 600));
}

/// A linear-regression config on 64 copies of one row, so every batch has the same loss; with
/// `disconnected`, its learning-rate tensor is a placeholder that training does not read (the
/// optimizer's rate is a constant 0).
fn one_row_config(dir: &Path, disconnected: bool) -> PathBuf {
    std::fs::write(dir.join("same.csv"), format!("x0,x1,x2,y\n{}", "1,2,3,4\n".repeat(64))).unwrap();
    let text = std::fs::read_to_string(Path::new(ROOT).join("graphs/linear_regression.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["data"]["csv"] = serde_json::json!("same.csv");
    if disconnected {
        let nodes = v["graph"]["nodes"].as_array_mut().unwrap();
        nodes.push(
            serde_json::json!({"name": "zero", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": 0}}}),
        );
        nodes.push(
            serde_json::json!({"name": "unused_rate", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": []}}),
        );
        let train = nodes.iter_mut().find(|n| n["name"] == "train").unwrap();
        train["inputs"] = serde_json::json!(["loss", "zero", "global_step"]);
        v["learning_rate"] = serde_json::json!("unused_rate");
    }
    let file = dir.join(format!("c{}.json", u8::from(disconnected)));
    std::fs::write(&file, v.to_string()).unwrap();
    file
}

#[test]
fn a_loss_that_never_falls_gets_no_suggestion_said_plainly() {
    let dir = scratch("lr-find-never-fell");
    // Rates far too small to move the weights: the loss stays where it started.
    let config = one_row_config(&dir, false);
    let args = ["lr-find", s(&config), "--start", "1e-12", "--end", "1e-10", "--out", s(&dir)];
    let text = ok(&stepflow(&args));
    assert!(text.contains("\nthe loss never fell: no rate to suggest; "), "{text}");
    assert!(!text.contains("suggested learning rates") && !text.contains("valley"), "{text}");
    let (_, rows) = read_csv(&dir.join("lr_find.csv"));
    assert_eq!(rows.len(), 100);
    assert!(dir.join("lr_find.png").exists() && dir.join("lr_find.svg").exists());
    // A rate that does not drive training: `train --learning-rate auto` has nothing to train
    // with, and says so after writing the curve.
    let config = one_row_config(&dir, true);
    let run = dir.join("run");
    let o = stepflow(&["train", s(&config), "--learning-rate", "auto", "--out", s(&run)]);
    assert!(stdout(&o).contains("the loss never fell: no rate to suggest; "), "{}", stdout(&o));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("auto: the range test found no rate"), "{}", stderr(&o));
    assert!(run.join("lr_find.csv").exists());
}

#[test]
fn train_learning_rate_auto_trains_with_the_valley_and_records_the_test() {
    let dir = scratch("train-auto");
    let (out, tb) = (dir.join("run"), dir.join("tb"));
    let found = ok(&stepflow(&["lr-find", "graphs/digits_mlp.json", "--out", s(&dir)]));
    let valley = suggestions(&found)[0];
    let args =
        ["train", "graphs/digits_mlp.json", "--learning-rate", "auto", "--out", s(&out), "--tensorboard", s(&tb)];
    let text = ok(&stepflow(&args));
    // The same test as lr-find's default, then training at its valley.
    assert!(text.contains("suggested learning rates:\n  valley (default)"), "{text}");
    let chosen = number_after(&text, "learning rate auto: training with");
    assert_eq!(chosen, valley, "{text}");
    assert!(number_after(&text, "validation accuracy") >= 0.9, "{text}");
    let (_, steps) = read_csv(&out.join("steps.csv"));
    let fed: Vec<f64> = steps.iter().map(|r| r[3].parse().unwrap()).collect();
    assert!(fed.len() == 900 && fed.iter().all(|&r| r == fed[0]) && (fed[0] / valley - 1.0).abs() < 1e-3);
    // The curve beside the logs, the same as lr-find's.
    assert_eq!(read_csv(&out.join("lr_find.csv")), read_csv(&dir.join("lr_find.csv")));
    // TensorBoard: the test as a run of its own, the choice in the training run at step 0.
    let curve = scalars(&tb.join("lr_find"));
    assert!(curve.iter().any(|(t, s, _)| t == "smoothed_loss" && *s == 1), "{curve:?}");
    let training = scalars(&tb);
    let picked: Vec<_> = training.iter().filter(|(t, _, _)| t == "lr_find/chosen_learning_rate").collect();
    assert!(picked.len() == 1 && picked[0].1 == 0 && (f64::from(picked[0].2) / fed[0] - 1.0).abs() < 1e-6);
}

#[test]
fn learning_rate_takes_a_number_or_auto() {
    let o = stepflow(&["train", "graphs/digits_mlp.json", "--learning-rate", "fast"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(e.contains("invalid value 'fast' for '--learning-rate <RATE|auto>': expected a number or 'auto'"), "{e}");
    let dir = scratch("train-auto-resume");
    let args = ["train", "graphs/digits_mlp.json", "--learning-rate", "auto", "--resume", s(&dir)];
    let o = stepflow(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("auto cannot continue a run (--resume)"), "{}", stderr(&o));
}
