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
    let mut vars: Vec<_> = writers.keys().copied().collect();
    vars.sort_unstable();
    for v in vars {
        let ws = &writers[&v];
        for (i, &w) in ws.iter().enumerate() {
            let before = readers.get(&v).into_iter().flatten().chain(&ws[..i]);
            for &r in before {
                if r != w && !reaches(g, &waits, w, r) && !reaches(g, &waits, r, w) {
                    waits.entry(w).or_default().push(r);
                }
            }
        }
    }
    waits
}

/// Whether `to` depends on `from` through data, control or the waits added so far.
fn reaches(g: &Graph, waits: &HashMap<NodeId, Vec<NodeId>>, from: NodeId, to: NodeId) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![to];
    while let Some(n) = stack.pop() {
        if n == from {
            return true;
        }
        if !seen.insert(n) {
            continue;
        }
        let node = g.node(n);
        stack.extend(node.inputs().iter().map(|i| i.node));
        stack.extend(node.control_inputs());
        stack.extend(waits.get(&n).into_iter().flatten());
    }
    false
}
