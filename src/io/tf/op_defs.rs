//! TensorFlow's definitions of stepflow's ops (`op_defs.json`, written from TF's own op registry
//! by `tests/tf/make_op_defs.py`): the argument lists and attributes a GraphDef node must carry.
//! The importer reads from them which attributes are TF's type attributes, which it drops.
//! From them the exporter derives TF's type and count attributes (`T`, `N`, `Tidx`, `Tin`, ...)
//! from the dtypes and number of a node's inputs and outputs, as TF's graph builder does.

use crate::io::tf::{AttrList, AttrValue, TfType};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// One op's definition, cut to what export needs.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct OpDef {
    pub(crate) inputs: Vec<ArgDef>,
    pub(crate) outputs: Vec<ArgDef>,
    pub(crate) attrs: Vec<AttrDef>,
}

/// An input or output argument.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ArgDef {
    pub(crate) name: String,
    type_attr: Option<String>,
    number_attr: Option<String>,
    type_list_attr: Option<String>,
}

/// An attribute: its name, TF kind (`int`, `list(type)`, ...) and whether TF has a default.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct AttrDef {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) default: bool,
}

impl ArgDef {
    /// Whether the argument stands for any number of tensors.
    fn repeated(&self) -> bool {
        self.number_attr.is_some() || self.type_list_attr.is_some()
    }
}

/// TF's definition of op `op_type`, `None` for an op TF does not have.
pub(crate) fn op_def(op_type: &str) -> Option<&'static OpDef> {
    static DEFS: OnceLock<HashMap<String, OpDef>> = OnceLock::new();
    DEFS.get_or_init(|| serde_json::from_str(include_str!("op_defs.json")).unwrap_or_default()).get(op_type)
}

impl OpDef {
    /// How `n` tensors fall into the arguments `args`: the count of each. Fixed arguments take
    /// one; the repeated ones share the rest equally (TF's ops have at most one repeated argument,
    /// or several with the same count, as DynamicStitch).
    pub(crate) fn split(args: &[ArgDef], n: usize) -> Result<Vec<usize>, String> {
        let repeated = args.iter().filter(|a| a.repeated()).count();
        let fixed = args.len() - repeated;
        let rest = n.checked_sub(fixed).ok_or_else(|| format!("has {n} tensors where TF's op needs {fixed}"))?;
        if repeated == 0 && rest > 0 || repeated > 0 && rest % repeated != 0 {
            return Err(format!("has {n} tensors, which do not fit TF's arguments"));
        }
        Ok(args.iter().map(|a| if a.repeated() { rest / repeated.max(1) } else { 1 }).collect())
    }

    /// The type and count attributes of a node whose inputs and outputs have these types.
    pub(crate) fn type_attrs(
        &self,
        inputs: &[TfType],
        outputs: &[TfType],
    ) -> Result<BTreeMap<String, AttrValue>, String> {
        let mut attrs = BTreeMap::new();
        for (args, dtypes) in [(&self.inputs, inputs), (&self.outputs, outputs)] {
            let counts = Self::split(args, dtypes.len())?;
            let mut at = 0;
            for (a, &n) in args.iter().zip(&counts) {
                let these = &dtypes[at..at + n];
                at += n;
                if let Some(count) = &a.number_attr {
                    attrs.entry(count.clone()).or_insert(AttrValue::Int(n as i64));
                }
                if let (Some(t), Some(d)) = (&a.type_attr, these.first()) {
                    attrs.entry(t.clone()).or_insert(AttrValue::Type(d.clone()));
                }
                if let Some(list) = &a.type_list_attr {
                    attrs.entry(list.clone()).or_insert(AttrValue::List(AttrList::Type(these.to_vec())));
                }
            }
        }
        Ok(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    #[test]
    fn every_registered_op_has_a_tensorflow_definition() {
        let missing: Vec<_> = crate::ops::OP_TYPES.iter().filter(|t| op_def(t).is_none()).collect();
        assert!(missing.is_empty(), "no TF op definition for {missing:?}: run tests/tf/make_op_defs.py");
    }

    #[test]
    fn counts_and_types_come_from_the_arguments() {
        let [f, i32, i64, bool] = [DType::Float32, DType::Int32, DType::Int64, DType::Bool].map(TfType::Known);
        let concat = op_def("ConcatV2").unwrap();
        let attrs = concat.type_attrs(&[f.clone(), f.clone(), f.clone(), i64], std::slice::from_ref(&f)).unwrap();
        assert_eq!(attrs["N"], AttrValue::Int(3));
        assert_eq!(attrs["T"], AttrValue::Type(TfType::Known(DType::Float32)));
        assert_eq!(attrs["Tidx"], AttrValue::Type(TfType::Known(DType::Int64)));
        let assert = op_def("Assert").unwrap();
        let attrs = assert.type_attrs(&[bool, i32.clone(), f.clone()], &[]).unwrap();
        assert_eq!(attrs["T"], AttrValue::List(AttrList::Type(vec![i32, f.clone()])));
        assert!(op_def("MatMul").unwrap().type_attrs(std::slice::from_ref(&f), std::slice::from_ref(&f)).is_err());
    }
}
