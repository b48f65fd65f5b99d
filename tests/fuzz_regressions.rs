//! Failures found by fuzzing (the op fuzzer of `tests/op_fuzz.rs` and reports of hostile graph
//! files), each pinned as the smallest graph that showed it: a panic, a hang or a wrong spec
//! became a one-line error naming the node and op, or TensorFlow's result.

use serde_json::{Value, json};
use stepflow::{Graph, RunOptions, Session, Tensor};

/// A graph from its nodes, as a graph file would hold them.
fn graph(nodes: Value) -> stepflow::Result<Graph> {
    Graph::from_json(&json!({"version": 1, "nodes": nodes}).to_string(), "case")
}

/// Builds the graph and fetches `fetch` with the feeds, checking every kernel's outputs against
/// their specs.
fn run(nodes: Value, feeds: &[(&str, Tensor)], fetch: &str) -> stepflow::Result<Tensor> {
    let s = Session::new(graph(nodes)?);
    let feeds: Vec<_> =
        feeds.iter().map(|(n, t)| Ok((s.graph().output(n)?, t.clone()))).collect::<stepflow::Result<_>>()?;
    let fetch = s.graph().output(fetch)?;
    let options = RunOptions { check_outputs: true, ..RunOptions::default() };
    Ok(s.run_with(options, &feeds, &[fetch], &[])?.remove(0))
}

fn placeholder(name: &str, dtype: &str, shape: Value) -> Value {
    json!({"name": name, "op": "Placeholder", "attrs": {"dtype": dtype, "shape": shape}})
}

fn constant(name: &str, value: Value) -> Value {
    json!({"name": name, "op": "Const", "attrs": {"value": value}})
}

fn node(name: &str, op: &str, inputs: &[&str]) -> Value {
    json!({"name": name, "op": op, "inputs": inputs})
}

/// The error's text, which must be one line.
fn message<T: std::fmt::Debug>(r: stepflow::Result<T>) -> String {
    let msg = r.expect_err("an error").to_string();
    assert!(!msg.contains('\n'), "{msg}");
    msg
}

#[test]
fn softmax_without_inputs_is_an_arity_error() {
    for op in ["Softmax", "LogSoftmax"] {
        let msg = message(graph(json!([{"name": "s", "op": op}])));
        assert!(msg.ends_with(&format!("node 's' ({op}): expects 1 inputs, got 0")), "{msg}");
    }
}

#[test]
fn slice_with_begin_and_size_of_other_lengths_than_the_rank_is_an_error() {
    let nodes = |begin: Value, size: Value| {
        json!([
            placeholder("x", "float32", json!([2, 3])),
            constant("b", begin),
            constant("n", size),
            node("s", "Slice", &["x", "b", "n"])
        ])
    };
    let msg = message(graph(nodes(json!({"dtype": "int32", "data": [0]}), json!({"dtype": "int32", "data": [1, 2]}))));
    assert!(msg.contains("node 's' (Slice): begin [0] and size [1, 2] must each have one entry per axis"), "{msg}");
    let msg = message(graph(nodes(
        json!({"dtype": "int64", "data": [i64::MAX, 0]}),
        json!({"dtype": "int64", "data": [i64::MAX, 1]}),
    )));
    assert!(msg.contains("node 's' (Slice): slice begin") && msg.contains("out of bounds"), "{msg}");
}

#[test]
fn slice_of_a_fed_begin_too_long_for_the_input_is_an_error() {
    let nodes = json!([
        placeholder("x", "float32", json!(null)),
        placeholder("b", "int32", json!(null)),
        constant("n", json!({"dtype": "int32", "data": [1, 2]})),
        node("s", "Slice", &["x", "b", "n"]),
    ]);
    let x = Tensor::from_vec(&[2, 3], vec![0f32; 6]).unwrap();
    let msg = message(run(nodes, &[("x", x), ("b", Tensor::from_vec(&[1], vec![0i32]).unwrap())], "s"));
    assert!(msg.contains("node 's' (Slice)"), "{msg}");
}

/// TF's integer FloorDiv wraps `MIN / -1` to `MIN` (its kernel divides in two's complement), and
/// FloorMod gives 0.
#[test]
fn floor_div_of_the_smallest_integer_by_minus_one_wraps_as_in_tf() {
    for (dtype, min) in [("int32", i32::MIN as i64), ("int64", i64::MIN)] {
        let nodes = json!([
            placeholder("a", dtype, json!([1])),
            placeholder("b", dtype, json!([1])),
            node("q", "FloorDiv", &["a", "b"]),
            node("r", "FloorMod", &["a", "b"]),
        ]);
        let feed = |v: i64| match dtype {
            "int32" => Tensor::from_vec(&[1], vec![v as i32]).unwrap(),
            _ => Tensor::from_vec(&[1], vec![v]).unwrap(),
        };
        let feeds = [("a", feed(min)), ("b", feed(-1))];
        assert_eq!(run(nodes.clone(), &feeds, "q").unwrap().to_i64_vec().unwrap(), vec![min], "{dtype}");
        assert_eq!(run(nodes, &feeds, "r").unwrap().to_i64_vec().unwrap(), vec![0], "{dtype}");
    }
}

#[test]
fn broadcast_to_a_huge_or_negative_constant_shape_is_an_error() {
    let cases = [
        json!({"dtype": "int64", "shape": [1, 3], "data": [i64::MAX, 0, -1]}),
        json!({"dtype": "int64", "data": [i64::MAX, 0, -1]}),
        json!({"dtype": "int64", "data": [i64::MAX, 0, 2]}),
        json!({"dtype": "int64", "data": [-1]}),
    ];
    for shape in cases {
        let nodes = json!([
            constant("x", json!({"dtype": "int64", "data": 7})),
            constant("shape", shape.clone()),
            node("b", "BroadcastTo", &["x", "shape"]),
        ]);
        let msg = message(graph(nodes));
        assert!(msg.contains("node 'b' (BroadcastTo)"), "{shape}: {msg}");
    }
}

#[test]
fn broadcast_to_a_fed_shape_checks_it_at_run_time() {
    let nodes = json!([
        placeholder("x", "float32", json!([1, 1])),
        placeholder("shape", "int64", json!([null])),
        node("b", "BroadcastTo", &["x", "shape"]),
    ]);
    let x = || Tensor::from_vec(&[1, 1], vec![2.5f32]).unwrap();
    for bad in [vec![0, i64::MAX, i64::MAX], vec![4, -1], vec![1 << 40, 1 << 40]] {
        let shape = Tensor::from_vec(&[bad.len()], bad.clone()).unwrap();
        let msg = message(run(nodes.clone(), &[("x", x()), ("shape", shape)], "b"));
        assert!(msg.contains("node 'b' (BroadcastTo)"), "{bad:?}: {msg}");
    }
    let shape = Tensor::from_vec(&[2], vec![2i64, 3]).unwrap();
    let y = run(nodes, &[("x", x()), ("shape", shape)], "b").unwrap();
    assert_eq!((y.shape(), y.to_f64_vec()), (&[2, 3][..], vec![2.5; 6]));
}

#[test]
fn placeholder_with_default_checks_its_value_against_its_declared_shape() {
    let nodes = json!([
        placeholder("x", "float32", json!(null)),
        {"name": "p", "op": "PlaceholderWithDefault", "inputs": ["x"], "attrs": {"shape": [2]}},
    ]);
    let msg = message(run(nodes.clone(), &[("x", Tensor::scalar(1.0f32))], "p"));
    assert!(
        msg.contains("node 'p' (PlaceholderWithDefault): default value of shape [] does not have shape [2]"),
        "{msg}"
    );
    let v = Tensor::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    assert_eq!(run(nodes, &[("x", v)], "p").unwrap().to_f64_vec(), vec![1.0, 2.0]);
}

/// The plan runs a division by a constant as a multiplication by its reciprocal; errors still
/// name the node's own op.
#[test]
fn errors_of_a_rewritten_node_name_its_own_op() {
    let nodes = json!([
        placeholder("x", "float32", json!([null, null])),
        constant("c", json!({"dtype": "float32", "data": [[2, 2], [2, 2], [2, 2]]})),
        node("d", "RealDiv", &["x", "c"]),
    ]);
    let x = Tensor::from_vec(&[2, 2], vec![1f32; 4]).unwrap();
    let msg = message(run(nodes, &[("x", x)], "d"));
    assert!(msg.contains("node 'd' (RealDiv): incompatible shapes"), "{msg}");
}

#[test]
fn softmax_cross_entropy_with_scalar_labels_is_an_error() {
    let nodes = json!([
        placeholder("logits", "float32", json!(null)),
        placeholder("labels", "float32", json!([])),
        node("x", "SoftmaxCrossEntropyWithLogits", &["logits", "labels"]),
    ]);
    let msg = message(graph(nodes));
    assert!(msg.contains("node 'x' (SoftmaxCrossEntropyWithLogits): incompatible shapes"), "{msg}");
}

#[test]
fn concat_of_scalars_is_an_error() {
    let nodes = json!([
        placeholder("a", "float32", json!([3])),
        constant("b", json!({"dtype": "float32", "data": 1.0})),
        placeholder("c", "float32", json!(null)),
        placeholder("axis", "int32", json!([])),
        node("x", "ConcatV2", &["a", "b", "c", "axis"]),
    ]);
    let msg = message(graph(nodes));
    assert!(msg.contains("node 'x' (ConcatV2)"), "{msg}");
}

/// The gradient of a mean over an empty input divides by `max(size(y), 1)`, as TF's
/// `_safe_shape_div`, instead of failing with an integer division by zero.
#[test]
fn gradient_of_an_empty_mean_of_unknown_shape_runs() {
    let mut g = graph(json!([
        placeholder("x", "float32", json!([0, null, 4, null])),
        constant("axis", json!({"dtype": "int32", "data": 1})),
        node("m", "Mean", &["x", "axis"]),
    ]))
    .unwrap();
    let (x, m) = (g.output("x").unwrap(), g.output("m").unwrap());
    let dx = stepflow::grad::gradients(&mut g, &[m], &[x], None).unwrap()[0].unwrap();
    let s = Session::new(g);
    let options = RunOptions { check_outputs: true, ..RunOptions::default() };
    let feeds = [(x, Tensor::from_vec(&[0, 4, 4, 3], Vec::<f32>::new()).unwrap())];
    let out = s.run_with(options, &feeds, &[dx], &[]).unwrap();
    assert_eq!(out[0].shape(), &[0, 4, 4, 3]);
}

/// The gradient of UnsortedSegmentSum whose rows are all dropped (negative ids) into no
/// segments runs and is zero: a dropped row gathers an appended zero row, not segment 0.
#[test]
fn gradient_of_a_segment_sum_into_no_segments_runs() {
    let mut g = graph(json!([
        placeholder("data", "float32", json!([2])),
        placeholder("ids", "int32", json!([2])),
        placeholder("n", "int32", json!([])),
        node("s", "UnsortedSegmentSum", &["data", "ids", "n"]),
    ]))
    .unwrap();
    let (data, ids, n, s_out) =
        (g.output("data").unwrap(), g.output("ids").unwrap(), g.output("n").unwrap(), g.output("s").unwrap());
    let dx = stepflow::grad::gradients(&mut g, &[s_out], &[data], None).unwrap()[0].unwrap();
    let s = Session::new(g);
    let options = RunOptions { check_outputs: true, ..RunOptions::default() };
    let run = |id: Vec<i32>, segments: i32| {
        let feeds = [
            (data, Tensor::from_vec(&[2], vec![1.0f32, 2.0]).unwrap()),
            (ids, Tensor::from_vec(&[2], id).unwrap()),
            (n, Tensor::scalar(segments)),
        ];
        s.run_with(options, &feeds, &[dx], &[]).unwrap()[0].to_f64_vec()
    };
    assert_eq!(run(vec![-1, -3], 0), vec![0.0, 0.0]);
    assert_eq!(run(vec![1, -1], 2), vec![1.0, 0.0]);
}

/// UnsortedSegmentSum's `num_segments` must be a scalar, as in TF, also when its rank is only
/// known at run time (a vector was read as its first element, and the gradient then failed).
#[test]
fn segment_sum_with_a_fed_vector_of_segments_is_an_error() {
    let g = graph(json!([
        placeholder("data", "float32", json!([2])),
        placeholder("ids", "int32", json!([2])),
        {"name": "n", "op": "Placeholder", "attrs": {"dtype": "int32"}},
        node("s", "UnsortedSegmentSum", &["data", "ids", "n"]),
    ]))
    .unwrap();
    let s = Session::new(g);
    let feeds = [
        ("data", Tensor::from_vec(&[2], vec![1.0f32, 2.0]).unwrap()),
        ("ids", Tensor::from_vec(&[2], vec![0i32, 1]).unwrap()),
        ("n", Tensor::from_vec(&[2], vec![2i32, 1]).unwrap()),
    ];
    let e = s.run_by_name(&feeds, &["s"], &[]).unwrap_err().to_string();
    assert!(e.contains("num_segments must be a scalar"), "{e}");
}

/// TF's Slice takes `begin` and `size` as vectors; scalars were read as one-entry vectors, and
/// the gradient then failed on their shape.
#[test]
fn slice_with_scalar_begin_or_size_is_an_error() {
    let x = || placeholder("x", "float32", json!([0]));
    let msg = message(graph(json!([
        x(),
        constant("b", json!({"dtype": "int32", "data": [0]})),
        constant("n", json!({"dtype": "int32", "data": 0})),
        node("s", "Slice", &["x", "b", "n"]),
    ])));
    assert!(msg.contains("node 's' (Slice): size must be a vector, got shape []"), "{msg}");
    let nodes = json!([
        x(),
        placeholder("b", "int32", json!(null)),
        constant("n", json!({"dtype": "int32", "data": [0]})),
        node("s", "Slice", &["x", "b", "n"]),
    ]);
    let feeds = [("x", Tensor::from_vec(&[0], Vec::<f32>::new()).unwrap()), ("b", Tensor::scalar(0i32))];
    let msg = message(run(nodes, &feeds, "s"));
    assert!(msg.contains("node 's' (Slice): begin must be a vector, got shape []"), "{msg}");
}

/// Found by the op fuzzer: `Range(int32 min, 3, 4)` is half a billion elements, within the tensor
/// size limit, and timed out on a loaded machine; the fuzzer now builds such cases without running
/// them. Ranges across the whole int32 span count their elements without overflow.
#[test]
fn range_across_the_int32_span_counts_without_overflow() {
    let range = |start: i32, limit: i32, delta: i32| {
        let nodes = json!([
            placeholder("start", "int32", json!([])),
            constant("limit", json!({"dtype": "int32", "shape": [], "data": [limit]})),
            constant("delta", json!({"dtype": "int32", "shape": [], "data": [delta]})),
            node("r", "Range", &["start", "limit", "delta"])
        ]);
        run(nodes, &[("start", Tensor::scalar(start))], "r").unwrap().to_f64_vec()
    };
    // |int32 min - int32 max| = 2^32 - 1 is 4 steps of 2^30
    let down = range(i32::MAX, i32::MIN, -(1 << 30));
    assert_eq!(down, vec![2147483647.0, 1073741823.0, -1.0, -1073741825.0]);
    assert_eq!(range(i32::MIN, i32::MIN + 9, 4), vec![-2147483648.0, -2147483644.0, -2147483640.0]);
}

#[test]
fn a_pooling_window_far_larger_than_its_image_pools_the_whole_image() {
    // SAME padding lets a window exceed its image; the window's taps (3 · 2^40 here) once sized
    // a buffer, which failed to allocate. Padding never counts, so each window holds the whole
    // 2x2 image.
    let window = json!({"ksize": [1, 1u64 << 40, 3, 1], "strides": [1, 1, 1, 1], "padding": "SAME"});
    let nodes = json!([
        placeholder("x", "float32", json!([1, 2, 2, 1])),
        {"name": "y", "op": "MaxPool", "inputs": ["x"], "attrs": window},
        {"name": "dx", "op": "MaxPoolGrad", "inputs": ["x", "y", "y"], "attrs": window},
        {"name": "mean", "op": "AvgPool", "inputs": ["x"], "attrs": window}
    ]);
    let x = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0f32, 4.0, 2.0, 3.0]).unwrap();
    let y = run(nodes.clone(), &[("x", x.clone())], "y").unwrap();
    assert_eq!(y.to_f64_vec(), vec![4.0; 4]);
    // Every window routes its 4 to the one maximum.
    let dx = run(nodes.clone(), &[("x", x.clone())], "dx").unwrap();
    assert_eq!(dx.to_f64_vec(), vec![0.0, 16.0, 0.0, 0.0]);
    assert_eq!(run(nodes, &[("x", x)], "mean").unwrap().to_f64_vec(), vec![2.5; 4]);
}
