//! The function library: each TF `FunctionDef` as a [`Function`], its arguments as placeholders
//! and its body imported as a graph is. Inside a body, TF names an output by its node, output
//! argument and index (`Floor:y:0`, `xent:backprop:0`); those names become stepflow's
//! `node:slot`. A function calling another (nested `If`) gets its callee imported first.

use super::{node, node_part};
use crate::error::{Error, Result};
use crate::graph::{Function, Library, Output};
use crate::io::tf::{AttrValue, TfArg, TfArgType, TfFunction, TfGraph};
use crate::io::{GraphDef, NodeDef, VERSION};
use crate::ops::op_from_json;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// How deep functions may call functions: a bound on what a hostile file can make the importer
/// do (a function that calls itself is an error, not a hang).
const MAX_NESTING: usize = 32;

/// Every function of the graph's library.
pub(super) fn library(tf: &TfGraph, file: &str) -> Result<Library> {
    let by_name: HashMap<&str, &TfFunction> = tf.functions.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut lib = Library::new();
    for f in &tf.functions {
        import(f, &by_name, &mut lib, 0, file)?;
    }
    Ok(lib)
}

fn import(
    f: &TfFunction,
    by_name: &HashMap<&str, &TfFunction>,
    lib: &mut Library,
    depth: usize,
    file: &str,
) -> Result<()> {
    if lib.contains_key(&f.name) {
        return Ok(());
    }
    if depth > MAX_NESTING {
        return Err(Error::format(file, format!("function '{}': functions nest more than {MAX_NESTING} deep", f.name)));
    }
    for called in f.nodes.iter().flat_map(|n| n.attrs.values()).filter_map(func_name) {
        if let Some(callee) = by_name.get(called) {
            import(callee, by_name, lib, depth + 1, file)?;
        }
    }
    let in_function = |e: Error| Error::format(file, format!("function '{}': {e}", f.name));
    let mut nodes = f.inputs.iter().map(|a| arg(a, &f.name, file)).collect::<Result<Vec<_>>>()?;
    let body =
        super::messages::fold_into_asserts(&f.nodes).iter().map(|n| node(n, file)).collect::<Result<Vec<_>>>()?;
    let slots = output_slots(&body);
    for mut n in body {
        n.inputs = n.inputs.iter().map(|i| tensor_name(i, &slots)).collect();
        nodes.push(n);
    }
    let def = GraphDef { format: "stepflow.graph".into(), version: VERSION, nodes, variables: Vec::new() };
    let g = def.to_graph_with(file, lib).map_err(in_function)?;
    let args = f.inputs.iter().map(|a| g.output(&a.name)).collect::<Result<Vec<Output>>>().map_err(in_function)?;
    let rets = f
        .outputs
        .iter()
        .map(|o| {
            let t = f.ret.get(&o.name).ok_or_else(|| Error::format(file, format!("output '{}' has no ret", o.name)))?;
            g.output(&tensor_name(t, &slots))
        })
        .collect::<Result<Vec<Output>>>()
        .map_err(in_function)?;
    let effects =
        f.control_ret.values().map(|n| g.node_id(node_part(n))).collect::<Result<Vec<_>>>().map_err(in_function)?;
    lib.insert(f.name.clone(), Arc::new(Function::new(&f.name, g, args, rets, effects)));
    Ok(())
}

fn func_name(v: &AttrValue) -> Option<&str> {
    match v {
        AttrValue::Func(f) => Some(&f.name),
        _ => None,
    }
}

/// An argument as a placeholder of its dtype, named as the body refers to it.
fn arg(a: &TfArg, function: &str, file: &str) -> Result<NodeDef> {
    let dtype = match &a.dtype {
        TfArgType::Type(t) => t.dtype(),
        _ => None,
    }
    .ok_or_else(|| {
        Error::format(
            file,
            format!("function '{function}': argument '{}' has a type stepflow does not support", a.name),
        )
    })?;
    Ok(NodeDef {
        name: a.name.clone(),
        op: "Placeholder".into(),
        inputs: Vec::new(),
        control_inputs: Vec::new(),
        attrs: json!({ "dtype": dtype }),
    })
}

/// The output argument names of each body node whose op has several.
fn output_slots(body: &[NodeDef]) -> HashMap<String, &'static [&'static str]> {
    body.iter()
        .filter_map(|n| {
            let op = op_from_json(&n.op, &n.attrs)?.ok()?;
            let args = op.output_args();
            (!args.is_empty()).then(|| (n.name.clone(), args))
        })
        .collect()
}

/// A body's tensor name as stepflow's: `node:arg:index` → `node:slot`, where the slot is the
/// argument's position for an op with several output arguments, else the index; `^node` and
/// plain names stay.
fn tensor_name(name: &str, slots: &HashMap<String, &'static [&'static str]>) -> String {
    let mut parts = name.rsplitn(3, ':');
    let (Some(index), Some(arg), Some(node)) = (parts.next(), parts.next(), parts.next()) else {
        return name.to_string();
    };
    let Ok(index) = index.parse::<usize>() else { return name.to_string() };
    let slot = match slots.get(node).and_then(|args| args.iter().position(|a| *a == arg)) {
        Some(position) => position + index,
        None => index,
    };
    format!("{node}:{slot}")
}
