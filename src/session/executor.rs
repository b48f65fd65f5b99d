//! Running a plan. Two schedules share one step function (and the serial reference executor its
//! rules for dead values: a step whose input or control input is dead does not run, see
//! [`ControlFlow`]):
//! - inline: the steps in plan order on the calling thread, without locks — for plans with at
//!   most one expensive step at a time, so a small graph never pays for a thread hop;
//! - parallel (TF's executor): a pending-input count per step; a finished step releases its
//!   consumers; cheap ready steps run inline on the current thread, expensive ones (all but one)
//!   become rayon tasks. The first error wins and stops the rest.
//!
//! Kernels may split large work across the same rayon pool: always in the inline schedule; in the
//! parallel one only when the plan found no other expensive step that could run at the same time
//! (wide graphs use the threads for independent nodes, chains inside each node).

use super::plan::{Plan, Step, ValueRef};
use super::run_state::{RunState, Slot};
use crate::error::{Error, Result};
use crate::ops::{ControlFlow, Kernel, Outputs};
use crate::tensor::Tensor;
use crate::variables::VariableStore;
use smallvec::SmallVec;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a run needs besides the plan's state: the session's variables and per-node run counters.
pub(crate) struct Exec<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) vars: &'a VariableStore,
    pub(crate) counters: &'a [AtomicU64],
    pub(crate) tracer: Option<&'a super::trace::Tracer>,
    /// Whether every kernel output is checked against its inferred spec.
    pub(crate) check_outputs: bool,
}

type Inputs = SmallVec<[Option<Tensor>; 4]>;

impl Exec<'_> {
    /// Runs step `i` on its gathered inputs.
    /// Runs step `i` on its gathered inputs: its outputs, and the ones it marked dead (one bit
    /// per slot, see [`Kernel::kill_output`]).
    pub(crate) fn compute(&self, i: usize, mut inputs: Inputs, parallel_kernels: bool) -> Result<(Outputs, u64)> {
        let step = &self.plan.steps[i];
        let invocation = match step.counted {
            true => self.counters.get(step.node.index()).map_or(0, |c| c.fetch_add(1, Ordering::Relaxed)),
            false => 0,
        };
        let mut k =
            Kernel::new(&mut inputs, self.vars, &step.refs, invocation, parallel_kernels, Some(&self.plan.buffers));
        // Only a traced run looks at the shapes, for the op's operation count.
        let shapes: Option<Vec<Vec<usize>>> = self.tracer.map(|_| k.shapes());
        let began = self.tracer.map(|_| std::time::Instant::now());
        let out = step.op.compute(&mut k).map_err(|e| Error::at(&step.name, step.op_type, e))?;
        let killed = k.killed();
        // The inputs the kernel read without taking die here: keep their buffers for later runs.
        for t in inputs.into_iter().flatten() {
            self.plan.buffers.give(t);
        }
        if let (Some(t), Some(b), Some(shapes)) = (self.tracer, began, shapes) {
            let inputs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
            let outputs: Vec<&[usize]> = out.iter().map(|t| t.shape()).collect();
            t.record(&step.name, step.op.op_type(), b, step.op.flops(&inputs, &outputs));
        }
        if out.len() != step.outputs.len() {
            let e = crate::invalid!("kernel returned {} outputs, expected {}", out.len(), step.outputs.len());
            return Err(Error::at(&step.name, step.op_type, e));
        }
        if self.check_outputs {
            check_outputs(step, &out)?;
        }
        Ok((out, killed))
    }

    /// When step `i` is dead (see [`ControlFlow`]), marks it and its outputs dead, spends its
    /// reads of its inputs, and returns true: it must not run. Always false in a plan without a
    /// `Switch`.
    fn skip_dead(&self, i: usize, st: &RunState) -> bool {
        if !self.plan.dead_values {
            return false;
        }
        let step = &self.plan.steps[i];
        let slot_dead = |r: &ValueRef| matches!(*r, ValueRef::Slot(s) if lock(st, s).dead);
        let dead = step.control_inputs.iter().any(|&c| st.dead_steps[c as usize].load(Ordering::Relaxed))
            || match step.flow {
                ControlFlow::Merge => step.inputs.iter().all(slot_dead),
                _ => step.inputs.iter().any(slot_dead),
            };
        if !dead {
            return false;
        }
        for r in &step.inputs {
            if let ValueRef::Slot(s) = *r {
                lock(st, s).read();
            }
        }
        st.dead_steps[i].store(true, Ordering::Relaxed);
        for &s in step.outputs.iter().flatten() {
            lock(st, s).dead = true;
        }
        true
    }

    fn constant(&self, c: u32) -> Option<Tensor> {
        self.plan.constants.get(c as usize).cloned()
    }

    /// Runs every step in plan order on this thread.
    pub(crate) fn run_inline(&self, st: &mut RunState) -> Result<()> {
        for i in 0..self.plan.steps.len() {
            if self.skip_dead(i, st) {
                continue;
            }
            let step = &self.plan.steps[i];
            let inputs: Inputs = step
                .inputs
                .iter()
                .map(|r| match *r {
                    ValueRef::Slot(s) => slot_mut(st, s).read(),
                    ValueRef::Const(c) => self.constant(c),
                    ValueRef::Ref => None,
                })
                .collect();
            let (outs, killed) = self.compute(i, inputs, true)?;
            for (j, (out, t)) in step.outputs.iter().zip(outs).enumerate() {
                if let Some(s) = *out {
                    store(slot_mut(st, s), t, killed, j);
                }
            }
        }
        Ok(())
    }

    /// Runs the steps as their inputs become ready, expensive ones as parallel tasks.
    pub(crate) fn run_parallel(&self, st: &RunState) -> Result<()> {
        let failure = Mutex::new(None);
        let abort = AtomicBool::new(false);
        let p = Parallel { exec: self, st, failure: &failure, abort: &abort };
        rayon::scope(|scope| p.drive(scope, self.plan.roots.clone()));
        match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Takes the fetched values out of the run state.
    pub(crate) fn collect(&self, st: &mut RunState) -> Result<Vec<Tensor>> {
        let plan = self.plan;
        plan.fetches
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v = match *r {
                    ValueRef::Slot(s) => {
                        let slot = slot_mut(st, s);
                        if slot.dead {
                            return Err(dead_fetch(plan, i));
                        }
                        slot.read()
                    }
                    ValueRef::Const(c) => self.constant(c),
                    ValueRef::Ref => None,
                };
                v.ok_or_else(|| Error::argument("run", "fetches", "a fetched value was not produced"))
            })
            .collect()
    }
}

/// Fails when a kernel's output disagrees with the dtype or shape inference promised for it: a bug
/// in the op, reported as an error naming the node rather than left to surprise a consumer.
fn check_outputs(step: &Step, out: &Outputs) -> Result<()> {
    for (slot, (spec, t)) in step.specs.iter().zip(out).enumerate() {
        if t.dtype() != spec.dtype || !spec.shape.is_compatible_with(t.shape()) {
            let e = crate::invalid!(
                "kernel output {slot} is {} {:?}, but shape inference promised {} {}",
                t.dtype(),
                t.shape(),
                spec.dtype,
                spec.shape
            );
            return Err(Error::at(&step.name, step.op_type, e));
        }
    }
    Ok(())
}

/// Puts output `j` of a step in its slot, or marks the slot dead when the kernel killed it.
fn store(slot: &mut Slot, t: Tensor, killed: u64, j: usize) {
    if killed.checked_shr(j as u32).is_some_and(|k| k & 1 == 1) {
        slot.dead = true;
    } else {
        slot.value = Some(t);
    }
}

/// The error for fetch `i`, whose value is dead.
fn dead_fetch(plan: &Plan, i: usize) -> Error {
    let [tensor, node, op] = plan.fetch_names.get(i).cloned().unwrap_or_default();
    Error::DeadFetch { tensor, node, op }
}

fn slot_mut(st: &mut RunState, s: u32) -> &mut Slot {
    st.slots[s as usize].get_mut().unwrap_or_else(|e| e.into_inner())
}

fn lock(st: &RunState, s: u32) -> std::sync::MutexGuard<'_, Slot> {
    st.slots[s as usize].lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared context of one parallel run.
struct Parallel<'a> {
    exec: &'a Exec<'a>,
    st: &'a RunState,
    failure: &'a Mutex<Option<Error>>,
    abort: &'a AtomicBool,
}

impl<'a> Parallel<'a> {
    fn drive<'s>(&'s self, scope: &rayon::Scope<'s>, ready: Vec<u32>)
    where
        'a: 's,
    {
        let mut local = Vec::with_capacity(ready.len());
        self.schedule(scope, ready.into_iter(), &mut local);
        while let Some(i) = local.pop() {
            if self.abort.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = self.run_step(i as usize) {
                self.fail(e);
                return;
            }
            let st = self.st;
            let released = self.exec.plan.steps[i as usize]
                .consumers
                .iter()
                .copied()
                .filter(|&c| st.pending[c as usize].fetch_sub(1, Ordering::AcqRel) == 1);
            self.schedule(scope, released, &mut local);
        }
    }

    /// TF's rule: cheap steps go on this thread's list; of the expensive ones, the last stays on
    /// this thread only when the thread has nothing else to do, and the others become tasks.
    fn schedule<'s>(&'s self, scope: &rayon::Scope<'s>, ready: impl Iterator<Item = u32>, local: &mut Vec<u32>)
    where
        'a: 's,
    {
        let mut kept: Option<u32> = None;
        for c in ready {
            if !self.exec.plan.steps[c as usize].expensive {
                local.push(c);
            } else if let Some(prev) = kept.replace(c) {
                scope.spawn(move |s| self.drive(s, vec![prev]));
            }
        }
        if let Some(c) = kept {
            if local.is_empty() {
                local.push(c);
            } else {
                scope.spawn(move |s| self.drive(s, vec![c]));
            }
        }
    }

    fn run_step(&self, i: usize) -> Result<()> {
        if self.exec.skip_dead(i, self.st) {
            return Ok(());
        }
        let step = &self.exec.plan.steps[i];
        let inputs: Inputs = step
            .inputs
            .iter()
            .map(|r| match *r {
                ValueRef::Slot(s) => lock(self.st, s).read(),
                ValueRef::Const(c) => self.exec.constant(c),
                ValueRef::Ref => None,
            })
            .collect();
        let (outs, killed) = self.exec.compute(i, inputs, step.split)?;
        for (j, (out, t)) in step.outputs.iter().zip(outs).enumerate() {
            if let Some(s) = *out {
                store(&mut lock(self.st, s), t, killed, j);
            }
        }
        Ok(())
    }

    fn fail(&self, e: Error) {
        self.abort.store(true, Ordering::Relaxed);
        let mut f = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
    }
}

/// The serial reference executor: every step in plan order, single-threaded kernels, inputs
/// always copied (never reused in place), nothing freed early. The parallel executor must give
/// bit-identical results; tests check it on random graphs.
pub(crate) fn run_reference(exec: &Exec, feeds: &[Tensor]) -> Result<Vec<Tensor>> {
    let plan = exec.plan;
    let mut values: Vec<Option<Tensor>> = vec![None; plan.slot_uses.len()];
    let mut dead_slots = vec![false; plan.slot_uses.len()];
    let mut dead_steps = vec![false; plan.steps.len()];
    for (feed, t) in plan.feeds.iter().zip(feeds) {
        if let Some(s) = feed.slot {
            values[s as usize] = Some(t.clone());
        }
    }
    let get = |values: &[Option<Tensor>], r: &ValueRef| match *r {
        ValueRef::Slot(s) => values[s as usize].clone(),
        ValueRef::Const(c) => exec.constant(c),
        ValueRef::Ref => None,
    };
    for (i, step) in plan.steps.iter().enumerate() {
        let slot_dead = |r: &ValueRef| matches!(*r, ValueRef::Slot(s) if dead_slots[s as usize]);
        let dead = step.control_inputs.iter().any(|&c| dead_steps[c as usize])
            || match step.flow {
                ControlFlow::Merge => step.inputs.iter().all(slot_dead),
                _ => step.inputs.iter().any(slot_dead),
            };
        if dead {
            dead_steps[i] = true;
            for &s in step.outputs.iter().flatten() {
                dead_slots[s as usize] = true;
            }
            continue;
        }
        let inputs: Inputs = step.inputs.iter().map(|r| get(&values, r)).collect();
        let (outs, killed) = exec.compute(i, inputs, false)?;
        for (j, (out, t)) in step.outputs.iter().zip(outs).enumerate() {
            if let Some(s) = *out {
                let mut slot = Slot { value: None, uses: 0, dead: false };
                store(&mut slot, t, killed, j);
                values[s as usize] = slot.value;
                dead_slots[s as usize] = slot.dead;
            }
        }
    }
    plan.fetches
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if matches!(*r, ValueRef::Slot(s) if dead_slots[s as usize]) {
                return Err(dead_fetch(plan, i));
            }
            get(&values, r).ok_or_else(|| Error::argument("run", "fetches", "a fetched value was not produced"))
        })
        .collect()
}
