//! `stepflow run`: initialize, run N times, print the fetches of each run (and, asked, a profile
//! of the runs).

use super::feed::parse_feed;
use super::profile::ProfileArgs;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use stepflow::{Error, NodeId, Output, Profile, Result, RunOptions, Session};

#[derive(Args)]
pub struct RunArgs {
    /// The graph file.
    graph: PathBuf,
    /// A tensor to fetch (`name` or `name:1`); repeat for several.
    #[arg(long = "fetch", short = 'f')]
    fetches: Vec<String>,
    /// A node to run for its effect, such as an increment of global_step; repeat for several.
    #[arg(long = "target", short = 't')]
    targets: Vec<String>,
    /// A value for a tensor, NAME=JSON (e.g. x=[[1,2,3]]); repeat for several.
    #[arg(long = "feed")]
    feeds: Vec<String>,
    /// How many times to run.
    #[arg(long, default_value_t = 1)]
    steps: u64,
    /// How to print: text (`step=0 lr=0.1`) or csv (a header, then `step,value,...`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    look: ProfileArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Csv,
}

pub fn run(a: RunArgs) -> Result<()> {
    if a.fetches.is_empty() && a.targets.is_empty() {
        return Err(Error::argument("run", "--fetch", "give at least one --fetch or --target"));
    }
    let g = stepflow::fit::load_graph(&a.graph)?;
    let fetches: Vec<Output> = a.fetches.iter().map(|n| g.output(n)).collect::<Result<_>>()?;
    let targets: Vec<NodeId> = a.targets.iter().map(|n| g.node_id(n)).collect::<Result<_>>()?;
    let feeds = a.feeds.iter().map(|f| parse_feed(&g, f)).collect::<Result<Vec<_>>>()?;
    let session = Session::with_options(std::sync::Arc::new(g), a.look.session_options());
    session.initialize()?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let io = |e| Error::io("stdout", e);
    if let Format::Csv = a.format {
        writeln!(out, "step,{}", a.fetches.join(",")).map_err(io)?;
    }
    let mut profile = a.look.enabled().then(Profile::new);
    for step in 0..a.steps {
        let values = match &mut profile {
            Some(p) => {
                let began = std::time::Instant::now();
                let (values, meta) = session.run_traced(RunOptions::default(), &feeds, &fetches, &targets)?;
                p.add(began, &meta);
                values
            }
            None => session.run(&feeds, &fetches, &targets)?,
        };
        let line = match a.format {
            Format::Text => {
                let parts: Vec<String> = a.fetches.iter().zip(&values).map(|(n, v)| format!("{n}={v}")).collect();
                format!("step={step} {}", parts.join(" "))
            }
            Format::Csv => {
                let parts: Vec<String> = values.iter().map(csv_cell).collect();
                format!("{step},{}", parts.join(","))
            }
        };
        writeln!(out, "{}", line.trim_end()).map_err(io)?;
    }
    out.flush().map_err(io)?;
    if let Some(p) = &profile {
        let wrote = a.look.report(p)?;
        if !wrote.is_empty() {
            eprintln!("wrote {}", wrote.join(", "));
        }
    }
    Ok(())
}

/// A value as one CSV cell: a scalar plainly, anything else quoted.
fn csv_cell(v: &stepflow::Tensor) -> String {
    let s = v.to_string();
    if v.rank() == 0 { s } else { format!("\"{s}\"") }
}
