//! Where a training step's time goes: runs the mlp_big_train workload traced and prints each op
//! type's share of the summed node time, largest first.
//!
//! usage: cargo run --release --example op_share -- [STEPS] [WORKLOAD]   (default 20 steps, after
//! 3 untimed ones; WORKLOAD is mlp_big_train, mlp_digits_train, mlp_digits_train_tf (the digits
//! workload on the graph TensorFlow builds for it), cnn_digits_train or cnn_big_train)

#[path = "common/models.rs"]
#[allow(dead_code)]
mod models;

use stepflow::{Output, Result, RunOptions, Tensor};

fn main() -> Result<()> {
    let steps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let workload = std::env::args().nth(2).unwrap_or_else(|| "mlp_big_train".into());
    let m = match workload.as_str() {
        "mlp_digits_train" => models::digits_mlp()?,
        "mlp_digits_train_tf" => models::digits_mlp_imported()?,
        "cnn_digits_train" => models::digits_cnn()?,
        "cnn_big_train" => models::big_cnn()?,
        _ => models::big_mlp()?,
    };
    let mut totals: Vec<(&'static str, f64)> = Vec::new();
    for i in 0..steps + 3 {
        let (bx, by) = &m.batches[i % m.batches.len()];
        let feeds: [(Output, Tensor); 2] = [(m.x, bx.clone()), (m.y, by.clone())];
        let (_, meta) = m.session.run_traced(RunOptions::default(), &feeds, &[], &[m.train])?;
        if i < 3 {
            continue;
        }
        for (op, micros) in meta.by_op() {
            match totals.iter_mut().find(|(o, _)| *o == op) {
                Some(t) => t.1 += micros,
                None => totals.push((op, micros)),
            }
        }
    }
    totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let plan = m.session.explain(&[m.x, m.y], &[], &[m.train])?;
    let schedule = if plan.parallel { "parallel" } else { "inline" };
    println!("{} steps ({} expensive), {schedule} schedule", plan.steps.len(), plan.expensive.len());
    if std::env::var_os("STEPFLOW_PLAN").is_some() {
        println!("{}", plan.steps.join(" "));
    }
    let sum: f64 = totals.iter().map(|t| t.1).sum();
    println!("{workload}, {steps} traced steps: {:.0} us of node time per step", sum / steps as f64);
    for (op, micros) in totals {
        println!("{op:>32} {:6.1}%  {:9.0} us/step", 100.0 * micros / sum, micros / steps as f64);
    }
    Ok(())
}
