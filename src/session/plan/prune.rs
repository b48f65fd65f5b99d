//! Pruning: the nodes one signature needs, stopping at feeds and at constants folded when the
//! graph was built.

use super::Needed;
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use crate::ops::State;
use std::collections::HashMap;

/// Marks what the fetches and targets need, stopping at feeds and at folded constants.
pub(super) fn prune(g: &Graph, fed: &HashMap<Output, usize>, fetches: &[Output], targets: &[NodeId]) -> Result<Needed> {
    let fed_node = |n: NodeId| fed.keys().any(|o| o.node == n);
    let mut fed_upstream = vec![false; g.len()];
    for id in g.node_ids() {
        let node = g.node(id);
        fed_upstream[id.index()] = node.inputs().iter().any(|i| fed.contains_key(i) || fed_upstream[i.node.index()])
            || node.control_inputs().iter().any(|&c| fed_node(c) || fed_upstream[c.index()]);
    }
    let mut seen = vec![false; g.len()];
    let mut needed = Needed { steps: Vec::new(), constants: HashMap::new(), constant_values: Vec::new() };
    let mut stack: Vec<NodeId> = fetches.iter().filter(|o| !fed.contains_key(o)).map(|o| o.node).collect();
    stack.extend(targets.iter().copied().filter(|&t| !fed_node(t)));
    let mut missing: Option<NodeId> = None;
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            continue;
        }
        let node = g.node(id);
        if let Some(v) = node.constant_value()
            && (!fed_upstream[id.index()] || node.op().value_from_shapes())
            && node.control_inputs().is_empty()
            && node.outputs().len() == 1
        {
            needed.constants.insert(id, needed.constant_values.len() as u32);
            needed.constant_values.push(v.clone());
            continue;
        }
        if node.op().state() == State::Fed {
            missing = Some(missing.map_or(id, |m: NodeId| m.min(id)));
            continue;
        }
        needed.steps.push(id);
        let refs = node.ref_inputs();
        stack.extend(node.inputs().iter().skip(refs).filter(|i| !fed.contains_key(i)).map(|i| i.node));
        stack.extend(node.control_inputs().iter().copied().filter(|&c| !fed_node(c)));
    }
    if let Some(id) = missing {
        let node = g.node(id);
        let spec = &node.outputs()[0];
        return Err(Error::MissingFeed { node: node.name().to_string(), dtype: spec.dtype, shape: spec.shape.clone() });
    }
    needed.steps.sort_unstable();
    Ok(needed)
}
