//! Assembly: the ordered nodes become steps, with value slots, read counts, consumer lists and
//! the variables that must be initialized before a run.

use super::schedule::{mark_contended, worth_parallel};
use super::{EXPENSIVE, Feed, Needed, Plan, Step, ValueRef, order::Edges};
use crate::error::Result;
use crate::graph::{Graph, NodeId, Output};
use crate::ops::{Access, ControlFlow, State, TensorSpec};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::Mutex;

/// What assembly needs of the signature besides the ordered nodes.
pub(super) struct Signature<'a> {
    pub(super) fed: &'a HashMap<Output, usize>,
    pub(super) feeds: &'a [Output],
    pub(super) fetches: &'a [Output],
    /// Where readers of a skipped forwarding node read instead.
    pub(super) forward: &'a HashMap<Output, Output>,
    /// The steps that run a fusion.
    pub(super) fused: &'a HashMap<NodeId, super::fuse::Fused>,
}

/// Turns the ordered node list into steps, value slots and run-time bookkeeping.
pub(super) fn assemble(g: &Graph, sig: Signature, needed: Needed, edges: &Edges, order: &[NodeId]) -> Result<Plan> {
    let mut slots = Slots {
        table: SlotTable::default(),
        feeds: sig
            .feeds
            .iter()
            .map(|&o| Feed { slot: None, name: g.output_name(o), spec: g.spec(o).clone() })
            .collect(),
        fed: sig.fed,
        folded: &needed.constants,
        constants: needed.constant_values.clone(),
        forward: sig.forward,
    };
    let mut steps: Vec<Step> = order
        .iter()
        .map(|&id| match sig.fused.get(&id) {
            Some(f) => fused_step(g, id, f, &mut slots),
            None => build_step(g, id, &mut slots),
        })
        .collect();
    let fetches: Vec<ValueRef> = sig.fetches.iter().map(|&o| slots.resolve(o)).collect();
    for step in &mut steps {
        step.outputs = (0..g.node(step.node).outputs().len() as u32)
            .map(|slot| slots.table.existing(Output { node: step.node, slot }))
            .collect();
    }
    let step_of: HashMap<NodeId, u32> = order.iter().enumerate().map(|(i, &n)| (n, i as u32)).collect();
    let mut pending = vec![0u32; steps.len()];
    for (i, &id) in order.iter().enumerate() {
        for p in &edges.preds[&id] {
            steps[step_of[p] as usize].consumers.push(i as u32);
            pending[i] += 1;
        }
    }
    let dead_values = steps.iter().any(|s| s.flow == ControlFlow::Switch);
    if dead_values {
        for step in &mut steps {
            let controls = g.node(step.node).control_inputs();
            step.control_inputs = controls.iter().filter_map(|c| step_of.get(c).copied()).collect();
        }
    }
    let roots = (0..steps.len() as u32).filter(|&i| pending[i as usize] == 0).collect();
    let must_be_initialized = uninitialized_checks(g, order);
    let parallel = worth_parallel(&steps);
    if parallel {
        mark_contended(&mut steps);
    }
    Ok(Plan {
        steps,
        pending,
        roots,
        slot_uses: slots.table.uses,
        constants: slots.constants,
        feeds: slots.feeds,
        fetches,
        fetch_names: sig
            .fetches
            .iter()
            .map(|&o| {
                let node = g.node(o.node);
                [g.output_name(o), node.name().to_string(), node.op().op_type().to_string()]
            })
            .collect(),
        must_be_initialized,
        parallel,
        dead_values,
        pool: Mutex::new(Vec::new()),
        buffers: Default::default(),
    })
}

/// One node as a step: where its inputs come from, the variables it touches, its cost, and the
/// cheaper op its [`rewrite`](crate::ops::Op::rewrite) offers given the constant inputs.
fn build_step(g: &Graph, id: NodeId, slots: &mut Slots) -> Step {
    let node = g.node(id);
    let nrefs = node.ref_inputs();
    let mut inputs: SmallVec<[ValueRef; 4]> = node
        .inputs()
        .iter()
        .enumerate()
        .map(|(i, &o)| if i < nrefs { ValueRef::Ref } else { slots.resolve(o) })
        .collect();
    let known: Vec<Option<&Tensor>> = inputs
        .iter()
        .map(|r| match *r {
            ValueRef::Const(c) => slots.constants.get(c as usize),
            _ => None,
        })
        .collect();
    let mut op = node.op.clone();
    if let Some(rewrite) = node.op().rewrite(&known) {
        op = rewrite.op;
        for (i, value) in rewrite.constants {
            if let Some(input) = inputs.get_mut(i) {
                slots.constants.push(value);
                *input = ValueRef::Const((slots.constants.len() - 1) as u32);
            }
        }
    }
    let mut refs: SmallVec<[usize; 3]> = node.var.into_iter().collect();
    refs.extend((0..nrefs).filter_map(|i| node.ref_variable(g, i)));
    let in_specs: Vec<TensorSpec> = node.inputs().iter().map(|&o| g.spec(o).clone()).collect();
    let cost = node.op().cost(&in_specs, node.outputs());
    Step {
        node: id,
        name: node.name().to_string(),
        op_type: node.op().op_type(),
        op,
        inputs,
        outputs: SmallVec::new(),
        specs: node.outputs().iter().cloned().collect(),
        consumers: Vec::new(),
        refs,
        cost,
        expensive: cost >= EXPENSIVE,
        split: true,
        counted: node.op().state() == State::Random,
        flow: node.op().control_flow(),
        control_inputs: SmallVec::new(),
    }
}

/// A step that runs a fusion of the node and the producers it absorbed.
fn fused_step(g: &Graph, id: NodeId, f: &super::fuse::Fused, slots: &mut Slots) -> Step {
    let node = g.node(id);
    let in_specs: Vec<TensorSpec> = f.inputs.iter().map(|&o| g.spec(o).clone()).collect();
    let cost = f.op.cost(&in_specs, node.outputs());
    Step {
        node: id,
        name: f.name.clone(),
        op_type: f.op.op_type(),
        op: f.op.clone(),
        inputs: f.inputs.iter().map(|&o| slots.resolve(o)).collect(),
        outputs: SmallVec::new(),
        specs: node.outputs().iter().cloned().collect(),
        consumers: Vec::new(),
        refs: SmallVec::new(),
        cost,
        expensive: cost >= EXPENSIVE,
        split: true,
        counted: false,
        flow: ControlFlow::Propagate,
        control_inputs: SmallVec::new(),
    }
}

/// Where values come from while steps are assembled: feeds, folded constants, or slots.
struct Slots<'a> {
    table: SlotTable,
    feeds: Vec<Feed>,
    fed: &'a HashMap<Output, usize>,
    folded: &'a HashMap<NodeId, u32>,
    constants: Vec<Tensor>,
    forward: &'a HashMap<Output, Output>,
}

impl Slots<'_> {
    /// The source of a value read by a step or a fetch, counting the read.
    fn resolve(&mut self, o: Output) -> ValueRef {
        let o = self.forward.get(&o).copied().unwrap_or(o);
        if let Some(&f) = self.fed.get(&o) {
            let table = &mut self.table;
            let s = *self.feeds[f].slot.get_or_insert_with(|| table.new_slot());
            self.table.use_slot(s);
            return ValueRef::Slot(s);
        }
        if let Some(&c) = self.folded.get(&o.node) {
            return ValueRef::Const(c);
        }
        let s = self.table.output_slot(o);
        self.table.use_slot(s);
        ValueRef::Slot(s)
    }
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

/// Variables that the plan reads or updates before it overwrites them: they must hold a value
/// when the run starts.
fn uninitialized_checks(g: &Graph, order: &[NodeId]) -> Vec<usize> {
    let mut overwritten: Vec<usize> = Vec::new();
    let mut needs: Vec<usize> = Vec::new();
    let mut touch = |v: usize, access: Access| match access {
        Access::Overwrite => overwritten.push(v),
        Access::Check => {}
        Access::Read | Access::Update => {
            if !overwritten.contains(&v) && !needs.contains(&v) {
                needs.push(v);
            }
        }
    };
    for &id in order {
        let node = g.node(id);
        if let Some(v) = node.var {
            touch(v, Access::Read);
        }
        for (i, &access) in node.op().state().refs().iter().enumerate() {
            if let Some(v) = node.ref_variable(g, i) {
                touch(v, access);
            }
        }
    }
    needs
}
