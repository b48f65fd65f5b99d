//! `stepflow dot`: the graph in Graphviz DOT (data edges labelled with dtype and shape, control
//! edges dashed), drawn with petgraph's DOT writer.

use clap::Args;
use petgraph::dot::{Config, Dot};
use std::path::PathBuf;
use stepflow::Result;
use stepflow::graph::Edge;

#[derive(Args)]
pub struct DotArgs {
    /// The graph file.
    graph: PathBuf,
}

pub fn dot(a: DotArgs) -> Result<()> {
    let g = stepflow::fit::load_graph(&a.graph)?;
    let dag = g.dag();
    let edge_attrs = |_: &_, e: petgraph::graph::EdgeReference<'_, Edge>| {
        use petgraph::visit::EdgeRef;
        match *e.weight() {
            Edge::Control => "style=dashed".to_string(),
            Edge::Data { slot, .. } => {
                let spec = &dag[e.source()].outputs()[slot as usize];
                format!("label=\"{} {}\"", spec.dtype, spec.shape)
            }
        }
    };
    let node_attrs = |_: &_, (_, n): (petgraph::graph::NodeIndex, &stepflow::Node)| {
        format!("label=\"{}\\n{}\" shape=box", n.name(), n.op().op_type())
    };
    let d = Dot::with_attr_getters(dag, &[Config::EdgeNoLabel, Config::NodeNoLabel], &edge_attrs, &node_attrs);
    println!("{d:?}");
    Ok(())
}
