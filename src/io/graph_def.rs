//! The native graph file format, version 1.
//!
//! ```json
//! {
//!   "format": "stepflow.graph",
//!   "version": 1,
//!   "nodes": [
//!     {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 3]}},
//!     {"name": "w", "op": "Variable", "attrs": {"dtype": "float32", "shape": [3, 1], "initializer": "zeros"}},
//!     {"name": "y", "op": "MatMul", "inputs": ["x", "w"]}
//!   ],
//!   "variables": [{"name": "w", "initializer": "w/Assign", "trainable": true}]
//! }
//! ```
//!
//! A node's `op` is a TF op type (`MatMul`, see [`crate::ops::OP_TYPES`]) or a graph function
//! (`Variable`, `exponential_decay`, ..., see [`super::functions`]) that expands into primitive
//! nodes, the last of which takes the node's name. `inputs` name tensors (`node` or `node:1`);
//! `control_inputs` name nodes (TF's `^node` inside `inputs` is accepted too). Nodes may appear in
//! any order; they are added through the builder in file order where possible, so every check of
//! wiring runs. `variables` declares which `VariableV2` nodes are variables' initializers and
//! trainability; variables made by the `Variable` function declare themselves.

use super::functions;
use crate::error::{Error, Result};
use crate::graph::{Graph, Library, NodeId, NodeName, Output};
use crate::ops::op_from_json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// The most nodes a graph file may hold: a bound on what a malformed file can make stepflow do.
pub const MAX_NODES: usize = 1 << 22;

/// A whole graph file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphDef {
    #[serde(default = "format_name")]
    pub format: String,
    pub version: u32,
    pub nodes: Vec<NodeDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<VariableDef>,
}

fn format_name() -> String {
    "stepflow.graph".to_string()
}

/// One node of a graph file.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    pub name: String,
    pub op: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_inputs: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty_object")]
    pub attrs: Value,
}

fn is_empty_object(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(|o| o.is_empty())
}

/// A variable's declaration: its initializer node and whether it is trainable.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initializer: Option<String>,
    #[serde(default = "yes")]
    pub trainable: bool,
}

fn yes() -> bool {
    true
}

impl GraphDef {
    /// The file form of a graph: every node in creation order with its attributes.
    pub fn from_graph(g: &Graph) -> GraphDef {
        let nodes = g
            .node_ids()
            .map(|id| {
                let n = g.node(id);
                NodeDef {
                    name: n.name().to_string(),
                    op: n.op().op_type().to_string(),
                    inputs: n.inputs().iter().map(|&o| g.output_name(o)).collect(),
                    control_inputs: n.control_inputs().iter().map(|&c| g.node(c).name().to_string()).collect(),
                    attrs: n.op().attrs(),
                }
            })
            .collect();
        let variables = g
            .variables()
            .iter()
            .map(|v| VariableDef {
                name: g.node(v.node).name().to_string(),
                initializer: v.initializer.map(|i| g.node(i).name().to_string()),
                trainable: v.trainable,
            })
            .collect();
        GraphDef { format: format_name(), version: VERSION, nodes, variables }
    }

    /// Builds the graph through the builder. `file` names the source in error messages.
    pub fn to_graph(&self, file: &str) -> Result<Graph> {
        self.to_graph_with(file, &Library::new())
    }

    /// Builds the graph through the builder, with `library` for the functions its ops call
    /// (`If`'s branches).
    pub fn to_graph_with(&self, file: &str, library: &Library) -> Result<Graph> {
        if self.format != format_name() {
            return Err(Error::format(file, format!("is a '{}' file, not a 'stepflow.graph'", self.format)));
        }
        if self.version != VERSION {
            return Err(Error::format(
                file,
                format!("unsupported version {} (this build reads version {VERSION})", self.version),
            ));
        }
        if self.nodes.len() > MAX_NODES {
            return Err(Error::format(
                file,
                format!("{} nodes is more than the {MAX_NODES} a graph file may hold", self.nodes.len()),
            ));
        }
        let order = self.load_order(file)?;
        let mut g = Graph::new();
        for i in order {
            add_def(&mut g, &self.nodes[i], library).map_err(|e| in_file(file, e))?;
        }
        for v in &self.variables {
            let node = g.node_id(&v.name).map_err(|e| in_file(file, e))?;
            let init = v.initializer.as_deref().map(|n| g.node_id(n)).transpose().map_err(|e| in_file(file, e))?;
            g.set_variable_info(node, init, v.trainable).map_err(|e| in_file(file, e))?;
        }
        Ok(g)
    }

    /// A topological order of the nodes that keeps file order wherever the dependencies allow,
    /// so a saved graph loads with the same node order. Checks names and references first.
    fn load_order(&self, file: &str) -> Result<Vec<usize>> {
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            if index.insert(n.name.as_str(), i).is_some() {
                return Err(Error::format(file, format!("node '{}' (node #{i}): duplicate name", n.name)));
            }
        }
        let mut preds: Vec<Vec<usize>> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let mut p = Vec::new();
            for (input, _) in n.all_inputs() {
                let src = input_node(input);
                let &j = index.get(src).ok_or_else(|| {
                    Error::format(file, format!("node '{}': input '{input}' names no node in the file", n.name))
                })?;
                p.push(j);
            }
            preds.push(p);
        }
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut pending: Vec<usize> = preds.iter().map(Vec::len).collect();
        for (i, p) in preds.iter().enumerate() {
            for &j in p {
                succ[j].push(i);
            }
        }
        let mut ready: BTreeSet<usize> = (0..self.nodes.len()).filter(|&i| pending[i] == 0).collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &s in &succ[i] {
                pending[s] -= 1;
                if pending[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        if let Some(stuck) = (0..self.nodes.len()).find(|&i| pending[i] > 0) {
            return Err(Error::format(file, format!("node '{}' is part of a cycle", self.nodes[stuck].name)));
        }
        Ok(order)
    }
}

impl NodeDef {
    /// Data inputs (`false`) and control inputs (`true`, from `control_inputs` or `^name`).
    fn all_inputs(&self) -> impl Iterator<Item = (&str, bool)> {
        let data = self.inputs.iter().map(|s| match s.strip_prefix('^') {
            Some(c) => (c, true),
            None => (s.as_str(), false),
        });
        data.chain(self.control_inputs.iter().map(|s| (s.as_str(), true)))
    }
}

/// The node part of a tensor name (`a:1` → `a`).
fn input_node(tensor: &str) -> &str {
    match tensor.rsplit_once(':') {
        Some((n, s)) if s.parse::<u32>().is_ok() => n,
        _ => tensor,
    }
}

fn add_def(g: &mut Graph, def: &NodeDef, library: &Library) -> Result<()> {
    let mut inputs: Vec<Output> = Vec::new();
    let mut controls: Vec<NodeId> = Vec::new();
    for (name, control) in def.all_inputs() {
        if control {
            controls.push(g.node_id(name)?);
        } else {
            inputs.push(g.output(name)?);
        }
    }
    let empty = Value::Object(Default::default());
    let attrs = if def.attrs.is_null() { &empty } else { &def.attrs };
    let attrs_error =
        |msg: String| Error::Node { node: def.name.clone(), op: def.op.clone(), source: crate::invalid!("{msg}") };
    match op_from_json(&def.op, attrs) {
        Some(Ok(op)) => {
            let op = op.bind(library).map_err(attrs_error)?.unwrap_or(op);
            g.add_shared(NodeName::Exact(&def.name), op, &inputs, &controls).map(|_| ())
        }
        Some(Err(msg)) => Err(attrs_error(format!("attrs: {msg}"))),
        None => functions::build(g, def, &inputs, &controls, attrs.clone()),
    }
}

fn in_file(file: &str, e: Error) -> Error {
    Error::format(file, e.to_string())
}
