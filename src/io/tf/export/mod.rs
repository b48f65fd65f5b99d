//! The exporter: a stepflow [`Graph`] as a TensorFlow GraphDef ([`TfGraph`]) that TensorFlow 1
//! loads with `tf.import_graph_def` and runs with stepflow's results.
//!
//! Every node keeps its name, op type, inputs and control inputs; composites of stepflow's graph
//! files were expanded to TF's ops when the graph was built. Attributes take TF's names and kinds
//! from TF's op definitions (`op_defs.json`), which also give the type and count attributes TF needs
//! (`T`, `N`, `Tidx`, ...), derived from the dtypes stepflow inferred. Variables are TF variables
//! with their `w/Assign` initializers, and an `init` op runs all of them when the graph has none.
//! An `Assert`'s message becomes TF's string constants again, and stepflow's order of unordered
//! variable reads and writes becomes control inputs ([`order`]).
//!
//! ```
//! use stepflow::{DType, Graph, Initializer, Shape};
//! use stepflow::io::tf::{AttrValue, Form, TfType};
//! let mut g = Graph::new();
//! let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)]))?;
//! let w = g.variable("w", DType::Float32, &[2, 1], Initializer::Zeros)?;
//! let y = g.matmul(x, w)?;
//! let tf = g.to_tf()?;
//! let mm = tf.nodes.iter().find(|n| n.op == "MatMul").unwrap();
//! assert_eq!(mm.inputs, ["Placeholder", "w"]);
//! assert_eq!(mm.attr("T"), Some(&AttrValue::Type(TfType::Known(DType::Float32))));
//! assert!(tf.nodes.iter().any(|n| n.name == "init" && n.inputs == ["^w/Assign"]));
//! let text = String::from_utf8(tf.encode(Form::Text)?).unwrap();
//! assert!(text.contains("op: \"VariableV2\""));
//! # Ok::<(), stepflow::Error>(())
//! ```

mod attrs;
mod functions;
mod order;

use super::op_defs::op_def;
use super::{AttrValue, TfGraph, TfNode, TfTensor, TfType};
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId};
use crate::ops::op_attributes;
use serde_json::Value;
use std::collections::BTreeMap;

/// The GraphDef version written: that of the TensorFlow whose op definitions stepflow follows.
const PRODUCER: i32 = 2474;

impl Graph {
    /// The graph as a TensorFlow GraphDef, with the functions its ops call (`If`'s branches)
    /// as its function library. Fails, naming the node, for an op or attribute TensorFlow does
    /// not have.
    pub fn to_tf(&self) -> Result<TfGraph> {
        let mut nodes = Vec::with_capacity(self.len() + 1);
        let waits = order::waits(self);
        for id in self.node_ids() {
            export_node(self, id, waits.get(&id).map_or(&[], Vec::as_slice), &mut nodes)?;
        }
        let inits: Vec<String> = self
            .variables()
            .iter()
            .filter_map(|v| v.initializer)
            .map(|i| format!("^{}", self.node(i).name()))
            .collect();
        if !inits.is_empty() && self.node_id("init").is_err() {
            nodes.push(TfNode { name: "init".into(), op: "NoOp".into(), inputs: inits, attrs: BTreeMap::new() });
        }
        Ok(TfGraph { nodes, functions: functions::library(self)?, producer: PRODUCER, ..TfGraph::default() })
    }
}

/// Appends node `id` (and the string constants of an `Assert`'s message) to `out`; it waits for
/// `waits` besides its own control inputs.
fn export_node(g: &Graph, id: NodeId, waits: &[NodeId], out: &mut Vec<TfNode>) -> Result<()> {
    let n = g.node(id);
    let op_type = n.op().op_type();
    let fail = |e: String| Error::format("export", format!("node '{}' ({op_type}): {e}", n.name()));
    let def = op_def(op_type).ok_or_else(|| fail("TensorFlow has no such op".into()))?;
    let mut inputs: Vec<String> = n.inputs().iter().map(|&o| g.output_name(o)).collect();
    let mut types: Vec<TfType> = n.inputs().iter().map(|&o| TfType::Known(g.spec(o).dtype)).collect();
    let mut attrs = BTreeMap::new();
    let declared = op_attributes(op_type).unwrap_or_default();
    let Value::Object(values) = n.op().attrs() else { return Err(fail("has no attribute map".into())) };
    for (key, value) in values.iter().filter(|(_, v)| !v.is_null()) {
        if let ("Assert", "message", Value::Array(message)) = (op_type, key.as_str(), value) {
            for (i, m) in message.iter().enumerate() {
                let name = format!("{}/message_{i}", n.name());
                out.push(string_const(&name, m.as_str().unwrap_or_default()));
                inputs.insert(1 + i, name);
                types.insert(1 + i, string_type());
            }
            continue;
        }
        let tf_name = declared.iter().find(|a| a.name == key).map_or(key.as_str(), |a| a.tf_name);
        let kind = def.attrs.iter().find(|a| a.name == tf_name).map(|a| a.kind.as_str());
        let kind = kind.ok_or_else(|| fail(format!("attribute '{key}' has no TensorFlow counterpart")))?;
        let attr = attrs::to_attr(value, kind).map_err(|e| fail(format!("attribute '{key}': {e}")))?;
        attrs.insert(tf_name.to_string(), attr);
    }
    if def.attrs.iter().any(|a| a.name == "shared_name") {
        // Each variable op is its own variable: TF shares one resource between handles with the
        // same (by default empty) shared name.
        attrs.entry("shared_name".into()).or_insert_with(|| AttrValue::Str(n.name().as_bytes().to_vec()));
    }
    let outputs: Vec<TfType> = n.outputs().iter().map(|s| TfType::Known(s.dtype)).collect();
    for (name, value) in def.type_attrs(&types, &outputs).map_err(fail)? {
        attrs.entry(name).or_insert(value);
    }
    if let Some(missing) = def.attrs.iter().find(|a| !a.default && !attrs.contains_key(&a.name)) {
        return Err(fail(format!("TensorFlow needs attribute '{}', which stepflow cannot give", missing.name)));
    }
    inputs.extend(n.control_inputs().iter().chain(waits).map(|&c| format!("^{}", g.node(c).name())));
    out.push(TfNode { name: n.name().to_string(), op: op_type.to_string(), inputs, attrs });
    Ok(())
}

fn string_type() -> TfType {
    TfType::Known(crate::tensor::DType::String)
}

/// A scalar string `Const` named `name`.
fn string_const(name: &str, s: &str) -> TfNode {
    let attrs = BTreeMap::from([
        ("dtype".to_string(), AttrValue::Type(string_type())),
        ("value".to_string(), AttrValue::Tensor(TfTensor::Value(crate::Tensor::from(s)))),
    ]);
    TfNode { name: name.to_string(), op: "Const".into(), inputs: Vec::new(), attrs }
}
