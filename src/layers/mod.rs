//! Layers as `tf.layers` (TF1's `tf.compat.v1.layers`) builds them: the same variables under the
//! same names (`dense/kernel`, `conv2d/bias`, `batch_normalization/moving_mean`), the same
//! initializers (Glorot-uniform kernels, zero biases), and the same ops.
//!
//! Each layer is a small struct with TF's arguments as fields and `Default`s as TF's, applied to
//! an input with `apply`:
//!
//! ```
//! use stepflow::layers::{Activation, Dense, Flatten};
//! use stepflow::{DType, Graph, Shape};
//! let mut g = Graph::new();
//! let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(4), Some(4)]))?;
//! let flat = Flatten::default().apply(&mut g, x)?;
//! let h = Dense { activation: Activation::Relu, ..Dense::new(8) }.apply(&mut g, flat)?;
//! let logits = Dense::new(3).apply(&mut g, h)?;
//! assert_eq!(g.node(logits.node).name(), "dense_1/BiasAdd");
//! assert!(g.output("dense/kernel").is_ok() && g.output("dense_1/bias").is_ok());
//! # Ok::<(), stepflow::Error>(())
//! ```
//!
//! A layer's `name` is its variable scope, made unique as TF does (`dense`, `dense_1`); `None`
//! takes the layer's default name. Layers with a training behaviour (batch normalization,
//! dropout) take a [`Training`]: a fixed mode, or a bool tensor such as a
//! `PlaceholderWithDefault(false)` fed `true` by the training loop.
//!
//! Graph files reach the same layers through graph functions of the same names (`dense`,
//! `conv2d`, `max_pooling2d`, `average_pooling2d`, `flatten`, `batch_normalization`, `dropout`;
//! see [`crate::io`]).

mod batch_norm;
mod conv;
mod dense;
mod dropout;
mod flatten;
mod pooling;

pub use batch_norm::BatchNormalization;
pub use conv::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use pooling::{PoolKind, Pooling2D};

use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, Output};
use serde::Deserialize;

/// The activation a layer applies to its output, as the `activation=` argument of `tf.layers`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// No activation (`activation=None`).
    #[default]
    Linear,
    /// `tf.nn.relu`.
    Relu,
    /// `tf.nn.relu6`.
    Relu6,
    /// `tf.nn.elu`.
    Elu,
    /// `tf.nn.tanh`.
    Tanh,
    /// `tf.nn.sigmoid`.
    Sigmoid,
}

impl Activation {
    /// Applies the activation to `x` (the identity for [`Activation::Linear`]).
    pub fn apply(self, g: &mut Graph, x: Output) -> Result<Output> {
        match self {
            Activation::Linear => Ok(x),
            Activation::Relu => g.relu(x),
            Activation::Relu6 => g.relu6(x),
            Activation::Elu => g.elu(x),
            Activation::Tanh => g.tanh(x),
            Activation::Sigmoid => g.sigmoid(x),
        }
    }
}

/// How a window layer pads, as the `padding=` argument of `tf.layers` (`"valid"`, `"same"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// Only windows inside the input.
    #[default]
    Valid,
    /// Zeros around the input so the output is `ceil(input / stride)`.
    Same,
}

impl From<Padding> for crate::ops::conv::Padding {
    fn from(p: Padding) -> Self {
        match p {
            Padding::Valid => crate::ops::conv::Padding::Valid,
            Padding::Same => crate::ops::conv::Padding::Same,
        }
    }
}

/// Whether a layer runs in training mode: fixed when the graph is built (a Python bool in TF),
/// or chosen at run time by a bool scalar tensor (TF's `training=` tensor, built as a `cond`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Training {
    /// Always in training mode.
    Yes,
    /// Never in training mode.
    No,
    /// In training mode when this bool scalar is true.
    Flag(Output),
}

/// The Glorot-uniform initializer a layer gives its kernel when none is asked for, seeded by
/// the kernel's full name: reproducible, and different for every layer.
pub(crate) fn default_kernel_initializer(g: &Graph, kernel: &str) -> Initializer {
    let scope = g.scopes.last().map_or(String::new(), |s| format!("{s}/"));
    Initializer::GlorotUniform { seed: name_seed(&format!("{scope}{kernel}")) }
}

/// A stable seed from a name (FNV-1a, kept to 31 bits so that TF's int seed attribute holds
/// it when the graph is exported).
pub(crate) fn name_seed(name: &str) -> u64 {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (h ^ (h >> 31)) & 0x7fff_ffff
}

/// Runs `f` under the layer's variable scope: `name` when given, else `default`, made unique.
pub(crate) fn in_layer_scope<R>(
    g: &mut Graph,
    name: Option<&str>,
    default: &str,
    f: impl FnOnce(&mut Graph) -> Result<R>,
) -> Result<R> {
    g.with_name_scope(name.unwrap_or(default), f)
}

/// The static size of each of `x`'s axes after the first, which a layer needs to size its
/// variables.
pub(crate) fn feature_dims(g: &Graph, x: Output, layer: &str, rank: usize) -> Result<Vec<usize>> {
    let spec = g.try_spec(x)?;
    let bad = |what: String| Error::argument(layer, g.node(x.node).name(), what);
    let dims = spec.shape.dims().ok_or_else(|| bad(format!("needs an input of rank {rank}, got an unknown rank")))?;
    if dims.len() != rank {
        return Err(bad(format!("needs an input of rank {rank}, got shape {}", spec.shape)));
    }
    dims[1..]
        .iter()
        .map(|d| d.ok_or_else(|| bad(format!("needs the non-batch axes of its input known, got shape {}", spec.shape))))
        .collect()
}
