//! Graph collections: named lists of nodes that builders add to and others read, as TF1's
//! `tf.add_to_collection` / `tf.get_collection`. Batch normalization puts its moving-average
//! updates in [`UPDATE_OPS`], and `minimize` can run them with every step; summary ops go in
//! [`SUMMARIES`], which `merge_all_summaries` merges.

use super::{Graph, NodeId};
use crate::error::Result;

/// The collection of updates a training step should also run (`tf.GraphKeys.UPDATE_OPS`): the
/// moving averages of batch normalization.
pub const UPDATE_OPS: &str = "update_ops";

/// The collection of summary ops (`tf.GraphKeys.SUMMARIES`), which
/// [`merge_all_summaries`](Graph::merge_all_summaries) merges.
pub const SUMMARIES: &str = "summaries";

impl Graph {
    /// Appends `node` to the collection `key` (`tf.add_to_collection`).
    ///
    /// ```
    /// use stepflow::graph::UPDATE_OPS;
    /// use stepflow::Graph;
    /// let mut g = Graph::new();
    /// let update = g.no_op()?;
    /// g.add_to_collection(UPDATE_OPS, update)?;
    /// assert_eq!(g.collection(UPDATE_OPS), &[update]);
    /// assert!(g.collection("summaries").is_empty());
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn add_to_collection(&mut self, key: &str, node: NodeId) -> Result<()> {
        self.check_node(node)?;
        self.collections.entry(key.to_string()).or_default().push(node);
        Ok(())
    }

    /// The nodes of the collection `key`, in the order they were added (`tf.get_collection`).
    pub fn collection(&self, key: &str) -> &[NodeId] {
        self.collections.get(key).map_or(&[], Vec::as_slice)
    }
}
