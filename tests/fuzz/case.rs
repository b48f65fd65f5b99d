//! One fuzz case: an op from `OP_TYPES`, 0–4 inputs (rarely up to 10, for the optimizer updates)
//! each a constant, a fed placeholder or an initialized variable, and attributes drawn from the
//! op's own attribute list. A case becomes a graph file, loaded through the library's loader like
//! any other, and the feeds for its placeholders.

use super::probe::{MAX_INPUTS, signatures};
use super::values;
use proptest::prelude::*;
use serde_json::{Value, json};
use stepflow::ops::{OP_TYPES, op_attributes};
use stepflow::{DType, Tensor};

/// The fuzzed node's name; every error about it must carry it.
pub const NODE: &str = "fuzzed";

/// Where an input comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// A `Const` node: folded when the graph is built, so the kernel runs in the builder.
    Const,
    /// A `Placeholder`, fed at run time: the kernel runs in the executor.
    Placeholder,
    /// A `VariableV2` with an `Assign` initializer, for ops with reference inputs.
    Variable,
}

/// What a placeholder declares of its fed value's shape.
#[derive(Clone, Debug)]
pub enum Declared {
    /// The whole shape.
    Known,
    /// The rank, with the dimensions marked `true` unknown.
    Partial(Vec<bool>),
    /// Nothing (unknown rank).
    UnknownRank,
}

/// One input of the fuzzed node.
#[derive(Clone, Debug)]
pub struct Input {
    pub source: Source,
    pub dtype: DType,
    pub dims: Vec<usize>,
    pub declared: Declared,
    pub draws: Vec<u8>,
}

/// How one attribute is drawn.
#[derive(Clone, Copy, Debug)]
pub enum AttrDraw {
    Omit,
    Valid(u8),
    Invalid(u8),
}

/// A whole case.
#[derive(Clone, Debug)]
pub struct Case {
    pub op: &'static str,
    pub inputs: Vec<Input>,
    pub attrs: Vec<AttrDraw>,
    /// Adds an attribute the op does not have.
    pub unknown_attr: bool,
    /// Runs on the serial reference executor instead of the parallel one.
    pub serial: bool,
    /// Also builds and runs the gradient of the node's first output with respect to its float
    /// inputs.
    pub grad: bool,
}

fn dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(DType::ALL.to_vec())
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 3 => Just(1usize), 3 => Just(2usize), 2 => Just(3usize), 1 => Just(4usize)]
}

/// An input of `dtype` (or of any dtype when `None`), a variable when `variable`.
/// An input's dims: mostly `common`, which all inputs of a case share (many ops need one shape, or
/// a scalar beside a tensor); in a `tight` case always `common` or a scalar.
fn dims(common: Vec<usize>, tight: bool) -> BoxedStrategy<Vec<usize>> {
    match tight {
        true => prop_oneof![6 => Just(common), 1 => Just(vec![])].boxed(),
        false => prop_oneof![3 => Just(common), 1 => Just(vec![]), 3 => prop::collection::vec(dim(), 0..=4)].boxed(),
    }
}

fn input(dtype: Option<DType>, variable: bool, dims: BoxedStrategy<Vec<usize>>) -> impl Strategy<Value = Input> {
    let source = match variable {
        true => Just(Source::Variable).boxed(),
        false => {
            prop_oneof![3 => Just(Source::Const), 4 => Just(Source::Placeholder), 1 => Just(Source::Variable)].boxed()
        }
    };
    let dtype = match dtype {
        Some(d) => prop_oneof![12 => Just(d), 1 => self::dtype()].boxed(),
        None => self::dtype().boxed(),
    };
    (source, dtype, dims, any::<u8>(), prop::collection::vec(any::<u8>(), 0..=6)).prop_map(
        |(source, dtype, dims, shape_draw, draws)| {
            let declared = match shape_draw % 8 {
                0..=3 => Declared::Known,
                4..=6 => Declared::Partial((0..dims.len()).map(|i| (shape_draw >> (i + 1)) & 1 == 1).collect()),
                _ => Declared::UnknownRank,
            };
            Input { source, dtype, dims, declared, draws }
        },
    )
}

/// Inputs following one of the op's probed signatures, or, now and then, any inputs at all.
fn inputs(op: &'static str) -> BoxedStrategy<Vec<Input>> {
    let common = || (prop::collection::vec(dim(), 0..=4), prop::bool::weighted(0.3));
    let any_inputs = (prop_oneof![12 => 0usize..=4, 1 => 5usize..=MAX_INPUTS], common())
        .prop_flat_map(|(n, (common, tight))| prop::collection::vec(input(None, false, dims(common, tight)), n))
        .boxed();
    let known = signatures().get(op).cloned().unwrap_or_default();
    if known.is_empty() {
        return any_inputs;
    }
    let following = (prop::sample::select(known), common())
        .prop_flat_map(|(sig, (common, tight))| {
            let each: Vec<_> = sig
                .dtypes
                .iter()
                .enumerate()
                .map(|(i, &d)| input(Some(d), i < sig.refs, dims(common.clone(), tight)))
                .collect();
            each
        })
        .boxed();
    prop_oneof![5 => following, 1 => any_inputs].boxed()
}

fn attr_draw() -> impl Strategy<Value = AttrDraw> {
    prop_oneof![
        2 => Just(AttrDraw::Omit),
        6 => any::<u8>().prop_map(AttrDraw::Valid),
        1 => any::<u8>().prop_map(AttrDraw::Invalid),
    ]
}

/// The op types to fuzz: all of them, or those `STEPFLOW_FUZZ_OPS` lists (comma-separated), to
/// soak a few ops.
fn op_types() -> Vec<&'static str> {
    let Ok(only) = std::env::var("STEPFLOW_FUZZ_OPS") else { return OP_TYPES.to_vec() };
    let only: Vec<&str> = only.split(',').map(str::trim).collect();
    let chosen: Vec<&'static str> = OP_TYPES.iter().copied().filter(|op| only.contains(op)).collect();
    assert!(!chosen.is_empty(), "STEPFLOW_FUZZ_OPS names no registered op: {only:?}");
    chosen
}

/// Cases over every op type (or those of `STEPFLOW_FUZZ_OPS`).
pub fn case() -> impl Strategy<Value = Case> {
    prop::sample::select(op_types()).prop_flat_map(|op| {
        (
            Just(op),
            inputs(op),
            prop::collection::vec(attr_draw(), 6),
            prop::bool::weighted(0.03),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(op, inputs, attrs, unknown_attr, serial, grad)| Case {
                op,
                inputs,
                attrs,
                unknown_attr,
                serial,
                grad,
            })
    })
}

impl Input {
    /// The value this input holds or is fed.
    pub fn value(&self) -> Tensor {
        values::tensor(self.dtype, &self.dims, &self.draws)
    }

    fn declared_shape(&self) -> Value {
        match &self.declared {
            Declared::Known => json!(self.dims),
            Declared::Partial(unknown) => Value::Array(
                self.dims.iter().zip(unknown).map(|(&d, &u)| if u { Value::Null } else { json!(d) }).collect(),
            ),
            Declared::UnknownRank => Value::Null,
        }
    }
}

impl Case {
    /// The name of input `i`'s node.
    pub fn input_name(i: usize) -> String {
        format!("in{i}")
    }

    /// The fuzzed node's attributes: each of the op's own drawn valid, invalid or left out.
    pub fn attrs(&self) -> Value {
        let mut map = serde_json::Map::new();
        for (a, draw) in op_attributes(self.op).unwrap_or(&[]).iter().zip(&self.attrs) {
            let kind: String = a.kind.chars().filter(|c| !c.is_whitespace()).collect();
            let v = match *draw {
                AttrDraw::Omit => continue,
                AttrDraw::Valid(d) => values::valid_attr(&kind, d).unwrap_or(Value::Null),
                AttrDraw::Invalid(d) => values::invalid_attr(d),
            };
            map.insert(a.name.to_string(), v);
        }
        if self.unknown_attr {
            map.insert("not_an_attribute".into(), json!(1));
        }
        Value::Object(map)
    }

    /// The case as a graph file.
    pub fn document(&self) -> Value {
        self.document_as(false)
    }

    /// The case as a graph file with every input a constant of the value it would hold or be
    /// fed: shape inference then sees what the run would.
    pub fn constant_document(&self) -> Value {
        self.document_as(true)
    }

    fn document_as(&self, constants: bool) -> Value {
        let mut nodes = Vec::new();
        let mut variables = Vec::new();
        for (i, input) in self.inputs.iter().enumerate() {
            let name = Self::input_name(i);
            let dtype = input.dtype.name();
            let source = if constants { Source::Const } else { input.source };
            match source {
                Source::Const => nodes.push(json!({"name": name, "op": "Const", "attrs": {"value": input.value()}})),
                Source::Placeholder => nodes.push(json!({"name": name, "op": "Placeholder",
                    "attrs": {"dtype": dtype, "shape": input.declared_shape()}})),
                Source::Variable => {
                    let (value, init) = (format!("{name}/value"), format!("{name}/init"));
                    nodes.push(
                        json!({"name": name, "op": "VariableV2", "attrs": {"dtype": dtype, "shape": input.dims}}),
                    );
                    nodes.push(json!({"name": value, "op": "Const", "attrs": {"value": input.value()}}));
                    nodes.push(json!({"name": init, "op": "Assign", "inputs": [name, value]}));
                    variables.push(json!({"name": name, "initializer": init}));
                }
            }
        }
        let inputs: Vec<String> = (0..self.inputs.len()).map(Self::input_name).collect();
        nodes.push(json!({"name": NODE, "op": self.op, "inputs": inputs, "attrs": self.attrs()}));
        json!({"format": "stepflow.graph", "version": 1, "nodes": nodes, "variables": variables})
    }

    /// The placeholders' names and fed values.
    pub fn feeds(&self) -> Vec<(String, Tensor)> {
        let placeholders = self.inputs.iter().enumerate().filter(|(_, x)| matches!(x.source, Source::Placeholder));
        placeholders.map(|(i, x)| (Self::input_name(i), x.value())).collect()
    }
}
