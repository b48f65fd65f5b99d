//! The function library of an export: every function an op calls (`If`'s branches), callees
//! first, as TF's `FunctionDef`s. A body is exported as a graph is; then its tensor names take
//! TF's function form, `node:output_arg:index` (an argument is named by itself), with the output
//! arguments of TF's op definition of each node.

use super::{export_node, order};
use crate::error::Result;
use crate::graph::{Function, Graph, Output};
use crate::io::tf::op_defs::{OpDef, op_def};
use crate::io::tf::{TfArg, TfArgType, TfFunction, TfNode, TfType};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Every function the nodes of `g` call, directly or through other functions.
pub(super) fn library(g: &Graph) -> Result<Vec<TfFunction>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for id in g.node_ids() {
        for f in g.node(id).op().functions() {
            add(&f, &mut seen, &mut out)?;
        }
    }
    Ok(out)
}

fn add(f: &Arc<Function>, seen: &mut HashSet<String>, out: &mut Vec<TfFunction>) -> Result<()> {
    if !seen.insert(f.name().to_string()) {
        return Ok(());
    }
    let body = f.graph();
    for id in body.node_ids() {
        for callee in body.node(id).op().functions() {
            add(&callee, seen, out)?;
        }
    }
    out.push(function(f)?);
    Ok(())
}

fn function(f: &Function) -> Result<TfFunction> {
    let body = f.graph();
    let args: HashSet<_> = f.args().iter().map(|a| a.node).collect();
    let waits = order::waits(body);
    let mut nodes = Vec::new();
    for id in body.node_ids().filter(|id| !args.contains(id)) {
        export_node(body, id, waits.get(&id).map_or(&[], Vec::as_slice), &mut nodes)?;
    }
    let names = OutputNames::new(&nodes, body, &args);
    for n in &mut nodes {
        for input in &mut n.inputs {
            *input = names.rename(input);
        }
    }
    let arg = |name: String, o: Output| TfArg {
        name,
        dtype: TfArgType::Type(TfType::Known(body.spec(o).dtype)),
        number_attr: None,
        is_ref: false,
    };
    let inputs = f.args().iter().map(|&a| arg(body.node(a.node).name().to_string(), a)).collect();
    let outputs: Vec<TfArg> = f.rets().iter().enumerate().map(|(i, &r)| arg(format!("output_{i}"), r)).collect();
    let ret =
        outputs.iter().zip(f.rets()).map(|(o, &r)| (o.name.clone(), names.rename(&body.output_name(r)))).collect();
    let effects: Vec<String> = f.effects().iter().map(|&e| body.node(e).name().to_string()).collect();
    let is_stateful = body.node_ids().any(|id| !body.node(id).op().state().is_pure() && !args.contains(&id));
    Ok(TfFunction {
        name: f.name().to_string(),
        inputs,
        outputs,
        control_outputs: effects.clone(),
        is_stateful,
        nodes,
        ret,
        control_ret: effects.into_iter().map(|e| (e.clone(), e)).collect(),
        ..TfFunction::default()
    })
}

/// The output arguments of each body node, to name its outputs as TF's function bodies do.
struct OutputNames {
    /// Each exported node's TF op definition and number of outputs.
    nodes: HashMap<String, (&'static OpDef, usize)>,
    args: HashSet<String>,
}

impl OutputNames {
    fn new(nodes: &[TfNode], body: &Graph, args: &HashSet<crate::graph::NodeId>) -> Self {
        let count = |name: &str| body.node_id(name).map_or(1, |id| body.node(id).outputs().len());
        let nodes = nodes.iter().filter_map(|n| Some((n.name.clone(), (op_def(&n.op)?, count(&n.name))))).collect();
        let args = args.iter().map(|&a| body.node(a).name().to_string()).collect();
        OutputNames { nodes, args }
    }

    /// `x:slot` as `x:arg:index`; arguments, control inputs and unknown names unchanged.
    fn rename(&self, input: &str) -> String {
        let (node, slot) = match input.rsplit_once(':') {
            Some((n, s)) => (n, s.parse::<usize>().unwrap_or(0)),
            None => (input, 0),
        };
        if input.starts_with('^') || self.args.contains(node) {
            return input.to_string();
        }
        let Some((def, n)) = self.nodes.get(node) else { return input.to_string() };
        let Ok(counts) = OpDef::split(&def.outputs, *n) else { return input.to_string() };
        let mut start = 0;
        for (a, &count) in def.outputs.iter().zip(&counts) {
            if slot < start + count {
                return format!("{node}:{}:{}", a.name, slot - start);
            }
            start += count;
        }
        input.to_string()
    }
}
