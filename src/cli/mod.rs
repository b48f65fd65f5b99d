//! The `stepflow` command: subcommands and their dispatch. Every failure is one line on stderr
//! and a non-zero exit status.

mod dot;
mod export;
mod feed;
mod inspect;
mod lr_find;
mod plot_schedule;
mod profile;
mod progress;
mod run;
mod tensorboard;
mod train;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// stepflow — a TensorFlow-1-style static graph executor.
#[derive(Parser)]
#[command(name = "stepflow", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a graph on a data set as a training config says.
    Train(train::TrainArgs),
    /// The learning-rate range test: suggest a rate and draw the loss against it.
    LrFind(lr_find::LrFindArgs),
    /// Draw learning-rate schedules against the step.
    PlotSchedule(plot_schedule::PlotScheduleArgs),
    /// Initialize the variables, run a graph N times and print the fetched values.
    Run(run::RunArgs),
    /// List every node with its op, dtype, shape and inputs.
    Inspect(inspect::InspectArgs),
    /// Print the graph in Graphviz DOT.
    Dot(dot::DotArgs),
    /// Write the graph as a TensorFlow GraphDef (.pb, .pbtxt or .json).
    Export(export::ExportArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = |r: stepflow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match cli.command {
        Command::Run(a) => done(run::run(a)),
        Command::Inspect(a) => done(inspect::inspect(a)),
        Command::Dot(a) => done(dot::dot(a)),
        Command::Export(a) => done(export::export(a)),
        Command::Train(a) => train::train(a),
        Command::LrFind(a) => done(lr_find::lr_find(a)),
        Command::PlotSchedule(a) => done(plot_schedule::plot_schedule(a)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
