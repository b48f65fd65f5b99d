//! TensorFlow's own training graphs (tests/tf, copied from TF's exports) train in stepflow with
//! TF's numbers, imported from each of the four forms TF writes.

use stepflow::conformance::graphdef::{SpecForm, run_spec};

/// The cases that train today; `mlp_layers_tanh_momentum_ref` needs string tensors (the message
/// of `piecewise_constant`'s `Assert`), which stepflow does not have.
const CASES: &[&str] = &[
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
    let path = format!("{}/tests/tf/mlp_layers_tanh_momentum_ref.pbtxt", env!("CARGO_MANIFEST_DIR"));
    let e = stepflow::Graph::load(path).unwrap_err().to_string();
    assert!(e.contains("node 'PiecewiseConstant/case/Assert/Const' (Const): attr 'value'"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn an_unknown_op_is_one_line_naming_node_and_op() {
    let text = r#"node { name: "q" op: "QuantizeV2" }"#;
    let g = stepflow::io::tf::TfGraph::parse(text.as_bytes(), "q.pbtxt").unwrap();
    let e = stepflow::Graph::from_tf(&g, "q.pbtxt").unwrap_err().to_string();
    assert_eq!(e, "q.pbtxt: node 'q': unknown op type 'QuantizeV2'");
}
