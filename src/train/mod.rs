//! Training: learning-rate schedules as graph ops on `global_step`, and plateau reducers.

pub mod plateau;
pub mod schedules;

pub use plateau::{PlateauController, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use schedules::{AnySchedule, Schedule, exponential_decay};
