//! The `stepflow` command on graphs exported by TensorFlow (graphs/tf): trained from a config,
//! range-tested, plotted and inspected, in the text and MetaGraphDef forms.

mod common;

use common::*;

#[test]
fn a_tf_graph_trains_from_its_config() {
    let dir = scratch("tf-train");
    let text = ok(&stepflow(&["train", "graphs/tf/digits_softmax.train.json", "--out", s(&dir)]));
    let accuracy = number_after(&text, "validation accuracy");
    assert!(accuracy >= 0.9, "validation accuracy {accuracy}\n{text}");
    assert!(text.contains("lr 0.1"), "{text}");
}

#[test]
fn the_range_test_feeds_the_tf_schedule_output() {
    let dir = scratch("tf-lr-find");
    let text = ok(&stepflow(&["lr-find", "graphs/tf/digits_softmax.train.json", "--out", s(&dir)]));
    assert!(text.contains("suggested learning rates"), "{text}");
    assert!(dir.join("lr_find.csv").exists());
}

#[test]
fn run_and_plot_take_tf_files_and_tf_tensor_names() {
    for file in ["graphs/tf/digits_softmax.pbtxt", "graphs/tf/digits_softmax.meta"] {
        // Any tensor can be fed, as in TF: here the schedule's read of the (resource) global_step.
        let step = "ExponentialDecay/Cast_2/ReadVariableOp:0=250000";
        let o = stepflow(&["run", file, "--fetch", "learning_rate:0", "--feed", step]);
        // exponential_decay(0.1, 250000, 100000, 0.96, staircase=True) = 0.1 · 0.96²
        let v = number_after(&ok(&o), "learning_rate:0=");
        assert!((v - 0.09216).abs() < 1e-6, "{file}: {v}");
    }
    let dir = scratch("tf-plot");
    let png = dir.join("schedule.png");
    ok(&stepflow(&[
        "plot-schedule",
        "graphs/tf/digits_softmax.pbtxt",
        "--fetch",
        "learning_rate",
        "--steps",
        "300000",
        "-o",
        s(&png),
    ]));
    assert!(png_size(&png).0 > 0);
    let listing = ok(&stepflow(&["inspect", "graphs/tf/digits_softmax.meta"]));
    assert!(listing.contains("ResourceApplyGradientDescent"), "{listing}");
}

#[test]
fn export_writes_each_form_and_the_export_runs() {
    let dir = scratch("tf-export");
    for name in ["model.pb", "model.pbtxt", "model.json"] {
        let out = dir.join(name);
        ok(&stepflow(&["export", "graphs/exponential_decay.json", "-o", s(&out)]));
        // The exported schedule runs as the original: 0.1 · 0.96^floor(250000 / 100000).
        let o = stepflow(&["run", s(&out), "--fetch", "learning_rate", "--feed", "global_step=250000"]);
        let v = number_after(&ok(&o), "learning_rate=");
        assert!((v - 0.09216).abs() < 1e-6, "{name}: {v}");
    }
    let e = stepflow(&["export", "graphs/exponential_decay.json", "-o", s(&dir.join("model.txt"))]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert!(!e.status.success() && err.contains("--output") && err.lines().count() == 1, "{err}");
}
