//! What fetching each learning-rate schedule costs: `lr_fetch` of the benchmark workloads with
//! every schedule in place of `exponential_decay`, `global_step` set to 5000.
//!
//! usage: cargo run --release --example schedule_cost
//! prints one line per schedule: `NAME MICROSECONDS us/run NODES nodes`, the median over 5 timed
//! rounds (after a warm-up round) of the mean time of one run, and the nodes the run executes.

use stepflow::{Graph, Result, Session, Tensor};

#[path = "common/timing.rs"]
mod timing;

const SCHEDULES: &[(&str, &str)] = &[
    ("exponential_decay", r#"{"learning_rate": 0.1, "decay_steps": 100000, "decay_rate": 0.96, "staircase": true}"#),
    ("step_decay", r#"{"learning_rate": 0.1, "alpha": 0.5, "N": 1000}"#),
    ("linear_decay", r#"{"learning_rate": 0.1, "lr_tau": 0.001, "tau": 10000}"#),
    ("natural_exp_decay", r#"{"learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.5}"#),
    ("inverse_time_decay", r#"{"learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.5}"#),
    ("piecewise_constant", r#"{"boundaries": [1000, 3000, 6000, 9000], "values": [0.1, 0.05, 0.01, 0.005, 0.001]}"#),
    ("polynomial_decay", r#"{"learning_rate": 0.1, "decay_steps": 3000, "power": 2.0, "cycle": true}"#),
    ("cosine_decay", r#"{"learning_rate": 0.1, "decay_steps": 10000, "alpha": 0.01}"#),
    ("cosine_decay_restarts", r#"{"learning_rate": 0.1, "first_decay_steps": 1000, "t_mul": 2.0, "m_mul": 0.9}"#),
    ("linear_cosine_decay", r#"{"learning_rate": 0.1, "decay_steps": 10000}"#),
    ("noisy_linear_cosine_decay", r#"{"learning_rate": 0.1, "decay_steps": 10000, "seed": 3}"#),
    (
        "cyclical_learning_rate",
        r#"{"base_lr": 0.001, "max_lr": 0.006, "step_size": 2000, "mode": "exp_range", "gamma": 0.9999}"#,
    ),
    ("one_cycle", r#"{"max_lr": 0.1, "total_steps": 10000, "three_phase": true}"#),
    (
        "warmup",
        r#"{"warmup_steps": 1000, "schedule": {"fn": "cosine_decay", "learning_rate": 0.1, "decay_steps": 9000}}"#,
    ),
];

fn main() -> Result<()> {
    for (name, attrs) in SCHEDULES {
        let text = format!(
            r#"{{"version": 1, "nodes": [{{"name": "global_step", "op": "global_step"}},
              {{"name": "learning_rate", "op": "{name}", "inputs": ["global_step"], "attrs": {attrs}}}]}}"#
        );
        let g = Graph::from_json(&text, name)?;
        let (step, lr) = (g.output("global_step")?, g.output("learning_rate")?);
        let s = Session::new(g);
        s.initialize()?;
        s.set_variable(step, Tensor::scalar(5000i64))?;
        let nodes = s.explain(&[], &[lr], &[])?.steps.len();
        let us = timing::time(2000, || s.run(&[], &[lr], &[]).map(drop))?;
        println!("{name} {us:.2} us/run {nodes} nodes");
    }
    Ok(())
}
