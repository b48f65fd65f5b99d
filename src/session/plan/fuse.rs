//! Fusion (TF Grappler's remapper): a step whose only reader takes its output as input 0 runs
//! as one fused step with that reader when its op offers a fusion ([`Op::fuse`]): a Conv2D, its
//! BiasAdd and its Relu become one pass that adds the bias and clips each piece of the output
//! while the GEMM has it in cache. The plan knows no op: it asks the producer.
//!
//! A producer is absorbed only when nothing else reads, fetches or targets it, it touches no
//! state, and every other step that waits for it comes after its reader (which then gives the
//! same ordering). The fused step takes the producer's inputs, then the reader's other inputs.

use super::simplify::{Deps, data_inputs};
use crate::graph::{Graph, NodeId, Output};
use crate::ops::{ControlFlow, Op, State};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A step that runs a fusion: the op, its inputs, and the names of the nodes it computes.
pub(crate) struct Fused {
    pub(crate) op: Arc<dyn Op>,
    pub(crate) inputs: Vec<Output>,
    pub(crate) name: String,
}

/// The fused steps, and the producers they absorbed (which no longer run on their own).
#[derive(Default)]
pub(super) struct Fusions {
    pub(super) steps: HashMap<NodeId, Fused>,
    pub(super) absorbed: HashSet<NodeId>,
}

/// Fuses what the ops offer along `order`, rewiring `deps`; `readers` counts the reads of each
/// node's outputs among the steps and fetches.
pub(super) fn fuse(
    g: &Graph,
    deps: &mut Deps,
    order: &[NodeId],
    forward: &HashMap<Output, Output>,
    asked: &HashSet<NodeId>,
    readers: &HashMap<NodeId, usize>,
) -> Fusions {
    let position: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut f = Fusions { steps: HashMap::new(), absorbed: HashSet::new() };
    for (at, &id) in order.iter().enumerate() {
        let node = g.node(id);
        let Some(&first) = node.inputs().first() else { continue };
        let input = forward.get(&first).copied().unwrap_or(first);
        let producer = input.node;
        if !plain(g, id) || !plain(g, producer) || input.slot != 0 || asked.contains(&producer) {
            continue;
        }
        let alone = readers.get(&producer) == Some(&1);
        let later = |s: &NodeId| *s == id || position.get(s).is_some_and(|&p| p > at);
        if !alone || !position.contains_key(&producer) || !deps.succs.get(&producer).is_none_or(|s| s.iter().all(later))
        {
            continue;
        }
        let (op, inputs, name) = match f.steps.get(&producer) {
            Some(p) => (p.op.clone(), p.inputs.clone(), p.name.clone()),
            None => {
                let p = g.node(producer);
                (p.op.clone(), data_inputs(g, producer, forward).collect(), p.name().to_string())
            }
        };
        let Some(fused) = op.fuse(node.op()) else { continue };
        f.steps.remove(&producer);
        deps.absorb(producer, id);
        f.absorbed.insert(producer);
        let inputs = inputs.into_iter().chain(node.inputs()[1..].iter().copied()).collect();
        f.steps.insert(id, Fused { op: fused, inputs, name: format!("{name}+{}", node.name()) });
    }
    f
}

/// Whether a node is a pure function of its data inputs with one output: what a fusion may
/// take in.
fn plain(g: &Graph, id: NodeId) -> bool {
    let node = g.node(id);
    let op = node.op();
    node.ref_inputs() == 0
        && node.outputs().len() == 1
        && op.state() == State::Pure
        && op.control_flow() == ControlFlow::Propagate
}
