//! `tf.layers.max_pooling2d` and `tf.layers.average_pooling2d`, NHWC.

use super::{Padding, in_layer_scope};
use crate::error::Result;
use crate::graph::{Graph, Output};

/// Which pooling a [`Pooling2D`] layer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// `MaxPool`: the largest value of each window.
    Max,
    /// `AvgPool`: the mean of each window's values inside the input.
    Average,
}

/// A 2-D pooling layer (`tf.layers.max_pooling2d(inputs, pool_size, strides, padding)` and
/// `average_pooling2d`): one `MaxPool` or `AvgPool` under `max_pooling2d/` or
/// `average_pooling2d/`.
///
/// ```
/// use stepflow::layers::Pooling2D;
/// use stepflow::{DType, Graph, Shape};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(8), Some(8), Some(4)]))?;
/// let y = Pooling2D::max([2, 2], [2, 2]).apply(&mut g, x)?;
/// assert_eq!(g.spec(y).shape, Shape::partial(&[None, Some(4), Some(4), Some(4)]));
/// assert_eq!(g.node(y.node).name(), "max_pooling2d/MaxPool");
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pooling2D {
    pub kind: PoolKind,
    pub pool_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    /// The name scope; `None` for `max_pooling2d` or `average_pooling2d` made unique.
    pub name: Option<String>,
}

impl Pooling2D {
    /// Max pooling, VALID (TF's default).
    pub fn max(pool_size: [usize; 2], strides: [usize; 2]) -> Pooling2D {
        Pooling2D { kind: PoolKind::Max, pool_size, strides, padding: Padding::Valid, name: None }
    }

    /// Average pooling, VALID (TF's default).
    pub fn average(pool_size: [usize; 2], strides: [usize; 2]) -> Pooling2D {
        Pooling2D { kind: PoolKind::Average, ..Pooling2D::max(pool_size, strides) }
    }

    /// Adds the layer on `x`.
    pub fn apply(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let default = match self.kind {
            PoolKind::Max => "max_pooling2d",
            PoolKind::Average => "average_pooling2d",
        };
        in_layer_scope(g, self.name.as_deref(), default, |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        match self.kind {
            PoolKind::Max => g.max_pool(x, self.pool_size, self.strides, self.padding.into()),
            PoolKind::Average => g.avg_pool(x, self.pool_size, self.strides, self.padding.into()),
        }
    }
}
