//! Export to TensorFlow's GraphDef and import back: for every graph file in `graphs/`, the
//! round-tripped graph (through each of TF's three GraphDef forms) runs bit-identically to the
//! original: the same variables after the same training runs, the same value at every node.

use stepflow::conformance::probe::Probe;
use stepflow::io::tf::{Form, TfGraph};
use stepflow::{DType, Graph, Tensor};

/// Every graph file of `graphs/`: stepflow's graph files, its training configs, TF's exports.
fn graph_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphs");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("tf")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "pbtxt" | "meta")) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// What the graph computes (see [`Probe`]), as bits.
fn behaviour(probe: &Probe, g: Graph) -> Vec<(String, Result<Vec<u64>, String>)> {
    let seen = probe.run(g).unwrap();
    seen.into_iter().map(|(name, r)| (name, r.map(|t| bits(&t)))).collect()
}

fn bits(t: &Tensor) -> Vec<u64> {
    let mut b: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
    b.extend(t.to_f64_vec().iter().map(|v| v.to_bits()));
    b
}

#[test]
fn every_graph_runs_the_same_after_export_and_import() {
    let files = graph_files();
    assert!(files.len() >= 14, "{files:?}");
    for path in files {
        let g = stepflow::fit::load_graph(&path).unwrap();
        let tf = g.to_tf().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let probe = Probe::new(&g);
        let want = behaviour(&probe, g);
        assert!(
            want.iter().any(|(_, r)| r.as_ref().is_ok_and(|b| !b.is_empty())),
            "{}: nothing computed",
            path.display()
        );
        for form in [Form::Binary, Form::Text, Form::Json] {
            let bytes = tf.encode(form).unwrap();
            let back = TfGraph::parse(&bytes, "export").unwrap();
            let g2 = Graph::from_tf(&back, "export").unwrap_or_else(|e| panic!("{} {form:?}: {e}", path.display()));
            let got = behaviour(&probe, g2);
            for ((n1, a), (n2, b)) in want.iter().zip(&got) {
                assert_eq!((n1, a), (n2, b), "{} {form:?}", path.display());
            }
            assert_eq!(want.len(), got.len(), "{} {form:?}", path.display());
        }
    }
}

#[test]
fn an_asserts_message_goes_out_as_tensorflows_string_constant_and_comes_back() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, stepflow::Shape::scalar()).unwrap();
    let c = g.constant(true).unwrap();
    g.assert(c, &[x], &["never"]).unwrap();
    let tf = g.to_tf().unwrap();
    let text = String::from_utf8(tf.encode(Form::Text).unwrap()).unwrap();
    assert!(text.contains("op: \"Assert\"") && text.contains("\"never\""), "{text}");
    let back = Graph::from_tf(&TfGraph::parse(text.as_bytes(), "t.pbtxt").unwrap(), "t.pbtxt").unwrap();
    let assert = back.node(back.node_id("Assert").unwrap());
    assert_eq!(assert.op().attrs()["message"], serde_json::json!(["never"]));
    assert_eq!(assert.inputs().len(), 2);
}

#[test]
fn tensorflows_training_graphs_run_the_same_after_export_and_import() {
    // TF's own graphs, functions (`If` branches, nested in piecewise_constant) included.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tf");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|e| e != "pbtxt") {
            continue;
        }
        let g = Graph::load(&path).unwrap();
        let tf = g.to_tf().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let probe = Probe::new(&g);
        let want = behaviour(&probe, g);
        let bytes = tf.encode(Form::Binary).unwrap();
        let back = Graph::from_tf(&TfGraph::parse(&bytes, "export").unwrap(), "export")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(want, behaviour(&probe, back), "{}", path.display());
        seen += usize::from(!tf.functions.is_empty());
    }
    assert!(seen >= 2, "cases with functions: {seen}");
}
