//! The range test has no side effects: on the digits CNN (Adam's slots, batch norm's moving
//! statistics, dropout's random stream, a shuffled data order), after a test of several runs
//! every variable is bit-identical to before, and the training that follows takes bit-identical
//! steps to a run that never saw the test.

use std::path::Path;
use stepflow::Tensor;
use stepflow::fit::{RangeTest, Trainer};

fn cnn() -> Trainer {
    Trainer::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("graphs/digits_cnn.json")).unwrap()
}

/// Every variable's name and value.
fn variables(t: &Trainer) -> Vec<(String, Tensor)> {
    let g = t.session().graph();
    let value = |v: &stepflow::VariableInfo| t.session().variable_value(v.node.into()).unwrap();
    g.variables().iter().map(|v| (g.node(v.node).name().to_string(), value(v))).collect()
}

/// `n` steps' logged values (loss, learning rate, global step) and the epochs' validation values.
fn train(t: &mut Trainer, n: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (s, e) = t.step().unwrap();
        out.push(s.values);
        out.extend(e.map(|e| e.values));
    }
    out
}

#[test]
fn after_a_range_test_every_variable_and_the_training_that_follows_are_bit_identical() {
    // Mid-run and mid-epoch (45 steps an epoch), so that slots and moving statistics are not at
    // their initial values and the data's place is not at the start.
    let (mut tested, mut untouched) = (cnn(), cnn());
    assert_eq!(train(&mut tested, 50), train(&mut untouched, 50));
    let before = variables(&tested);
    let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
    for kind in ["Adam", "beta1_power", "global_step", "moving_mean", "moving_variance"] {
        assert!(names.iter().any(|n| n.contains(kind)), "no {kind} among {names:?}");
    }
    let position = tested.position();

    let test = RangeTest { steps: 30, runs: 3, batches_per_step: 2, ..Default::default() };
    let r = test.run(&mut tested, |_, _| {}).unwrap();
    assert_eq!(r.runs.len(), 3);
    // Each run saw its own batches from the same weights: different first losses.
    let first: Vec<f64> = r.runs.iter().map(|run| run.points[0].loss).collect();
    assert!(first[0] != first[1] && first[1] != first[2] && first[0] != first[2], "{first:?}");

    for ((name, b), (_, a)) in before.iter().zip(variables(&tested)) {
        assert!(a.bit_eq(b), "{name} changed");
    }
    assert_eq!(tested.position(), position);
    // Two more epochs and a bit: the same losses, rates, validation values and weights, bit for
    // bit (dropout masks and the order of the next epochs included).
    assert_eq!(train(&mut tested, 100), train(&mut untouched, 100));
    for ((name, a), (_, b)) in variables(&tested).iter().zip(variables(&untouched)) {
        assert!(a.bit_eq(&b), "{name} differs after training");
    }
}

#[test]
fn one_run_sees_the_data_in_the_order_training_does() {
    // The first run keeps the config's seed: its losses are those of training at those rates.
    let mut t = cnn();
    let test = RangeTest { steps: 5, ..Default::default() };
    let r = test.run(&mut t, |_, _| {}).unwrap();
    let mut fed = cnn();
    for p in &r.runs[0].points {
        fed.set_learning_rate(p.learning_rate).unwrap();
        assert_eq!(fed.step().unwrap().0.values[0], p.loss);
    }
}
