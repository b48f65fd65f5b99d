//! What the fuzzer learns of each op by asking the op itself, so that most cases get past the
//! first checks without a table of ops: for each arity the op does not refuse as an arity, a
//! dtype for every input, found by building the node on placeholders of unknown shape and taking
//! the dtype each `input i must be ...` error asks for; and how many leading inputs are variable
//! references (from the op's declared state).

use super::case::NODE;
use super::values;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use stepflow::ops::{OP_TYPES, op_attributes, op_from_json};
use stepflow::{DType, Graph};

/// The most inputs a case has.
pub const MAX_INPUTS: usize = 10;

/// Inputs an op accepts: a dtype for each, the leading `refs` of them variables.
#[derive(Clone, Debug)]
pub struct Signature {
    pub dtypes: Vec<DType>,
    pub refs: usize,
}

/// Attributes that let the op be built: none if it needs none, else a valid value for each.
fn attrs(op: &str) -> Value {
    if op_from_json(op, &json!({})).is_some_and(|r| r.is_ok()) {
        return json!({});
    }
    let list = op_attributes(op).unwrap_or(&[]);
    let kind = |k: &str| k.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    Value::Object(
        list.iter()
            .map(|a| (a.name.to_string(), values::valid_attr(&kind(a.kind), 0).unwrap_or(Value::Null)))
            .collect(),
    )
}

fn refs(op: &str) -> usize {
    match op_from_json(op, &attrs(op)) {
        Some(Ok(o)) => o.state().refs().len(),
        _ => 0,
    }
}

/// The error of building `op` on inputs of these dtypes and unknown shapes (variables, whose
/// shape must be known, are scalars), `None` when it builds.
fn build(op: &str, dtypes: &[DType], refs: usize) -> Option<String> {
    let mut nodes = Vec::new();
    for (i, &d) in dtypes.iter().enumerate() {
        let name = format!("in{i}");
        if i < refs {
            nodes.push(json!({"name": name, "op": "VariableV2", "attrs": {"dtype": d.name(), "shape": []}}));
        } else {
            nodes.push(json!({"name": name, "op": "Placeholder", "attrs": {"dtype": d.name()}}));
        }
    }
    let inputs: Vec<String> = (0..dtypes.len()).map(|i| format!("in{i}")).collect();
    nodes.push(json!({"name": NODE, "op": op, "inputs": inputs, "attrs": attrs(op)}));
    let doc = json!({"version": 1, "nodes": nodes}).to_string();
    Graph::from_json(&doc, "probe").err().map(|e| e.to_string())
}

/// The dtype an `input i must be X or Y, got Z` message asks for, and `i`.
fn asked_dtype(msg: &str) -> Option<(usize, DType)> {
    let rest = &msg[msg.find("): input ")? + 9..];
    let (i, rest) = rest.split_once(" must be ")?;
    let first = rest.split([' ', ',']).next()?;
    let d = DType::ALL.into_iter().find(|d| d.name() == first)?;
    Some((i.parse().ok()?, d))
}

/// Starting from every input of `base`, follows the dtype errors until the node builds or the
/// error is about something else.
fn fix_dtypes(op: &str, n: usize, base: DType, refs: usize) -> Vec<DType> {
    let mut dtypes = vec![base; n];
    for _ in 0..=n {
        match build(op, &dtypes, refs).as_deref().and_then(asked_dtype) {
            Some((i, d)) if i < n && dtypes[i] != d => dtypes[i] = d,
            _ => break,
        }
    }
    dtypes
}

fn probe(op: &str) -> Vec<Signature> {
    let refs = refs(op);
    let mut found: Vec<Signature> = Vec::new();
    for n in 0..=MAX_INPUTS {
        if build(op, &vec![DType::Float32; n], refs.min(n)).is_some_and(|m| m.contains(" inputs, got ")) {
            continue;
        }
        for base in DType::ALL {
            let dtypes = fix_dtypes(op, n, base, refs.min(n));
            if !found.iter().any(|s| s.dtypes == dtypes) {
                found.push(Signature { dtypes, refs: refs.min(n) });
            }
        }
    }
    found
}

/// The signatures of every op, probed once.
pub fn signatures() -> &'static BTreeMap<&'static str, Vec<Signature>> {
    static ALL: OnceLock<BTreeMap<&'static str, Vec<Signature>>> = OnceLock::new();
    ALL.get_or_init(|| OP_TYPES.iter().map(|&op| (op, probe(op))).collect())
}
