//! A [`Plan`]: everything one (feeds, fetches, targets) signature needs, computed once and cached
//! by the session — the pruned steps in a topological order, where each input comes from (a value
//! slot, a folded constant, or a variable reference), each step's consumers and pending-input
//! count, how many reads each value has before it is freed, and which variables must already hold
//! a value.
//!
//! Variable reads and writes that the graph leaves unordered are ordered here, so every run is
//! deterministic: a read comes before a write it does not depend on (the value TF 2.x happens to
//! return), and two writes of one variable go in creation order. An ordering that cannot be
//! satisfied is an [`Error::Cycle`].

mod assemble;
mod fuse;
mod order;
mod prune;
mod schedule;
mod simplify;

use super::run_state::RunState;
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use crate::ops::{ControlFlow, Op, TensorSpec};
use crate::tensor::Tensor;
use assemble::{Signature, assemble};
use order::Edges;
use prune::prune;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Steps whose estimated work reaches this many element operations (about 0.2–1 ms) run as their
/// own task: below it, handing a node to another thread costs more than it saves.
const EXPENSIVE: usize = 1 << 20;

/// Where a step input comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ValueRef {
    /// A value slot of the run (a feed or a step output).
    Slot(u32),
    /// A constant folded at build time.
    Const(u32),
    /// A variable reference (the ref input of Assign and Apply ops): no value flows.
    Ref,
}

/// One node to run.
pub(crate) struct Step {
    pub(crate) node: NodeId,
    pub(crate) name: String,
    pub(crate) op: Arc<dyn Op>,
    /// The node's op type, which errors name even when the plan runs a cheaper rewrite of it.
    pub(crate) op_type: &'static str,
    pub(crate) inputs: SmallVec<[ValueRef; 4]>,
    pub(crate) outputs: SmallVec<[Option<u32>; 2]>,
    /// What shape inference promised of each output, for [`RunOptions::check_outputs`](crate::RunOptions).
    pub(crate) specs: SmallVec<[TensorSpec; 1]>,
    pub(crate) consumers: Vec<u32>,
    pub(crate) refs: SmallVec<[usize; 3]>,
    pub(crate) cost: usize,
    pub(crate) expensive: bool,
    /// Whether the kernel reads its run counter (random ops).
    pub(crate) counted: bool,
    /// Whether the kernel may split its work across threads in the parallel schedule: true
    /// unless another expensive step is unordered with this one.
    pub(crate) split: bool,
    /// How the op treats dead values (TF1 `Switch`/`Merge`).
    pub(crate) flow: ControlFlow,
    /// The steps this one has a control edge from: when one of them is dead, so is this one
    /// (only filled when the plan has a `Switch`).
    pub(crate) control_inputs: SmallVec<[u32; 2]>,
}

/// A fed tensor: where its value goes and what it must look like.
pub(crate) struct Feed {
    pub(crate) slot: Option<u32>,
    pub(crate) name: String,
    pub(crate) spec: TensorSpec,
}

/// The cached execution plan of one signature. Immutable once built; per-run state lives in
/// [`RunState`]s pooled here.
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) pending: Vec<u32>,
    pub(crate) roots: Vec<u32>,
    pub(crate) slot_uses: Vec<u32>,
    pub(crate) constants: Vec<Tensor>,
    pub(crate) feeds: Vec<Feed>,
    pub(crate) fetches: Vec<ValueRef>,
    /// Each fetched tensor's name and its node's name and op type, for the error when it is dead.
    pub(crate) fetch_names: Vec<[String; 3]>,
    pub(crate) must_be_initialized: Vec<usize>,
    pub(crate) parallel: bool,
    /// Whether some step may kill a value (a `Switch`): only then does a run track dead values.
    pub(crate) dead_values: bool,
    pub(crate) pool: Mutex<Vec<RunState>>,
    /// Large buffers kept from one run for the next.
    pub(crate) buffers: crate::tensor::buffers::BufferPool,
}

/// The nodes a signature needs, split into steps to run and folded constants.
struct Needed {
    steps: Vec<NodeId>,
    constants: HashMap<NodeId, u32>,
    constant_values: Vec<Tensor>,
}

impl Plan {
    /// Builds the plan of one signature.
    pub(crate) fn build(
        g: &Graph,
        feeds: &[Output],
        fetches: &[Output],
        targets: &[NodeId],
        fuse: bool,
    ) -> Result<Plan> {
        for &o in feeds.iter().chain(fetches) {
            g.check_output(o)?;
        }
        for &t in targets {
            g.check_node(t)?;
        }
        let mut fed: HashMap<Output, usize> = HashMap::new();
        for (i, &o) in feeds.iter().enumerate() {
            if fed.insert(o, i).is_some() {
                return Err(Error::argument("run", "feeds", format!("'{}' is fed twice", g.output_name(o))));
            }
        }
        let needed = prune(g, &fed, fetches, targets)?;
        let required = Edges::collect(g, &needed, &fed)?;
        let preferred = required.with_soft();
        let (mut edges, order) = match preferred.topological(g, &needed.steps) {
            Ok(order) => (preferred, order),
            Err(_) => {
                let order = required.topological(g, &needed.steps)?;
                (required, order)
            }
        };
        let simple = simplify::simplify(g, &mut edges, order, fetches, targets, &needed.constants, fuse);
        let mut needed = needed;
        for &id in &simple.constants {
            if let Some(value) = g.node(id).constant_value() {
                needed.constants.insert(id, needed.constant_values.len() as u32);
                needed.constant_values.push(value.clone());
            }
        }
        let sig = Signature { fed: &fed, feeds, fetches, forward: &simple.forward, fused: &simple.fused };
        assemble(g, sig, needed, &edges, &simple.order)
    }
}
