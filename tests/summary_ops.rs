//! TF1's summary ops in graphs, against TensorFlow's own (the goldens of
//! `tests/tensorboard/make_summary_ops_golden.py`): each op on fed inputs gives TF's serialized
//! `Summary` byte for byte, or fails where TF fails; and TF's linear regression graph with
//! `tf.compat.v1.summary.scalar`, `histogram` and `merge_all`, imported, gives TF's merged
//! summaries step after step, written with `FileWriter` and read back.

use prost::Message;
use serde_json::Value;
use stepflow::io::tf::TfGraph;
use stepflow::ops::summary::{HistogramSummary, ScalarSummary};
use stepflow::summary::proto::{Summary, event::What, summary::value::Value as Kind};
use stepflow::summary::{FileWriter, read_events};
use stepflow::{Graph, Session, Shape, Tensor};

fn golden() -> Value {
    serde_json::from_str(include_str!("tensorboard/summary_ops_golden.json")).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Runs a case's op on placeholders fed its inputs (which are in stepflow's tensor JSON form).
fn run_case(case: &Value) -> stepflow::Result<Tensor> {
    let mut g = Graph::new();
    let mut feeds = Vec::new();
    for input in case["inputs"].as_array().unwrap() {
        let t: Tensor = serde_json::from_value(input.clone()).unwrap();
        let p = g.placeholder(t.dtype(), Shape::unknown())?;
        feeds.push((p, t));
    }
    let inputs: Vec<_> = feeds.iter().map(|f| f.0).collect();
    let out = match case["op"].as_str().unwrap() {
        "ScalarSummary" => g.op("ScalarSummary", ScalarSummary {}, &inputs)?,
        "HistogramSummary" => g.op("HistogramSummary", HistogramSummary {}, &inputs)?,
        other => {
            assert_eq!(other, "MergeSummary");
            g.merge_summary(&inputs)?
        }
    };
    Ok(Session::new(g).run(&feeds, &[out], &[])?.remove(0))
}

#[test]
fn summary_ops_give_tensorflows_bytes_and_errors() {
    let file = golden();
    assert!(file["source"].as_str().unwrap().starts_with("tensorflow"));
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        match (run_case(case), case.get("summary_hex")) {
            (Ok(t), Some(want)) => assert_eq!(hex(&t.scalar_bytes().unwrap()), want.as_str().unwrap(), "{name}"),
            (Err(e), None) => {
                // TF's histogram errors name the node; stepflow's the tag, after the node's name.
                let want = case["error"].as_str().unwrap();
                let want = if want.contains("in Histogram for") || want.contains("in summary histogram") {
                    &want[..want.rfind(':').unwrap()]
                } else {
                    want
                };
                assert!(e.to_string().contains(want), "{name}: {e} does not say {want}");
            }
            (Ok(t), None) => panic!("{name}: TF fails ({}) but stepflow gives {t}", case["error"]),
            (Err(e), Some(_)) => panic!("{name}: stepflow fails: {e}"),
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-7
}

/// Tags in order, and each value close to TF's: the graph's float32 arithmetic may round
/// differently in the last bit.
#[track_caller]
fn assert_summary_close(ours: &Summary, tf: &Summary, step: i64) {
    let tags = |s: &Summary| s.value.iter().map(|v| v.tag.clone()).collect::<Vec<_>>();
    assert_eq!(tags(ours), tags(tf), "step {step}");
    for (o, t) in ours.value.iter().zip(&tf.value) {
        match (&o.value, &t.value) {
            (Some(Kind::SimpleValue(a)), Some(Kind::SimpleValue(b))) => {
                assert!(close(*a as f64, *b as f64), "step {step} {}: {a} vs TF {b}", o.tag)
            }
            (Some(Kind::Histo(a)), Some(Kind::Histo(b))) => {
                assert_eq!((a.num, &a.bucket), (b.num, &b.bucket), "step {step} {}", o.tag);
                for (x, y) in [(a.min, b.min), (a.max, b.max), (a.sum, b.sum), (a.sum_squares, b.sum_squares)] {
                    assert!(close(x, y), "step {step} {}: {x} vs TF {y}", o.tag);
                }
            }
            other => panic!("step {step} {}: kinds differ: {other:?}", o.tag),
        }
    }
}

#[test]
fn an_imported_tf_graph_writes_tensorflows_merged_summaries() {
    let r = golden()["regression"].clone();
    let text = include_str!("tensorboard/summary_graph.pbtxt");
    let g = Graph::from_tf(&TfGraph::parse(text.as_bytes(), "summary_graph.pbtxt").unwrap(), "summary_graph.pbtxt")
        .unwrap_or_else(|e| panic!("{e}"));
    let matrix = |v: &Value, cols: usize| {
        let flat: Vec<f32> = v
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().clone())
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        Tensor::from_vec(&[flat.len() / cols, cols], flat).unwrap()
    };
    let feeds = [("x:0", matrix(&r["x"], 3)), ("y:0", matrix(&r["y"], 1))];
    let s = Session::new(g);
    s.run_by_name(&[], &[], &[r["init"].as_str().unwrap()]).unwrap();
    let dir = std::env::temp_dir().join(format!("stepflow-summary-ops-{}", std::process::id()));
    let mut writer = FileWriter::new(&dir).unwrap();
    let steps = r["steps"].as_array().unwrap();
    for step in steps {
        let merged = s.run_by_name(&feeds, &[r["merged"].as_str().unwrap()], &[]).unwrap();
        writer.add_summary_tensor(&merged[0], step["step"].as_i64().unwrap()).unwrap();
        s.run_by_name(&feeds, &[], &[r["train"].as_str().unwrap()]).unwrap();
    }
    writer.flush().unwrap();
    let events = read_events(writer.path()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let written: Vec<(i64, Summary)> = events
        .into_iter()
        .filter_map(|e| match e.what {
            Some(What::Summary(s)) => Some((e.step, s)),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), steps.len());
    for ((step, ours), want) in written.iter().zip(steps) {
        assert_eq!(*step, want["step"].as_i64().unwrap());
        let tf = Summary::decode(unhex(want["summary_hex"].as_str().unwrap()).as_slice()).unwrap();
        // `summary.scalar("loss", loss)` beside the node `loss`: TF's scope, and tag, is `loss_1`.
        assert_eq!(tf.value.iter().map(|v| v.tag.as_str()).collect::<Vec<_>>(), ["loss_1", "weights", "predictions"]);
        assert_summary_close(ours, &tf, *step);
    }
    // Training moved the loss, so the steps are not one summary repeated.
    assert_ne!(written[0].1, written[steps.len() - 1].1);
}

#[test]
fn an_imported_meta_graph_keeps_its_summaries_collection() {
    let r = golden()["regression"].clone();
    let meta =
        stepflow::io::tf::TfMetaGraph::parse(include_bytes!("tensorboard/summary_graph.meta"), "summary_graph.meta")
            .unwrap();
    let mut g = Graph::from_tf_meta(&meta, "summary_graph.meta").unwrap();
    let names: Vec<&str> = g.collection(stepflow::graph::SUMMARIES).iter().map(|&n| g.node(n).name()).collect();
    assert_eq!(names, ["loss_1", "weights", "predictions"]);
    let merged = g.merge_all_summaries().unwrap().unwrap();
    let (x, y) = (g.output("x").unwrap(), g.output("y").unwrap());
    let s = Session::new(g);
    s.initialize().unwrap();
    let rows = |v: &Value| v.as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().clone()).collect::<Vec<_>>();
    let tensor = |v: &Value, cols: usize| {
        let flat: Vec<f32> = rows(v).iter().map(|x| x.as_f64().unwrap() as f32).collect();
        Tensor::from_vec(&[flat.len() / cols, cols], flat).unwrap()
    };
    let out = s.run(&[(x, tensor(&r["x"], 3)), (y, tensor(&r["y"], 1))], &[merged], &[]).unwrap();
    let ours = Summary::decode(out[0].scalar_bytes().unwrap().as_ref()).unwrap();
    let tf = Summary::decode(unhex(r["steps"][0]["summary_hex"].as_str().unwrap()).as_slice()).unwrap();
    assert_summary_close(&ours, &tf, 0);
}
