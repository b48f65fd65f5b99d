//! The dataflow [`Graph`]: nodes on a petgraph DAG, wired through the builder (the only way to add
//! a node), with slash-scoped unique names, data edges from output slots and control edges.

mod builder;
mod collections;
mod cond;
mod function;
mod names;
mod variables;

pub use builder::NodeName;
pub use collections::{SUMMARIES, UPDATE_OPS};
pub use cond::Branch;
pub use function::{Function, Library};
pub use variables::{Initializer, VariableInfo};

use crate::error::{Error, Result};
use crate::ops::{Op, TensorSpec};
use crate::tensor::Tensor;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A node of one graph: its position in creation order, and which graph made it (a handle from
/// another graph is an error wherever it is used, never a different node).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NodeId {
    index: u32,
    graph: u32,
}

/// The tag of the next graph made.
static NEXT_GRAPH: AtomicU32 = AtomicU32::new(0);

impl NodeId {
    /// The node's position in creation order.
    pub fn index(self) -> usize {
        self.index as usize
    }
    pub(crate) fn ix(self) -> NodeIndex<u32> {
        NodeIndex::new(self.index())
    }
}

/// A handle to one output of a node: the symbolic tensor TF calls `Tensor` (`node:slot`).
/// It names a value the graph will compute; the value itself is a [`Tensor`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Output {
    pub node: NodeId,
    pub slot: u32,
}

impl From<NodeId> for Output {
    fn from(node: NodeId) -> Self {
        Output { node, slot: 0 }
    }
}

/// What an edge of the petgraph carries: a data edge from an output slot to an input position,
/// or a control edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Data { slot: u32, input: u32 },
    Control,
}

/// One node: its unique name, its op, its ordered inputs and control inputs, and the dtype and
/// static shape of each output, inferred when it was wired.
#[derive(Debug)]
pub struct Node {
    pub(crate) name: String,
    pub(crate) op: Arc<dyn Op>,
    pub(crate) inputs: Vec<Output>,
    pub(crate) control_inputs: Vec<NodeId>,
    pub(crate) outputs: Vec<TensorSpec>,
    /// The value of output 0 when it is known at build time (constants and what folds from them).
    pub(crate) value: Option<Tensor>,
    /// The build-time values of outputs 1.. of a multi-output node that folded (`Unpack` of a
    /// constant); empty otherwise.
    pub(crate) later_values: Vec<Tensor>,
    /// For a variable node, its index among the graph's variables.
    pub(crate) var: Option<usize>,
    /// Whether the node may be dead at run time: it is a [`Switch`](crate::ops::switch::Switch),
    /// or downstream of one by a data or control edge. Such a node is never folded.
    pub(crate) may_be_dead: bool,
}

impl Node {
    /// Whether the node may not run in a run (TF's dead values): it is a `Switch` or after one,
    /// so fetching it fails when its side of the switch is not taken.
    pub fn may_be_dead(&self) -> bool {
        self.may_be_dead
    }
    /// The unique, slash-scoped name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The op (its type name is `op().op_type()`).
    pub fn op(&self) -> &dyn Op {
        &*self.op
    }
    /// The data inputs, in order.
    pub fn inputs(&self) -> &[Output] {
        &self.inputs
    }
    /// The control inputs.
    pub fn control_inputs(&self) -> &[NodeId] {
        &self.control_inputs
    }
    /// Dtype and static shape of every output.
    pub fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }
    /// The build-time value of output 0, if known.
    pub fn constant_value(&self) -> Option<&Tensor> {
        self.value.as_ref()
    }
    /// The build-time value of output `slot`, if known.
    pub fn slot_value(&self, slot: u32) -> Option<&Tensor> {
        match slot {
            0 => self.value.as_ref(),
            s => self.later_values.get(s as usize - 1),
        }
    }
    /// How many leading inputs are variable references (see [`State::Variables`]).
    pub fn ref_inputs(&self) -> usize {
        self.op.state().refs().len()
    }
    /// The variable index of reference input `i`'s variable.
    pub(crate) fn ref_variable(&self, g: &Graph, i: usize) -> Option<usize> {
        self.inputs.get(i).and_then(|r| g.node(r.node).var)
    }
}

/// A TF1-style static graph.
///
/// ```
/// use stepflow::{DType, Graph, Session, Shape, Tensor};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)]))?;
/// let two = g.constant(2.0f32)?;
/// let y = g.mul(x, two)?;
/// assert_eq!(g.node(y.node).name(), "mul");
/// let sess = Session::new(g);
/// let out = sess.run(&[(x, Tensor::from_vec(&[1, 2], vec![1.0f32, 3.0])?)], &[y], &[])?;
/// assert_eq!(out[0].to_f64_vec(), vec![2.0, 6.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Graph {
    /// This graph's tag, carried by every [`NodeId`] it makes.
    pub(crate) tag: u32,
    pub(crate) dag: DiGraph<Node, Edge, u32>,
    pub(crate) names: HashMap<String, NodeId>,
    pub(crate) name_counts: HashMap<String, usize>,
    pub(crate) scopes: Vec<String>,
    pub(crate) control_scopes: Vec<Vec<NodeId>>,
    pub(crate) variables: Vec<VariableInfo>,
    /// Named lists of nodes (TF's graph collections, e.g. [`UPDATE_OPS`]).
    pub(crate) collections: HashMap<String, Vec<NodeId>>,
}

impl Default for Graph {
    fn default() -> Self {
        Graph {
            tag: NEXT_GRAPH.fetch_add(1, Ordering::Relaxed),
            dag: DiGraph::default(),
            names: HashMap::new(),
            name_counts: HashMap::new(),
            scopes: Vec::new(),
            control_scopes: Vec::new(),
            variables: Vec::new(),
            collections: HashMap::new(),
        }
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of the node at `index` in creation order.
    pub(crate) fn id_at(&self, index: usize) -> NodeId {
        NodeId { index: index as u32, graph: self.tag }
    }

    /// Fails unless `id` is a node of this graph (a handle from another graph is an error).
    pub fn check_node(&self, id: NodeId) -> Result<()> {
        if id.graph == self.tag && id.index() < self.len() {
            return Ok(());
        }
        Err(Error::UnknownNode { name: format!("#{} (a handle from another graph)", id.index()) })
    }

    /// Fails unless `out` is an output of a node of this graph.
    pub fn check_output(&self, out: Output) -> Result<()> {
        self.check_node(out.node)?;
        let n = self.node(out.node);
        if out.slot as usize >= n.outputs().len() {
            return Err(Error::UnknownOutput {
                name: format!("{}:{}", n.name(), out.slot),
                node: n.name().to_string(),
                slot: out.slot as usize,
                outputs: n.outputs().len(),
            });
        }
        Ok(())
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.dag.node_count()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A node by id. It panics for an id of another graph: code that takes handles from users
    /// checks them first ([`check_node`](Graph::check_node), [`try_node`](Graph::try_node)).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.dag[id.ix()]
    }

    /// A node by id, or an error for an id of another graph.
    pub fn try_node(&self, id: NodeId) -> Result<&Node> {
        self.check_node(id)?;
        Ok(self.node(id))
    }

    /// Every node id in creation order (which is a topological order).
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.len()).map(|i| self.id_at(i))
    }

    /// The node with this exact name.
    pub fn node_id(&self, name: &str) -> Result<NodeId> {
        self.names.get(name).copied().ok_or_else(|| Error::UnknownNode { name: name.to_string() })
    }

    /// The output a tensor name denotes: `node` is slot 0, `node:1` is slot 1.
    pub fn output(&self, name: &str) -> Result<Output> {
        let (node_name, slot) = match name.rsplit_once(':') {
            Some((n, s)) if s.parse::<u32>().is_ok() => (n, s.parse::<u32>().unwrap_or(0)),
            _ => (name, 0),
        };
        let node = self.node_id(node_name)?;
        let outputs = self.node(node).outputs.len();
        if slot as usize >= outputs {
            return Err(Error::UnknownOutput {
                name: name.to_string(),
                node: node_name.to_string(),
                slot: slot as usize,
                outputs,
            });
        }
        Ok(Output { node, slot })
    }

    /// The build-time value of an output, if known (constants and what folds from them).
    pub fn value_of(&self, out: Output) -> Option<&Tensor> {
        self.try_node(out.node).ok()?.slot_value(out.slot)
    }

    /// Dtype and static shape of an output. It panics for a handle of another graph: builder
    /// functions use [`try_spec`](Graph::try_spec) on the handles they are given.
    pub fn spec(&self, out: Output) -> &TensorSpec {
        &self.node(out.node).outputs[out.slot as usize]
    }

    /// Dtype and static shape of an output, or an error naming a handle of another graph.
    pub fn try_spec(&self, out: Output) -> Result<&TensorSpec> {
        self.check_output(out)?;
        Ok(self.spec(out))
    }

    /// The TF name of an output: `node` for slot 0, `node:k` otherwise.
    pub fn output_name(&self, out: Output) -> String {
        let n = self.node(out.node).name();
        if out.slot == 0 { n.to_string() } else { format!("{n}:{}", out.slot) }
    }

    /// The variables declared in this graph, in creation order.
    pub fn variables(&self) -> &[VariableInfo] {
        &self.variables
    }

    /// The trainable variables (what `minimize` updates by default).
    pub fn trainable_variables(&self) -> Vec<Output> {
        self.variables.iter().filter(|v| v.trainable).map(|v| v.node.into()).collect()
    }

    /// Nodes that consume an output of `id` through a data or control edge.
    pub fn consumers(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.dag.neighbors_directed(id.ix(), petgraph::Direction::Outgoing).map(|n| self.id_at(n.index()))
    }

    /// The petgraph DAG underneath (read-only), for analyses and drawing.
    pub fn dag(&self) -> &DiGraph<Node, Edge, u32> {
        &self.dag
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph({} nodes, {} variables)", self.len(), self.variables.len())
    }
}
