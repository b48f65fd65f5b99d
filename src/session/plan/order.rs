//! Ordering: the dependencies between the steps of a plan — data and control edges, plus the
//! implicit edges that give variable reads and writes one deterministic order where the graph
//! leaves them unordered (a read before a write it does not depend on, the value TF graphs that
//! fetch `global_step` beside its increment expect; two writes in creation order).

use super::Needed;
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use std::collections::HashMap;

/// Dependencies between the nodes to run: data and control edges, plus the implicit edges that
/// order variable reads and writes.
pub(super) struct Edges {
    pub(super) preds: HashMap<NodeId, Vec<NodeId>>,
    /// Optional edges that only save work: the readers of a large variable's snapshot run before
    /// the variable's writers, so an update writes in place instead of copying a buffer still in
    /// use. Dropped if they would form a cycle.
    soft: Vec<(NodeId, NodeId)>,
}

impl Edges {
    pub(super) fn collect(g: &Graph, needed: &Needed, fed: &HashMap<Output, usize>) -> Result<Edges> {
        let is_step: std::collections::HashSet<NodeId> = needed.steps.iter().copied().collect();
        let mut preds: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for &id in &needed.steps {
            let node = g.node(id);
            let refs = node.ref_inputs();
            let data = node.inputs().iter().skip(refs).filter(|i| !fed.contains_key(i)).map(|i| i.node);
            let mut p: Vec<NodeId> =
                data.chain(node.control_inputs().iter().copied()).filter(|n| is_step.contains(n)).collect();
            p.sort_unstable();
            p.dedup();
            preds.insert(id, p);
        }
        let mut edges = Edges { preds, soft: Vec::new() };
        edges.order_variable_access(g, &needed.steps);
        Ok(edges)
    }

    /// Adds read-before-write and write-after-write edges where the graph leaves them unordered.
    fn order_variable_access(&mut self, g: &Graph, steps: &[NodeId]) {
        let mut readers: HashMap<usize, Vec<NodeId>> = HashMap::new();
        let mut writers: HashMap<usize, Vec<NodeId>> = HashMap::new();
        for &id in steps {
            let node = g.node(id);
            if let Some(v) = node.var {
                readers.entry(v).or_default().push(id);
            }
            for (i, access) in node.op().state().refs().iter().enumerate() {
                let Some(v) = node.ref_variable(g, i) else { continue };
                let list = if access.writes() { &mut writers } else { &mut readers };
                list.entry(v).or_default().push(id);
            }
        }
        let contended = writers.iter().any(|(v, w)| w.len() > 1 || readers.contains_key(v));
        if !contended {
            return;
        }
        let reach = Reach::new(steps, &self.preds);
        let mut extra: Vec<(NodeId, NodeId)> = Vec::new();
        for (v, ws) in &writers {
            for &w in ws {
                for &r in readers.get(v).map_or(&[][..], Vec::as_slice) {
                    if !reach.reaches(w, r) && !reach.reaches(r, w) {
                        extra.push((r, w));
                    }
                }
            }
            for (i, &w1) in ws.iter().enumerate() {
                for &w2 in &ws[i + 1..] {
                    if !reach.reaches(w1, w2) && !reach.reaches(w2, w1) {
                        extra.push((w1.min(w2), w1.max(w2)));
                    }
                }
            }
        }
        for (before, after) in extra {
            let p = self.preds.entry(after).or_default();
            if !p.contains(&before) {
                p.push(before);
            }
        }
        self.soft = consumers_before_writers(g, steps, &readers, &writers, &reach);
    }

    /// The dependencies with the optional ordering edges added, when they leave the graph acyclic.
    pub(super) fn with_soft(&self) -> Edges {
        let mut preds = self.preds.clone();
        for &(before, after) in &self.soft {
            let p = preds.entry(after).or_default();
            if !p.contains(&before) {
                p.push(before);
            }
        }
        Edges { preds, soft: Vec::new() }
    }

    /// Kahn's algorithm over the steps; a leftover node means a cycle.
    pub(super) fn topological(&self, g: &Graph, steps: &[NodeId]) -> Result<Vec<NodeId>> {
        let mut pending: HashMap<NodeId, usize> = steps.iter().map(|&s| (s, self.preds[&s].len())).collect();
        let mut succ: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for &s in steps {
            for &p in &self.preds[&s] {
                succ.entry(p).or_default().push(s);
            }
        }
        let mut ready: std::collections::BTreeSet<NodeId> = steps.iter().copied().filter(|s| pending[s] == 0).collect();
        let mut order = Vec::with_capacity(steps.len());
        while let Some(n) = ready.pop_first() {
            order.push(n);
            for &s in succ.get(&n).map_or(&[][..], Vec::as_slice) {
                let c = pending.get_mut(&s).map(|c| {
                    *c -= 1;
                    *c
                });
                if c == Some(0) {
                    ready.insert(s);
                }
            }
        }
        if order.len() < steps.len() {
            let stuck = steps.iter().find(|s| pending[s] > 0).copied().unwrap_or(steps[0]);
            return Err(Error::Cycle { node: g.node(stuck).name().to_string() });
        }
        Ok(order)
    }
}

/// Variables at least this large get the optional reader-before-writer ordering.
const LARGE_VARIABLE: usize = 1 << 16;

/// Optional edges: each step reading a large variable's snapshot before each writer of that
/// variable that does not already precede it.
fn consumers_before_writers(
    g: &Graph,
    steps: &[NodeId],
    readers: &HashMap<usize, Vec<NodeId>>,
    writers: &HashMap<usize, Vec<NodeId>>,
    reach: &Reach,
) -> Vec<(NodeId, NodeId)> {
    let mut soft = Vec::new();
    for &c in steps {
        let node = g.node(c);
        for input in node.inputs().iter().skip(node.ref_inputs()) {
            let Some(v) = g.node(input.node).var else { continue };
            let big = g.spec(*input).shape.num_elements().is_some_and(|n| n >= LARGE_VARIABLE);
            if !big || !readers.get(&v).is_some_and(|r| r.contains(&input.node)) {
                continue;
            }
            for &w in writers.get(&v).map_or(&[][..], Vec::as_slice) {
                if w != c && !reach.reaches(w, c) {
                    soft.push((c, w));
                }
            }
        }
    }
    soft
}

/// Ancestor sets over the steps (bitsets), for ordering decisions at plan time.
struct Reach {
    index: HashMap<NodeId, usize>,
    ancestors: Vec<Vec<u64>>,
}

impl Reach {
    fn new(steps: &[NodeId], preds: &HashMap<NodeId, Vec<NodeId>>) -> Reach {
        let index: HashMap<NodeId, usize> = steps.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let words = steps.len().div_ceil(64);
        let mut ancestors = vec![vec![0u64; words]; steps.len()];
        // Explicit edges always point from a lower node id to a higher one, so id order is a
        // topological order here.
        for (i, s) in steps.iter().enumerate() {
            for p in &preds[s] {
                let j = index[p];
                ancestors[i][j / 64] |= 1 << (j % 64);
                let (lo, hi) = ancestors.split_at_mut(i);
                for (a, b) in hi[0].iter_mut().zip(&lo[j]) {
                    *a |= *b;
                }
            }
        }
        Reach { index, ancestors }
    }

    /// Whether `from` is an ancestor of `to`.
    fn reaches(&self, from: NodeId, to: NodeId) -> bool {
        let (f, t) = (self.index[&from], self.index[&to]);
        self.ancestors[t][f / 64] & (1 << (f % 64)) != 0
    }
}
