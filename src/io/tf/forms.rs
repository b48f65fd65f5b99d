//! The three forms TensorFlow stores a message in (the binary wire format, the protobuf text
//! format, the proto3 JSON mapping), told apart by content, and each converted to and from the
//! prost types: binary by prost itself, text and JSON through prost-reflect's dynamic messages.

use super::proto::{self as pb, json_descriptor, text_descriptor};
use crate::error::{Error, Result};
use miette::Diagnostic;
use prost::Message;
use prost_reflect::text_format::FormatOptions;
use prost_reflect::{DynamicMessage, MessageDescriptor, Value as Dynamic};
use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::path::Path;

/// How deeply messages may nest in any form: prost's own recursion limit for the binary form,
/// checked before parsing for the text form, and within serde_json's limit for JSON.
pub const MAX_DEPTH: usize = 100;

/// The form a TensorFlow message is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// The binary wire format (`.pb`, `.meta`), as `SerializeToString` writes it.
    Binary,
    /// The protobuf text format (`.pbtxt`), as `tf.io.write_graph(..., as_text=True)` writes it.
    Text,
    /// The proto3 JSON mapping, as `json_format.MessageToJson` writes it.
    Json,
}

impl Form {
    /// The form `data` appears to be in, from its content alone: JSON starts with `{`, text is
    /// UTF-8 without control characters, and anything else is binary. Binary data can look like
    /// text or JSON by chance, so the decoders fall back to binary when the guess fails.
    pub fn detect(data: &[u8]) -> Form {
        let start = data.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(data.len());
        if data.get(start) == Some(&b'{') {
            return Form::Json;
        }
        let control = |b: &u8| b.is_ascii_control() && !b.is_ascii_whitespace();
        if std::str::from_utf8(data).is_ok() && !data.iter().any(control) { Form::Text } else { Form::Binary }
    }

    /// The form a file name suggests (`.pb`/`.meta` binary, `.pbtxt`/`.txt` text, `.json`).
    pub fn from_path(path: &Path) -> Option<Form> {
        match path.extension()?.to_str()? {
            "pb" | "meta" => Some(Form::Binary),
            "pbtxt" | "txt" => Some(Form::Text),
            "json" => Some(Form::Json),
            _ => None,
        }
    }
}

/// A top-level message of the schema: its name, and how a dynamic message (from the text or
/// JSON form) becomes prost's type.
pub(super) trait TopLevel: Message + Default + Sized {
    const NAME: &'static str;
    fn from_dynamic(message: DynamicMessage, file: &str) -> Result<Self>;
}

impl TopLevel for pb::GraphDef {
    const NAME: &'static str = "GraphDef";

    /// Node by node, in parallel, each read field by field ([`super::dynamic`]): encoding a
    /// whole graph at once computes the length of every nested message once per enclosing
    /// message, and walks memory far larger than the caches.
    fn from_dynamic(mut message: DynamicMessage, file: &str) -> Result<Self> {
        let nodes = message.take_field_by_name("node");
        let mut def: pb::GraphDef = transcode(message, file)?;
        if let Some(Dynamic::List(nodes)) = nodes {
            let each = nodes.into_par_iter().map(|n| super::dynamic::node_def(n, file));
            def.node = super::decode::in_order(each.collect())?;
        }
        Ok(def)
    }
}

impl TopLevel for pb::MetaGraphDef {
    const NAME: &'static str = "MetaGraphDef";

    fn from_dynamic(mut message: DynamicMessage, file: &str) -> Result<Self> {
        let graph = message.take_field_by_name("graph_def");
        let mut def: pb::MetaGraphDef = transcode(message, file)?;
        if let Some(Dynamic::Message(graph)) = graph {
            def.graph_def = Some(pb::GraphDef::from_dynamic(graph, file)?);
        }
        Ok(def)
    }
}

/// Decodes a message from `data` in `form`; `file` names it in errors.
pub(super) fn decode<M: TopLevel>(data: &[u8], form: Form, file: &str) -> Result<M> {
    match form {
        Form::Binary => M::decode(data).map_err(|e| Error::format(file, e.to_string())),
        Form::Text => M::from_dynamic(decode_text(data, M::NAME, file)?, file),
        Form::Json => {
            let mut de = serde_json::Deserializer::from_slice(data);
            let message = DynamicMessage::deserialize(json_descriptor(M::NAME)?, &mut de).map_err(json_error(file))?;
            de.end().map_err(json_error(file))?;
            M::from_dynamic(message, file)
        }
    }
}

/// Decodes a message from a parsed JSON value.
pub(super) fn decode_json_value<M: TopLevel>(value: &Value, file: &str) -> Result<M> {
    if json_depth(value) > 2 * MAX_DEPTH {
        return Err(Error::format(file, format!("JSON nested more than {} deep", 2 * MAX_DEPTH)));
    }
    let message = DynamicMessage::deserialize(json_descriptor(M::NAME)?, value).map_err(json_error(file))?;
    M::from_dynamic(message, file)
}

/// Decodes a message from the member of a JSON object whose key is one of `keys` (a run
/// spec's `graph_def`, a MetaGraphDef's `graphDef`), or `None` when there is no such member.
pub(super) fn decode_json_member<M: TopLevel>(data: &[u8], keys: &[&str], file: &str) -> Result<Option<M>> {
    let mut de = serde_json::Deserializer::from_slice(data);
    let member = Member { keys, desc: json_descriptor(M::NAME)? };
    let found = member.deserialize(&mut de).map_err(json_error(file))?;
    de.end().map_err(json_error(file))?;
    found.map(|m| M::from_dynamic(m, file)).transpose()
}

/// Encodes `message` in `form`.
pub(super) fn encode<M: TopLevel>(message: &M, form: Form) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| Error::format(M::NAME, format!("cannot encode: {e}"));
    match form {
        Form::Binary => Ok(message.encode_to_vec()),
        Form::Text => {
            let mut dynamic = DynamicMessage::new(text_descriptor(M::NAME)?);
            dynamic.transcode_from(message).map_err(|e| failed(&e))?;
            let mut text = dynamic.to_text_format_with_options(&FormatOptions::new().pretty(true));
            text.push('\n');
            Ok(text.into_bytes())
        }
        Form::Json => {
            let mut dynamic = DynamicMessage::new(json_descriptor(M::NAME)?);
            dynamic.transcode_from(message).map_err(|e| failed(&e))?;
            // Through a Value, whose objects are sorted, so that the output is stable.
            let value = serde_json::to_value(&dynamic).map_err(|e| failed(&e))?;
            serde_json::to_vec_pretty(&value).map_err(|e| failed(&e))
        }
    }
}

/// The first field name of a text-format message (skipping comments), to tell a MetaGraphDef
/// (`meta_info_def { ...`) from a GraphDef (`node { ...`).
pub(super) fn first_text_field(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    let body = text.lines().map(str::trim_start).find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    Some(&body[..end])
}

fn decode_text(data: &[u8], name: &str, file: &str) -> Result<DynamicMessage> {
    let text = std::str::from_utf8(data)
        .map_err(|e| Error::format(file, format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    if let Some(at) = too_deep(text, MAX_DEPTH) {
        return Err(text_error(file, text, at, &format!("messages nested more than {MAX_DEPTH} deep")));
    }
    DynamicMessage::parse_text_format(text_descriptor(name)?, text).map_err(|e| {
        let at = e.labels().and_then(|mut l| l.next()).map_or(text.len(), |l| l.offset());
        text_error(file, text, at, &e.to_string())
    })
}

/// The offset of the first `{` or `<` that opens a message deeper than `max`, outside strings
/// and comments. The text parser recurses once per level, so this bounds its stack.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i += bytes[i..].iter().position(|&b| b == b'\n').unwrap_or(bytes.len() - i),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'<' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b'}' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn text_error(file: &str, text: &str, offset: usize, message: &str) -> Error {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Error::format(file, format!("{message} at line {line} column {column}"))
}

fn json_error(file: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
    move |e| Error::format(file, e.to_string())
}

fn transcode<M: Message + Default>(message: DynamicMessage, file: &str) -> Result<M> {
    message.transcode_to::<M>().map_err(|e| Error::format(file, e.to_string()))
}

/// The nesting depth of a JSON value, without recursion.
fn json_depth(value: &Value) -> usize {
    let mut stack = vec![(value, 1usize)];
    let mut deepest = 0;
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// Deserializes one member of a JSON object as a message and skips the others.
struct Member<'a> {
    keys: &'a [&'a str],
    desc: MessageDescriptor,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<DynamicMessage>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<DynamicMessage>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a JSON object with a member {}", self.keys.join(" or "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if found.is_none() && self.keys.contains(&key.as_str()) {
                found = Some(map.next_value_seed(self.desc.clone())?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_told_apart_by_content() {
        assert_eq!(Form::detect(b"  {\"node\": []}"), Form::Json);
        assert_eq!(Form::detect(b"# comment\nnode {\n  name: \"x\"\n}\n"), Form::Text);
        assert_eq!(Form::detect(b"\n\x03\n\x01x"), Form::Binary);
        assert_eq!(Form::detect(&[0xff, 0xfe]), Form::Binary);
    }

    #[test]
    fn depth_counts_braces_outside_strings_and_comments() {
        assert_eq!(too_deep("a { b { c { } } }", 3), None);
        assert_eq!(too_deep("a { b { c { } } }", 2), Some(10));
        assert_eq!(too_deep("s: \"{{{{\" # {{{{\n a <>", 1), None);
        assert_eq!(too_deep("s: '\\'{{' t {", 0), Some(12));
    }

    #[test]
    fn text_errors_give_line_and_column() {
        let e = text_error("f", "ab\ncd\nef", 4, "bad").to_string();
        assert_eq!(e, "f: bad at line 2 column 2");
    }

    #[test]
    fn first_field_skips_comments() {
        assert_eq!(first_text_field(b"# c\n\n  meta_info_def {"), Some("meta_info_def"));
        assert_eq!(first_text_field(b"node{"), Some("node"));
        assert_eq!(first_text_field(b"   "), None);
    }
}
