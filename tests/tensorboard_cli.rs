//! End-to-end tests of `--tensorboard`: what `stepflow train` and `stepflow lr-find` write, read
//! back with the checking reader (every record's CRCs, every event decoded): the tags and counts
//! of the scalars, the graph, the histograms, and a resumed run continuing the steps.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use stepflow::io::tf::TfGraph;
use stepflow::summary::proto::{Event, HistogramProto, event::What, session_log::SessionStatus, summary::value::Value};
use stepflow::summary::{FILE_VERSION, event_files, read_events};

/// The events of the one event file in `dir`.
fn only_file(dir: &Path) -> Vec<Event> {
    let files = event_files(dir).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    read_events(&files[0]).unwrap()
}

/// Per tag: the steps and values of the scalars.
fn scalars(events: &[Event]) -> BTreeMap<String, Vec<(i64, f32)>> {
    let mut out: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    for e in events {
        if let Some(What::Summary(s)) = &e.what {
            for v in &s.value {
                if let Some(Value::SimpleValue(x)) = v.value {
                    out.entry(v.tag.clone()).or_default().push((e.step, x));
                }
            }
        }
    }
    out
}

/// Per tag: the steps and histograms.
fn histograms(events: &[Event]) -> BTreeMap<String, Vec<(i64, HistogramProto)>> {
    let mut out: BTreeMap<String, Vec<(i64, HistogramProto)>> = BTreeMap::new();
    for e in events {
        if let Some(What::Summary(s)) = &e.what {
            for v in &s.value {
                if let Some(Value::Histo(h)) = &v.value {
                    out.entry(v.tag.clone()).or_default().push((e.step, h.clone()));
                }
            }
        }
    }
    out
}

fn steps<T>(v: &[(i64, T)]) -> Vec<i64> {
    v.iter().map(|(s, _)| *s).collect()
}

#[test]
fn train_writes_scalars_the_graph_and_histograms_that_match_its_csv_logs() {
    let dir = scratch("tb-train");
    let (out, tb) = (dir.join("run"), dir.join("tb"));
    ok(&stepflow(&["train", "graphs/digits_mlp.json", "--out", s(&out), "--tensorboard", s(&tb)]));
    let events = only_file(&tb);
    assert!(matches!(&events[0].what, Some(What::FileVersion(v)) if v == FILE_VERSION));
    assert!(events.iter().all(|e| e.wall_time > 1.5e9));
    // Scalars: every step's columns of steps.csv, every epoch's validation values of epochs.csv.
    let sc = scalars(&events);
    let tags: Vec<&str> = sc.keys().map(String::as_str).collect();
    assert_eq!(tags, ["global_step", "learning_rate", "loss", "val_accuracy", "val_loss"]);
    let (header, rows) = read_csv(&out.join("steps.csv"));
    for (column, name) in header.iter().enumerate().skip(2) {
        assert_eq!(steps(&sc[name]), (1..=900).collect::<Vec<_>>(), "{name}");
        for (row, (_, v)) in rows.iter().zip(&sc[name]) {
            assert_eq!(*v, row[column].parse::<f64>().unwrap() as f32, "{name} at step {}", row[0]);
        }
    }
    let (_, epochs) = read_csv(&out.join("epochs.csv"));
    for (name, column) in [("val_loss", 3), ("val_accuracy", 4)] {
        let expected: Vec<(i64, f32)> =
            epochs.iter().map(|r| (r[1].parse().unwrap(), r[column].parse::<f64>().unwrap() as f32)).collect();
        assert_eq!(sc[name], expected, "{name}");
    }
    // The graph, once: the GraphDef of the export, with the model's nodes and no added gradients.
    let graphs: Vec<&Vec<u8>> =
        events.iter().filter_map(|e| if let Some(What::GraphDef(g)) = &e.what { Some(g) } else { None }).collect();
    assert_eq!(graphs.len(), 1);
    let graph = TfGraph::parse(graphs[0], "graph_def").unwrap();
    assert!(graph.nodes.iter().any(|n| n.name == "hidden/MatMul" && n.op == "MatMul"));
    assert!(!graph.nodes.iter().any(|n| n.name.starts_with("watched")));
    // Histograms once per epoch (45 steps) of each variable and its gradient.
    let hi = histograms(&events);
    let names = ["hidden/b", "hidden/w", "logits/b", "logits/w"];
    let expected: Vec<String> = names.iter().flat_map(|n| [n.to_string(), format!("{n}/gradient")]).collect();
    assert_eq!(hi.keys().cloned().collect::<Vec<_>>(), expected);
    for (tag, hs) in &hi {
        assert_eq!(steps(hs), (1..=20).map(|e| e * 45).collect::<Vec<_>>(), "{tag}");
        let size = if tag.starts_with("hidden/w") { 64 * 128 } else { 0 };
        if size > 0 {
            assert!(hs.iter().all(|(_, h)| h.num == size as f64), "{tag}");
        }
        assert!(hs.iter().all(|(_, h)| h.bucket.iter().sum::<f64>() == h.num && h.min <= h.max), "{tag}");
    }
    // The biases start at zero and are trained, so their histograms change.
    assert_ne!(hi["hidden/b"][0].1, hi["hidden/b"][19].1);
}

#[test]
fn histogram_every_sets_the_histogram_steps_and_zero_turns_them_off() {
    let dir = scratch("tb-every");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let args = ["train", "graphs/digits_mlp.json", "--max-steps", "250", "--out"];
    ok(&stepflow(&[&args[..], &[s(&dir.join("o1")), "--tensorboard", s(&a), "--histogram-every", "100"]].concat()));
    let hi = histograms(&only_file(&a));
    assert_eq!(hi.len(), 8);
    assert!(hi.values().all(|h| steps(h) == [100, 200]));
    ok(&stepflow(&[&args[..], &[s(&dir.join("o2")), "--tensorboard", s(&b), "--histogram-every", "0"]].concat()));
    let events = only_file(&b);
    assert!(histograms(&events).is_empty());
    assert_eq!(scalars(&events)["loss"].len(), 250);
}

#[test]
fn a_resumed_run_continues_the_steps_in_a_second_file_that_supersedes_the_first_past_the_checkpoint() {
    let dir = scratch("tb-resume");
    let (out, ckpt, tb) = (dir.join("run"), dir.join("ckpt"), dir.join("tb"));
    let cfg = "graphs/digits_mlp.json";
    let common = ["--out", s(&out), "--tensorboard", s(&tb)];
    ok(&stepflow(&[&["train", cfg, "--checkpoint-dir", s(&ckpt), "--max-steps", "300"], &common[..]].concat()));
    ok(&stepflow(&[&["train", cfg, "--resume", s(&ckpt)], &common[..]].concat()));
    let files = event_files(&tb).unwrap();
    assert_eq!(files.len(), 2);
    let (first, second) = (read_events(&files[0]).unwrap(), read_events(&files[1]).unwrap());
    assert_eq!(steps(&scalars(&first)["loss"]), (1..=300).collect::<Vec<_>>());
    assert_eq!(steps(&scalars(&second)["loss"]), (301..=900).collect::<Vec<_>>());
    assert_eq!(steps(&scalars(&second)["val_loss"]), (7..=20).map(|e| e * 45).collect::<Vec<_>>());
    // Each file starts its session at its first step, which TensorBoard purges older events from.
    let start = |events: &[Event]| {
        events.iter().find_map(|e| match &e.what {
            Some(What::SessionLog(l)) if l.status == SessionStatus::Start as i32 => Some(e.step),
            _ => None,
        })
    };
    assert_eq!((start(&first), start(&second)), (Some(1), Some(301)));
    // The resumed run's losses are the uninterrupted run's (training resumes bit-identically).
    let whole = dir.join("whole");
    ok(&stepflow(&["train", cfg, "--out", s(&dir.join("o")), "--tensorboard", s(&whole)]));
    assert_eq!(scalars(&only_file(&whole))["loss"][300..], scalars(&second)["loss"][..]);
}

#[test]
fn lr_find_writes_the_loss_and_the_rate_against_the_test_step() {
    let dir = scratch("tb-lr-find");
    let tb = dir.join("tb");
    let text = ok(&stepflow(&["lr-find", "graphs/digits_mlp.json", "--out", s(&dir), "--tensorboard", s(&tb)]));
    assert!(text.contains("tfevents"), "{text}");
    let (_, rows) = read_csv(&dir.join("lr_find.csv"));
    let sc = scalars(&only_file(&tb));
    let rules = ["minimum_over_10", "slide", "steepest", "valley"].map(|r| format!("suggested_learning_rate/{r}"));
    let mut tags = vec!["learning_rate".to_string(), "loss".into(), "smoothed_loss".into()];
    tags.extend(rules.iter().cloned());
    assert_eq!(sc.keys().cloned().collect::<Vec<_>>(), tags);
    // Each suggestion once, at step 0, as printed.
    let valley = number_after(&text, "valley (default)");
    let [(step, logged)] = sc["suggested_learning_rate/valley"][..] else { panic!("{sc:?}") };
    assert!(step == 0 && (f64::from(logged) / valley - 1.0).abs() < 1e-3, "{logged} {valley}");
    for (name, column) in [("learning_rate", 1), ("loss", 2), ("smoothed_loss", 3)] {
        let expected: Vec<(i64, f32)> =
            rows.iter().map(|r| (r[0].parse().unwrap(), r[column].parse::<f64>().unwrap() as f32)).collect();
        assert_eq!(sc[name], expected, "{name}");
    }
}

#[test]
fn a_damaged_event_file_is_an_error_naming_it() {
    let dir = scratch("tb-damaged");
    let tb = dir.join("tb");
    ok(&stepflow(&["train", "graphs/digits_mlp.json", "--max-steps", "5", "--out", s(&dir), "--tensorboard", s(&tb)]));
    let path = event_files(&tb).unwrap().remove(0);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let e = read_events(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: record at byte ", path.display())) && e.contains("CRC"), "{e}");
}
