//! The plain structs a TensorFlow graph decodes into: nodes with generic attribute values,
//! graph functions, and TF's element types, with no protobuf types in sight.

use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use std::collections::BTreeMap;
use std::fmt;

/// A TensorFlow GraphDef: its nodes in file order, its function library and its version.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfGraph {
    /// The nodes, in the order the file lists them (which need not be a topological order).
    pub nodes: Vec<TfNode>,
    /// The graph functions that `If`, `While`, `PartitionedCall` and friends name.
    pub functions: Vec<TfFunction>,
    /// Gradient functions registered for graph functions: function name to gradient name.
    pub gradients: BTreeMap<String, String>,
    /// The GraphDef version of the TensorFlow that wrote the graph (`versions.producer`).
    pub producer: i32,
    /// The oldest GraphDef version that may read the graph (`versions.min_consumer`).
    pub min_consumer: i32,
}

/// One node of a graph or of a function body. Its device is not kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfNode {
    /// The unique, slash-scoped name (`dense/kernel/Assign`).
    pub name: String,
    /// The op type (`MatMul`) or the name of a graph function.
    pub op: String,
    /// Inputs as TensorFlow writes them: `"x"` (output 0), `"x:1"`, and control inputs `"^x"`,
    /// which come last. Inside a function body, `"node:out:0"` names a node's output argument.
    pub inputs: Vec<String>,
    /// Attributes by name.
    pub attrs: BTreeMap<String, AttrValue>,
}

impl TfNode {
    /// The attribute `name`, if the node has it.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.get(name)
    }

    /// The data inputs (those not starting with `^`).
    pub fn data_inputs(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(String::as_str).filter(|i| !i.starts_with('^'))
    }

    /// The names of the nodes this node has control dependencies on (`^x` gives `x`).
    pub fn control_inputs(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().filter_map(|i| i.strip_prefix('^'))
    }
}

/// A TensorFlow element type: one of stepflow's [`DType`]s, or another type kept by TF's name
/// (`DT_HALF`, `DT_RESOURCE`, `DT_FLOAT_REF`, ...) so that the importer can reject
/// it at the node that uses it. A number TF's schema does not name is kept as its digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TfType {
    /// A type stepflow has.
    Known(DType),
    /// Any other type, by TensorFlow's enum name.
    Other(String),
}

impl TfType {
    /// The stepflow dtype, if this is one.
    pub fn dtype(&self) -> Option<DType> {
        match self {
            TfType::Known(d) => Some(*d),
            TfType::Other(_) => None,
        }
    }

    /// TensorFlow's name of the type (`DT_FLOAT`).
    pub fn name(&self) -> &str {
        match self {
            TfType::Known(DType::Float32) => "DT_FLOAT",
            TfType::Known(DType::Float64) => "DT_DOUBLE",
            TfType::Known(DType::Int32) => "DT_INT32",
            TfType::Known(DType::Int64) => "DT_INT64",
            TfType::Known(DType::Bool) => "DT_BOOL",
            TfType::Known(DType::String) => "DT_STRING",
            TfType::Other(name) => name,
        }
    }
}

impl From<DType> for TfType {
    fn from(d: DType) -> Self {
        TfType::Known(d)
    }
}

impl fmt::Display for TfType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value of a node attribute, by TensorFlow's attribute kinds.
#[derive(Clone, Debug)]
pub enum AttrValue {
    /// `string`: bytes, usually UTF-8.
    Str(Vec<u8>),
    /// `int`.
    Int(i64),
    /// `float`: TensorFlow stores a float32; it is widened exactly.
    Float(f64),
    /// `bool`.
    Bool(bool),
    /// `type`.
    Type(TfType),
    /// `shape`: unknown rank, or dimensions of which TF's -1 is unknown (`None`).
    Shape(Shape),
    /// `tensor`.
    Tensor(TfTensor),
    /// `func`: a function name with attribute values (the branches of `If`, the body of `While`).
    Func(TfFunc),
    /// `list(...)`.
    List(AttrList),
    /// Inside a function body: the value is the function's attribute of this name.
    Placeholder(String),
}

/// The value of a `list(...)` attribute. TensorFlow allows one kind of element per list; an
/// empty list (`list {}`) has no kind.
#[derive(Clone, Debug)]
pub enum AttrList {
    /// `list {}`.
    Empty,
    /// `list(string)`.
    Str(Vec<Vec<u8>>),
    /// `list(int)`.
    Int(Vec<i64>),
    /// `list(float)`, widened from float32.
    Float(Vec<f64>),
    /// `list(bool)`.
    Bool(Vec<bool>),
    /// `list(type)`.
    Type(Vec<TfType>),
    /// `list(shape)`.
    Shape(Vec<Shape>),
    /// `list(tensor)`.
    Tensor(Vec<TfTensor>),
    /// `list(func)`.
    Func(Vec<TfFunc>),
}

/// A function (or op) name with attribute values: TensorFlow's `NameAttrList`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfFunc {
    /// The function's (or op's) name.
    pub name: String,
    /// The attribute values it is instantiated with.
    pub attrs: BTreeMap<String, AttrValue>,
}

/// A constant tensor of a graph (a `Const` node's `value`).
#[derive(Clone, Debug)]
pub enum TfTensor {
    /// A tensor of one of stepflow's dtypes, with TensorFlow's fill rule applied.
    Value(Tensor),
    /// A tensor of another dtype, kept as TensorFlow wrote it so that it can be written back.
    Other(OtherTensor),
}

impl TfTensor {
    /// The element type.
    pub fn dtype(&self) -> TfType {
        match self {
            TfTensor::Value(t) => TfType::Known(t.dtype()),
            TfTensor::Other(o) => o.dtype.clone(),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            TfTensor::Value(t) => t.shape(),
            TfTensor::Other(o) => &o.shape,
        }
    }
}

/// A tensor of a dtype stepflow does not have (`DT_HALF`, `DT_RESOURCE`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct OtherTensor {
    pub(super) dtype: TfType,
    pub(super) shape: Vec<usize>,
    /// The TensorProto as it was encoded, so that writing the graph back loses nothing.
    pub(super) encoded: Vec<u8>,
}

impl OtherTensor {
    /// The element type.
    pub fn dtype(&self) -> &TfType {
        &self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

/// A graph function: TensorFlow's `FunctionDef`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TfFunction {
    /// The name nodes call it by (their `op`, or a `func` attribute's name).
    pub name: String,
    /// The input arguments, in call order.
    pub inputs: Vec<TfArg>,
    /// The output arguments, in the order callers number them.
    pub outputs: Vec<TfArg>,
    /// Names of the body nodes that must run for their effects (keys of `control_ret`).
    pub control_outputs: Vec<String>,
    /// Whether the function has side effects (it must not be pruned or deduplicated).
    pub is_stateful: bool,
    /// Attributes of the function itself (`_input_shapes`, `_noinline`, ...).
    pub attrs: BTreeMap<String, AttrValue>,
    /// Attributes of input arguments, by argument index (`_output_shapes`, ...).
    pub arg_attrs: BTreeMap<u32, BTreeMap<String, AttrValue>>,
    /// The body.
    pub nodes: Vec<TfNode>,
    /// Output argument name to the body tensor it returns (`"add:z:0"`).
    pub ret: BTreeMap<String, String>,
    /// Control output name to the body node it waits for.
    pub control_ret: BTreeMap<String, String>,
}

/// An input or output argument of a function.
#[derive(Clone, Debug, PartialEq)]
pub struct TfArg {
    /// The argument's name (body nodes read inputs by it; `ret` maps outputs by it).
    pub name: String,
    /// Its element type.
    pub dtype: TfArgType,
    /// The attribute that says how many tensors a repeated argument holds.
    pub number_attr: Option<String>,
    /// Whether the argument is a reference (old-style variables).
    pub is_ref: bool,
}

/// The element type of an argument: fixed, or given by a function attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum TfArgType {
    /// A fixed type.
    Type(TfType),
    /// The `type` attribute of this name.
    Attr(String),
    /// The `list(type)` attribute of this name (one type per tensor).
    ListAttr(String),
}

impl PartialEq for AttrValue {
    fn eq(&self, other: &Self) -> bool {
        use AttrValue::*;
        match (self, other) {
            (Str(a), Str(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Type(a), Type(b)) => a == b,
            (Shape(a), Shape(b)) => a == b,
            (Tensor(a), Tensor(b)) => a == b,
            (Func(a), Func(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Placeholder(a), Placeholder(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for AttrList {
    fn eq(&self, other: &Self) -> bool {
        use AttrList::*;
        let bits =
            |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        match (self, other) {
            (Empty, Empty) => true,
            (Str(a), Str(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => bits(a, b),
            (Bool(a), Bool(b)) => a == b,
            (Type(a), Type(b)) => a == b,
            (Shape(a), Shape(b)) => a == b,
            (Tensor(a), Tensor(b)) => a == b,
            (Func(a), Func(b)) => a == b,
            _ => false,
        }
    }
}

/// Tensors are equal when dtype, shape and every bit agree (a NaN equals the same NaN).
impl PartialEq for TfTensor {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TfTensor::Value(a), TfTensor::Value(b)) => a.bit_eq(b),
            (TfTensor::Other(a), TfTensor::Other(b)) => a == b,
            _ => false,
        }
    }
}
