//! TensorFlow's own training graphs (tests/tf, copied from TF's exports) train in stepflow with
//! TF's numbers, imported from each of the four forms TF writes.

use stepflow::conformance::graphdef::{SpecForm, run_spec};

/// The cases that train today; the others need ops still missing (see tests/tf/README.md).
const CASES: &[&str] = &["seed_exp_decay_ref", "seed_step_decay_resource", "seed_plateau_placeholder"];

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
fn a_missing_op_is_one_line_naming_node_and_op() {
    let path = format!("{}/tests/tf/mlp_rmsprop_cosine_restarts_resource.pbtxt", env!("CARGO_MANIFEST_DIR"));
    let e = stepflow::Graph::load(path).unwrap_err().to_string();
    assert!(e.contains("node 'SGDRDecay/cond': unknown op type 'StatelessIf'"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}
