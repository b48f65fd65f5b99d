//! The op contract and the one list of ops.
//!
//! An op is one `impl Op` holding, side by side, its shape inference (run when a node is wired),
//! its kernel (run by the session) and its gradient (built as graph nodes, so gradients can be
//! saved, inspected and differentiated again). [`OP_TYPES`] registers every op under its
//! TensorFlow op-type name, which is also its `"op"` in graph files.

pub(crate) mod elementwise;
mod kernel;
mod registry;
mod skeleton;

pub mod argmax;
pub mod array;
pub mod assert;
pub mod avg_pool;
pub mod batch_norm;
pub mod batch_norm_grad;
pub mod bias;
pub mod binary;
pub mod compare;
pub mod control;
pub mod conv;
pub mod conv2d;
pub mod conv_attrs;
pub mod depthwise;
pub mod fused_conv;
pub mod fused_grad;
pub mod fused_pool;
pub mod linalg;
pub mod loss;
pub mod nn;
pub mod nn_grad;
pub mod passthrough;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod resource;
pub mod state;
pub mod summary;
pub mod switch;
pub mod train;
pub mod unary;
pub mod xent;

pub use kernel::{Kernel, Outputs, one};
pub use registry::{OP_TYPES, op_attributes, op_from_json};
pub(crate) use skeleton::op;

use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::Output;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// The dtype and static shape of one output, as inferred when the node was wired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    pub dtype: DType,
    pub shape: Shape,
}

impl TensorSpec {
    /// A spec from a dtype and a shape.
    pub fn new(dtype: DType, shape: Shape) -> Self {
        TensorSpec { dtype, shape }
    }
}

/// What shape inference sees of a node being wired: its inputs' specs and, where known at build
/// time, their values (constants, and what folds from them).
pub struct InferCx<'a> {
    pub(crate) inputs: &'a [TensorSpec],
    pub(crate) values: &'a [Option<Tensor>],
}

impl<'a> InferCx<'a> {
    /// The spec of input `i`.
    pub fn input(&self, i: usize) -> &'a TensorSpec {
        &self.inputs[i]
    }

    /// The build-time value of input `i`, if known.
    pub fn value(&self, i: usize) -> Option<&'a Tensor> {
        self.values[i].as_ref()
    }

    /// The number of inputs.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether the node has no inputs.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Fails unless the node has exactly `n` inputs.
    pub fn arity(&self, n: usize) -> OpResult<()> {
        if self.inputs.len() == n {
            Ok(())
        } else {
            Err(OpError::Arity { expected: n.to_string(), got: self.inputs.len() })
        }
    }

    /// Fails unless input `i` has one of the allowed dtypes.
    pub fn dtype_in(&self, i: usize, allowed: &[DType]) -> OpResult<DType> {
        let d = self.inputs[i].dtype;
        if allowed.contains(&d) {
            Ok(d)
        } else {
            let names: Vec<_> = allowed.iter().map(|d| d.name()).collect();
            Err(OpError::DType { input: i, expected: names.join(" or "), got: d })
        }
    }

    /// Fails unless inputs `i` and `j` share a dtype.
    pub fn same_dtype(&self, i: usize, j: usize) -> OpResult<DType> {
        let (a, b) = (self.inputs[i].dtype, self.inputs[j].dtype);
        if a == b { Ok(a) } else { Err(OpError::DType { input: j, expected: a.to_string(), got: b }) }
    }

    /// Fails unless input `i` is a scalar (or could be one).
    pub fn scalar(&self, i: usize, what: &str) -> OpResult<()> {
        match self.inputs[i].shape.rank() {
            Some(0) | None => Ok(()),
            Some(_) => Err(crate::invalid!("{what} must be a scalar, got shape {}", self.inputs[i].shape)),
        }
    }

    /// The build-time value of an integer input as i64s (axes, shapes, sizes), if known.
    pub fn ints(&self, i: usize) -> OpResult<Option<Vec<i64>>> {
        self.value(i).map(|t| t.to_i64_vec()).transpose()
    }
}

/// Float dtypes (f32, f64).
pub const FLOATS: &[DType] = &[DType::Float32, DType::Float64];
/// Numeric dtypes (everything but bool).
pub const NUMBERS: &[DType] = &[DType::Float32, DType::Float64, DType::Int32, DType::Int64];
/// Integer dtypes.
pub const INTS: &[DType] = &[DType::Int32, DType::Int64];

/// What a node does with the variable behind one of its reference inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reads the value when the node runs (`ReadVariableOp`).
    Read,
    /// Reads and writes it (`AssignAdd`, the `Apply*` updates): it must already hold a value.
    Update,
    /// Writes a new value without reading the old one (`Assign`): it may be uninitialized, and
    /// such a node can be the variable's initializer.
    Overwrite,
    /// Asks whether it holds a value, without reading it (`VarIsInitializedOp`): it may be
    /// uninitialized.
    Check,
}

impl Access {
    /// Whether the access changes the variable's value.
    pub fn writes(self) -> bool {
        matches!(self, Access::Update | Access::Overwrite)
    }
}

/// How an op touches anything beyond its inputs. The builder and the plan read this, never an
/// op's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// A function of its inputs alone: folded into a constant when its inputs are constants.
    Pure,
    /// Runs for its effect or must not be folded, but touches no variable (`NoOp`,
    /// `PlaceholderWithDefault`).
    Effect,
    /// Draws from a stream that moves on at every run (random ops): never folded; the kernel
    /// reads [`Kernel::invocation`].
    Random,
    /// Has no value unless fed (`Placeholder`): a run that needs it unfed is an error.
    Fed,
    /// Declares a variable (`VariableV2`): the graph registers it, the session holds its value,
    /// and running the node reads a snapshot.
    Variable,
    /// Reads or writes the variables that its leading inputs name, one [`Access`] per reference
    /// input (TF's `ref` inputs); no value flows along those edges.
    Variables(&'static [Access]),
}

impl State {
    /// The accesses of the leading reference inputs (empty unless [`State::Variables`]).
    pub fn refs(self) -> &'static [Access] {
        match self {
            State::Variables(a) => a,
            _ => &[],
        }
    }

    /// Whether the node may be folded into a constant at build time.
    pub fn is_pure(self) -> bool {
        self == State::Pure
    }
}

/// How an op takes part in TF1's dataflow control flow (`tf.cond` with v1 control flow), where
/// a value may be *dead*: the untaken output of a `Switch`. A node with a dead input or a dead
/// control input does not run and its outputs are dead in turn, except a `Merge`, which passes
/// on its first live input. Fetching a dead value is an error; a dead target simply does not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlFlow {
    /// Dead when any input is dead: every op but the two below.
    Propagate,
    /// May make some of its outputs dead ([`Kernel::kill_output`]): `Switch`. Never folded at
    /// build time, nor is anything downstream of it.
    Switch,
    /// Runs when at least one data input is live and sees the dead ones as absent
    /// ([`Kernel::is_live`]): `Merge`.
    Merge,
}

/// What a plan may do with a node of an op without running it (TF Grappler's dependency
/// optimizer): readers of a forwarding node read its input instead, and an ordering node's
/// consumers wait for its inputs directly. Either way every ordering the node gave is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elision {
    /// The node runs.
    Never,
    /// Output 0 is input 0, unchanged (`Identity`, `StopGradient`, `Snapshot`).
    Forward,
    /// Output 0 holds input 0's elements in the shape the other inputs give (`Reshape`,
    /// `ExpandDims`, `Squeeze`): the node forwards when that shape is input 0's own, fully known
    /// when the plan is built.
    Reshape,
    /// The node has no outputs and does nothing but order its inputs before its consumers
    /// (`NoOp`).
    Order,
}

/// A plan-time replacement of a node by a cheaper equivalent, given some of its inputs as
/// constants: the new op, and the inputs to replace by new constants.
pub struct Rewrite {
    pub op: std::sync::Arc<dyn Op>,
    pub constants: Vec<(usize, Tensor)>,
}

/// One attribute of an op: a field of its serde struct, as written by the [`op!`](crate::op)
/// skeleton.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The field's name, which is the attribute's key in a graph file's `attrs`.
    pub name: &'static str,
    /// The field's Rust type as written (`bool`, `DType`, `Shape`, `Vec<i64>`, `f32`, `Tensor`).
    pub kind: &'static str,
    /// TensorFlow's name for it (`DstT` for Cast's `dtype`); the field's name where they agree.
    pub tf_name: &'static str,
}

/// The TensorFlow op-type name of an op, written by the [`op!`](crate::op) skeleton.
pub trait OpType {
    /// The TensorFlow op-type name (`MatMul`, `AddV2`, `ApplyAdam`): the `"op"` of graph files.
    fn op_type(&self) -> &'static str;
}

/// A value as `Any`, for every op: an op recognises another by its type (a fusion takes in the
/// consumer it knows how to compute).
pub trait AsAny {
    /// `self` as `Any`.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: std::any::Any> AsAny for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The op contract. Every op is declared with the [`op!`](crate::op) skeleton (its attribute
/// struct, serde derives and op-type name), then implements this trait: shape inference, kernel
/// and gradient side by side, and how it touches state.
pub trait Op: OpType + OpAttrs + AsAny + Debug + Send + Sync + 'static {
    /// Checks the inputs' dtypes and static shapes when the node is wired and returns the spec of
    /// every output.
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>>;

    /// Runs the op on concrete inputs.
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs>;

    /// Builds the gradient with respect to each input as graph nodes (`None` where no gradient
    /// flows). The default says the op has no gradient, which is an error if a gradient path
    /// crosses it.
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Err(gx.no_gradient())
    }

    /// How the op touches state: variables, feeds, random streams. The default is a pure function.
    fn state(&self) -> State {
        State::Pure
    }

    /// How the op treats dead values (TF1's `Switch`/`Merge`); the default is a dead input makes
    /// a dead node.
    fn control_flow(&self) -> ControlFlow {
        ControlFlow::Propagate
    }

    /// Whether the plan may skip the node (see [`Elision`]); by default it runs.
    fn elision(&self) -> Elision {
        Elision::Never
    }

    /// Whether output 0 is input 0 unchanged, given the inputs' static specs and the values of
    /// those that are constants of the plan (a gather of every index in order): the plan then
    /// skips the node as a forwarding one. No by default.
    fn forwards(&self, _cx: &InferCx) -> bool {
        false
    }

    /// A cheaper equivalent the plan may run instead, given the inputs known as constants when the
    /// plan is built (`None` for the others).
    fn rewrite(&self, _constants: &[Option<&Tensor>]) -> Option<Rewrite> {
        None
    }

    /// The value of output 0 when it follows from the inputs' static specs alone (`Shape` of a
    /// fully known shape).
    fn static_value(&self, _cx: &InferCx) -> Option<Tensor> {
        None
    }

    /// Whether [`static_value`](Op::static_value) depends only on the inputs' static shapes (not
    /// their values): such a value stays valid when something upstream is fed, since a feed must
    /// match the static shape.
    fn value_from_shapes(&self) -> bool {
        false
    }

    /// An estimate of the work of one run, in element operations, from the static specs: the
    /// executor runs cheap nodes inline and gives expensive ones their own task.
    fn cost(&self, _inputs: &[TensorSpec], outputs: &[TensorSpec]) -> usize {
        outputs.iter().map(|o| o.shape.known_elements()).sum()
    }

    /// The library functions the op calls, once bound (`If`'s branches); none by default. The
    /// exporter writes them into the GraphDef's function library.
    fn functions(&self) -> Vec<std::sync::Arc<crate::graph::Function>> {
        Vec::new()
    }

    /// The op with the functions it names (its `func` attributes) taken from the graph's
    /// function library, when it names any (`If`'s branches); `None` when it names none. The
    /// loader calls this before wiring the node.
    fn bind(&self, _library: &crate::graph::Library) -> std::result::Result<Option<std::sync::Arc<dyn Op>>, String> {
        Ok(None)
    }

    /// The names of the op's output arguments in TensorFlow's op definition, in slot order, for
    /// an op with several (`SoftmaxCrossEntropyWithLogits`: `loss`, `backprop`): function
    /// bodies name outputs by argument. Empty for an op with one output argument.
    fn output_args(&self) -> &'static [&'static str] {
        &[]
    }

    /// The floating-point operations of one run on inputs and outputs of these shapes (a
    /// multiply-add counts two), for the ops whose speed is judged in GFLOP/s: matrix products
    /// and convolutions. `None` (the default) for the others. Only traced runs ask.
    fn flops(&self, _inputs: &[&[usize]], _outputs: &[&[usize]]) -> Option<f64> {
        None
    }

    /// One op computing this op and then `consumer`, which reads output 0 as its input 0 and
    /// nothing else of this op (TF Grappler's remapper): the plan runs it in place of the two,
    /// with this op's inputs followed by the consumer's other inputs. The fused op must give
    /// the values the two give, bit for bit. `None` (the default) when the op fuses nothing.
    fn fuse(&self, _consumer: &dyn Op) -> Option<std::sync::Arc<dyn Op>> {
        None
    }
}

/// The attributes of an op as JSON, implemented for every `Serialize` op.
pub trait OpAttrs {
    /// The attributes written to a graph file.
    fn attrs(&self) -> serde_json::Value;
}

impl<T: Serialize> OpAttrs for T {
    fn attrs(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Turns a list of specs into the `Ok` of [`Op::infer`] for a single-output op.
pub fn single(dtype: DType, shape: Shape) -> OpResult<Vec<TensorSpec>> {
    Ok(vec![TensorSpec::new(dtype, shape)])
}

/// Normalizes an axis in `[-rank, rank)` to `[0, rank)`.
pub fn normalize_axis(axis: i64, rank: usize) -> OpResult<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(crate::invalid!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}
