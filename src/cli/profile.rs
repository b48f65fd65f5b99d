//! The options `train` and `run` share for looking inside a step: `--profile`, `--trace`,
//! `--no-optimize`.

use clap::Args;
use std::path::PathBuf;
use stepflow::{Profile, Result, SessionOptions};

#[derive(Args)]
pub struct ProfileArgs {
    /// Time every step's nodes and print, at the end, a table per op type on standard error:
    /// count, time, share, and GFLOP/s of the matrix products and convolutions.
    #[arg(long)]
    profile: bool,
    /// Write the profiled nodes to this file as a Chrome trace (open it in Perfetto or
    /// chrome://tracing; one row per thread). Implies --profile.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Run every node on its own: no fused kernels (the values are the same; for debugging and
    /// for traces that show each op).
    #[arg(long)]
    no_optimize: bool,
}

impl ProfileArgs {
    /// Whether to trace the steps.
    pub fn enabled(&self) -> bool {
        self.profile || self.trace.is_some()
    }

    /// How the session builds its plans.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions { fuse: !self.no_optimize }
    }

    /// Prints the profile's table on standard error and writes the trace, if asked; returns the
    /// file written.
    pub fn report(&self, p: &Profile) -> Result<Vec<String>> {
        eprint!("{}", p.table());
        match &self.trace {
            Some(path) => {
                p.write_trace(path)?;
                Ok(vec![path.display().to_string()])
            }
            None => Ok(Vec::new()),
        }
    }
}
