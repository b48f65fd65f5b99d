//! Learning-rate schedules: TF's goldens through the conformance runner, the traces of the
//! semantics reference (TF edge cases; PyTorch and Keras traces for what TF lacks), validation,
//! and step dtypes.

use stepflow::train::schedules::*;
use stepflow::{DType, Graph, Session, Tensor};

/// The schedule's values at each step, evaluated through a global_step variable of `dtype`.
fn values_with(s: &impl Schedule, steps: &[i64], dtype: DType) -> Vec<f64> {
    let mut g = Graph::new();
    let step = g
        .variable_with(stepflow::NodeName::Default("global_step"), dtype, &[], stepflow::Initializer::Zeros, false)
        .unwrap();
    let lr = s.build(&mut g, step).unwrap();
    let sess = Session::new(g);
    steps
        .iter()
        .map(|&k| {
            sess.set_variable(step, Tensor::scalar(k).cast(dtype)).unwrap();
            sess.run(&[], &[lr], &[]).unwrap()[0].scalar_f64().unwrap()
        })
        .collect()
}

fn values(s: &impl Schedule, steps: &[i64]) -> Vec<f64> {
    values_with(s, steps, DType::Int64)
}

#[track_caller]
fn assert_trace(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * w.abs().max(1e-3), "step {i}: got {g}, want {w} (all: {got:?})");
    }
}

fn parse(json: &str) -> AnySchedule {
    serde_json::from_str(json).unwrap()
}

#[test]
fn every_tf_golden_passes() {
    let results =
        stepflow::conformance::run_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/lr_schedules.json"))
            .unwrap();
    assert!(results.len() >= 15);
    let failed: Vec<String> = results.iter().filter(|r| !r.passed()).map(ToString::to_string).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn exponential_decay_edges_match_tf() {
    let e = |staircase| {
        parse(&format!(
            r#"{{"fn": "exponential_decay", "learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": {staircase}}}"#
        ))
    };
    assert_trace(&values(&e(true), &[9, 10, 11]), &[0.1, 0.05, 0.05], 1e-6);
    // Negative steps: the exponent is negative; staircase floors toward −∞ (TF: 0.14142136, 0.2).
    assert_trace(&values(&e(false), &[-5]), &[0.14142136], 1e-6);
    assert_trace(&values(&e(true), &[-5]), &[0.2], 1e-6);
}

#[test]
fn natural_exp_and_inverse_time_match_tf() {
    let n = parse(r#"{"fn": "natural_exp_decay", "learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}"#);
    assert_trace(&values(&n, &[5]), &[0.07788008], 1e-6);
    let i = parse(r#"{"fn": "inverse_time_decay", "learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}"#);
    assert_trace(&values(&i, &[5]), &[0.08], 1e-6);
    let i = parse(
        r#"{"fn": "inverse_time_decay", "learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": true}"#,
    );
    assert_trace(&values(&i, &[15]), &[0.0666667], 1e-6);
}

#[test]
fn piecewise_constant_intervals_are_left_open() {
    let p = parse(r#"{"fn": "piecewise_constant", "boundaries": [10, 20], "values": [1.0, 0.5, 0.1]}"#);
    assert_trace(&values(&p, &[0, 10, 11, 20, 21]), &[1.0, 1.0, 0.5, 0.5, 0.1], 1e-7);
    assert_trace(&values_with(&p, &[10, 11], DType::Int32), &[1.0, 0.5], 1e-7);
}

#[test]
fn polynomial_decay_matches_tf() {
    let p = parse(r#"{"fn": "polynomial_decay", "learning_rate": 0.1, "decay_steps": 10}"#);
    assert_trace(&values(&p, &[10, 20]), &[1e-4, 1e-4], 1e-5);
    let c = parse(
        r#"{"fn": "polynomial_decay", "learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "cycle": true}"#,
    );
    assert_trace(&values(&c, &[0, 1, 10, 11, 20, 21]), &[0.1, 0.091, 0.01, 0.0505, 0.01, 0.037], 1e-5);
    let n = |power| {
        parse(&format!(
            r#"{{"fn": "polynomial_decay", "learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "power": {power}}}"#
        ))
    };
    assert_trace(&values(&n(1.0), &[-5]), &[0.145], 1e-6);
    assert_trace(&values(&n(0.5), &[-5]), &[0.12022705], 1e-6);
}

#[test]
fn cosine_decays_match_tf() {
    let c = parse(r#"{"fn": "cosine_decay", "learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1}"#);
    assert_trace(&values(&c, &[0, 5, 10, 20]), &[0.1, 0.055, 0.01, 0.01], 1e-6);
    let c0 = parse(r#"{"fn": "cosine_decay", "learning_rate": 0.1, "decay_steps": 10}"#);
    assert_trace(&values(&c0, &[-5, 5]), &[0.05, 0.05], 1e-6);
    let r = parse(
        r#"{"fn": "cosine_decay_restarts", "learning_rate": 1.0, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1}"#,
    );
    let want = [1.0, 0.55, 0.12202458, 0.55, 0.325, 0.10277012, 0.325, 0.2125];
    assert_trace(&values(&r, &[0, 5, 9, 10, 20, 29, 30, 70]), &want, 1e-6);
    // A negative step lands in restart -1 at its start: lr0 · m_mul^-1 (lr0 with the default m_mul).
    let d = parse(r#"{"fn": "cosine_decay_restarts", "learning_rate": 1.0, "first_decay_steps": 10}"#);
    assert_trace(&values(&d, &[-5]), &[1.0], 1e-6);
    let r1 = parse(
        r#"{"fn": "cosine_decay_restarts", "learning_rate": 1.0, "first_decay_steps": 10, "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.2}"#,
    );
    assert_trace(&values(&r1, &[0, 10, 20, 30]), &[1.0, 0.6, 0.4, 0.3], 1e-6);
    let l = parse(r#"{"fn": "linear_cosine_decay", "learning_rate": 1.0, "decay_steps": 10}"#);
    assert_trace(&values(&l, &[0, 5, 10, 20]), &[1.001, 0.251, 0.001, 0.001], 1e-5);
    let l2 = parse(
        r#"{"fn": "linear_cosine_decay", "learning_rate": 1.0, "decay_steps": 10, "num_periods": 2, "alpha": 0.1, "beta": 0.01}"#,
    );
    // At step 2: (0.1 + 0.8)·½(1 + cos(0.8π)) + 0.01 = 0.0959424 (the reference prints 0.0959).
    assert_trace(&values(&l2, &[0, 2, 5, 10]), &[1.11, 0.0959424, 0.61, 0.11], 1e-5);
}

#[test]
fn noisy_linear_cosine_is_seeded_and_noise_free_after_the_end() {
    let n = parse(r#"{"fn": "noisy_linear_cosine_decay", "learning_rate": 1.0, "decay_steps": 10, "seed": 42}"#);
    let a = values(&n, &[3, 3, 3, 20]);
    let b = values(&n, &[3, 3, 3, 20]);
    assert_eq!(a, b, "the same seed gives the same sequence in a new session");
    assert!(a[0] != a[1] && a[1] != a[2], "each evaluation draws new noise: {a:?}");
    // With num_periods 0.5 the cosine factor is 0 after the end: only lr0·beta remains.
    assert_trace(&a[3..], &[0.001], 1e-6);
}

#[test]
fn the_documents_schedules() {
    let s = parse(r#"{"fn": "step_decay", "learning_rate": 0.1, "alpha": 0.5, "N": 10}"#);
    assert_trace(&values(&s, &[0, 9, 10, 19, 20, 35]), &[0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], 1e-6);
    let l = parse(r#"{"fn": "linear_decay", "learning_rate": 0.1, "lr_tau": 0.01, "tau": 10}"#);
    assert_trace(&values(&l, &[0, 5, 10, 20]), &[0.1, 0.055, 0.01, 0.01], 1e-6);
}

#[test]
fn cyclical_rates_follow_smith() {
    // PyTorch CyclicLR traces (base 0.1, max 1, step size 2), reference §4.2.
    let c = |mode: &str| {
        parse(&format!(
            r#"{{"fn": "cyclical_learning_rate", "base_lr": 0.1, "max_lr": 1.0, "step_size": 2, "mode": "{mode}", "gamma": 0.9}}"#
        ))
    };
    let k: Vec<i64> = (0..10).collect();
    assert_trace(&values(&c("triangular"), &k[..7]), &[0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 1.0], 1e-6);
    let want2 = [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1, 0.2125];
    assert_trace(&values(&c("triangular2"), &k), &want2, 1e-6);
    let want3 = [0.1, 0.505, 0.829, 0.42805, 0.1, 0.365721, 0.578297];
    assert_trace(&values(&c("exp_range"), &k[..7]), &want3, 1e-5);
}

#[test]
fn one_cycle_follows_pytorch() {
    // PyTorch OneCycleLR, T = 10, max_lr 1 (reference §4.3); past the end it stays at the minimum.
    let o = |extra: &str| parse(&format!(r#"{{"fn": "one_cycle", "max_lr": 1.0, "total_steps": 10{extra}}}"#));
    let k: Vec<i64> = (0..12).collect();
    let cos = [0.04, 0.52, 1.0, 0.950485, 0.811746, 0.611262, 0.388742, 0.188258, 0.049519, 4e-6, 4e-6, 4e-6];
    assert_trace(&values(&o(""), &k), &cos, 1e-5);
    let three = [0.04, 0.52, 1.0, 0.52, 0.04, 0.036181, 0.026182, 0.013822, 0.003823, 4e-6];
    assert_trace(&values(&o(r#", "three_phase": true"#), &k[..10]), &three, 1e-4);
    let lin = values(&o(r#", "anneal_strategy": "linear""#), &[0, 1, 2, 9]);
    assert_trace(&lin, &[0.04, 0.52, 1.0, 4e-6], 1e-5);
}

#[test]
fn warmup_then_cosine_matches_keras() {
    // Keras 3 CosineDecay(0, 4, alpha 0.1, warmup_target 1, warmup_steps 2), reference §1.10.
    let w = parse(
        r#"{"fn": "warmup", "warmup_steps": 2, "initial_learning_rate": 0.0,
        "schedule": {"fn": "cosine_decay", "learning_rate": 1.0, "decay_steps": 4, "alpha": 0.1}}"#,
    );
    let want = [0.0, 0.5, 1.0, 0.868198, 0.55, 0.231802, 0.1, 0.1, 0.1];
    assert_trace(&values(&w, &(0..9).collect::<Vec<_>>()), &want, 1e-5);
}

#[test]
fn sequential_schedules_count_from_their_start() {
    let s = parse(
        r#"{"fn": "sequential", "boundaries": [3],
        "schedules": [{"fn": "constant", "learning_rate": 0.3}, {"fn": "exponential_decay", "learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5}]}"#,
    );
    assert_trace(&values(&s, &[0, 2, 3, 4, 5]), &[0.3, 0.3, 0.1, 0.05, 0.025], 1e-6);
}

#[test]
fn any_integer_step_dtype_works_and_rounds_as_tf() {
    let e = parse(
        r#"{"fn": "exponential_decay", "learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96, "staircase": true}"#,
    );
    assert_eq!(values_with(&e, &[0, 150, 250], DType::Int32), values(&e, &[0, 150, 250]));
    // float32 cannot hold 2^25 + 3: it rounds to 2^25 + 4, so floor(step / 4) is 8388609, not
    // 8388608 (TF does the same, reference §1.0).
    let i = parse(
        r#"{"fn": "inverse_time_decay", "learning_rate": 1.0, "decay_steps": 4, "decay_rate": 1.0, "staircase": true}"#,
    );
    let got = values(&i, &[(1 << 25) + 3])[0];
    assert_eq!(got, (1.0f32 / 8388610.0f32) as f64);
}

#[test]
fn arguments_that_would_give_nan_or_infinity_are_errors() {
    let cases = [
        (r#"{"fn": "exponential_decay", "learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5}"#, "decay_steps"),
        (r#"{"fn": "polynomial_decay", "learning_rate": 0.1, "decay_steps": -10}"#, "decay_steps"),
        (r#"{"fn": "cosine_decay", "learning_rate": 0.1, "decay_steps": 0}"#, "decay_steps"),
        (r#"{"fn": "cosine_decay_restarts", "learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 0.5}"#, "t_mul"),
        (r#"{"fn": "piecewise_constant", "boundaries": [20, 10], "values": [1, 2, 3]}"#, "boundaries"),
        (r#"{"fn": "piecewise_constant", "boundaries": [10, 20], "values": [1, 2]}"#, "values"),
        (r#"{"fn": "piecewise_constant", "boundaries": [10.5], "values": [1, 2]}"#, "boundaries"),
        (r#"{"fn": "cyclical_learning_rate", "base_lr": 0.1, "max_lr": 1.0, "step_size": 0}"#, "step_size"),
        (r#"{"fn": "one_cycle", "max_lr": 1.0, "total_steps": 2, "pct_start": 0.5}"#, "total_steps"),
        (r#"{"fn": "step_decay", "learning_rate": 0.1, "alpha": 0.5, "N": 0}"#, "N"),
        (r#"{"fn": "linear_decay", "learning_rate": 0.1, "lr_tau": 0.01, "tau": 0}"#, "tau"),
        (
            r#"{"fn": "warmup", "warmup_steps": 0, "schedule": {"fn": "constant", "learning_rate": 0.1}}"#,
            "warmup_steps",
        ),
        (
            r#"{"fn": "sequential", "boundaries": [], "schedules": [{"fn": "constant", "learning_rate": 0.1}, {"fn": "constant", "learning_rate": 0.2}]}"#,
            "boundaries",
        ),
    ];
    for (json, argument) in cases {
        let s = parse(json);
        let mut g = Graph::new();
        let step = g.get_or_create_global_step().unwrap();
        let e = s.build(&mut g, step).unwrap_err().to_string();
        assert!(e.contains(&format!("argument '{argument}'")), "{json}: {e}");
    }
}

#[test]
fn a_float_step_is_rejected() {
    let mut g = Graph::new();
    let step = g.constant(3.0f32).unwrap();
    let e = parse(r#"{"fn": "constant", "learning_rate": 0.1}"#).build(&mut g, step).unwrap_err();
    assert!(e.to_string().contains("global_step"), "{e}");
}

#[test]
fn every_schedule_loads_from_a_graph_file() {
    let schedules = [
        r#""op": "exponential_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}"#,
        r#""op": "step_decay", "attrs": {"learning_rate": 0.1, "alpha": 0.5, "N": 10}"#,
        r#""op": "natural_exp_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}"#,
        r#""op": "inverse_time_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}"#,
        r#""op": "piecewise_constant", "attrs": {"boundaries": [10], "values": [0.1, 0.01]}"#,
        r#""op": "polynomial_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10, "cycle": true}"#,
        r#""op": "linear_decay", "attrs": {"learning_rate": 0.1, "lr_tau": 0.01, "tau": 10}"#,
        r#""op": "cosine_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10}"#,
        r#""op": "cosine_decay_restarts", "attrs": {"learning_rate": 0.1, "first_decay_steps": 10}"#,
        r#""op": "linear_cosine_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10}"#,
        r#""op": "noisy_linear_cosine_decay", "attrs": {"learning_rate": 0.1, "decay_steps": 10, "seed": 3}"#,
        r#""op": "cyclical_learning_rate", "attrs": {"base_lr": 0.01, "max_lr": 0.1, "step_size": 4}"#,
        r#""op": "one_cycle", "attrs": {"max_lr": 0.1, "total_steps": 20}"#,
        r#""op": "warmup", "attrs": {"warmup_steps": 5, "schedule": {"fn": "cosine_decay", "learning_rate": 0.1, "decay_steps": 10}}"#,
        r#""op": "sequential", "attrs": {"boundaries": [5], "schedules": [{"fn": "constant", "learning_rate": 0.1}, {"fn": "constant", "learning_rate": 0.01}]}"#,
        r#""op": "constant", "attrs": {"learning_rate": 0.1}"#,
    ];
    for body in schedules {
        let text = format!(
            r#"{{"version": 1, "nodes": [{{"name": "global_step", "op": "global_step"}}, {{"name": "lr", "inputs": ["global_step"], {body}}}]}}"#
        );
        let g = Graph::from_json(&text, "inline").unwrap_or_else(|e| panic!("{body}: {e}"));
        let lr = g.output("lr").unwrap();
        let step = g.output("global_step").unwrap();
        let saved = g.to_json();
        let s = Session::new(g);
        s.initialize().unwrap();
        let again = Session::new(Graph::from_json(&saved, "saved").unwrap());
        again.initialize().unwrap();
        let (lr2, step2) = (again.graph().output("lr").unwrap(), again.graph().output("global_step").unwrap());
        for k in [0i64, 3, 12, 30] {
            s.set_variable(step, Tensor::scalar(k)).unwrap();
            again.set_variable(step2, Tensor::scalar(k)).unwrap();
            let a = s.run(&[], &[lr], &[]).unwrap();
            let b = again.run(&[], &[lr2], &[]).unwrap();
            assert!(a[0].bit_eq(&b[0]), "{body}: step {k}: {} vs {}", a[0], b[0]);
            assert!(a[0].scalar_f64().unwrap().is_finite());
        }
    }
}
