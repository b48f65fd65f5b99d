//! A decoded GraphDef (prost's types) to the plain structs of [`super::types`]. Every problem
//! names the file, the function and node it is in, and the attribute.

use super::proto as pb;
use super::tensor::{self, Problem};
use super::types::*;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Where values are being decoded, for error messages, and the tensor size limit.
#[derive(Clone, Copy)]
pub(super) struct Context<'a> {
    pub file: &'a str,
    pub max_tensor_elements: usize,
}

impl Context<'_> {
    fn error(&self, place: &str, problem: Problem) -> Error {
        Error::format(self.file, format!("{place}: {problem}"))
    }
}

/// The plain graph of a GraphDef.
pub(super) fn graph(def: pb::GraphDef, cx: Context) -> Result<TfGraph> {
    let library = def.library.unwrap_or_default();
    let versions = def.versions.unwrap_or_default();
    Ok(TfGraph {
        nodes: in_order(def.node.into_par_iter().map(|n| node(n, cx, "")).collect())?,
        functions: library.function.into_iter().map(|f| function(f, cx)).collect::<Result<_>>()?,
        gradients: library.gradient.into_iter().map(|g| (g.function_name, g.gradient_func)).collect(),
        producer: versions.producer,
        min_consumer: versions.min_consumer,
    })
}

/// The values, or the error of the first that failed: converted in parallel, a graph still
/// reports the same problem every time.
pub(super) fn in_order<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

/// Attribute values by name; a problem names the attribute.
pub(super) fn attrs(
    map: BTreeMap<String, pb::AttrValue>,
    max: usize,
) -> std::result::Result<BTreeMap<String, AttrValue>, Problem> {
    map.into_iter()
        .map(|(k, v)| match attr_value(v, max) {
            Ok(v) => Ok((k, v)),
            Err(e) => Err(format!("attr '{k}': {e}")),
        })
        .collect()
}

fn node(n: pb::NodeDef, cx: Context, scope: &str) -> Result<TfNode> {
    let attrs = attrs(n.attr, cx.max_tensor_elements).map_err(|e| cx.error(&format!("{scope}node '{}'", n.name), e))?;
    Ok(TfNode { name: n.name, op: n.op, inputs: n.input, attrs })
}

fn function(f: pb::FunctionDef, cx: Context) -> Result<TfFunction> {
    let signature = f.signature.unwrap_or_default();
    let place = format!("function '{}'", signature.name);
    let max = cx.max_tensor_elements;
    let arg_attrs = f.arg_attr.into_iter().map(|(i, a)| attrs(a.attr, max).map(|a| (i, a)));
    let scope = format!("{place} ");
    Ok(TfFunction {
        inputs: signature.input_arg.into_iter().map(arg).collect(),
        outputs: signature.output_arg.into_iter().map(arg).collect(),
        control_outputs: signature.control_output,
        is_stateful: signature.is_stateful,
        attrs: attrs(f.attr, max).map_err(|e| cx.error(&place, e))?,
        arg_attrs: arg_attrs.collect::<std::result::Result<_, _>>().map_err(|e| cx.error(&place, e))?,
        nodes: f.node_def.into_iter().map(|n| node(n, cx, &scope)).collect::<Result<_>>()?,
        ret: f.ret,
        control_ret: f.control_ret,
        name: signature.name,
    })
}

fn arg(a: pb::op_def::ArgDef) -> TfArg {
    let dtype = if !a.type_list_attr.is_empty() {
        TfArgType::ListAttr(a.type_list_attr)
    } else if !a.type_attr.is_empty() {
        TfArgType::Attr(a.type_attr)
    } else {
        TfArgType::Type(tensor::tf_type(a.r#type))
    };
    let number_attr = Some(a.number_attr).filter(|n| !n.is_empty());
    TfArg { name: a.name, dtype, number_attr, is_ref: a.is_ref }
}

fn attr_value(v: pb::AttrValue, max: usize) -> std::result::Result<AttrValue, Problem> {
    use pb::attr_value::Value as V;
    Ok(match v.value.ok_or("the value is not set")? {
        V::S(s) => AttrValue::Str(s),
        V::I(i) => AttrValue::Int(i),
        V::F(f) => AttrValue::Float(f as f64),
        V::B(b) => AttrValue::Bool(b),
        V::Type(t) => AttrValue::Type(tensor::tf_type(t)),
        V::Shape(s) => AttrValue::Shape(tensor::shape_from_proto(&s)?),
        V::Tensor(t) => AttrValue::Tensor(tensor::from_proto(t, max)?),
        V::List(l) => AttrValue::List(list(l, max)?),
        V::Func(f) => AttrValue::Func(func(f, max)?),
        V::Placeholder(p) => AttrValue::Placeholder(p),
    })
}

fn func(f: pb::NameAttrList, max: usize) -> std::result::Result<TfFunc, Problem> {
    Ok(TfFunc { attrs: attrs(f.attr, max).map_err(|e| format!("func '{}' {e}", f.name))?, name: f.name })
}

fn list(l: pb::attr_value::ListValue, max: usize) -> std::result::Result<AttrList, Problem> {
    let kinds = [
        !l.s.is_empty(),
        !l.i.is_empty(),
        !l.f.is_empty(),
        !l.b.is_empty(),
        !l.r#type.is_empty(),
        !l.shape.is_empty(),
        !l.tensor.is_empty(),
        !l.func.is_empty(),
    ];
    if kinds.iter().filter(|&&k| k).count() > 1 {
        return Err("a list holds values of more than one kind".into());
    }
    Ok(if !l.s.is_empty() {
        AttrList::Str(l.s)
    } else if !l.i.is_empty() {
        AttrList::Int(l.i)
    } else if !l.f.is_empty() {
        AttrList::Float(l.f.into_iter().map(f64::from).collect())
    } else if !l.b.is_empty() {
        AttrList::Bool(l.b)
    } else if !l.r#type.is_empty() {
        AttrList::Type(l.r#type.into_iter().map(tensor::tf_type).collect())
    } else if !l.shape.is_empty() {
        AttrList::Shape(l.shape.iter().map(tensor::shape_from_proto).collect::<std::result::Result<_, _>>()?)
    } else if !l.tensor.is_empty() {
        let tensors = l.tensor.into_iter().map(|t| tensor::from_proto(t, max));
        AttrList::Tensor(tensors.collect::<std::result::Result<_, _>>()?)
    } else if !l.func.is_empty() {
        AttrList::Func(l.func.into_iter().map(|f| func(f, max)).collect::<std::result::Result<_, _>>()?)
    } else {
        AttrList::Empty
    })
}
