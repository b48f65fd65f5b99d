//! TensorFlow's graph files, read and written as plain structs: a GraphDef in its binary
//! (`.pb`), text (`.pbtxt`) or JSON form, and the MetaGraphDef a `tf.train.Saver` writes
//! (`.meta`), as plain structs; [`Graph::from_tf`](crate::Graph::from_tf) and
//! [`Graph::from_tf_meta`](crate::Graph::from_tf_meta) import them.
//!
//! The form is told from the content (the file extension is not needed), and a MetaGraphDef or a
//! JSON run spec with a `graph_def` member is accepted wherever a graph is expected. Every problem
//! is an [`Error::Format`] naming the file and, where known, the line and column (text, JSON),
//! the field path (binary), or the node and attribute. Nothing is allocated beyond a bound:
//! messages nest at most [`MAX_DEPTH`] deep, and no tensor holds more elements than
//! [`Decoder::max_tensor_elements`] allows (checked before allocating).
//!
//! ```
//! use stepflow::io::tf::{AttrValue, Form, TfGraph, TfType};
//! use stepflow::DType;
//! let text = r#"
//!   node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
//!   node { name: "y" op: "Square" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
//!   versions { producer: 1994 }
//! "#;
//! let g = TfGraph::parse(text.as_bytes(), "inline.pbtxt")?;
//! assert_eq!(g.nodes[1].inputs, ["x"]);
//! assert_eq!(g.nodes[0].attr("dtype"), Some(&AttrValue::Type(TfType::Known(DType::Float32))));
//! // Any form back: binary, text or JSON, each read back to the same graph.
//! let json = g.encode(Form::Json)?;
//! assert_eq!(TfGraph::parse(&json, "inline.json")?, g);
//! # Ok::<(), stepflow::Error>(())
//! ```

mod decode;
mod dynamic;
mod encode;
mod export;
mod forms;
mod import;
mod meta;
mod op_defs;
pub(crate) mod proto;
mod tensor;
mod types;

pub use forms::{Form, MAX_DEPTH};
pub use meta::{TfCollection, TfMetaGraph, TfSaveSlice, TfSaver, TfVariable};
pub use tensor::MAX_RANK;
pub use types::{
    AttrList, AttrValue, OtherTensor, TfArg, TfArgType, TfFunc, TfFunction, TfGraph, TfNode, TfTensor, TfType,
};

use super::read_bytes;
use crate::error::{Error, Result};
use crate::shape::MAX_ELEMENTS;
use decode::Context;
use serde_json::Value;
use std::path::Path;

/// The keys under which a JSON document may hold a GraphDef: a run spec's `graph_def`, and a
/// MetaGraphDef's `graphDef` (or its proto field name).
const GRAPH_KEYS: [&str; 2] = ["graph_def", "graphDef"];

/// Reads TensorFlow's graph files, with a bound on the size of the tensors they hold.
///
/// ```
/// use stepflow::io::tf::Decoder;
/// let text = r#"node { name: "big" op: "Const" attr { key: "value" value { tensor {
///   dtype: DT_FLOAT tensor_shape { dim { size: 1000000 } } float_val: 0 } } } }"#;
/// let e = Decoder::new().max_tensor_elements(1000).graph(text.as_bytes(), "big.pbtxt").unwrap_err();
/// assert!(e.to_string().contains("node 'big': attr 'value': a tensor of shape [1000000] is too large"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    max_tensor_elements: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { max_tensor_elements: MAX_ELEMENTS }
    }
}

impl Decoder {
    /// A decoder that allows tensors up to stepflow's limit ([`MAX_ELEMENTS`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects any tensor of more than `n` elements (stepflow's own limit still applies).
    pub fn max_tensor_elements(mut self, n: usize) -> Self {
        self.max_tensor_elements = n;
        self
    }

    /// A graph from a GraphDef in any form, a JSON run spec holding one under `graph_def`, or a
    /// MetaGraphDef in any form (its graph); `file` names the data in errors.
    pub fn graph(&self, data: &[u8], file: &str) -> Result<TfGraph> {
        let form = check_nonempty(data, file)?;
        let first = match form {
            Form::Json => self.graph_json(data, file),
            Form::Text if is_meta_text(data) => Ok(self.meta_graph_in(data, Form::Text, file)?.graph),
            Form::Text => self.graph_in(data, Form::Text, file),
            Form::Binary => return self.graph_binary(data, file),
        };
        // Binary data may look like text or JSON by chance: try it as binary before giving up.
        first.or_else(|e| self.graph_binary(data, file).map_err(|_| e))
    }

    /// A graph from a GraphDef in the given form.
    pub fn graph_in(&self, data: &[u8], form: Form, file: &str) -> Result<TfGraph> {
        decode::graph(forms::decode::<proto::GraphDef>(data, form, file)?, self.context(file))
    }

    /// A graph from the proto3 JSON mapping of a GraphDef (or a run spec holding one under
    /// `graph_def`), already parsed.
    pub fn graph_from_json_value(&self, value: &Value, file: &str) -> Result<TfGraph> {
        let inner = GRAPH_KEYS.iter().find_map(|k| value.get(k)).filter(|_| value.get("node").is_none());
        let def = forms::decode_json_value::<proto::GraphDef>(inner.unwrap_or(value), file)?;
        decode::graph(def, self.context(file))
    }

    /// A meta graph from a MetaGraphDef in any form.
    pub fn meta_graph(&self, data: &[u8], file: &str) -> Result<TfMetaGraph> {
        let form = check_nonempty(data, file)?;
        let first = self.meta_graph_in(data, form, file);
        if form == Form::Binary {
            return first;
        }
        first.or_else(|e| self.meta_graph_in(data, Form::Binary, file).map_err(|_| e))
    }

    /// A meta graph from a MetaGraphDef in the given form.
    pub fn meta_graph_in(&self, data: &[u8], form: Form, file: &str) -> Result<TfMetaGraph> {
        meta::decode(forms::decode::<proto::MetaGraphDef>(data, form, file)?, self.context(file))
    }

    /// Reads a graph file (see [`Decoder::graph`]).
    pub fn read_graph(&self, path: impl AsRef<Path>) -> Result<TfGraph> {
        let path = path.as_ref();
        self.graph(&read_bytes(path)?, &path.display().to_string())
    }

    /// Reads a meta graph file (see [`Decoder::meta_graph`]).
    pub fn read_meta_graph(&self, path: impl AsRef<Path>) -> Result<TfMetaGraph> {
        let path = path.as_ref();
        self.meta_graph(&read_bytes(path)?, &path.display().to_string())
    }

    fn context<'a>(&self, file: &'a str) -> Context<'a> {
        Context { file, max_tensor_elements: self.max_tensor_elements }
    }

    fn graph_json(&self, data: &[u8], file: &str) -> Result<TfGraph> {
        match self.graph_in(data, Form::Json, file) {
            Ok(g) => Ok(g),
            Err(direct) => match forms::decode_json_member::<proto::GraphDef>(data, &GRAPH_KEYS, file) {
                Ok(Some(def)) => decode::graph(def, self.context(file)),
                Ok(None) => Err(direct),
                Err(e) => Err(e),
            },
        }
    }

    /// A binary GraphDef, or failing that (or when what decoded cannot be a graph: a node
    /// without an op), the graph of a binary MetaGraphDef.
    fn graph_binary(&self, data: &[u8], file: &str) -> Result<TfGraph> {
        let direct = forms::decode::<proto::GraphDef>(data, Form::Binary, file);
        if let Ok(def) = &direct
            && def.node.iter().all(|n| !n.op.is_empty())
        {
            return decode::graph(direct?, self.context(file));
        }
        match forms::decode::<proto::MetaGraphDef>(data, Form::Binary, file) {
            Ok(m) if m.graph_def.is_some() => Ok(meta::decode(m, self.context(file))?.graph),
            _ => decode::graph(direct?, self.context(file)),
        }
    }
}

impl TfGraph {
    /// A graph from a GraphDef in any form (see [`Decoder::graph`]).
    pub fn parse(data: &[u8], file: &str) -> Result<TfGraph> {
        Decoder::new().graph(data, file)
    }

    /// A graph from the proto3 JSON mapping of a GraphDef, already parsed.
    pub fn from_json_value(value: &Value, file: &str) -> Result<TfGraph> {
        Decoder::new().graph_from_json_value(value, file)
    }

    /// Reads a graph file in any form.
    pub fn read(path: impl AsRef<Path>) -> Result<TfGraph> {
        Decoder::new().read_graph(path)
    }

    /// The graph as a GraphDef in `form`: binary as TensorFlow's `ParseFromString` reads it,
    /// text as `text_format.Parse` reads it, JSON as `json_format.Parse` reads it.
    pub fn encode(&self, form: Form) -> Result<Vec<u8>> {
        forms::encode(&encode::graph(self)?, form)
    }

    /// Writes the graph to a file in `form`, atomically.
    pub fn write(&self, path: impl AsRef<Path>, form: Form) -> Result<()> {
        super::write_atomic(path.as_ref(), &self.encode(form)?)
    }
}

impl TfMetaGraph {
    /// A meta graph from a MetaGraphDef in any form.
    pub fn parse(data: &[u8], file: &str) -> Result<TfMetaGraph> {
        Decoder::new().meta_graph(data, file)
    }

    /// Reads a meta graph file (`.meta`) in any form.
    pub fn read(path: impl AsRef<Path>) -> Result<TfMetaGraph> {
        Decoder::new().read_meta_graph(path)
    }

    /// The meta graph as a MetaGraphDef in `form`.
    pub fn encode(&self, form: Form) -> Result<Vec<u8>> {
        forms::encode(&meta::encode(self)?, form)
    }

    /// Writes the meta graph to a file in `form`, atomically.
    pub fn write(&self, path: impl AsRef<Path>, form: Form) -> Result<()> {
        super::write_atomic(path.as_ref(), &self.encode(form)?)
    }
}

/// The form of `data`, or an error when there is nothing in it.
fn check_nonempty(data: &[u8], file: &str) -> Result<Form> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::format(file, "the file is empty"));
    }
    Ok(Form::detect(data))
}

/// Whether a text-format message starts with a field of MetaGraphDef rather than GraphDef.
fn is_meta_text(data: &[u8]) -> bool {
    const META_FIELDS: [&str; 6] =
        ["meta_info_def", "graph_def", "saver_def", "collection_def", "signature_def", "asset_file_def"];
    forms::first_text_field(data).is_some_and(|f| META_FIELDS.contains(&f))
}
