//! # stepflow
//!
//! A TensorFlow-1-style static graph executor: build a dataflow graph of typed tensors
//! (placeholders, variables, constants, ops), then run fetches and targets in a [`Session`] with
//! a feed dict. Learning-rate schedules, `global_step`, gradients and optimizer updates are graph
//! ops like any other.
//!
//! ## Glossary (TF1 words, stepflow types)
//! - **graph** — [`Graph`]: nodes with unique slash-scoped names, data and control edges. The
//!   builder methods (`g.matmul(a, b)`, `g.variable(...)`) are the only way to add nodes; each
//!   checks dtypes and shapes when the node is wired.
//! - **tensor (symbolic)** — [`Output`]: a handle to one output of a node (`node:1`).
//! - **tensor (value)** — [`Tensor`]: a typed n-dimensional value ([`DType`]: f32, f64, i32, i64,
//!   bool).
//! - **op** — [`ops::Op`]: shape inference, kernel and gradient of one op type, named as in TF
//!   (`MatMul`, `AddV2`, `AssignAdd`).
//! - **placeholder / feed** — a value supplied at each run; any tensor can be fed.
//! - **variable** — state held by the session, initialized by running its initializer.
//! - **fetch / target** — what `run` returns / what it runs for effect.
//! - **gradients** — [`grad::gradients`], reverse mode as graph nodes.
//! - **summary / event file** — [`summary::FileWriter`]: scalars, histograms and the graph in the
//!   files TensorBoard reads (`tf.summary.FileWriter`).
//!
//! ```
//! use stepflow::{DType, Graph, Initializer, Session, Shape, Tensor};
//! let mut g = Graph::new();
//! let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)]))?;
//! let w = g.variable("w", DType::Float32, &[2, 1], Initializer::Constant(0.5))?;
//! let y = g.matmul(x, w)?;
//! let init = g.global_variables_initializer()?;
//! let sess = Session::new(g);
//! sess.run(&[], &[], &[init])?;
//! let out = sess.run(&[(x, Tensor::from_vec(&[1, 2], vec![2.0f32, 4.0])?)], &[y], &[])?;
//! assert_eq!(out[0].to_f64_vec(), vec![3.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod conformance;
pub mod data;
pub mod error;
pub mod fit;
pub mod grad;
pub mod graph;
pub mod io;
pub mod layers;
pub mod ops;
pub mod plot;
pub mod session;
pub mod shape;
pub mod summary;
pub mod tensor;
pub mod train;
pub mod variables;

/// The README's examples, compiled and run as tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use error::{Error, OpError, Result};
pub use graph::{Graph, Initializer, Node, NodeId, NodeName, Output, VariableInfo};
pub use session::{
    Callable, Executor, NodeStats, OpTotal, PlanInfo, Profile, RunMetadata, RunOptions, Session, SessionOptions,
};
pub use shape::Shape;
pub use tensor::{DType, Tensor};
