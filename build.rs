//! Compiles TensorFlow's schema (`proto/tensorflow.proto`) into prost message types and
//! descriptor sets for prost-reflect, in pure Rust: no `protoc` is needed to build stepflow.

use prost::Message;
use prost_types::DescriptorProto;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/tensorflow.proto");
    let files = protox::compile(["tensorflow.proto"], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("tensorflow.descriptors.bin"), files.encode_to_vec())?;
    // The text form writes a map as repeated key/value entries, which is exactly how a repeated
    // field of the map's entry message is written. A second schema that declares maps that way
    // keeps the entries in the (sorted) order they were encoded in, so text output is stable.
    let mut as_lists = files.clone();
    for file in &mut as_lists.file {
        file.message_type.iter_mut().for_each(clear_map_entries);
    }
    std::fs::write(out.join("tensorflow.text-descriptors.bin"), as_lists.encode_to_vec())?;
    // Ordered maps, so that encoding a graph twice gives the same bytes.
    prost_build::Config::new().btree_map(["."]).compile_fds(files)?;
    Ok(())
}

fn clear_map_entries(message: &mut DescriptorProto) {
    if let Some(options) = message.options.as_mut() {
        options.map_entry = None;
    }
    message.nested_type.iter_mut().for_each(clear_map_entries);
}
