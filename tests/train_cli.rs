//! End-to-end tests of `stepflow train`: the README's main job, plateau reductions (in the loop
//! and in the graph), plots, resuming bit-identically, Ctrl-C, and a process killed while saving.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stepflow::checkpoint;

#[test]
fn the_main_job_trains_digits_to_95_percent_and_writes_its_logs_and_plots() {
    let dir = scratch("main-job");
    let (out, plots) = (dir.join("run"), dir.join("plots"));
    let o = stepflow(&["train", "graphs/digits_mlp.json", "--out", s(&out), "--plot", s(&plots)]);
    let text = ok(&o);
    let accuracy = number_after(&text, "validation accuracy");
    assert!(accuracy >= 0.95, "validation accuracy {accuracy}\n{text}");
    assert!(text.contains("epoch 20/20"), "{text}");
    assert!(number_after(&text, "(") > 0.0, "steps per second in: {text}");
    // One row per step, one per epoch; the logged learning rate follows the staircase schedule.
    let (header, rows) = read_csv(&out.join("steps.csv"));
    assert_eq!(header, ["step", "epoch", "loss", "learning_rate", "global_step"]);
    assert_eq!(rows.len(), 900);
    let lr = |r: &Vec<String>| r[3].parse::<f32>().unwrap();
    assert_eq!((lr(&rows[0]), lr(&rows[224]), lr(&rows[225])), (0.003, 0.003, (0.003f64 * 0.7) as f32));
    let (eh, epochs) = read_csv(&out.join("epochs.csv"));
    assert_eq!(eh, ["epoch", "step", "train_loss", "val_loss", "val_accuracy", "learning_rate", "reduced"]);
    assert_eq!(epochs.len(), 20);
    let last: f64 = epochs[19][4].parse().unwrap();
    assert!((last - accuracy).abs() < 1e-3);
    for name in ["loss", "learning_rate"] {
        assert_eq!(png_size(&plots.join(format!("{name}.png"))), (960, 600));
        let (w, h, lines) = svg_size(&plots.join(format!("{name}.svg")));
        assert!((w, h) == (960, 600) && lines > 0);
    }
}

#[test]
fn a_plateau_controller_reduces_the_fed_rate_and_says_so() {
    let dir = scratch("plateau-loop");
    let o = stepflow(&["train", "graphs/digits_plateau.json", "--out", s(&dir)]);
    let text = ok(&o);
    let reductions = text.lines().filter(|l| l.contains("(plateau: learning rate reduced)")).count();
    assert!(reductions >= 2, "{text}");
    let (_, epochs) = read_csv(&dir.join("epochs.csv"));
    let flagged: Vec<f64> = epochs.iter().filter(|r| r[6] == "1").map(|r| r[5].parse().unwrap()).collect();
    assert_eq!(flagged.len(), reductions);
    // Each reduction halves the rate (factor 0.5), starting from 0.05.
    for (i, lr) in flagged.iter().enumerate() {
        assert!((lr - 0.05 * 0.5f64.powi(i as i32 + 1)).abs() < 1e-12, "{flagged:?}");
    }
    // The rate fed at each step is the controller's.
    let (_, steps) = read_csv(&dir.join("steps.csv"));
    assert_eq!(steps.last().unwrap()[3].parse::<f32>().unwrap(), flagged[flagged.len() - 2] as f32);
    assert!(number_after(&text, "validation accuracy") >= 0.95);
}

/// A linear-regression config on a small generated data set, with the rate from an in-graph
/// `reduce_lr_on_plateau` fed the validation loss after each epoch.
fn in_graph_plateau_config(dir: &Path) -> PathBuf {
    let mut csv = String::from("a,b,c,y\n");
    for i in 0..200 {
        let (a, b, c) = ((i % 7) as f64 - 3.0, ((i * 3) % 11) as f64 / 5.0, ((i * 7) % 5) as f64);
        let noise = ((i as f64) * 12.9898).sin() * 0.3;
        csv.push_str(&format!("{a},{b},{c},{}\n", 2.0 * a - b + 0.5 * c + 1.0 + noise));
    }
    std::fs::write(dir.join("linear.csv"), csv).unwrap();
    let config = r#"{
      "format": "stepflow.train", "version": 1,
      "graph": {"format": "stepflow.graph", "version": 1, "nodes": [
        {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 3]}},
        {"name": "y", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 1]}},
        {"name": "val_loss", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": []}},
        {"name": "w", "op": "Variable", "attrs": {"shape": [3, 1]}},
        {"name": "b", "op": "Variable", "attrs": {"shape": []}},
        {"name": "xw", "op": "MatMul", "inputs": ["x", "w"]},
        {"name": "prediction", "op": "AddV2", "inputs": ["xw", "b"]},
        {"name": "error", "op": "Sub", "inputs": ["prediction", "y"]},
        {"name": "squared", "op": "Square", "inputs": ["error"]},
        {"name": "loss", "op": "reduce_mean", "inputs": ["squared"]},
        {"name": "global_step", "op": "global_step"},
        {"name": "plateau", "op": "reduce_lr_on_plateau", "inputs": ["val_loss"], "attrs": {"learning_rate": 0.05, "patience": 1, "factor": 0.5}},
        {"name": "train", "op": "minimize", "inputs": ["loss", "plateau", "global_step"], "attrs": {"optimizer": "gradient_descent"}}
      ]},
      "train": "train", "loss": "loss", "learning_rate": "plateau",
      "data": {"csv": "linear.csv", "inputs": {"x": {"columns": ["a", "b", "c"]}, "y": {"column": "y"}}, "seed": 3},
      "batch_size": 16, "epochs": 25,
      "plateau": {"monitor": "loss", "reducer": "plateau", "metric": "val_loss"}
    }"#;
    let path = dir.join("linear.json");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn an_in_graph_plateau_reducer_is_fed_the_validation_loss_and_checkpointed() {
    let dir = scratch("plateau-graph");
    let config = in_graph_plateau_config(&dir);
    let (full, part) = (dir.join("full"), dir.join("part"));
    let text = ok(&stepflow(&["train", s(&config), "--out", s(&full), "--checkpoint-dir", s(&full)]));
    let (header, epochs) = read_csv(&full.join("epochs.csv"));
    assert_eq!(header, ["epoch", "step", "train_loss", "val_loss", "learning_rate", "reduced"]);
    let reduced: Vec<&Vec<String>> = epochs.iter().filter(|r| r[5] == "1").collect();
    assert!(!reduced.is_empty(), "no reduction in:\n{text}");
    let rates: Vec<f64> = epochs.iter().map(|r| r[4].parse().unwrap()).collect();
    assert!(rates.windows(2).all(|w| w[1] <= w[0]) && rates[24] < 0.05);
    assert!(number_after(&text, "validation loss") < 0.2, "{text}");
    // The reducer's state lives in variables: stopping after epoch 10 and resuming gives the same
    // end state as one run.
    let steps_per_epoch = 10; // 160 training rows in batches of 16
    ok(&stepflow(&[
        "train",
        s(&config),
        "--out",
        s(&part),
        "--checkpoint-dir",
        s(&part),
        "--max-steps",
        &(10 * steps_per_epoch).to_string(),
    ]));
    ok(&stepflow(&["train", s(&config), "--out", s(&part), "--resume", s(&part)]));
    assert_same_checkpoint(&full, &part);
    assert_eq!(std::fs::read(full.join("epochs.csv")).unwrap(), std::fs::read(part.join("epochs.csv")).unwrap());
}

/// The latest checkpoints of two directories hold the same bytes.
fn assert_same_checkpoint(a: &Path, b: &Path) {
    let (ia, ib) = (checkpoint::read_index(a).unwrap(), checkpoint::read_index(b).unwrap());
    assert_eq!((ia.step, &ia.latest), (ib.step, &ib.latest));
    let (ta, tb) = (std::fs::read(a.join(&ia.latest)).unwrap(), std::fs::read(b.join(&ib.latest)).unwrap());
    assert!(ta == tb, "checkpoints of step {} differ", ia.step);
}

#[test]
fn n_steps_then_a_resumed_process_equals_one_run_bit_for_bit() {
    let dir = scratch("resume");
    let (one, two) = (dir.join("one"), dir.join("two"));
    // The plateau config: its controller's state (rate, best, counters) must survive too.
    let cfg = "graphs/digits_plateau.json";
    ok(&stepflow(&["train", cfg, "--out", s(&one), "--checkpoint-dir", s(&one), "--max-steps", "700"]));
    let first = ok(&stepflow(&[
        "train",
        cfg,
        "--out",
        s(&two),
        "--checkpoint-dir",
        s(&two),
        "--save-every",
        "100",
        "--max-steps",
        "250",
    ]));
    assert!(first.contains("now at step 250 of 1350"), "{first}");
    assert_eq!(checkpoint::read_index(&two).unwrap().step, 250);
    let second = ok(&stepflow(&["train", cfg, "--out", s(&two), "--resume", s(&two), "--max-steps", "700"]));
    assert!(second.starts_with("resumed from") && second.contains("trained 450 steps"), "{second}");
    assert_same_checkpoint(&one, &two);
    for log in ["steps.csv", "epochs.csv"] {
        assert!(std::fs::read(one.join(log)).unwrap() == std::fs::read(two.join(log)).unwrap(), "{log} differs");
    }
    // Only the latest checkpoint file is kept.
    let files: Vec<_> = std::fs::read_dir(&two).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(files.iter().filter(|f| f.to_string_lossy().ends_with(".safetensors")).count(), 1, "{files:?}");
}

/// A copy of the digits config that trains for a very long time, with an extra 16 MB variable
/// so that saving a checkpoint takes a while.
fn long_config(dir: &Path, ballast: bool) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(ROOT).join("graphs/digits_mlp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["data"]["csv"] = serde_json::json!(Path::new(ROOT).join("data/digits.csv"));
    v["epochs"] = serde_json::Value::Null;
    v["steps"] = serde_json::json!(100_000_000u64);
    if ballast {
        let node = serde_json::json!({"name": "ballast", "op": "Variable", "attrs": {"shape": [4096, 1024], "trainable": false, "initializer": "ones"}});
        v["graph"]["nodes"].as_array_mut().unwrap().push(node);
    }
    let path = dir.join("long.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    path
}

/// Resumes `config` from `ckpt` until step `until`; returns what it printed.
fn resume_until(config: &Path, out: &Path, ckpt: &Path, until: u64) -> String {
    let until = until.to_string();
    ok(&stepflow(&["train", s(config), "--out", s(out), "--resume", s(ckpt), "--max-steps", &until]))
}

fn wait_for(path: &Path, min_bytes: u64) {
    let start = Instant::now();
    while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) < min_bytes {
        assert!(start.elapsed() < Duration::from_secs(60), "{} never grew", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_stops_after_the_current_step_and_saves_a_checkpoint() {
    let dir = scratch("ctrl-c");
    let config = long_config(&dir, false);
    let (out, ckpt) = (dir.join("out"), dir.join("ckpt"));
    let child = Command::new(env!("CARGO_BIN_EXE_stepflow"))
        .args(["train", s(&config), "--out", s(&out), "--checkpoint-dir", s(&ckpt)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&out.join("epochs.csv"), 200);
    let kill = Command::new("sh").args(["-c", &format!("kill -INT {}", child.id())]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let text = stdout(&o);
    let step = number_after(&text, "interrupted at step") as u64;
    assert!(text.contains("--resume"), "{text}");
    assert_eq!(checkpoint::read_index(&ckpt).unwrap().step, step);
    let (_, rows) = read_csv(&out.join("steps.csv"));
    assert_eq!(rows.last().unwrap()[0], step.to_string(), "every step taken is logged");
    let resumed = resume_until(&config, &out, &ckpt, step + 5);
    assert!(resumed.contains(&format!("resumed from {} at step {step}", ckpt.display())), "{resumed}");
}

#[test]
fn a_process_killed_while_saving_leaves_a_checkpoint_that_resumes() {
    let dir = scratch("kill");
    let config = long_config(&dir, true);
    let (out, ckpt) = (dir.join("out"), dir.join("ckpt"));
    // Kill at varied moments until three kills have landed inside a save (a temporary file is
    // left behind); most of the process's time is spent saving, so that takes a few tries.
    let mut hit_mid_save = 0;
    for attempt in 0..40u64 {
        if hit_mid_save >= 3 {
            break;
        }
        let resume = ckpt.join("checkpoint.json").exists();
        let mut child = Command::new(env!("CARGO_BIN_EXE_stepflow"))
            .args(["train", s(&config), "--out", s(&out), "--checkpoint-dir", s(&ckpt), "--save-every", "1"])
            .args(if resume { vec!["--resume", s(&ckpt)] } else { vec![] })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&ckpt.join("checkpoint.json"), 1);
        std::thread::sleep(Duration::from_millis(20 + attempt * 37 % 180));
        child.kill().unwrap(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
        let names: Vec<String> =
            std::fs::read_dir(&ckpt).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        hit_mid_save += usize::from(names.iter().any(|n| n.starts_with('.')));
        // Whatever the moment of the kill, the index names a complete checkpoint.
        let index = checkpoint::read_index(&ckpt).unwrap();
        let text = resume_until(&config, &out, &ckpt, index.step + 2);
        assert!(text.contains(&format!("at step {}", index.step)), "{text}");
    }
    assert!(hit_mid_save > 0, "no kill landed inside a save");
    // Saving again clears what the killed saves left behind.
    let names: Vec<String> =
        std::fs::read_dir(&ckpt).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}
