//! Training cases (whole TF training runs). Built with the optimizers.

use super::{CaseResult, Outcome};
use serde_json::Value;

pub(super) fn run(index: usize, case: &Value) -> CaseResult {
    let name = case.get("name").and_then(Value::as_str).map_or_else(|| format!("training[{index}]"), str::to_string);
    CaseResult { name, outcome: Outcome::Error("training cases need the optimizers".into()) }
}
