//! stepflow's order of variable reads and writes, made explicit as TF control inputs.
//!
//! Where a graph leaves a read and a write of one variable unordered, stepflow reads first (and
//! orders two writes by creation). TensorFlow runs them in either order: its graphs get the
//! order from `minimize`'s gradient gating and control dependencies instead. So each writer that
//! does not feed a reader waits, in the export, for that reader: the readers are the nodes that
//! take a reference variable's value, and the read ops of a resource variable. Initializers are
//! left alone (the `init` op must not wait for a model's readers).

use crate::graph::{Graph, NodeId};
use std::collections::{HashMap, HashSet};

/// For each writer, the readers and earlier writers it must wait for.
pub(super) fn waits(g: &Graph) -> HashMap<NodeId, Vec<NodeId>> {
    let initializers: HashSet<NodeId> = g.variables().iter().filter_map(|v| v.initializer).collect();
    let mut readers: HashMap<usize, Vec<NodeId>> = HashMap::new();
    let mut writers: HashMap<usize, Vec<NodeId>> = HashMap::new();
    for id in g.node_ids() {
        let node = g.node(id);
        for input in &node.inputs()[node.ref_inputs()..] {
            if let Some(v) = g.node(input.node).var {
                readers.entry(v).or_default().push(id);
            }
        }
        for (i, access) in node.op().state().refs().iter().enumerate() {
            let Some(v) = node.ref_variable(g, i) else { continue };
            match access.writes() {
                true if !initializers.contains(&id) => writers.entry(v).or_default().push(id),
                true => {}
                false => readers.entry(v).or_default().push(id),
            }
        }
    }
    let mut waits: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    // The waits added so far, forwards: reader to the writers that wait for it.
    let mut released: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    let mut vars: Vec<_> = writers.keys().copied().collect();
    vars.sort_unstable();
    for v in vars {
        let ws = &writers[&v];
        for (i, &w) in ws.iter().enumerate() {
            // Two walks per writer, whatever the number of readers.
            let before_w = walk(w, |n| inputs(g, &waits, n));
            let after_w = walk(w, |n| g.consumers(n).chain(released.get(&n).into_iter().flatten().copied()).collect());
            let candidates = readers.get(&v).into_iter().flatten().chain(&ws[..i]);
            let new: Vec<NodeId> =
                candidates.copied().filter(|r| *r != w && !before_w.contains(r) && !after_w.contains(r)).collect();
            for r in new {
                waits.entry(w).or_default().push(r);
                released.entry(r).or_default().push(w);
            }
        }
    }
    waits
}

/// The nodes `n` depends on directly: data and control inputs, and the waits added so far.
fn inputs(g: &Graph, waits: &HashMap<NodeId, Vec<NodeId>>, n: NodeId) -> Vec<NodeId> {
    let node = g.node(n);
    let mut v: Vec<NodeId> = node.inputs().iter().map(|i| i.node).collect();
    v.extend(node.control_inputs());
    v.extend(waits.get(&n).into_iter().flatten());
    v
}

/// Every node reachable from `from` (itself included) through `next`.
fn walk(from: NodeId, mut next: impl FnMut(NodeId) -> Vec<NodeId>) -> HashSet<NodeId> {
    let mut seen = HashSet::from([from]);
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        for m in next(n) {
            if seen.insert(m) {
                stack.push(m);
            }
        }
    }
    seen
}
