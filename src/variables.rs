//! The values of variables, held by a session (never by the graph): one lock per variable; reads
//! are snapshots (a reference-counted clone), writes happen under the write lock. Kernels reach it
//! through [`Kernel`](crate::ops::Kernel); it sits below both the ops and the session.

use crate::error::OpResult;
use crate::ops::TensorSpec;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::{RwLock, RwLockWriteGuard};

/// The values of a session's variables, indexed by the graph's variable index.
#[derive(Debug, Default)]
pub struct VariableStore {
    slots: Vec<RwLock<Option<Tensor>>>,
    names: Vec<String>,
    specs: Vec<TensorSpec>,
}

/// A store without variables, for kernels run at build time (constant folding).
pub(crate) static NO_VARIABLES: VariableStore =
    VariableStore { slots: Vec::new(), names: Vec::new(), specs: Vec::new() };

impl VariableStore {
    pub(crate) fn new(names: Vec<String>, specs: Vec<TensorSpec>) -> Self {
        VariableStore { slots: names.iter().map(|_| RwLock::new(None)).collect(), names, specs }
    }

    /// The declared dtype and shape of a variable.
    pub fn spec(&self, index: usize) -> Option<&TensorSpec> {
        self.specs.get(index)
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no variables.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The variable's node name.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// A snapshot of the current value (`None` when uninitialized).
    pub fn read(&self, index: usize) -> Option<Tensor> {
        let slot = self.slots.get(index)?;
        slot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the variable holds a value.
    pub fn is_initialized(&self, index: usize) -> bool {
        self.slots.get(index).is_some_and(|s| s.read().unwrap_or_else(|e| e.into_inner()).is_some())
    }

    /// Replaces the value (restoring a checkpoint).
    pub(crate) fn set(&self, index: usize, value: Tensor) {
        if let Some(slot) = self.slots.get(index) {
            *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(value);
        }
    }

    /// Runs `f` on the variables `indices` with all their write locks held. Locks are taken in
    /// ascending index order, so concurrent updates of overlapping sets cannot deadlock.
    pub(crate) fn update<R>(
        &self,
        indices: &[usize],
        f: impl FnOnce(&mut [&mut Option<Tensor>]) -> OpResult<R>,
    ) -> OpResult<R> {
        let mut order: SmallVec<[usize; 4]> = (0..indices.len()).collect();
        order.sort_by_key(|&p| indices[p]);
        if order.windows(2).any(|w| indices[w[0]] == indices[w[1]]) {
            return Err(crate::invalid!("the same variable is updated twice by one op"));
        }
        let mut guards: SmallVec<[Option<RwLockWriteGuard<'_, Option<Tensor>>>; 4]> =
            (0..indices.len()).map(|_| None).collect();
        for &p in &order {
            let slot = self.slots.get(indices[p]).ok_or_else(|| crate::invalid!("no variable {}", indices[p]))?;
            guards[p] = Some(slot.write().unwrap_or_else(|e| e.into_inner()));
        }
        let mut values: SmallVec<[&mut Option<Tensor>; 4]> = guards.iter_mut().flatten().map(|g| &mut **g).collect();
        f(&mut values)
    }
}
