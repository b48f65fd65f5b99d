//! `stepflow inspect`: one line per node — name, op, dtype and shape of each output, inputs.

use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use stepflow::{Error, Result};

#[derive(Args)]
pub struct InspectArgs {
    /// The graph file.
    graph: PathBuf,
}

pub fn inspect(a: InspectArgs) -> Result<()> {
    let g = stepflow::fit::load_graph(&a.graph)?;
    let rows: Vec<[String; 4]> = g
        .node_ids()
        .map(|id| {
            let n = g.node(id);
            let outs: Vec<String> = n.outputs().iter().map(|o| format!("{} {}", o.dtype, o.shape)).collect();
            let mut inputs: Vec<String> = n.inputs().iter().map(|&o| g.output_name(o)).collect();
            inputs.extend(n.control_inputs().iter().map(|&c| format!("^{}", g.node(c).name())));
            [n.name().to_string(), n.op().op_type().to_string(), outs.join(", "), inputs.join(", ")]
        })
        .collect();
    let header = ["name", "op", "output", "inputs"];
    let width = |i: usize| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let out = std::io::stdout();
    let mut out = out.lock();
    let io = |e| Error::io("stdout", e);
    writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {}", header[0], header[1], header[2], header[3]).map_err(io)?;
    for r in &rows {
        writeln!(out, "{:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3]).map_err(io)?;
    }
    let vars = g.variables().len();
    writeln!(out, "{} nodes, {vars} variables", g.len()).map_err(io)
}
