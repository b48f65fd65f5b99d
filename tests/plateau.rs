//! Reduce-on-plateau: the Rust controller against Keras's traces (reference §3.3), and the
//! in-graph reducer against the controller.

use proptest::prelude::*;
use stepflow::train::plateau::{PlateauConfig, PlateauController, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
use stepflow::{DType, Graph, Session, Shape, Tensor};

fn rates(config: PlateauConfig, metrics: &[f64]) -> Vec<f64> {
    let mut c = PlateauController::new(1.0, config).unwrap();
    metrics.iter().map(|&m| c.step(m).learning_rate).collect()
}

#[track_caller]
fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-9 * w.abs().max(1.0)), "got {got:?}, want {want:?}");
}

fn cfg(patience: u64, cooldown: u64) -> PlateauConfig {
    PlateauConfig { patience, cooldown, ..Default::default() }
}

#[test]
fn keras_traces_on_a_flat_metric() {
    let flat = [0.5; 7];
    close(&rates(cfg(2, 0), &flat), &[1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.001]);
    // Keras decrements the cooldown before counting, so a cooldown of 1 changes nothing...
    close(&rates(cfg(2, 1), &flat), &[1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.001]);
    // ...and a cooldown of c delays the next reduction by c - 1 epochs.
    close(&rates(cfg(2, 2), &[0.5; 9]), &[1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001]);
    close(&rates(cfg(0, 0), &[0.5; 4]), &[1.0, 0.1, 0.01, 0.001]);
    let floor = PlateauConfig { patience: 0, factor: 0.5, min_lr: 0.3, ..Default::default() };
    close(&rates(floor, &[0.5; 5]), &[1.0, 0.5, 0.3, 0.3, 0.3]);
    // Negative metrics work with an absolute threshold.
    close(&rates(cfg(1, 0), &[-1.0; 3]), &[1.0, 0.1, 0.01]);
}

#[test]
fn improvements_reset_the_count() {
    let metrics = [1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.87];
    close(&rates(cfg(2, 0), &metrics), &[1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1]);
    let max = PlateauConfig { mode: PlateauMode::Max, patience: 1, ..Default::default() };
    close(&rates(max, &[0.1, 0.2, 0.2, 0.3]), &[1.0, 1.0, 0.1, 0.1]);
}

#[test]
fn relative_threshold_works_for_negative_metrics() {
    // best = -1: a relative margin of 10% needs the metric below -1.1.
    let rel = PlateauConfig { patience: 1, threshold: 0.1, threshold_mode: ThresholdMode::Rel, ..Default::default() };
    close(&rates(rel.clone(), &[-1.0, -1.05, -1.2]), &[1.0, 0.1, 0.1]);
    close(&rates(rel, &[-1.0, -1.15]), &[1.0, 1.0]);
}

#[test]
fn bad_settings_are_errors() {
    for (c, arg) in [
        (PlateauConfig { factor: 1.0, ..Default::default() }, "factor"),
        (PlateauConfig { factor: 0.0, ..Default::default() }, "factor"),
        (PlateauConfig { threshold: -1.0, ..Default::default() }, "threshold"),
        (PlateauConfig { min_lr: f64::NAN, ..Default::default() }, "min_lr"),
    ] {
        let e = PlateauController::new(1.0, c).unwrap_err().to_string();
        assert!(e.contains(arg), "{e}");
    }
}

/// The graph reducer's rates for a sequence of metrics.
fn graph_rates(config: PlateauConfig, metrics: &[f64]) -> Vec<(f64, bool)> {
    let mut g = Graph::new();
    let metric = g.placeholder(DType::Float64, Shape::scalar()).unwrap();
    let mut p = ReduceLrOnPlateau::new(1.0, config);
    p.dtype = DType::Float64;
    let ops = p.build(&mut g, metric).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    metrics
        .iter()
        .map(|&m| {
            let out = s.run(&[(metric, Tensor::scalar(m))], &[ops.reduced], &[ops.update]).unwrap();
            let lr = s.run(&[], &[ops.learning_rate], &[]).unwrap()[0].scalar_f64().unwrap();
            (lr, out[0].scalar_f64().unwrap() != 0.0)
        })
        .collect()
}

proptest! {
    #[test]
    fn the_graph_reducer_follows_the_controller(
        metrics in prop::collection::vec(prop_oneof![Just(0.5), -2.0f64..2.0], 1..30),
        patience in 0u64..4,
        cooldown in 0u64..4,
        max in any::<bool>(),
        rel in any::<bool>(),
        min_lr in prop_oneof![Just(0.0), Just(0.05)],
    ) {
        let config = PlateauConfig {
            mode: if max { PlateauMode::Max } else { PlateauMode::Min },
            patience,
            cooldown,
            threshold: 0.01,
            threshold_mode: if rel { ThresholdMode::Rel } else { ThresholdMode::Abs },
            min_lr,
            ..Default::default()
        };
        let mut c = PlateauController::new(1.0, config.clone()).unwrap();
        let want: Vec<(f64, bool)> = metrics.iter().map(|&m| { let s = c.step(m); (s.learning_rate, s.reduced) }).collect();
        prop_assert_eq!(graph_rates(config, &metrics), want);
    }
}

#[test]
fn graph_files_write_the_reducer_flat_and_reject_misspelled_settings() {
    let file = |attrs: &str| {
        format!(
            r#"{{"version": 1, "nodes": [{{"name": "m", "op": "Placeholder", "attrs": {{"dtype": "float32", "shape": []}}}},
            {{"name": "p", "op": "reduce_lr_on_plateau", "inputs": ["m"], "attrs": {attrs}}}]}}"#
        )
    };
    let g = Graph::from_json(&file(r#"{"learning_rate": 0.5, "patience": 1, "factor": 0.5, "dtype": "float64"}"#), "f");
    let g = g.unwrap();
    let (m, p, update) = (g.output("m").unwrap(), g.output("p").unwrap(), g.node_id("p/update").unwrap());
    assert_eq!(g.spec(p).dtype, DType::Float64);
    let s = Session::new(g);
    s.initialize().unwrap();
    for _ in 0..2 {
        s.run(&[(m, Tensor::scalar(1.0f32))], &[], &[update]).unwrap();
    }
    assert_eq!(s.variable_value(p).unwrap().to_f64_vec(), vec![0.25]);
    for (attrs, expected) in [
        (r#"{"learning_rate": 0.5, "patiense": 1}"#, "unknown field `patiense`"),
        (r#"{"patience": 1}"#, "missing field `learning_rate`"),
        (r#"{"learning_rate": 0.5, "factor": 1.5}"#, "argument 'factor' must be in (0, 1)"),
    ] {
        let e = Graph::from_json(&file(attrs), "f").err().unwrap().to_string();
        assert!(e.contains(expected), "{e}");
    }
}
