//! Schedule cases: `{"fn", "args", "steps", "values"}`, evaluated on an int64 global_step.

use super::{CaseResult, Outcome, Tolerance};
use crate::graph::Graph;
use crate::session::Session;
use crate::tensor::Tensor;
use crate::train::schedules::{AnySchedule, Schedule};
use serde_json::Value;

pub(super) fn run(index: usize, case: &Value) -> CaseResult {
    let function = case.get("fn").and_then(Value::as_str).unwrap_or("?");
    let name = format!("{function}[{index}]");
    let outcome = evaluate(function, case).unwrap_or_else(|e| e);
    CaseResult { name, outcome }
}

fn evaluate(function: &str, case: &Value) -> Result<Outcome, Outcome> {
    let err = |e: String| Outcome::Error(e);
    let args = case.get("args").cloned().unwrap_or(Value::Object(Default::default()));
    let steps: Vec<i64> = serde_json::from_value(case.get("steps").cloned().unwrap_or_default())
        .map_err(|e| err(format!("steps: {e}")))?;
    let values: Vec<f64> = serde_json::from_value(case.get("values").cloned().unwrap_or_default())
        .map_err(|e| err(format!("values: {e}")))?;
    if steps.len() != values.len() {
        return Err(err(format!("{} steps but {} values", steps.len(), values.len())));
    }
    let schedule = AnySchedule::from_parts(function, &args).map_err(|e| err(e.to_string()))?;
    let mut g = Graph::new();
    let step = g.get_or_create_global_step().map_err(|e| err(e.to_string()))?;
    let lr = schedule.build(&mut g, step).map_err(|e| err(e.to_string()))?;
    let s = Session::new(g);
    let mut tol = Tolerance::new(1e-5, 1e-8);
    for (&k, &want) in steps.iter().zip(&values) {
        s.set_variable(step, Tensor::scalar(k)).map_err(|e| err(e.to_string()))?;
        let out = s.run(&[], &[lr], &[]).map_err(|e| err(e.to_string()))?;
        let got = out[0].scalar_f64().unwrap_or(f64::NAN);
        tol.check(|| format!("step={k}"), got, want)?;
    }
    Ok(Outcome::Pass { max_rel_err: tol.max_rel_err })
}
