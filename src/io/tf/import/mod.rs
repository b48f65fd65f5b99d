//! The importer: a TensorFlow graph ([`TfGraph`], [`TfMetaGraph`]) as a stepflow [`Graph`].
//!
//! Each TF node becomes the stepflow op of the same type, with the attributes that op honours
//! (see [`attrs`]), added through the same loader as stepflow's own graph files, so every check
//! of wiring runs. Node names, tensor names (`x`, `x:1`) and control inputs (`^init`) are kept.
//! Variables get their initializers from the MetaGraphDef's `variables` collection when there is
//! one, otherwise from the assignment that writes each variable without reading it (TF's
//! `w/Assign`), so that both the graph's own `init` op and [`Session::initialize`] work.
//!
//! ```
//! use stepflow::io::tf::TfGraph;
//! use stepflow::{Graph, Session, Tensor};
//! let text = r#"
//!   node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
//!   node { name: "y" op: "Square" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
//! "#;
//! let g = Graph::from_tf(&TfGraph::parse(text.as_bytes(), "inline.pbtxt")?, "inline.pbtxt")?;
//! let s = Session::new(g);
//! let y = s.run_by_name(&[("x:0", Tensor::from(3.0f32))], &["y:0"], &[])?;
//! assert_eq!(y[0].to_f64_vec(), vec![9.0]);
//! # Ok::<(), stepflow::Error>(())
//! ```
//!
//! [`Session::initialize`]: crate::Session::initialize

mod attrs;
mod functions;
mod messages;

use functions::library;

use super::{TfGraph, TfMetaGraph, TfNode};
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId};
use crate::io::{GraphDef, NodeDef, VERSION, VariableDef};
use crate::ops::{Access, op_attributes};
use serde_json::Value;
use std::collections::HashMap;

impl Graph {
    /// Builds a graph from a TensorFlow GraphDef; `file` names the source in errors. Every
    /// variable is trainable except `global_step` (a GraphDef does not say; a MetaGraphDef does,
    /// see [`Graph::from_tf_meta`]).
    pub fn from_tf(tf: &TfGraph, file: &str) -> Result<Graph> {
        let mut g = native(tf, file, Vec::new())?.to_graph_with(file, &library(tf, file)?)?;
        for (var, init) in initializers(&g) {
            let trainable = g.node(var).name() != "global_step";
            g.set_variable_info(var, init, trainable).map_err(|e| Error::format(file, e.to_string()))?;
        }
        Ok(g)
    }

    /// Builds a graph from a TensorFlow MetaGraphDef: its graph, with each variable's initializer
    /// and trainability from the `variables` and `trainable_variables` collections, and the
    /// summary ops of its `summaries` collection in [`SUMMARIES`](crate::graph::SUMMARIES), so
    /// that [`merge_all_summaries`](Graph::merge_all_summaries) finds them.
    pub fn from_tf_meta(meta: &TfMetaGraph, file: &str) -> Result<Graph> {
        let mut g = graph_of_meta(meta, file)?;
        if let Some(super::TfCollection::Nodes(names)) = meta.collections.get(crate::graph::SUMMARIES) {
            for name in names {
                let node = g.node_id(node_part(name)).map_err(|e| Error::format(file, e.to_string()))?;
                g.add_to_collection(crate::graph::SUMMARIES, node)?;
            }
        }
        Ok(g)
    }
}

/// The graph of a MetaGraphDef with its variables.
fn graph_of_meta(meta: &TfMetaGraph, file: &str) -> Result<Graph> {
    if meta.variables.is_empty() {
        return Graph::from_tf(&meta.graph, file);
    }
    let trainable: Vec<&str> = meta.trainable_variables.iter().map(|v| node_part(&v.variable_name)).collect();
    let variables = meta
        .variables
        .iter()
        .map(|v| {
            let name = node_part(&v.variable_name).to_string();
            let initializer = Some(node_part(&v.initializer_name).to_string()).filter(|i| !i.is_empty());
            VariableDef { trainable: v.trainable || trainable.contains(&name.as_str()), name, initializer }
        })
        .collect();
    native(&meta.graph, file, variables)?.to_graph_with(file, &library(&meta.graph, file)?)
}

/// The graph in stepflow's own file form.
fn native(tf: &TfGraph, file: &str, variables: Vec<VariableDef>) -> Result<GraphDef> {
    let nodes = messages::fold_into_asserts(&tf.nodes).iter().map(|n| node(n, file)).collect::<Result<Vec<_>>>()?;
    Ok(GraphDef { format: "stepflow.graph".into(), version: VERSION, nodes, variables })
}

pub(super) fn node(n: &TfNode, file: &str) -> Result<NodeDef> {
    let accepted = op_attributes(&n.op)
        .ok_or_else(|| Error::format(file, format!("node '{}': unknown op type '{}'", n.name, n.op)))?;
    let attrs = attrs::op_attrs(&n.op, n.attrs.iter(), accepted)
        .map_err(|e| Error::format(file, format!("node '{}' ({}): {e}", n.name, n.op)))?;
    Ok(NodeDef {
        name: n.name.clone(),
        op: n.op.clone(),
        inputs: n.inputs.clone(),
        control_inputs: Vec::new(),
        attrs: Value::Object(attrs),
    })
}

/// `w:0` → `w`; `w` stays.
pub(super) fn node_part(tensor: &str) -> &str {
    match tensor.rsplit_once(':') {
        Some((n, s)) if s.parse::<u32>().is_ok() => n,
        _ => tensor,
    }
}

/// Each variable with the node that writes it without reading it: TF's `w/Assign` when there
/// are several, else the first.
fn initializers(g: &Graph) -> Vec<(NodeId, Option<NodeId>)> {
    let mut writers: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for id in g.node_ids() {
        let n = g.node(id);
        if n.op().state().refs() == [Access::Overwrite] {
            writers.entry(n.inputs()[0].node).or_default().push(id);
        }
    }
    g.variables()
        .iter()
        .map(|v| {
            let found = writers.get(&v.node).map(Vec::as_slice).unwrap_or_default();
            let conventional = format!("{}/Assign", g.node(v.node).name());
            let init = found.iter().copied().find(|&id| g.node(id).name() == conventional).or(found.first().copied());
            (v.node, init)
        })
        .collect()
}
