//! The plain structs of [`super::types`] back to prost's GraphDef types, for writing a graph in
//! any of TensorFlow's forms.

use super::proto as pb;
use super::tensor::{self, Problem};
use super::types::*;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The GraphDef of a plain graph.
pub(super) fn graph(g: &TfGraph) -> Result<pb::GraphDef> {
    let failed = |place: String| move |e: Problem| Error::format("GraphDef", format!("{place}: {e}"));
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        nodes.push(node(n).map_err(failed(format!("node '{}'", n.name)))?);
    }
    let functions = g.functions.iter().map(|f| function(f).map_err(failed(format!("function '{}'", f.name))));
    let gradient =
        g.gradients.iter().map(|(f, grad)| pb::GradientDef { function_name: f.clone(), gradient_func: grad.clone() });
    let library = pb::FunctionDefLibrary {
        function: functions.collect::<Result<_>>()?,
        gradient: gradient.collect(),
        registered_gradients: Vec::new(),
    };
    Ok(pb::GraphDef {
        node: nodes,
        versions: Some(pb::VersionDef {
            producer: g.producer,
            min_consumer: g.min_consumer,
            bad_consumers: Vec::new(),
        }),
        library: (!library.function.is_empty() || !library.gradient.is_empty()).then_some(library),
        ..Default::default()
    })
}

/// Attribute values by name; a problem names the attribute.
pub(super) fn attrs(
    map: &BTreeMap<String, AttrValue>,
) -> std::result::Result<BTreeMap<String, pb::AttrValue>, Problem> {
    map.iter().map(|(k, v)| attr_value(v).map(|v| (k.clone(), v)).map_err(|e| format!("attr '{k}': {e}"))).collect()
}

fn node(n: &TfNode) -> std::result::Result<pb::NodeDef, Problem> {
    Ok(pb::NodeDef {
        name: n.name.clone(),
        op: n.op.clone(),
        input: n.inputs.clone(),
        attr: attrs(&n.attrs)?,
        ..Default::default()
    })
}

fn function(f: &TfFunction) -> std::result::Result<pb::FunctionDef, Problem> {
    let args = |a: &[TfArg]| a.iter().map(arg).collect::<std::result::Result<Vec<_>, _>>();
    let signature = pb::OpDef {
        name: f.name.clone(),
        input_arg: args(&f.inputs)?,
        output_arg: args(&f.outputs)?,
        control_output: f.control_outputs.clone(),
        is_stateful: f.is_stateful,
        ..Default::default()
    };
    let arg_attrs = f.arg_attrs.iter().map(|(&i, a)| attrs(a).map(|attr| (i, pb::function_def::ArgAttrs { attr })));
    Ok(pb::FunctionDef {
        signature: Some(signature),
        attr: attrs(&f.attrs)?,
        arg_attr: arg_attrs.collect::<std::result::Result<_, _>>()?,
        resource_arg_unique_id: BTreeMap::new(),
        node_def: f
            .nodes
            .iter()
            .map(|n| node(n).map_err(|e| format!("node '{}': {e}", n.name)))
            .collect::<std::result::Result<_, _>>()?,
        ret: f.ret.clone(),
        control_ret: f.control_ret.clone(),
    })
}

fn arg(a: &TfArg) -> std::result::Result<pb::op_def::ArgDef, Problem> {
    let mut def = pb::op_def::ArgDef {
        name: a.name.clone(),
        number_attr: a.number_attr.clone().unwrap_or_default(),
        is_ref: a.is_ref,
        ..Default::default()
    };
    match &a.dtype {
        TfArgType::Type(t) => def.r#type = tensor::type_code(t)?,
        TfArgType::Attr(name) => def.type_attr = name.clone(),
        TfArgType::ListAttr(name) => def.type_list_attr = name.clone(),
    }
    Ok(def)
}

fn attr_value(v: &AttrValue) -> std::result::Result<pb::AttrValue, Problem> {
    use pb::attr_value::Value as V;
    let value = match v {
        AttrValue::Str(s) => V::S(s.clone()),
        AttrValue::Int(i) => V::I(*i),
        AttrValue::Float(f) => V::F(*f as f32),
        AttrValue::Bool(b) => V::B(*b),
        AttrValue::Type(t) => V::Type(tensor::type_code(t)?),
        AttrValue::Shape(s) => V::Shape(tensor::shape_to_proto(s)),
        AttrValue::Tensor(t) => V::Tensor(tensor::to_proto(t)?),
        AttrValue::List(l) => V::List(list(l)?),
        AttrValue::Func(f) => V::Func(func(f)?),
        AttrValue::Placeholder(p) => V::Placeholder(p.clone()),
    };
    Ok(pb::AttrValue { value: Some(value) })
}

fn func(f: &TfFunc) -> std::result::Result<pb::NameAttrList, Problem> {
    Ok(pb::NameAttrList { name: f.name.clone(), attr: attrs(&f.attrs).map_err(|e| format!("func '{}' {e}", f.name))? })
}

fn list(l: &AttrList) -> std::result::Result<pb::attr_value::ListValue, Problem> {
    let mut p = pb::attr_value::ListValue::default();
    match l {
        AttrList::Empty => {}
        AttrList::Str(v) => p.s = v.clone(),
        AttrList::Int(v) => p.i = v.clone(),
        AttrList::Float(v) => p.f = v.iter().map(|&f| f as f32).collect(),
        AttrList::Bool(v) => p.b = v.clone(),
        AttrList::Type(v) => p.r#type = v.iter().map(tensor::type_code).collect::<std::result::Result<_, _>>()?,
        AttrList::Shape(v) => p.shape = v.iter().map(tensor::shape_to_proto).collect(),
        AttrList::Tensor(v) => p.tensor = v.iter().map(tensor::to_proto).collect::<std::result::Result<_, _>>()?,
        AttrList::Func(v) => p.func = v.iter().map(func).collect::<std::result::Result<_, _>>()?,
    }
    Ok(p)
}
