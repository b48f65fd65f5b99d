//! Per-run state of a plan: the value slots (each a value and its remaining reads, changed
//! together under one lock) and the pending-input count of every step. Plans pool these, so a
//! repeated `run` allocates none of them.

use super::plan::Plan;
use crate::tensor::Tensor;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32};

/// One value of a run and how many reads of it remain; the last read takes it.
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) value: Option<Tensor>,
    pub(crate) uses: u32,
    /// Whether the value is dead (an untaken `Switch` output, or downstream of one).
    pub(crate) dead: bool,
}

impl Slot {
    /// One read: a clone, or the value itself when this is the last read (so the reader may reuse
    /// its buffer and nothing outlives its last consumer).
    pub(crate) fn read(&mut self) -> Option<Tensor> {
        self.uses = self.uses.saturating_sub(1);
        if self.uses == 0 { self.value.take() } else { self.value.clone() }
    }
}

/// The mutable state of one run.
pub(crate) struct RunState {
    pub(crate) slots: Vec<Mutex<Slot>>,
    pub(crate) pending: Vec<AtomicU32>,
    /// Which steps were dead, for their control edges (empty unless the plan has a `Switch`).
    pub(crate) dead_steps: Vec<AtomicBool>,
}

impl RunState {
    fn new(plan: &Plan) -> Self {
        RunState {
            slots: plan.slot_uses.iter().map(|&uses| Mutex::new(Slot { value: None, uses, dead: false })).collect(),
            pending: plan.pending.iter().map(|&p| AtomicU32::new(p)).collect(),
            dead_steps: match plan.dead_values {
                true => plan.steps.iter().map(|_| AtomicBool::new(false)).collect(),
                false => Vec::new(),
            },
        }
    }

    /// A state from the plan's pool (or a new one), reset for a run.
    pub(crate) fn take(plan: &Plan) -> Self {
        let pooled = plan.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some(mut s) = pooled else {
            return RunState::new(plan);
        };
        for (slot, &uses) in s.slots.iter_mut().zip(&plan.slot_uses) {
            *slot.get_mut().unwrap_or_else(|e| e.into_inner()) = Slot { value: None, uses, dead: false };
        }
        for d in &mut s.dead_steps {
            *d.get_mut() = false;
        }
        for (p, &n) in s.pending.iter_mut().zip(&plan.pending) {
            *p.get_mut() = n;
        }
        s
    }

    /// Returns the state to the plan's pool.
    pub(crate) fn give_back(self, plan: &Plan) {
        plan.pool.lock().unwrap_or_else(|e| e.into_inner()).push(self);
    }
}
