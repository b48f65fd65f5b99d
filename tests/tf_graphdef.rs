//! TensorFlow's own training graphs (tests/tf, copied from TF's exports) train in stepflow with
//! TF's numbers, imported from each of the four forms TF writes.

use stepflow::conformance::graphdef::{SpecForm, run_spec};

/// Every case of the top level (`conv/` holds the convolutional ones).
const CASES: &[&str] = &[
    "mlp_layers_tanh_momentum_ref",
    "seed_exp_decay_ref",
    "seed_step_decay_resource",
    "seed_plateau_placeholder",
    "mlp_rmsprop_cosine_restarts_resource",
];

#[test]
fn tf_training_graphs_match_tf_in_every_form() {
    let mut failed = Vec::new();
    for case in CASES {
        for form in SpecForm::ALL {
            let path = format!("{}/tests/tf/{case}.json", env!("CARGO_MANIFEST_DIR"));
            let r = run_spec(&path, form);
            if !r.passed() {
                failed.push(r.to_string());
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn an_unsupported_value_is_one_line_naming_node_and_attr() {
    // A string tensor that is no Assert's message: stepflow has no string tensors.
    let text = r#"
      node { name: "msg" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
             attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "hi" } } } }
      node { name: "id" op: "Identity" input: "msg" attr { key: "T" value { type: DT_STRING } } }"#;
    let e = import_text(text);
    assert!(e.contains("node 'msg' (Const): attr 'value': a DT_STRING tensor is not supported"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let e = import_text(r#"node { name: "b" op: "BiasAdd" attr { key: "data_format" value { s: "NCDHW" } } }"#);
    assert!(e.contains("node 'b' (BiasAdd)") && e.contains("NCDHW"), "{e}");
}

#[test]
fn an_unknown_op_is_one_line_naming_node_and_op() {
    let text = r#"node { name: "q" op: "QuantizeV2" }"#;
    let g = stepflow::io::tf::TfGraph::parse(text.as_bytes(), "q.pbtxt").unwrap();
    let e = stepflow::Graph::from_tf(&g, "q.pbtxt").unwrap_err().to_string();
    assert_eq!(e, "q.pbtxt: node 'q': unknown op type 'QuantizeV2'");
}

fn import_text(text: &str) -> String {
    let g = stepflow::io::tf::TfGraph::parse(text.as_bytes(), "bad.pbtxt").unwrap();
    let e = stepflow::Graph::from_tf(&g, "bad.pbtxt").unwrap_err().to_string();
    assert!(!e.contains('\n'), "{e}");
    e
}

const FLOAT: &str = r#"attr { key: "T" value { type: DT_FLOAT } }"#;

#[test]
fn hostile_graphs_are_one_line_errors() {
    let cycle = format!(
        r#"node {{ name: "a" op: "Neg" input: "b" {FLOAT} }} node {{ name: "b" op: "Neg" input: "a" {FLOAT} }}"#
    );
    assert!(import_text(&cycle).contains("cycle"));
    let missing = format!(r#"node {{ name: "a" op: "Neg" input: "nowhere" {FLOAT} }}"#);
    assert!(import_text(&missing).contains("'nowhere' names no node"));
    let slot = format!(
        r#"node {{ name: "x" op: "Placeholder" attr {{ key: "dtype" value {{ type: DT_FLOAT }} }} }}
           node {{ name: "a" op: "Neg" input: "x:3" {FLOAT} }}"#
    );
    assert!(import_text(&slot).contains("x:3"), "{}", import_text(&slot));
    let nchw = format!(
        r#"node {{ name: "x" op: "Placeholder" attr {{ key: "dtype" value {{ type: DT_FLOAT }} }} }}
           node {{ name: "a" op: "MatMul" input: "x" input: "x" {FLOAT} attr {{ key: "batch_dims" value {{ i: 1 }} }} }}"#
    );
    assert!(import_text(&nchw).contains("attr 'batch_dims' = 1 is not supported (only 0)"), "{}", import_text(&nchw));
}

/// `If` naming a function the library lacks, and a function that calls itself.
#[test]
fn unknown_and_recursive_functions_are_errors() {
    let call = |f: &str| {
        format!(
            r#"op: "StatelessIf" input: "c" input: "x"
               attr {{ key: "then_branch" value {{ func {{ name: "{f}" }} }} }}
               attr {{ key: "else_branch" value {{ func {{ name: "{f}" }} }} }}"#
        )
    };
    let inputs = r#"node { name: "c" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
        node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }"#;
    let unknown = format!("{inputs} node {{ name: \"if\" {} }}", call("nowhere"));
    assert!(
        import_text(&unknown).contains("function 'nowhere' is not in the graph's library"),
        "{}",
        import_text(&unknown)
    );
    let recursive = format!(
        r#"{inputs} node {{ name: "if" {call} }}
        library {{ function {{
          signature {{ name: "f" input_arg {{ name: "c" type: DT_BOOL }} input_arg {{ name: "x" type: DT_FLOAT }}
                      output_arg {{ name: "y" type: DT_FLOAT }} }}
          node_def {{ name: "inner" {call} }}
          ret {{ key: "y" value: "inner:output:0" }} }} }}"#,
        call = call("f")
    );
    assert!(import_text(&recursive).contains("nest more than"), "{}", import_text(&recursive));
}

/// A TF graph with the fused gradients, losses and pass-throughs of training graphs imports with
/// their attributes (`alpha` as a float, `message` as a string) and runs; values worked by hand.
#[test]
fn training_graph_ops_import_and_run() {
    let float = |name: &str| {
        format!(r#"node {{ name: "{name}" op: "Placeholder" attr {{ key: "dtype" value {{ type: DT_FLOAT }} }} }}"#)
    };
    let text = format!(
        r#"{x} {y} {s}
        node {{ name: "sd" op: "SquaredDifference" input: "x" input: "y" {FLOAT} }}
        node {{ name: "loss" op: "L2Loss" input: "sd" {FLOAT} }}
        node {{ name: "snap" op: "Snapshot" input: "loss" {FLOAT} }}
        node {{ name: "kept" op: "PreventGradient" input: "sd" {FLOAT}
               attr {{ key: "message" value {{ s: "no second derivative" }} }} }}
        node {{ name: "dsig" op: "SigmoidGrad" input: "s" input: "x" {FLOAT} }}
        node {{ name: "negy" op: "Neg" input: "y" {FLOAT} }}
        node {{ name: "leaky" op: "LeakyReluGrad" input: "x" input: "negy" {FLOAT}
               attr {{ key: "alpha" value {{ f: 0.5 }} }} }}"#,
        x = float("x"),
        y = float("y"),
        s = float("s"),
    );
    let tf = stepflow::io::tf::TfGraph::parse(text.as_bytes(), "train.pbtxt").unwrap();
    let mut g = stepflow::Graph::from_tf(&tf, "train.pbtxt").unwrap();
    let (kept, x) = (g.output("kept").unwrap(), g.output("x").unwrap());
    let e = stepflow::grad::gradients(&mut g, &[kept], &[x], None).unwrap_err().to_string();
    assert!(e.contains("node 'kept'") && e.ends_with("reason: no second derivative"), "{e}");
    let v = |x: &[f32]| stepflow::Tensor::from_vec(&[x.len()], x.to_vec()).unwrap();
    let s = stepflow::Session::new(g);
    let feeds = [("x:0", v(&[1., 3.])), ("y:0", v(&[2., 1.])), ("s:0", v(&[0.5, 0.25]))];
    let out = s.run_by_name(&feeds, &["sd:0", "snap:0", "kept:0", "dsig:0", "leaky:0"], &[]).unwrap();
    let got: Vec<Vec<f64>> = out.iter().map(|t| t.to_f64_vec()).collect();
    // (x − y)² = [1, 4]; (1 + 16) / 2; x · s · (1 − s) = [0.25, 0.5625]; features −y < 0: 0.5 · x
    assert_eq!(got, vec![vec![1., 4.], vec![8.5], vec![1., 4.], vec![0.25, 0.5625], vec![0.5, 1.5]]);
}
