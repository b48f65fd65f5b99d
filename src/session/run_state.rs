//! Per-run state of a plan: the value slots (each a value and its remaining reads, changed
//! together under one lock) and the pending-input count of every step. Plans pool these, so a
//! repeated `run` allocates none of them.

use super::plan::Plan;
use crate::tensor::Tensor;
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;

/// One value of a run and how many reads of it remain; the last read takes it.
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) value: Option<Tensor>,
    pub(crate) uses: u32,
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
}

impl RunState {
    fn new(plan: &Plan) -> Self {
        RunState {
            slots: plan.slot_uses.iter().map(|&uses| Mutex::new(Slot { value: None, uses })).collect(),
            pending: plan.pending.iter().map(|&p| AtomicU32::new(p)).collect(),
        }
    }

    /// A state from the plan's pool (or a new one), reset for a run.
    pub(crate) fn take(plan: &Plan) -> Self {
        let pooled = plan.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some(mut s) = pooled else {
            return RunState::new(plan);
        };
        for (slot, &uses) in s.slots.iter_mut().zip(&plan.slot_uses) {
            *slot.get_mut().unwrap_or_else(|e| e.into_inner()) = Slot { value: None, uses };
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
