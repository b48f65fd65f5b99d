//! Errors as values: one [`Error`] enum whose variants carry the node, the op and what was expected.
//!
//! Kernels and shape inference return the node-free [`OpError`]; the graph builder and the session
//! wrap it with the node's name and op type ([`Error::Node`]), so every message a user sees says
//! where the problem is, as TensorFlow's do.

use crate::shape::Shape;
use crate::tensor::DType;
use thiserror::Error as ThisError;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong inside one op (shape inference, a kernel, a gradient), before the node is known.
#[derive(Debug, Clone, PartialEq, ThisError)]
pub enum OpError {
    /// An input had the wrong dtype.
    #[error("input {input} must be {expected}, got {got}")]
    DType { input: usize, expected: String, got: DType },
    /// Two shapes that must agree (or broadcast) do not.
    #[error("incompatible shapes {lhs} and {rhs}")]
    ShapeMismatch { lhs: Shape, rhs: Shape },
    /// The op received the wrong number of inputs.
    #[error("expects {expected} inputs, got {got}")]
    Arity { expected: String, got: usize },
    /// Any other invalid argument, described in words.
    #[error("{0}")]
    Invalid(String),
}

/// Shorthand for results of op-level code.
pub type OpResult<T> = std::result::Result<T, OpError>;

/// Every error stepflow returns.
#[derive(Debug, ThisError)]
pub enum Error {
    /// An op rejected its inputs or attributes, at wiring time or at run time.
    #[error("node '{node}' ({op}): {source}")]
    Node { node: String, op: String, source: OpError },
    /// A name that no node in the graph has.
    #[error("no node named '{name}' in the graph")]
    UnknownNode { name: String },
    /// A tensor name whose output slot does not exist (`node:3` on a one-output node).
    #[error("node '{node}' has {outputs} output(s); '{name}' names slot {slot}")]
    UnknownOutput { name: String, node: String, slot: usize, outputs: usize },
    /// An op type (or graph function) that stepflow does not know.
    #[error("node '{node}': unknown op '{op}'")]
    UnknownOp { node: String, op: String },
    /// A node name given explicitly that is already taken.
    #[error("duplicate node name '{name}'")]
    DuplicateName { name: String },
    /// A placeholder that the fetches need was not fed and has no default.
    #[error("you must feed a value for placeholder '{node}' with dtype {dtype} and shape {shape}")]
    MissingFeed { node: String, dtype: DType, shape: Shape },
    /// A fed value does not match the fed tensor's dtype or shape.
    #[error(
        "cannot feed a value of dtype {got_dtype} and shape {got_shape} to '{node}', which has dtype {dtype} and shape {shape}"
    )]
    FeedMismatch { node: String, dtype: DType, shape: Shape, got_dtype: DType, got_shape: Shape },
    /// A fetched tensor is dead: it depends on the untaken side of a TF1 `Switch` (as TF's
    /// "Retval does not have value").
    #[error("cannot fetch '{tensor}': node '{node}' ({op}) did not run, it depends on the untaken side of a Switch")]
    DeadFetch { tensor: String, node: String, op: String },
    /// A variable was read or updated before it was initialized.
    #[error("attempting to use uninitialized variable '{node}'; run its initializer first")]
    UninitializedVariable { node: String },
    /// A gradient was requested through an op that has none.
    #[error("no gradient defined for op {op} (node '{node}')")]
    NoGradient { node: String, op: String },
    /// A gradient was requested through an op that forbids one (`PreventGradient`), with the
    /// reason the graph gives (TF's "Gradient explicitly disabled").
    #[error("gradient explicitly disabled at node '{node}' ({op}); reason: {message}")]
    GradientDisabled { node: String, op: String, message: String },
    /// The graph (or a plan over it) has a cycle, or an ordering of variable reads and writes
    /// that cannot be satisfied.
    #[error("cycle in the graph at node '{node}'")]
    Cycle { node: String },
    /// An argument of a builder function (a schedule, an optimizer, ...) is invalid.
    #[error("{function}: argument '{argument}' {message}")]
    Argument { function: String, argument: String, message: String },
    /// A graph file, checkpoint or config could not be parsed or does not describe a valid object.
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    /// A value was invalid outside any node (making a tensor from data of the wrong length).
    #[error("{0}")]
    Value(#[from] OpError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl Error {
    /// Wraps an [`OpError`] with the node it happened at.
    pub fn at(node: &str, op: &str, source: OpError) -> Self {
        Error::Node { node: node.to_string(), op: op.to_string(), source }
    }

    /// An [`Error::Argument`] for builder functions.
    pub fn argument(function: &str, argument: &str, message: impl Into<String>) -> Self {
        Error::Argument { function: function.into(), argument: argument.into(), message: message.into() }
    }

    /// An [`Error::Format`] for files and configs.
    pub fn format(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Format { file: file.into(), message: message.into() }
    }

    /// An [`Error::Io`] naming the path.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }
}

/// Builds an [`OpError::Invalid`] from a format string.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => { $crate::error::OpError::Invalid(format!($($arg)*)) };
}
