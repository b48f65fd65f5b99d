//! Conformance with TensorFlow: runs golden files of TF's own numbers through stepflow and reports
//! each case as `PASS name max_rel_err` or `FAIL name where ours theirs`.
//!
//! Two formats are accepted (see `tests/golden/README.md`): learning-rate schedules evaluated at
//! listed steps, and whole training runs. A schedule value passes when
//! `|ours − tf| ≤ 1e-5·|tf| + 1e-8`; a training value when `|ours − tf| ≤ 1e-4·|tf| + 1e-6`.

pub mod graphdef;
pub mod probe;
mod schedules;
mod training;

use crate::error::{Error, Result};
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// The outcome of one golden case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every value within tolerance; the largest relative error seen.
    Pass { max_rel_err: f64 },
    /// The first value out of tolerance: where, our value, TF's value.
    Fail { at: String, ours: f64, theirs: f64 },
    /// The case could not be built or run.
    Error(String),
}

/// One case's result.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    pub name: String,
    pub outcome: Outcome,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Pass { .. })
    }
}

impl fmt::Display for CaseResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Pass { max_rel_err } => write!(f, "PASS {} {max_rel_err:.3e}", self.name),
            Outcome::Fail { at, ours, theirs } => write!(f, "FAIL {} {at} {ours} {theirs}", self.name),
            Outcome::Error(e) => write!(f, "FAIL {} error {}", self.name, e.replace('\n', " ")),
        }
    }
}

/// Runs every case of a golden file.
pub fn run_file(path: impl AsRef<Path>) -> Result<Vec<CaseResult>> {
    let path = path.as_ref();
    let text = crate::io::read_text(path)?;
    run_json(&text, &path.display().to_string())
}

/// Runs every case of a golden file's text; `file` names it in errors.
pub fn run_json(text: &str, file: &str) -> Result<Vec<CaseResult>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::format(file, e.to_string()))?;
    let cases = doc.get("cases").and_then(Value::as_array).ok_or_else(|| Error::format(file, "no \"cases\" list"))?;
    Ok(cases.iter().enumerate().map(|(i, c)| run_case(i, c)).collect())
}

fn run_case(index: usize, case: &Value) -> CaseResult {
    if case.get("model").is_some() {
        training::run(index, case)
    } else if case.get("fn").is_some() {
        schedules::run(index, case)
    } else {
        CaseResult {
            name: format!("case[{index}]"),
            outcome: Outcome::Error("neither a schedule (fn) nor a training (model) case".into()),
        }
    }
}

/// Compares values within `|ours − tf| ≤ rel·|tf| + abs`, tracking the largest relative error.
pub(crate) struct Tolerance {
    pub(crate) rel: f64,
    pub(crate) abs: f64,
    pub(crate) max_rel_err: f64,
}

impl Tolerance {
    pub(crate) fn new(rel: f64, abs: f64) -> Self {
        Tolerance { rel, abs, max_rel_err: 0.0 }
    }

    /// Checks one value; `Err` carries the failure.
    pub(crate) fn check(
        &mut self,
        at: impl FnOnce() -> String,
        ours: f64,
        theirs: f64,
    ) -> std::result::Result<(), Outcome> {
        let diff = (ours - theirs).abs();
        let ok = diff <= self.rel * theirs.abs() + self.abs || (ours.is_nan() && theirs.is_nan()) || ours == theirs;
        if !ok {
            return Err(Outcome::Fail { at: at(), ours, theirs });
        }
        if theirs != 0.0 && diff.is_finite() {
            self.max_rel_err = self.max_rel_err.max(diff / theirs.abs());
        }
        Ok(())
    }
}
