//! TensorFlow's message types, generated at build time from `proto/tensorflow.proto`, and the
//! descriptor pools through which the JSON and text forms are read and written.

#![allow(clippy::all, dead_code, missing_docs)]

use crate::error::{Error, Result};
use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/tensorflow.rs"));

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
