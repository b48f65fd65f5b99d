//! `stepflow export`: a graph as a TensorFlow GraphDef, in the form the output's extension names
//! (`.pb` binary, `.pbtxt` text, `.json` the proto3 JSON mapping).

use clap::Args;
use std::path::PathBuf;
use stepflow::io::tf::Form;
use stepflow::{Error, Result};

#[derive(Args)]
pub struct ExportArgs {
    /// The graph file (stepflow's, TensorFlow's, or a training config).
    graph: PathBuf,
    /// Where to write the GraphDef: FILE.pb, FILE.pbtxt or FILE.json.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn export(a: ExportArgs) -> Result<()> {
    let form = match a.output.extension().and_then(|e| e.to_str()) {
        Some("pb") => Form::Binary,
        Some("pbtxt") => Form::Text,
        Some("json") => Form::Json,
        _ => {
            let why = "the extension must be .pb, .pbtxt or .json";
            return Err(Error::argument("export", "--output", why));
        }
    };
    let g = stepflow::fit::load_graph(&a.graph)?;
    let tf = g.to_tf()?;
    tf.write(&a.output, form)?;
    println!("wrote {} ({} nodes)", a.output.display(), tf.nodes.len());
    Ok(())
}
