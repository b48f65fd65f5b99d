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

use super::run_state::RunState;
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use crate::ops::{Op, TensorSpec};
use crate::tensor::Tensor;
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
    pub(crate) inputs: SmallVec<[ValueRef; 4]>,
    pub(crate) outputs: SmallVec<[Option<u32>; 2]>,
    pub(crate) consumers: Vec<u32>,
    pub(crate) refs: SmallVec<[usize; 3]>,
    pub(crate) cost: usize,
    pub(crate) expensive: bool,
    /// Whether the kernel reads its run counter (random ops).
    pub(crate) counted: bool,
    /// Whether the kernel may split its work across threads in the parallel schedule: true
    /// unless another expensive step is unordered with this one.
    pub(crate) split: bool,
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
    pub(crate) must_be_initialized: Vec<usize>,
    pub(crate) parallel: bool,
    pub(crate) pool: Mutex<Vec<RunState>>,
}

/// Checks that an output handle belongs to the graph.
pub(crate) fn check_output(g: &Graph, o: Output) -> Result<()> {
    check_node(g, o.node)?;
    let n = g.node(o.node);
    if o.slot as usize >= n.outputs().len() {
        return Err(Error::UnknownOutput {
            name: format!("{}:{}", n.name(), o.slot),
            node: n.name().to_string(),
            slot: o.slot as usize,
            outputs: n.outputs().len(),
        });
    }
    Ok(())
}

fn check_node(g: &Graph, id: NodeId) -> Result<()> {
    if id.index() >= g.len() {
        return Err(Error::UnknownNode { name: format!("#{} (a handle from another graph)", id.index()) });
    }
    Ok(())
}

/// The nodes a signature needs, split into steps to run and folded constants.
struct Needed {
    steps: Vec<NodeId>,
    constants: HashMap<NodeId, u32>,
    constant_values: Vec<Tensor>,
}

impl Plan {
    /// Builds the plan of one signature.
    pub(crate) fn build(g: &Graph, feeds: &[Output], fetches: &[Output], targets: &[NodeId]) -> Result<Plan> {
        for &o in feeds.iter().chain(fetches) {
            check_output(g, o)?;
        }
        for &t in targets {
            check_node(g, t)?;
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
        let (edges, order) = match preferred.topological(g, &needed.steps) {
            Ok(order) => (preferred, order),
            Err(_) => {
                let order = required.topological(g, &needed.steps)?;
                (required, order)
            }
        };
        assemble(g, &fed, feeds, fetches, needed, &edges, &order)
    }
}

/// Marks what the fetches and targets need, stopping at feeds and at folded constants.
fn prune(g: &Graph, fed: &HashMap<Output, usize>, fetches: &[Output], targets: &[NodeId]) -> Result<Needed> {
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
        if node.op().op_type() == "Placeholder" {
            missing = Some(missing.map_or(id, |m: NodeId| m.min(id)));
            continue;
        }
        needed.steps.push(id);
        let refs = node.op().ref_inputs();
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

/// Dependencies between the nodes to run: data and control edges, plus the implicit edges that
/// order variable reads and writes.
struct Edges {
    preds: HashMap<NodeId, Vec<NodeId>>,
    /// Optional edges that only save work: the readers of a large variable's snapshot run before
    /// the variable's writers, so an update writes in place instead of copying a buffer still in
    /// use. Dropped if they would form a cycle.
    soft: Vec<(NodeId, NodeId)>,
}

impl Edges {
    fn collect(g: &Graph, needed: &Needed, fed: &HashMap<Output, usize>) -> Result<Edges> {
        let is_step: std::collections::HashSet<NodeId> = needed.steps.iter().copied().collect();
        let mut preds: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for &id in &needed.steps {
            let node = g.node(id);
            let refs = node.op().ref_inputs();
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
            let refs = node.op().ref_inputs();
            for r in &node.inputs()[..refs] {
                let Some(v) = g.node(r.node).var else {
                    continue;
                };
                let list = if node.op().op_type() == "ReadVariableOp" { &mut readers } else { &mut writers };
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
    fn with_soft(&self) -> Edges {
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
    fn topological(&self, g: &Graph, steps: &[NodeId]) -> Result<Vec<NodeId>> {
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
        for input in node.inputs().iter().skip(node.op().ref_inputs()) {
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

/// Turns the ordered node list into steps, value slots and run-time bookkeeping.
fn assemble(
    g: &Graph,
    fed: &HashMap<Output, usize>,
    feeds: &[Output],
    fetches: &[Output],
    needed: Needed,
    edges: &Edges,
    order: &[NodeId],
) -> Result<Plan> {
    let step_of: HashMap<NodeId, u32> = order.iter().enumerate().map(|(i, &n)| (n, i as u32)).collect();
    let mut slots = SlotTable::default();
    let mut plan_feeds: Vec<Feed> =
        feeds.iter().map(|&o| Feed { slot: None, name: g.output_name(o), spec: g.spec(o).clone() }).collect();
    let mut resolve = |o: Output, slots: &mut SlotTable| -> ValueRef {
        if let Some(&f) = fed.get(&o) {
            let s = *plan_feeds[f].slot.get_or_insert_with(|| slots.new_slot());
            slots.use_slot(s);
            return ValueRef::Slot(s);
        }
        if let Some(&c) = needed.constants.get(&o.node) {
            return ValueRef::Const(c);
        }
        let s = slots.output_slot(o);
        slots.use_slot(s);
        ValueRef::Slot(s)
    };
    let mut constants = needed.constant_values.clone();
    let mut steps = Vec::with_capacity(order.len());
    for &id in order {
        let node = g.node(id);
        let nrefs = node.op().ref_inputs();
        let mut inputs: SmallVec<[ValueRef; 4]> = node
            .inputs()
            .iter()
            .enumerate()
            .map(|(i, &o)| if i < nrefs { ValueRef::Ref } else { resolve(o, &mut slots) })
            .collect();
        let op = divide_by_reciprocal(node.op.clone(), &mut inputs, &mut constants);
        let mut refs: SmallVec<[usize; 3]> = node.var.into_iter().collect();
        refs.extend(node.inputs()[..nrefs].iter().filter_map(|r| g.node(r.node).var));
        let in_specs: Vec<TensorSpec> = node.inputs().iter().map(|&o| g.spec(o).clone()).collect();
        steps.push(Step {
            node: id,
            name: node.name().to_string(),
            op,
            inputs,
            outputs: SmallVec::new(),
            consumers: Vec::new(),
            refs,
            cost: node.op().cost(&in_specs, node.outputs()),
            expensive: node.op().cost(&in_specs, node.outputs()) >= EXPENSIVE,
            split: true,
            counted: node.op().uses_invocation(),
        });
    }
    let fetch_refs: Vec<ValueRef> = fetches.iter().map(|&o| resolve(o, &mut slots)).collect();
    for step in &mut steps {
        step.outputs = (0..g.node(step.node).outputs().len() as u32)
            .map(|slot| slots.existing(Output { node: step.node, slot }))
            .collect();
    }
    let mut pending = vec![0u32; steps.len()];
    for (i, &id) in order.iter().enumerate() {
        for p in &edges.preds[&id] {
            steps[step_of[p] as usize].consumers.push(i as u32);
            pending[i] += 1;
        }
    }
    let roots = (0..steps.len() as u32).filter(|&i| pending[i as usize] == 0).collect();
    let must_be_initialized = uninitialized_checks(g, order, &steps);
    let parallel = worth_parallel(&steps);
    if parallel {
        mark_contended(&mut steps);
    }
    Ok(Plan {
        steps,
        pending,
        roots,
        slot_uses: slots.uses,
        constants,
        feeds: plan_feeds,
        fetches: fetch_refs,
        must_be_initialized,
        parallel,
        pool: Mutex::new(Vec::new()),
    })
}

/// TF's graph optimizer (grappler's constant folding) turns `x / c` with a constant float `c`
/// into `x · (1/c)`, the reciprocal rounded in `c`'s dtype; TF's numbers depend on it (a
/// polynomial decay near its end differs in the last bits of `1 − p`), so plans do the same.
fn divide_by_reciprocal(op: Arc<dyn Op>, inputs: &mut [ValueRef], constants: &mut Vec<Tensor>) -> Arc<dyn Op> {
    let (true, Some(&ValueRef::Const(c))) = (op.op_type() == "RealDiv", inputs.get(1)) else { return op };
    let reciprocal = match &constants[c as usize] {
        Tensor::F32(a) => Tensor::F32(a.mapv(|v| 1.0 / v).into_shared()),
        Tensor::F64(a) => Tensor::F64(a.mapv(|v| 1.0 / v).into_shared()),
        _ => return op,
    };
    constants.push(reciprocal);
    inputs[1] = ValueRef::Const((constants.len() - 1) as u32);
    Arc::new(crate::ops::binary::Mul {})
}

/// Value slots: one per produced value that someone reads, with its read count.
#[derive(Default)]
struct SlotTable {
    of_output: HashMap<Output, u32>,
    uses: Vec<u32>,
}

impl SlotTable {
    fn new_slot(&mut self) -> u32 {
        self.uses.push(0);
        (self.uses.len() - 1) as u32
    }
    fn output_slot(&mut self, o: Output) -> u32 {
        if let Some(&s) = self.of_output.get(&o) {
            return s;
        }
        let s = self.new_slot();
        self.of_output.insert(o, s);
        s
    }
    fn existing(&self, o: Output) -> Option<u32> {
        self.of_output.get(&o).copied()
    }
    fn use_slot(&mut self, s: u32) {
        self.uses[s as usize] += 1;
    }
}

/// Variables read or read-modify-written by the plan before any `Assign` of theirs in it: they
/// must hold a value when the run starts.
fn uninitialized_checks(g: &Graph, order: &[NodeId], steps: &[Step]) -> Vec<usize> {
    let mut assigned: Vec<usize> = Vec::new();
    let mut needs: Vec<usize> = Vec::new();
    for (&id, step) in order.iter().zip(steps) {
        let node = g.node(id);
        let is_assign = node.op().op_type() == "Assign";
        for &v in &step.refs {
            if is_assign {
                assigned.push(v);
            } else if !assigned.contains(&v) && !needs.contains(&v) {
                needs.push(v);
            }
        }
    }
    needs
}

/// Clears `split` on every expensive step that another expensive step of comparable work (at
/// least half its own) is unordered with: the two may run at the same time, so each keeps to one
/// thread. A large step beside only small ones still splits, or the other thread would idle.
fn mark_contended(steps: &mut [Step]) {
    let n = steps.len();
    let words = n.div_ceil(64);
    let mut ancestors = vec![vec![0u64; words]; n];
    // Steps are in topological order: every consumer comes after its producers.
    for i in 0..n {
        for &c in &steps[i].consumers {
            let c = c as usize;
            ancestors[c][i / 64] |= 1 << (i % 64);
            let (lo, hi) = ancestors.split_at_mut(c);
            for (a, b) in hi[0].iter_mut().zip(&lo[i]) {
                *a |= *b;
            }
        }
    }
    let before = |a: usize, b: usize| ancestors[b][a / 64] & (1 << (a % 64)) != 0;
    let expensive: Vec<usize> = (0..n).filter(|&i| steps[i].expensive).collect();
    for &i in &expensive {
        let contended =
            expensive.iter().any(|&j| j != i && 2 * steps[j].cost >= steps[i].cost && !before(i, j) && !before(j, i));
        steps[i].split = !contended;
    }
}

/// Whether some depth of the step DAG holds two expensive steps that can run at once.
fn worth_parallel(steps: &[Step]) -> bool {
    if rayon::current_num_threads() < 2 || steps.iter().filter(|s| s.expensive).count() < 2 {
        return false;
    }
    let mut depth = vec![0usize; steps.len()];
    let mut expensive_at: HashMap<usize, usize> = HashMap::new();
    for (i, s) in steps.iter().enumerate() {
        if s.expensive {
            *expensive_at.entry(depth[i]).or_default() += 1;
        }
        for &c in &s.consumers {
            depth[c as usize] = depth[c as usize].max(depth[i] + 1);
        }
    }
    expensive_at.values().any(|&n| n >= 2)
}
