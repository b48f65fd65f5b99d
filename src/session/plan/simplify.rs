//! Simplification: steps a plan need not run, as TF's Grappler dependency optimizer and model
//! pruner find them. TF's training graphs hold many: the `w/read` Identities of reference
//! variables, the `tuple/control_dependency` Identities and `group_deps` NoOps that gate every
//! gradient, and pure nodes that nothing reads (the labels' gradient of a softmax cross-entropy,
//! kept only by a control edge into `group_deps`).
//!
//! - a forwarding node ([`Elision::Forward`]) is skipped: its readers read its input;
//! - a reshaping node ([`Elision::Reshape`]) whose output has input 0's fully known shape, and
//!   whose other inputs are constants of the plan, is skipped the same way (TF's gradient of a
//!   broadcast scalar reshapes it to the shape `[]` it has);
//! - a node whose op [forwards](crate::ops::Op::forwards) input 0 given its constant inputs
//!   (TF's `Mean` gradient gathers every dimension of a shape) is skipped the same way;
//! - an ordering node ([`Elision::Order`]) is skipped;
//! - a pure node that computes what an earlier one does (the same op, attributes and inputs) is
//!   skipped, its readers reading the earlier one (Grappler's common subexpression elimination);
//! - a constant gated by control inputs (TF's gradients put `^grad` on the constants they add, and
//!   `minimize` on the increment of `global_step`) becomes a constant of the plan;
//! - a pure node whose outputs nothing reads or fetches, and that is not a target, is skipped
//!   (its errors with it).
//!
//! A skipped node's consumers take over its dependencies, so every ordering it gave (a gradient
//! before an update, a read before a write) still holds. A node whose skipping would add more
//! edges than it removes by more than [`EDGE_BUDGET`] runs. Plans that can hold dead values
//! (a `Switch`) are left as they are: there, an Identity or a NoOp carries deadness.

use super::order::Edges;
use crate::graph::{Graph, NodeId, Output};
use crate::ops::{ControlFlow, Elision, InferCx, State, TensorSpec};
use crate::tensor::Tensor;
use std::collections::{HashMap, HashSet};

/// How many edges beyond the ones it removes skipping one node may add.
const EDGE_BUDGET: usize = 8;

/// The simplified plan: the steps left in their order, and where readers of a forwarded output
/// read instead.
pub(super) struct Simplified {
    pub(super) order: Vec<NodeId>,
    pub(super) forward: HashMap<Output, Output>,
    /// The gated constants, whose readers read their value as a constant of the plan.
    pub(super) constants: Vec<NodeId>,
    /// The steps that run a fusion of themselves and the producers they absorbed.
    pub(super) fused: HashMap<NodeId, super::fuse::Fused>,
}

/// Removes the steps that need not run from `order`, rewiring `edges` around them.
pub(super) fn simplify(
    g: &Graph,
    edges: &mut Edges,
    order: Vec<NodeId>,
    fetches: &[Output],
    targets: &[NodeId],
    folded: &HashMap<NodeId, u32>,
    fuse: bool,
) -> Simplified {
    let mut forward: HashMap<Output, Output> = HashMap::new();
    let mut constants: Vec<NodeId> = Vec::new();
    if order.iter().any(|&id| g.node(id).op().control_flow() == ControlFlow::Switch) {
        return Simplified { order, forward, constants, fused: HashMap::new() };
    }
    let mut graph = Deps::new(&edges.preds, &order);
    let mut skipped: HashSet<NodeId> = HashSet::new();
    let asked: HashSet<NodeId> = fetches.iter().map(|o| o.node).chain(targets.iter().copied()).collect();
    let mut computed: HashMap<PureKey, NodeId> = HashMap::new();
    for &id in &order {
        let node = g.node(id);
        let is_constant = |n: NodeId| folded.contains_key(&n) || constants.contains(&n);
        let skip = match node.op().elision() {
            Elision::Forward => node.inputs().len() == 1 && node.ref_inputs() == 0,
            Elision::Reshape => keeps_shape(g, id) && node.inputs().iter().skip(1).all(|i| is_constant(i.node)),
            Elision::Order => node.outputs().is_empty(),
            Elision::Never => node.ref_inputs() == 0 && forwards(g, id, is_constant),
        };
        if !skip && is_gated_constant(g, id) && !asked.contains(&id) && graph.remove(id) {
            skipped.insert(id);
            constants.push(id);
            continue;
        }
        if let Some(key) = (!skip && !asked.contains(&id)).then(|| pure_key(g, id, &forward)).flatten() {
            match computed.get(&key) {
                Some(&first) => {
                    graph.merge_into(id, first);
                    skipped.insert(id);
                    for slot in 0..node.outputs().len() as u32 {
                        forward.insert(Output { node: id, slot }, Output { node: first, slot });
                    }
                    continue;
                }
                None => {
                    computed.insert(key, id);
                }
            }
        }
        if skip && graph.remove(id) {
            skipped.insert(id);
            if let Some(&input) = node.inputs().first() {
                let source = forward.get(&input).copied().unwrap_or(input);
                forward.insert(Output { node: id, slot: 0 }, source);
            }
        }
    }
    // Readers of each node's outputs among the steps left, after forwarding.
    let mut readers: HashMap<NodeId, usize> = HashMap::new();
    for &id in order.iter().filter(|id| !skipped.contains(id)) {
        for i in data_inputs(g, id, &forward) {
            *readers.entry(i.node).or_default() += 1;
        }
    }
    for o in fetches {
        let o = forward.get(o).copied().unwrap_or(*o);
        *readers.entry(o.node).or_default() += 1;
    }
    for &id in order.iter().rev() {
        let node = g.node(id);
        let unread = readers.get(&id).copied().unwrap_or(0) == 0 && !asked.contains(&id);
        if skipped.contains(&id) || !unread || node.op().state() != State::Pure || node.outputs().is_empty() {
            continue;
        }
        if graph.remove(id) {
            skipped.insert(id);
            for i in data_inputs(g, id, &forward) {
                if let Some(r) = readers.get_mut(&i.node) {
                    *r = r.saturating_sub(1);
                }
            }
        }
    }
    let order: Vec<NodeId> = order.into_iter().filter(|id| !skipped.contains(id)).collect();
    let fused =
        if fuse { super::fuse::fuse(g, &mut graph, &order, &forward, &asked, &readers) } else { Default::default() };
    for (id, preds) in graph.preds {
        edges.preds.insert(id, preds);
    }
    let order = order.into_iter().filter(|id| !fused.absorbed.contains(id)).collect();
    Simplified { order, forward, constants, fused: fused.steps }
}

/// Whether the node's output 0 has the fully known shape and the dtype of its input 0.
fn keeps_shape(g: &Graph, id: NodeId) -> bool {
    let node = g.node(id);
    let (Some(&input), [out]) = (node.inputs().first(), node.outputs()) else { return false };
    let known = out.shape.dims().is_some_and(|d| d.iter().all(Option::is_some));
    node.ref_inputs() == 0 && known && g.spec(input) == out
}

/// Whether the node's op says it forwards input 0, given the values of its constant inputs.
fn forwards(g: &Graph, id: NodeId, is_constant: impl Fn(NodeId) -> bool) -> bool {
    let node = g.node(id);
    if node.outputs().is_empty() || node.inputs().is_empty() {
        return false;
    }
    let specs: Vec<TensorSpec> = node.inputs().iter().map(|&i| g.spec(i).clone()).collect();
    let value = |i: &Output| if is_constant(i.node) { g.node(i.node).slot_value(i.slot).cloned() } else { None };
    let values: Vec<Option<Tensor>> = node.inputs().iter().map(value).collect();
    node.op().forwards(&InferCx { inputs: &specs, values: &values })
}

/// What a pure node computes: its op type and attributes, and its inputs after forwarding.
type PureKey = (&'static str, String, Vec<Output>);

/// The key of a pure node that only its data inputs order, `None` for any other node: two nodes
/// with one key compute the same values (TF's `Mean` gradient takes `Shape(x)` twice).
fn pure_key(g: &Graph, id: NodeId, forward: &HashMap<Output, Output>) -> Option<PureKey> {
    let node = g.node(id);
    let op = node.op();
    let pure = op.state() == State::Pure && op.control_flow() == ControlFlow::Propagate;
    if !pure || !node.control_inputs().is_empty() || node.outputs().is_empty() || !op.functions().is_empty() {
        return None;
    }
    Some((op.op_type(), op.attrs().to_string(), data_inputs(g, id, forward).collect()))
}

/// Whether the node is a constant (a value known when the graph was built, from no inputs)
/// that only control inputs gate.
fn is_gated_constant(g: &Graph, id: NodeId) -> bool {
    let node = g.node(id);
    node.inputs().is_empty() && node.outputs().len() == 1 && node.constant_value().is_some()
}

/// The data inputs of a step (not its variable references), after forwarding.
pub(super) fn data_inputs<'a>(
    g: &'a Graph,
    id: NodeId,
    forward: &'a HashMap<Output, Output>,
) -> impl Iterator<Item = Output> + 'a {
    let node = g.node(id);
    node.inputs().iter().skip(node.ref_inputs()).map(move |i| forward.get(i).copied().unwrap_or(*i))
}

/// The dependency graph of the steps, both ways.
pub(super) struct Deps {
    preds: HashMap<NodeId, Vec<NodeId>>,
    pub(super) succs: HashMap<NodeId, Vec<NodeId>>,
}

impl Deps {
    fn new(preds: &HashMap<NodeId, Vec<NodeId>>, order: &[NodeId]) -> Deps {
        let mut succs: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for &id in order {
            for &p in &preds[&id] {
                succs.entry(p).or_default().push(id);
            }
        }
        let preds = order.iter().map(|&id| (id, preds[&id].clone())).collect();
        Deps { preds, succs }
    }

    /// Takes `id` out, its successors depending on `into` instead (which comes before them).
    fn merge_into(&mut self, id: NodeId, into: NodeId) {
        let succs = self.succs.remove(&id).unwrap_or_default();
        for p in self.preds.remove(&id).unwrap_or_default() {
            if let Some(list) = self.succs.get_mut(&p) {
                list.retain(|&s| s != id);
            }
        }
        for s in succs {
            let list = self.preds.entry(s).or_default();
            list.retain(|&p| p != id);
            if !list.contains(&into) {
                list.push(into);
            }
            let list = self.succs.entry(into).or_default();
            if !list.contains(&s) {
                list.push(s);
            }
        }
    }

    /// Takes `id` out into its successor `into`: `into` waits for what `id` waited for, and
    /// `id`'s other successors (all after `into`) wait for `into`.
    pub(super) fn absorb(&mut self, id: NodeId, into: NodeId) {
        for p in self.preds.remove(&id).unwrap_or_default() {
            let succs = self.succs.entry(p).or_default();
            succs.retain(|&s| s != id);
            if !succs.contains(&into) {
                succs.push(into);
            }
            let preds = self.preds.entry(into).or_default();
            if !preds.contains(&p) {
                preds.push(p);
            }
        }
        if let Some(list) = self.preds.get_mut(&into) {
            list.retain(|&p| p != id);
        }
        let others: Vec<NodeId> =
            self.succs.remove(&id).unwrap_or_default().into_iter().filter(|&s| s != into).collect();
        for s in others {
            let preds = self.preds.entry(s).or_default();
            preds.retain(|&p| p != id);
            if !preds.contains(&into) {
                preds.push(into);
            }
            let succs = self.succs.entry(into).or_default();
            if !succs.contains(&s) {
                succs.push(s);
            }
        }
    }

    /// Takes `id` out, its successors depending on its predecessors instead; false (and nothing
    /// changed) when that would add too many edges.
    fn remove(&mut self, id: NodeId) -> bool {
        let preds = self.preds.get(&id).cloned().unwrap_or_default();
        let succs = self.succs.get(&id).cloned().unwrap_or_default();
        if preds.len() * succs.len() > preds.len() + succs.len() + EDGE_BUDGET {
            return false;
        }
        for &s in &succs {
            let list = self.preds.entry(s).or_default();
            list.retain(|&p| p != id);
            for &p in &preds {
                if !list.contains(&p) {
                    list.push(p);
                }
            }
        }
        for &p in &preds {
            let list = self.succs.entry(p).or_default();
            list.retain(|&s| s != id);
            for &s in &succs {
                if !list.contains(&s) {
                    list.push(s);
                }
            }
        }
        self.preds.remove(&id);
        self.succs.remove(&id);
        true
    }
}
