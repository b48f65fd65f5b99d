//! Graph files (and the graphs of training configs): every bundled graph round-trips and runs
//! exactly as before; malformed files are errors naming the node or the position, never panics.

use proptest::prelude::*;
use stepflow::fit::{TrainConfig, Trainer, load_graph};
use stepflow::{DType, Graph, NodeId, Output, Session, Tensor};

fn graph_files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/graphs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

/// A deterministic value for every placeholder (unknown dimensions become 2).
fn feeds(g: &Graph) -> Vec<(Output, Tensor)> {
    g.node_ids()
        .filter(|&id| g.node(id).op().op_type() == "Placeholder")
        .map(|id| {
            let spec = &g.node(id).outputs()[0];
            let dims: Vec<usize> = spec.shape.dims().unwrap_or(&[]).iter().map(|d| d.unwrap_or(2)).collect();
            let n: usize = dims.iter().product();
            let t = Tensor::from_vec(&dims, (0..n).map(|i| (i % 7) as f64 * 0.25 + 0.5).collect())
                .unwrap()
                .cast(spec.dtype);
            (id.into(), t)
        })
        .collect()
}

/// Five runs fetching every output that needs no missing feed and cannot be dead (a `tf.cond`'s
/// untaken side), with every sink as a target.
fn trace(g: Graph) -> Vec<Tensor> {
    let fed = feeds(&g);
    let sinks: Vec<NodeId> =
        g.node_ids().filter(|&id| g.consumers(id).next().is_none() && g.node(id).outputs().is_empty()).collect();
    let fetches: Vec<Output> = g
        .node_ids()
        .filter(|&id| g.node(id).op().op_type() != "Placeholder" || fed.iter().any(|(o, _)| o.node == id))
        .filter(|&id| !g.node(id).may_be_dead())
        .flat_map(|id| (0..g.node(id).outputs().len() as u32).map(move |slot| Output { node: id, slot }))
        .collect();
    let s = Session::new(g);
    s.initialize().unwrap();
    let mut out = Vec::new();
    for _ in 0..5 {
        out.extend(s.run(&fed, &fetches, &sinks).unwrap());
    }
    out
}

#[test]
fn every_bundled_graph_round_trips_and_runs_the_same() {
    let files = graph_files();
    assert!(files.len() >= 2);
    for path in files {
        let g = load_graph(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = g.to_json();
        let again = Graph::from_json(&text, "saved").unwrap();
        assert_eq!(again.to_json(), text, "{}: saving is stable", path.display());
        let (a, b) = (trace(g), trace(again));
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.bit_eq(y)), "{}: a reloaded graph runs differently", path.display());
    }
}

#[test]
fn a_built_graph_saved_and_loaded_runs_the_same() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float64, stepflow::Shape::partial(&[None, Some(3)])).unwrap();
    let w = g.variable("w", DType::Float64, &[3, 2], stepflow::Initializer::GlorotUniform { seed: 4 }).unwrap();
    let h = g.matmul(x, w).unwrap();
    let y = g.named("y", |g| g.softmax(h)).unwrap();
    let r = g.random_normal(&[2], DType::Float32, 9).unwrap();
    let _ = (y, r);
    let text = g.to_json();
    let again = Graph::from_json(&text, "saved").unwrap();
    let (a, b) = (trace(g), trace(again));
    assert!(a.iter().zip(&b).all(|(x, y)| x.bit_eq(y)));
}

fn load_err(text: &str) -> String {
    match Graph::from_json(text, "bad.json") {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

const C: &str = r#"{"name": "c", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": 1}}}"#;

#[test]
fn malformed_files_are_one_line_errors_naming_the_problem() {
    let cases = [
        (r#"{"version": 1, "nodes": [ {"name": "a",,}]}"#.to_string(), "line 1 column"),
        (r#"{"version": 2, "nodes": []}"#.to_string(), "unsupported version 2"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {{"name": "b", "op": "Frobnicate", "inputs": ["c"]}}]}}"#), "node 'b': unknown op 'Frobnicate'"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {{"name": "b", "op": "Square", "inputs": ["nowhere"]}}]}}"#), "node 'b': input 'nowhere'"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {C}]}}"#), "node 'c' (node #1): duplicate name"),
        (r#"{"version": 1, "nodes": [{"name": "a", "op": "Square", "inputs": ["b"]}, {"name": "b", "op": "Square", "inputs": ["a"]}]}"#.to_string(), "part of a cycle"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {{"name": "i", "op": "Const", "attrs": {{"value": {{"dtype": "int32", "data": 1}}}}}}, {{"name": "s", "op": "AddV2", "inputs": ["c", "i"]}}]}}"#), "node 's' (AddV2): input 1 must be float32, got int32"),
        (r#"{"version": 1, "nodes": [{"name": "a", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": [1, 2]}}}, {"name": "b", "op": "Const", "attrs": {"value": {"dtype": "float32", "data": [1, 2, 3]}}}, {"name": "s", "op": "AddV2", "inputs": ["a", "b"]}]}"#.to_string(), "node 's' (AddV2): incompatible shapes [2] and [3]"),
        (r#"{"version": 1, "nodes": [{"name": "v", "op": "Variable", "attrs": {"shape": [100000000, 100000000]}}]}"#.to_string(), "node 'v'"),
        (r#"{"version": 1, "nodes": [{"name": "c", "op": "Const", "attrs": {"value": {"dtype": "float32", "shape": [4000000000, 4000000000, 4000000000], "data": []}}}]}"#.to_string(), "too large"),
        (r#"{"version": 1, "nodes": [{"name": "p", "op": "Placeholder", "attrs": {"dtype": "float32", "colour": "red"}}]}"#.to_string(), "node 'p' (Placeholder): attrs: unknown field `colour`"),
        (r#"{"version": 1, "nodes": [{"name": "bad:name", "op": "NoOp"}]}"#.to_string(), "bad:name"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {{"name": "a", "op": "Assign", "inputs": ["c", "c"]}}]}}"#), "node 'a' (Assign): input 0 must be a variable, got 'c' (Const)"),
        (format!(r#"{{"version": 1, "nodes": [{C}, {{"name": "m", "op": "MatMul", "inputs": ["c", "c"]}}]}}"#), "node 'm' (MatMul): MatMul needs rank-2 inputs"),
        (r#"{"version": 1, "nodes": [], "variables": [{"name": "ghost"}]}"#.to_string(), "no node named 'ghost'"),
        (format!(r#"{{"version": 1, "nodes": [{C}], "variables": [{{"name": "c"}}]}}"#), "'c' is not a variable"),
        (r#"{"version": 1, "nodes": [{"name": "lr", "op": "exponential_decay", "inputs": [], "attrs": {}}]}"#.to_string(), "node 'lr'"),
    ];
    for (text, expected) in cases {
        let e = load_err(&text);
        assert!(e.contains(expected), "error '{e}' should contain '{expected}'");
        assert!(e.starts_with("bad.json: "), "error '{e}' should name the file");
        assert!(!e.contains('\n'), "one line: '{e}'");
    }
}

#[test]
fn absurd_variable_shapes_are_rejected_before_allocating() {
    let e = load_err(
        r#"{"version": 1, "nodes": [{"name": "v", "op": "Variable", "attrs": {"shape": [65536, 65536, 65536]}}]}"#,
    );
    assert!(e.contains("too large"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any mangling of a valid file gives Ok or Err, never a panic.
    #[test]
    fn mangled_files_never_panic(file in 0usize..64, cuts in prop::collection::vec((0usize..4000, 0usize..40, ".{0,3}"), 1..4)) {
        let files = graph_files();
        let mut text = std::fs::read_to_string(&files[file % files.len()]).unwrap();
        for (at, len, with) in cuts {
            let at = at % (text.len() + 1);
            let end = (at + len).min(text.len());
            if text.is_char_boundary(at) && text.is_char_boundary(end) {
                text.replace_range(at..end, &with);
            }
        }
        if let Ok(g) = Graph::from_json(&text, "mangled") {
            // What loads must also run or fail cleanly.
            let s = Session::new(g);
            let _ = s.initialize();
        }
        if let Ok(c) = TrainConfig::from_json(&text, "mangled") {
            // A mangled training config trains a few steps or fails cleanly.
            if let Ok(mut t) = Trainer::new(c, std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/graphs")), "mangled") {
                for _ in 0..3 {
                    let _ = t.step();
                }
            }
        }
    }
}
