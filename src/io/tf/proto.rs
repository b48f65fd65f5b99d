//! TensorFlow's message types, generated at build time from `proto/tensorflow.proto`, and the
//! descriptor pools through which the JSON and text forms are read and written.

use crate::error::{Error, Result};
use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::sync::OnceLock;

/// The generated types; the event and summary messages are public through
/// [`crate::summary::proto`].
#[allow(clippy::all, dead_code, missing_docs)]
pub(crate) mod generated {
    include!(concat!(env!("OUT_DIR"), "/tensorflow.rs"));
}

pub(super) use generated::*;

/// The schema as compiled, for the JSON form (where a map is an object).
const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tensorflow.descriptors.bin"));

/// The schema with maps declared as repeated entries, for the text form: the same syntax, but
/// entries keep their order, so the text of a graph is the same every time.
const TEXT_DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tensorflow.text-descriptors.bin"));

type Pool = OnceLock<std::result::Result<DescriptorPool, String>>;

/// The descriptor of message `name` (`"GraphDef"`) of package `tensorflow`, for the JSON form.
pub(super) fn json_descriptor(name: &str) -> Result<MessageDescriptor> {
    static POOL: Pool = OnceLock::new();
    lookup(&POOL, DESCRIPTORS, name)
}

/// The descriptor of message `name` for the text form.
pub(super) fn text_descriptor(name: &str) -> Result<MessageDescriptor> {
    static POOL: Pool = OnceLock::new();
    lookup(&POOL, TEXT_DESCRIPTORS, name)
}

fn lookup(pool: &Pool, bytes: &[u8], name: &str) -> Result<MessageDescriptor> {
    let pool = pool.get_or_init(|| DescriptorPool::decode(bytes).map_err(|e| e.to_string()));
    let pool = pool.as_ref().map_err(|e| Error::format("tensorflow.proto", e.clone()))?;
    pool.get_message_by_name(&format!("tensorflow.{name}"))
        .ok_or_else(|| Error::format("tensorflow.proto", format!("no message tensorflow.{name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::{Cardinality, Kind};
    use serde_json::Value;

    /// TensorFlow's own messages and enums (`tests/tf/tf_schema.py` wrote them from TF 2.21).
    fn tensorflow_schema() -> Value {
        serde_json::from_str(include_str!("../../../tests/tf/tf_schema.json")).unwrap()
    }

    /// Fields of TensorFlow's messages that stepflow's schema leaves out on purpose.
    const LEFT_OUT: [&str; 2] = ["tensorflow.TensorInfo.composite_tensor", "tensorflow.MetaGraphDef.object_graph_def"];

    #[test]
    fn every_message_field_and_enum_value_is_tensorflows() {
        let tf = tensorflow_schema();
        let pool = DescriptorPool::decode(DESCRIPTORS).unwrap();
        let ours = pool.all_messages().filter(|m| m.package_name() == "tensorflow");
        let mut fields = 0;
        for message in ours {
            let theirs = tf["messages"][message.full_name()].as_object();
            let theirs = theirs.unwrap_or_else(|| panic!("TensorFlow has no {}", message.full_name()));
            for field in message.fields() {
                let t = &theirs[field.name()];
                let type_name = match field.kind() {
                    Kind::Message(m) => m.full_name().to_string(),
                    Kind::Enum(e) => e.full_name().to_string(),
                    _ => String::new(),
                };
                assert_eq!(t["number"], field.number(), "{}", field.full_name());
                assert_eq!(t["type"], field.field_descriptor_proto().r#type() as i32, "{}", field.full_name());
                assert_eq!(t["repeated"], field.cardinality() == Cardinality::Repeated, "{}", field.full_name());
                assert_eq!(t["type_name"], type_name, "{}", field.full_name());
                fields += 1;
            }
            for name in theirs.keys() {
                let full = format!("{}.{name}", message.full_name());
                assert!(
                    message.get_field_by_name(name).is_some() || LEFT_OUT.contains(&full.as_str()),
                    "{full} missing"
                );
            }
        }
        assert!(fields > 250, "{fields} fields checked");
        for e in pool.all_enums().filter(|e| e.package_name() == "tensorflow") {
            let ours: serde_json::Map<String, Value> =
                e.values().map(|v| (v.name().to_string(), v.number().into())).collect();
            assert_eq!(Some(&ours), tf["enums"][e.full_name()].as_object(), "{}", e.full_name());
        }
    }
}
