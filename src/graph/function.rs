//! The function library of a graph (TF's `FunctionDef`s): graphs of their own with placeholders
//! for arguments, called by ops such as `If` and `StatelessIf`. A function runs in a session of
//! its own, so each call runs a cached plan.

use super::{Graph, NodeId, Output};
use crate::error::Result;
use crate::session::Session;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Functions by name.
pub type Library = HashMap<String, Arc<Function>>;

/// A function: its graph, the placeholders its arguments feed, the outputs it returns and the
/// nodes it runs for their effect (TF's `control_ret`).
pub struct Function {
    name: String,
    session: Session,
    args: Vec<Output>,
    rets: Vec<Output>,
    effects: Vec<NodeId>,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({}: {} args, {} outputs)", self.name, self.args.len(), self.rets.len())
    }
}

impl Function {
    /// A function of `graph`, whose arguments are the placeholders `args` and whose results are
    /// `rets`; `effects` run at every call.
    pub fn new(name: &str, graph: Graph, args: Vec<Output>, rets: Vec<Output>, effects: Vec<NodeId>) -> Function {
        Function { name: name.to_string(), session: Session::new(graph), args, rets, effects }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The graph of the body.
    pub fn graph(&self) -> &Graph {
        self.session.graph()
    }

    /// The placeholders of the arguments, in order.
    pub fn args(&self) -> &[Output] {
        &self.args
    }

    /// The returned outputs, in order.
    pub fn rets(&self) -> &[Output] {
        &self.rets
    }

    /// The nodes it runs for their effect at every call.
    pub fn effects(&self) -> &[NodeId] {
        &self.effects
    }

    /// Calls the function on `args` (one value per argument).
    pub fn call(&self, args: &[Tensor]) -> Result<Vec<Tensor>> {
        let feeds: Vec<(Output, Tensor)> = self.args.iter().copied().zip(args.iter().cloned()).collect();
        self.session.run(&feeds, &self.rets, &self.effects)
    }
}
