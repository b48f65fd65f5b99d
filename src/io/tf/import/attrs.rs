//! TensorFlow attribute values as the JSON attributes of stepflow's ops, converted by kind alone.
//!
//! An op reads the attributes it honours through its own struct (`ATTRIBUTES` lists them). Of the
//! rest, a node may carry:
//! - TensorFlow's internal attributes (`_class`, `_output_shapes`, ...), which never change a result;
//! - type attributes (`T`, `Tidx`, `SrcT`, ..., by TF's op definition or by value, an empty list
//!   included): stepflow infers dtypes from the inputs and checks
//!   them when the node is wired;
//! - the attributes of [`NO_EFFECT`], which do not change a result whatever their value;
//! - the attributes of [`DEFAULT_ONLY`] at the one value stepflow implements.
//!
//! Anything else is an error naming the attribute and its value.

use crate::io::tf::op_defs::op_def;
use crate::io::tf::{AttrList, AttrValue, TfTensor};
use crate::ops::Attribute;
use serde_json::{Map, Value};

/// Attributes that do not change a result in a single session: locking, resource sharing,
/// device hints, counts that the inputs already give, the gradient-graph annotations, and the
/// shapes TF records for `If`'s outputs (inferred again from the branches).
const NO_EFFECT: &[&str] = &[
    "use_locking",
    "container",
    "shared_name",
    "allowed_devices",
    "debug_name",
    "use_cudnn_on_gpu",
    "N",
    "summarize",
    "grad_a",
    "grad_b",
    "output_shapes",
];

/// Attributes that stepflow implements at one value only (TF's default).
fn default_only(name: &str) -> Option<Value> {
    Some(match name {
        "Truncate" | "use_nesterov" => Value::Bool(false),
        "incompatible_shape_error" | "validate_shape" => Value::Bool(true),
        "batch_dims" => Value::from(0),
        "data_format" => Value::from("NHWC"),
        "explicit_paddings" => Value::Array(Vec::new()),
        _ => return None,
    })
}

/// The attributes of a node of type `op` for its stepflow op: the ones in `accepted`, converted;
/// `Err` names the first attribute stepflow cannot honour.
pub(super) fn op_attrs<'a>(
    op: &str,
    attrs: impl Iterator<Item = (&'a String, &'a AttrValue)>,
    accepted: &[Attribute],
) -> Result<Map<String, Value>, String> {
    let tf_kind =
        |name: &str| op_def(op).and_then(|d| d.attrs.iter().find(|a| a.name == name)).map(|a| a.kind.as_str());
    let mut out = Map::new();
    for (name, value) in attrs {
        if name.starts_with('_') {
            continue;
        }
        if accepted.iter().any(|a| a.name == name || a.tf_name == name) {
            out.insert(name.clone(), to_json(value).map_err(|e| format!("attr '{name}': {e}"))?);
            continue;
        }
        let type_attr = matches!(tf_kind(name), Some("type" | "list(type)"));
        if type_attr || is_type(value) || NO_EFFECT.contains(&name.as_str()) {
            continue;
        }
        let shown = to_json(value).unwrap_or(Value::Null);
        match default_only(name) {
            Some(only) if only == shown => {}
            Some(only) => return Err(format!("attr '{name}' = {shown} is not supported (only {only})")),
            None => return Err(format!("attr '{name}' = {shown} is not supported")),
        }
    }
    Ok(out)
}

fn is_type(v: &AttrValue) -> bool {
    matches!(v, AttrValue::Type(_) | AttrValue::List(AttrList::Type(_)))
}

/// One attribute value as JSON: strings, numbers and bools as themselves, a type by its stepflow
/// dtype name, a shape as stepflow writes shapes, a tensor in stepflow's tensor form, a function
/// as `{"name": ...}`, a list as an array.
pub(super) fn to_json(v: &AttrValue) -> Result<Value, String> {
    Ok(match v {
        AttrValue::Str(s) => Value::from(String::from_utf8(s.clone()).map_err(|_| "a string that is not UTF-8")?),
        AttrValue::Int(i) => Value::from(*i),
        AttrValue::Float(f) => float(*f),
        AttrValue::Bool(b) => Value::Bool(*b),
        AttrValue::Type(t) => match t.dtype() {
            Some(d) => Value::from(d.to_string()),
            None => return Err(format!("type {t} is not supported")),
        },
        AttrValue::Shape(s) => serde_json::to_value(s).map_err(|e| e.to_string())?,
        AttrValue::Tensor(TfTensor::Value(t)) => serde_json::to_value(t).map_err(|e| e.to_string())?,
        AttrValue::Tensor(TfTensor::Other(o)) => return Err(format!("a {} tensor is not supported", o.dtype())),
        AttrValue::Func(f) => serde_json::json!({ "name": f.name }),
        AttrValue::List(l) => list(l)?,
        AttrValue::Placeholder(p) => return Err(format!("the function attribute '{p}' is not bound")),
    })
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or_else(|| Value::from(f.to_string()), Value::Number)
}

fn list(l: &AttrList) -> Result<Value, String> {
    let each = |items: Vec<AttrValue>| items.iter().map(to_json).collect::<Result<Vec<_>, _>>().map(Value::Array);
    match l {
        AttrList::Empty => Ok(Value::Array(Vec::new())),
        AttrList::Str(v) => each(v.iter().cloned().map(AttrValue::Str).collect()),
        AttrList::Int(v) => Ok(Value::from(v.clone())),
        AttrList::Float(v) => Ok(Value::Array(v.iter().map(|&f| float(f)).collect())),
        AttrList::Bool(v) => Ok(Value::from(v.clone())),
        AttrList::Type(v) => each(v.iter().cloned().map(AttrValue::Type).collect()),
        AttrList::Shape(v) => each(v.iter().cloned().map(AttrValue::Shape).collect()),
        AttrList::Tensor(v) => each(v.iter().cloned().map(AttrValue::Tensor).collect()),
        AttrList::Func(v) => each(v.iter().cloned().map(AttrValue::Func).collect()),
    }
}
