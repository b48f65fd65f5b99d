//! What a kernel sees when it runs: its inputs (owned, so the last consumer of a value may write
//! in place), the variables its ref inputs name, and whether it may split its work across threads.

use crate::error::OpResult;
use crate::tensor::buffers::BufferPool;
use crate::tensor::{ArcArrayD, Element, Item, Tensor};
use crate::variables::VariableStore;
use smallvec::SmallVec;

/// The outputs of one kernel run (most ops have one; more spill to the heap).
pub type Outputs = SmallVec<[Tensor; 1]>;

/// The `Ok` of a single-output kernel.
pub fn one(t: Tensor) -> OpResult<Outputs> {
    Ok(smallvec::smallvec![t])
}

/// The run-time context of one node.
pub struct Kernel<'a> {
    inputs: &'a mut [Option<Tensor>],
    vars: &'a VariableStore,
    refs: &'a [usize],
    invocation: u64,
    parallel: bool,
    /// The outputs the kernel marked dead, one bit per output slot.
    killed: u64,
    buffers: Option<&'a BufferPool>,
}

impl<'a> Kernel<'a> {
    pub(crate) fn new(
        inputs: &'a mut [Option<Tensor>],
        vars: &'a VariableStore,
        refs: &'a [usize],
        invocation: u64,
        parallel: bool,
        buffers: Option<&'a BufferPool>,
    ) -> Self {
        Kernel { inputs, vars, refs, invocation, parallel, killed: 0, buffers }
    }

    /// The number of data inputs (ref inputs included, as `None` values).
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Borrows input `i`.
    pub fn input(&self, i: usize) -> OpResult<&Tensor> {
        self.inputs.get(i).and_then(Option::as_ref).ok_or_else(|| crate::invalid!("input {i} has no value"))
    }

    /// The shapes of the inputs (empty for a variable reference, which holds no value).
    pub(crate) fn shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|t| t.as_ref().map_or_else(Vec::new, |t| t.shape().to_vec())).collect()
    }

    /// Takes input `i`; when this node is the value's last consumer the kernel then holds the only
    /// reference and may reuse its buffer.
    pub fn take(&mut self, i: usize) -> OpResult<Tensor> {
        self.inputs.get_mut(i).and_then(Option::take).ok_or_else(|| crate::invalid!("input {i} has no value"))
    }

    /// Borrows input `i` as an array of `T`.
    pub fn array<T: Item>(&self, i: usize) -> OpResult<&ArcArrayD<T>> {
        self.input(i)?.array::<T>()
    }

    /// Input `i` as a single f64 (a scalar hyper-parameter such as a learning rate).
    pub fn scalar_f64(&self, i: usize, what: &str) -> OpResult<f64> {
        let t = self.input(i)?;
        t.scalar_f64().ok_or_else(|| crate::invalid!("{what} is not a scalar: shape {:?}", t.shape()))
    }

    /// Whether input `i` holds a value: false for a dead input of a
    /// [`ControlFlow::Merge`](crate::ops::ControlFlow::Merge) op (and for ref inputs).
    pub fn is_live(&self, i: usize) -> bool {
        self.inputs.get(i).is_some_and(Option::is_some)
    }

    /// Marks output `i` dead (a [`ControlFlow::Switch`](crate::ops::ControlFlow::Switch) op's
    /// untaken branch): its consumers do not run. The kernel still returns a tensor in its place.
    pub fn kill_output(&mut self, i: usize) -> OpResult<()> {
        if i >= 64 {
            return Err(crate::invalid!("output {i} cannot be marked dead (at most 64 outputs)"));
        }
        self.killed |= 1 << i;
        Ok(())
    }

    /// The outputs marked dead, one bit per slot.
    pub(crate) fn killed(&self) -> u64 {
        self.killed
    }

    /// A buffer of `len` elements for an output the kernel writes in full. It is one the plan
    /// kept from an earlier run when it has one of that length (so its contents are that run's
    /// values), else a new one of zeros. Large outputs that come from here cost no page faults
    /// after the first run.
    pub fn output_vec<T: Element>(&self, len: usize) -> Vec<T> {
        self.buffers.and_then(|b| b.take::<T>(len)).unwrap_or_else(|| vec![T::default(); len])
    }

    /// Hands a value the kernel is done with to the plan, which keeps its buffer for a later
    /// [`Kernel::output_vec`] when no one else holds it.
    pub fn recycle(&self, t: Tensor) {
        if let Some(b) = self.buffers {
            b.give(t);
        }
    }

    /// Whether the kernel may split its work across the thread pool.
    pub fn parallel(&self) -> bool {
        self.parallel
    }

    /// How many times this node ran before in this session: the stream position of random ops.
    pub fn invocation(&self) -> u64 {
        self.invocation
    }

    /// A snapshot of the variable named by ref `r`.
    pub fn read_var(&self, r: usize) -> OpResult<Tensor> {
        let index = self.var_index(r)?;
        self.vars.read(index).ok_or_else(|| crate::invalid!("variable {} is not initialized", self.vars.name(index)))
    }

    /// Whether the variable named by ref `r` holds a value.
    pub fn var_is_initialized(&self, r: usize) -> OpResult<bool> {
        Ok(self.vars.read(self.var_index(r)?).is_some())
    }

    /// Updates the variables named by every ref input at once, holding their locks (taken in a
    /// fixed order) for the duration, so a read-modify-write is atomic against concurrent runs.
    /// `f` receives the current values in ref order.
    pub fn update_vars<R>(&self, f: impl FnOnce(&mut [&mut Option<Tensor>]) -> OpResult<R>) -> OpResult<R> {
        self.vars.update(self.refs, f)
    }

    /// The declared dtype and shape of the variable named by ref `r`.
    pub fn var_spec(&self, r: usize) -> OpResult<&crate::ops::TensorSpec> {
        let index = self.var_index(r)?;
        self.vars.spec(index).ok_or_else(|| crate::invalid!("no variable {index}"))
    }

    fn var_index(&self, r: usize) -> OpResult<usize> {
        self.refs.get(r).copied().ok_or_else(|| crate::invalid!("no variable reference {r}"))
    }
}
