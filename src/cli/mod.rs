//! The `stepflow` command: subcommands and their dispatch. Every failure is one line on stderr
//! and a non-zero exit status.

mod dot;
mod feed;
mod inspect;
mod run;

use clap::{Parser, Subcommand};

/// stepflow — a TensorFlow-1-style static graph executor.
#[derive(Parser)]
#[command(name = "stepflow", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Initialize the variables, run a graph N times and print the fetched values.
    Run(run::RunArgs),
    /// List every node with its op, dtype, shape and inputs.
    Inspect(inspect::InspectArgs),
    /// Print the graph in Graphviz DOT.
    Dot(dot::DotArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Inspect(a) => inspect::inspect(a),
        Command::Dot(a) => dot::dot(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
