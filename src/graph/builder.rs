//! Adding nodes: the one way into a graph. Wiring checks every input, infers the dtype and shape
//! of every output (an error names the node), folds small constant expressions, and records data
//! and control edges.

use super::{Edge, Graph, Node, NodeId, Output, VariableInfo};
use crate::error::{Error, Result};
use crate::ops::{ControlFlow, InferCx, Kernel, Op, State, TensorSpec};
use crate::tensor::Tensor;
use crate::variables::NO_VARIABLES;
use smallvec::SmallVec;
use std::sync::Arc;

/// How a new node is named.
#[derive(Clone, Copy, Debug)]
pub enum NodeName<'a> {
    /// A base name, scoped and made unique (`add` → `scope/add_1`): what builder functions use.
    Default(&'a str),
    /// An exact, full name that must be free: what graph files use.
    Exact(&'a str),
}

/// Build-time values with more elements than this are not folded (the plan computes them).
const FOLD_LIMIT: usize = 4096;

impl Graph {
    /// Adds a node running `op` on `inputs`, after `control_inputs` (and the control dependencies
    /// of the enclosing [`with_control_dependencies`](Graph::with_control_dependencies) scopes).
    ///
    /// ```
    /// use stepflow::{Graph, NodeName, ops::binary::AddV2};
    /// let mut g = Graph::new();
    /// let a = g.constant(1.0f32)?;
    /// let b = g.constant(2i32)?;
    /// let err = g.add_node(NodeName::Default("add"), AddV2 {}, &[a, b], &[]).unwrap_err();
    /// assert_eq!(err.to_string(), "node 'add' (AddV2): input 1 must be float32, got int32");
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn add_node(
        &mut self,
        name: NodeName,
        op: impl Op,
        inputs: &[Output],
        control_inputs: &[NodeId],
    ) -> Result<NodeId> {
        self.add_shared(name, Arc::new(op), inputs, control_inputs)
    }

    /// Adds a single-output node with a default name and returns its output.
    pub fn op(&mut self, name: &str, op: impl Op, inputs: &[Output]) -> Result<Output> {
        Ok(self.add_node(NodeName::Default(name), op, inputs, &[])?.into())
    }

    pub(crate) fn add_shared(
        &mut self,
        name: NodeName,
        op: Arc<dyn Op>,
        inputs: &[Output],
        control_inputs: &[NodeId],
    ) -> Result<NodeId> {
        let name = match name {
            NodeName::Default(base) => self.unique_name(base),
            NodeName::Exact(n) => {
                super::names::check_name(n)?;
                if self.names.contains_key(n) {
                    return Err(Error::DuplicateName { name: n.to_string() });
                }
                n.to_string()
            }
        };
        let at = |e| Error::at(&name, op.op_type(), e);
        let specs = self.input_specs(inputs).map_err(at)?;
        let var_refs = self.check_refs(&*op, inputs).map_err(at)?;
        let controls = self.control_inputs_for(control_inputs, &name)?;
        let may_be_dead = op.control_flow() == ControlFlow::Switch
            || inputs.iter().any(|o| self.node(o.node).may_be_dead)
            || controls.iter().any(|&c| self.node(c).may_be_dead);
        // Shape inference sees every input value known at build time. Folding does not see a
        // value that only exists once a control input has run (a constant inside a `tf.cond`
        // branch, after its pivot, or under `control_dependencies`): a reader folded from it
        // would no longer wait for that control input.
        let value = |o: &Output, gated: bool| {
            let input = self.node(o.node);
            if gated && !input.control_inputs.is_empty() {
                return None;
            }
            // A constant that may be dead keeps no folded value, but its value is still a fact.
            let source = (!gated && input.inputs.is_empty() && o.slot == 0)
                .then(|| input.op.static_value(&InferCx { inputs: &[], values: &[] }))
                .flatten();
            input.slot_value(o.slot).cloned().or(source)
        };
        let values_of = |gated: bool| -> Vec<Option<Tensor>> {
            inputs.iter().enumerate().map(|(i, o)| if i < var_refs.len() { None } else { value(o, gated) }).collect()
        };
        let all_values = values_of(false);
        let outputs = op.infer(&InferCx { inputs: &specs, values: &all_values }).map_err(at)?;
        for o in &outputs {
            let known: Vec<usize> = o.shape.dims().unwrap_or(&[]).iter().map(|d| d.unwrap_or(0)).collect();
            crate::shape::checked_elements(&known).map_err(at)?;
        }
        let fold_values = values_of(true);
        let cx = InferCx { inputs: &specs, values: &fold_values };
        let folded = if may_be_dead { Vec::new() } else { fold(&*op, &cx, &outputs).map_err(at)? };
        let mut values = folded.into_iter();
        let (value, later_values) = (values.next(), values.collect());
        self.claim_exact_name(&name)?;
        let var = (op.state() == State::Variable).then_some(self.variables.len());
        let node = Node {
            name: name.clone(),
            op,
            inputs: inputs.to_vec(),
            control_inputs: controls.clone(),
            outputs,
            value,
            later_values,
            var,
            may_be_dead,
        };
        let ix = self.dag.add_node(node);
        let id = self.id_at(ix.index());
        for (i, o) in inputs.iter().enumerate() {
            self.dag.add_edge(o.node.ix(), ix, Edge::Data { slot: o.slot, input: i as u32 });
        }
        for c in controls {
            self.dag.add_edge(c.ix(), ix, Edge::Control);
        }
        self.names.insert(name, id);
        if var.is_some() {
            self.variables.push(VariableInfo { node: id, initializer: None, trainable: true });
        }
        Ok(id)
    }

    fn input_specs(&self, inputs: &[Output]) -> crate::error::OpResult<Vec<TensorSpec>> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let node = self.try_node(o.node).map_err(|_| {
                    crate::invalid!("input {i} is not a node of this graph (a handle from another graph?)")
                })?;
                node.outputs.get(o.slot as usize).cloned().ok_or_else(|| {
                    crate::invalid!(
                        "input {i} names output {} of '{}', which has {}",
                        o.slot,
                        node.name,
                        node.outputs.len()
                    )
                })
            })
            .collect()
    }

    /// Checks the ref inputs: each must be a distinct variable node's output 0.
    fn check_refs(&self, op: &dyn Op, inputs: &[Output]) -> crate::error::OpResult<SmallVec<[usize; 4]>> {
        let n = op.state().refs().len();
        if inputs.len() < n {
            return Err(crate::error::OpError::Arity { expected: format!("at least {n}"), got: inputs.len() });
        }
        let mut vars = SmallVec::new();
        for (i, o) in inputs[..n].iter().enumerate() {
            let node = self.node(o.node);
            match node.var {
                Some(v) if o.slot == 0 => {
                    if vars.contains(&v) {
                        return Err(crate::invalid!("input {i}: variable '{}' is passed twice", node.name));
                    }
                    vars.push(v)
                }
                _ => {
                    return Err(crate::invalid!(
                        "input {i} must be a variable, got '{}' ({})",
                        node.name,
                        node.op.op_type()
                    ));
                }
            }
        }
        Ok(vars)
    }

    fn control_inputs_for(&self, explicit: &[NodeId], name: &str) -> Result<Vec<NodeId>> {
        let mut controls: Vec<NodeId> = Vec::new();
        for &c in self.control_scopes.iter().flatten().chain(explicit) {
            if self.check_node(c).is_err() {
                return Err(Error::at(
                    name,
                    "control input",
                    crate::invalid!("control input is not a node of this graph"),
                ));
            }
            if !controls.contains(&c) {
                controls.push(c);
            }
        }
        Ok(controls)
    }

    /// Runs `f` with every node it creates depending on `deps` (TF's `control_dependencies`).
    ///
    /// ```
    /// use stepflow::Graph;
    /// let mut g = Graph::new();
    /// let a = g.constant(1.0f32)?;
    /// let b = g.with_control_dependencies(&[a.node], |g| g.constant(2.0f32))?;
    /// assert_eq!(g.node(b.node).control_inputs(), &[a.node]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn with_control_dependencies<R>(
        &mut self,
        deps: &[NodeId],
        f: impl FnOnce(&mut Graph) -> Result<R>,
    ) -> Result<R> {
        self.control_scopes.push(deps.to_vec());
        let r = f(self);
        self.control_scopes.pop();
        r
    }

    /// A `NoOp` that runs after all of `deps`: running it as a target runs them all (TF's `group`).
    pub fn group(&mut self, deps: &[NodeId], name: &str) -> Result<NodeId> {
        self.add_node(NodeName::Default(name), crate::ops::state::NoOp {}, &[], deps)
    }
}

/// The build-time values of a new node's outputs: output 0's static value, or every output of
/// the kernel run on constant inputs when the results are small (none otherwise).
fn fold(op: &dyn Op, cx: &InferCx, outputs: &[TensorSpec]) -> crate::error::OpResult<Vec<Tensor>> {
    if !op.state().is_pure() {
        return Ok(Vec::new());
    }
    if let Some(v) = op.static_value(cx) {
        let spec = outputs.first().ok_or_else(|| crate::invalid!("a value for a node without outputs"))?;
        return Ok(vec![agrees(v, spec)?]);
    }
    let total = outputs.iter().try_fold(0usize, |n, o| Some(n + o.shape.num_elements()?));
    let small = !outputs.is_empty() && total.is_some_and(|n| n <= FOLD_LIMIT);
    if cx.is_empty() || !small || cx.values.iter().any(Option::is_none) {
        return Ok(Vec::new());
    }
    let mut inputs: Vec<Option<Tensor>> = cx.values.to_vec();
    let mut k = Kernel::new(&mut inputs, &NO_VARIABLES, &[], 0, false, None);
    let out = op.compute(&mut k)?;
    if out.len() != outputs.len() {
        return Err(crate::invalid!("kernel returned {} outputs, expected {}", out.len(), outputs.len()));
    }
    out.into_iter().zip(outputs).map(|(v, spec)| agrees(v, spec)).collect()
}

/// `v` as the value of an output of `spec`, if it has the dtype and shape inference promised.
fn agrees(v: Tensor, spec: &TensorSpec) -> crate::error::OpResult<Tensor> {
    if v.dtype() != spec.dtype || !spec.shape.is_compatible_with(v.shape()) {
        return Err(crate::invalid!(
            "kernel produced {} {:?}, but shape inference said {} {}",
            v.dtype(),
            v.shape(),
            spec.dtype,
            spec.shape
        ));
    }
    Ok(v)
}
