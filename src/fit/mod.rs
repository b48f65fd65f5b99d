//! Fitting a graph to data as a training config says: data fed to the graph's placeholders in
//! shuffled batches, validation each epoch, reduce-on-plateau, checkpoints and resumption, and the
//! learning-rate range test. The `stepflow train` and `stepflow lr-find` commands are thin shells
//! over this. (The graph-side pieces, optimizers and schedules, are TF's `tf.train`: [`crate::train`].)
//!
//! ```
//! use stepflow::fit::Trainer;
//! let mut t = Trainer::from_file("graphs/digits_mlp.json".as_ref())?;
//! let before = t.evaluate()?; // [loss, accuracy] on the validation part
//! while t.position().epoch < 2 {
//!     t.step()?;
//! }
//! let after = t.evaluate()?;
//! assert!(after[0] < before[0] && after[1] > 0.8);
//! # Ok::<(), stepflow::Error>(())
//! ```

mod config;
mod log;
mod lookup;
mod plateau;
mod range_test;
mod run;
mod state;
mod watch;

pub use config::{FORMAT, PlateauSpec, TrainConfig, base_dir, load_graph, resolve};
pub use log::CsvLog;
pub use range_test::{
    Band, Point, RangeTest, RangeTestResult, RunCurve, Stop, Suggestion, Suggestions, Sweep, suggest,
};
pub use run::{EpochLog, Position, StepLog, Trainer};
pub use state::Snapshot;
pub use watch::GradientStep;
