//! A node of a dynamic message (the text and JSON forms) as prost's `NodeDef`, without encoding
//! the whole node to transcode it.
//!
//! prost-reflect transcodes a message by encoding it to the wire format and decoding that, and
//! encoding a message computes the length of every nested message once per enclosing level: for
//! a `Const` node, its tensor's shape is walked six times. Here the node's own fields (name, op,
//! inputs, attributes) are moved out directly, and each attribute's value (its tensor, when it
//! has one) is transcoded on its own. Whatever else a node holds is transcoded as before.

use super::proto as pb;
use crate::error::{Error, Result};
use prost::Message;
use prost_reflect::{DynamicMessage, MapKey, Value};

/// The `NodeDef` of a dynamic node message; `file` names the data in errors.
pub(super) fn node_def(value: Value, file: &str) -> Result<pb::NodeDef> {
    let mut m = message(value, file)?;
    let name = m.take_field_by_name("name").map(|v| string(v, file)).transpose()?;
    let op = m.take_field_by_name("op").map(|v| string(v, file)).transpose()?;
    let input = match m.take_field_by_name("input") {
        Some(Value::List(items)) => items.into_iter().map(|v| string(v, file)).collect::<Result<_>>()?,
        Some(other) => return Err(unexpected("a list of inputs", &other, file)),
        None => Vec::new(),
    };
    let attr = m.take_field_by_name("attr").map(|v| attrs(v, file)).transpose()?;
    let mut node: pb::NodeDef = if m.fields().next().is_none() { pb::NodeDef::default() } else { transcode(&m, file)? };
    node.name = name.unwrap_or_default();
    node.op = op.unwrap_or_default();
    node.input = input;
    node.attr = attr.unwrap_or_default();
    Ok(node)
}

/// The attribute map: an object in the JSON schema, a list of key/value entries in the text one
/// (a later entry for the same key wins, as in the binary form).
fn attrs(value: Value, file: &str) -> Result<std::collections::BTreeMap<String, pb::AttrValue>> {
    let entry = |key: String, value: Option<Value>| -> Result<(String, pb::AttrValue)> {
        Ok((key, value.map(|v| attr_value(v, file)).transpose()?.unwrap_or_default()))
    };
    match value {
        Value::Map(map) => map
            .into_iter()
            .map(|(k, v)| match k {
                MapKey::String(k) => entry(k, Some(v)),
                other => Err(Error::format(file, format!("an attribute key must be a string, got {other:?}"))),
            })
            .collect(),
        Value::List(entries) => entries
            .into_iter()
            .map(|e| {
                let mut e = message(e, file)?;
                let key = e.take_field_by_name("key").map(|k| string(k, file)).transpose()?;
                entry(key.unwrap_or_default(), e.take_field_by_name("value"))
            })
            .collect(),
        other => Err(unexpected("the attributes", &other, file)),
    }
}

/// One attribute value; a tensor is transcoded on its own, the other kinds are small.
fn attr_value(value: Value, file: &str) -> Result<pb::AttrValue> {
    let mut m = message(value, file)?;
    match m.take_field_by_name("tensor") {
        Some(t) => {
            let tensor = transcode(&message(t, file)?, file)?;
            Ok(pb::AttrValue { value: Some(pb::attr_value::Value::Tensor(tensor)) })
        }
        None => transcode(&m, file),
    }
}

fn message(value: Value, file: &str) -> Result<DynamicMessage> {
    match value {
        Value::Message(m) => Ok(m),
        other => Err(unexpected("a message", &other, file)),
    }
}

fn string(value: Value, file: &str) -> Result<String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(unexpected("a string", &other, file)),
    }
}

fn unexpected(what: &str, got: &Value, file: &str) -> Error {
    Error::format(file, format!("expected {what}, got {got:?}"))
}

fn transcode<M: Message + Default>(m: &DynamicMessage, file: &str) -> Result<M> {
    m.transcode_to::<M>().map_err(|e| Error::format(file, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::proto::{json_descriptor, text_descriptor};
    use super::*;

    /// The node as prost-reflect's own transcoding reads it.
    fn check(m: DynamicMessage) {
        let expected: pb::NodeDef = m.transcode_to().unwrap();
        assert_eq!(node_def(Value::Message(m), "t").unwrap(), expected);
    }

    #[test]
    fn nodes_read_as_prost_reflect_transcodes_them() {
        let text = r#"name: "c" op: "Const" input: ["^x", "y:1"] device: "/cpu:0"
            attr { key: "dtype" value { type: DT_FLOAT } }
            attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: 1.5 } } }
            attr { key: "dtype" value { type: DT_INT32 } }
            attr { key: "empty" value { } }
            attr { key: "unset" }
            attr { value { b: true } }
            attr { key: "list" value { list { i: [1, 2] func { name: "f" } } } }
            experimental_debug_info { original_node_names: "orig" }"#;
        let m = DynamicMessage::parse_text_format(text_descriptor("NodeDef").unwrap(), text).unwrap();
        let node: pb::NodeDef = m.transcode_to().unwrap();
        assert_eq!(node.attr["dtype"].value, Some(pb::attr_value::Value::Type(pb::DataType::DtInt32 as i32)));
        check(m);
        let mut json = DynamicMessage::new(json_descriptor("NodeDef").unwrap());
        json.transcode_from(&node).unwrap();
        check(json);
        check(DynamicMessage::new(text_descriptor("NodeDef").unwrap()));
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error() {
        assert!(node_def(Value::String("x".into()), "f").unwrap_err().to_string().contains("expected a message"));
    }
}
