//! `stepflow plot-schedule GRAPH --fetch learning_rate --steps N -o FILE.png|svg`: a schedule's
//! curve, computed by setting the step variable to each step and running the fetches.

use super::feed::parse_feed;
use clap::Args;
use std::path::PathBuf;
use stepflow::fit::load_graph;
use stepflow::plot::{Chart, Series, spans_decades};
use stepflow::{Error, Output, Result, Session, Tensor};

#[derive(Args)]
pub struct PlotScheduleArgs {
    /// The graph file (or a training config holding a graph).
    graph: PathBuf,
    /// A scalar tensor to draw; repeat to compare several on one chart.
    #[arg(long = "fetch", short = 'f', required = true)]
    fetches: Vec<String>,
    /// Steps to draw (0 .. N-1).
    #[arg(long)]
    steps: u64,
    /// The image to write (.png or .svg).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// The integer variable the schedules read.
    #[arg(long, default_value = "global_step")]
    step_variable: String,
    /// A value for a placeholder the fetches need, NAME=JSON; repeat for several.
    #[arg(long = "feed")]
    feeds: Vec<String>,
    /// Log scale on the y axis (by default when the values span over two decades).
    #[arg(long, conflicts_with = "linear_y")]
    log_y: bool,
    /// Linear y axis even when the values span decades.
    #[arg(long)]
    linear_y: bool,
    /// The chart's title.
    #[arg(long, default_value = "learning-rate schedule")]
    title: String,
}

/// The most points drawn per curve; longer runs are sampled evenly (the ends included).
const MAX_POINTS: u64 = 4000;

pub fn plot_schedule(a: PlotScheduleArgs) -> Result<()> {
    if a.steps == 0 {
        return Err(Error::argument("plot-schedule", "--steps", "must be at least 1"));
    }
    let g = load_graph(&a.graph)?;
    let step = g.output(&a.step_variable)?;
    if !g.variables().iter().any(|v| v.node == step.node) || g.spec(step).dtype.is_float() {
        return Err(Error::argument(
            "plot-schedule",
            "--step-variable",
            format!("'{}' is not an integer variable of the graph", a.step_variable),
        ));
    }
    let fetches: Vec<Output> = a.fetches.iter().map(|n| g.output(n)).collect::<Result<_>>()?;
    let feeds = a.feeds.iter().map(|f| parse_feed(&g, f)).collect::<Result<Vec<_>>>()?;
    let dtype = g.spec(step).dtype;
    let session = Session::new(g);
    session.initialize()?;
    let stride = a.steps.div_ceil(MAX_POINTS).max(1);
    let mut ks: Vec<u64> = (0..a.steps).step_by(stride as usize).collect();
    if ks.last() != Some(&(a.steps - 1)) {
        ks.push(a.steps - 1);
    }
    let mut curves = vec![Vec::with_capacity(ks.len()); fetches.len()];
    for &k in &ks {
        session.set_variable(step, Tensor::filled(dtype, &[], k as f64))?;
        let values = session.run(&feeds, &fetches, &[])?;
        for ((curve, v), name) in curves.iter_mut().zip(&values).zip(&a.fetches) {
            let y = v.scalar_f64().filter(|_| v.len() == 1).ok_or_else(|| {
                Error::argument("plot-schedule", "--fetch", format!("'{name}' is not a scalar (shape {:?})", v.shape()))
            })?;
            curve.push((k as f64, y));
        }
    }
    let mut chart = Chart::new(a.title, a.step_variable, "learning rate");
    let all: Vec<f64> = curves.iter().flatten().map(|p| p.1).collect();
    chart.log_y = a.log_y || (!a.linear_y && spans_decades(&all));
    for (name, points) in a.fetches.iter().zip(curves) {
        chart.series.push(Series::line(name.clone(), points));
    }
    chart.save(&a.output)?;
    println!("wrote {}", a.output.display());
    Ok(())
}
