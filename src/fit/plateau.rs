//! The plateau rule of a training run: TF-style `ReduceLROnPlateau` run by the loop (a fed
//! rate), or a `reduce_lr_on_plateau` node of the graph updated once per epoch.

use super::config::PlateauSpec;
use super::lookup::float_scalar;
use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use crate::train::plateau::PlateauController;

/// The plateau rule, in the loop or in the graph.
pub(super) enum Plateau {
    Loop { feed: Output, controller: PlateauController, monitor: usize },
    Graph { update: NodeId, metric: Output, rate: Output, monitor: usize },
}

impl Plateau {
    /// The rule a config's `plateau` asks for, its tensors found in `graph`.
    pub(super) fn new(graph: &Graph, p: &PlateauSpec, eval_names: &[String]) -> Result<Plateau> {
        let monitor = eval_names.iter().position(|n| *n == p.monitor).unwrap_or(0);
        match (&p.feed, p.initial_learning_rate, &p.reducer, &p.metric) {
            (Some(feed), Some(lr), _, _) => Ok(Plateau::Loop {
                feed: float_scalar(graph, "plateau.feed", feed)?,
                controller: PlateauController::new(lr, p.rule.clone())?,
                monitor,
            }),
            (_, _, Some(reducer), Some(metric)) => {
                let not_a_reducer = |_| {
                    let msg = format!("'{reducer}' is not a reduce_lr_on_plateau node");
                    Error::argument("config", "plateau.reducer", msg)
                };
                Ok(Plateau::Graph {
                    update: graph.node_id(&format!("{reducer}/update")).map_err(not_a_reducer)?,
                    metric: float_scalar(graph, "plateau.metric", metric)?,
                    rate: float_scalar(graph, "plateau.reducer", reducer)?,
                    monitor,
                })
            }
            _ => Err(Error::argument("config", "plateau", "is incomplete")),
        }
    }
}
