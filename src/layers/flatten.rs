//! `tf.layers.flatten`: every axis after the first folded into one.

use super::{feature_dims, in_layer_scope};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};

/// Reshapes `[batch, d1, d2, ...]` to `[batch, d1·d2·...]` (`tf.layers.flatten`), the batch
/// size left to the run. The non-batch axes must be known.
///
/// ```
/// use stepflow::layers::Flatten;
/// use stepflow::{DType, Graph, Shape};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2), Some(2), Some(3)]))?;
/// let flat = Flatten::default().apply(&mut g, x)?;
/// assert_eq!(g.spec(flat).shape, Shape::partial(&[None, Some(12)]));
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    /// The name scope; `None` for `flatten` made unique.
    pub name: Option<String>,
}

impl Flatten {
    /// Adds the reshape on `x`.
    pub fn apply(&self, g: &mut Graph, x: Output) -> Result<Output> {
        in_layer_scope(g, self.name.as_deref(), "flatten", |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let rank = g.try_spec(x)?.shape.rank().unwrap_or(0).max(2);
        let dims = feature_dims(g, x, "flatten", rank)?;
        let n = dims.iter().try_fold(1i64, |n, &d| n.checked_mul(i64::try_from(d).ok()?));
        let n = n.ok_or_else(|| Error::argument("flatten", g.node(x.node).name(), "has too many features"))?;
        g.reshape(x, &[-1, n])
    }
}
