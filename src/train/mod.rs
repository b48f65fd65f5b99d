//! Training: learning-rate schedules as graph ops on `global_step`, plateau reducers, and TF1's
//! optimizers with `minimize`.

pub mod optimizers;
pub mod plateau;
pub mod schedules;

pub use optimizers::{
    AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer, Hyper, MomentumOptimizer, Optimizer, RMSPropOptimizer,
};
pub use plateau::{PlateauController, PlateauMode, PlateauState, ReduceLrOnPlateau, ThresholdMode};
pub use schedules::{AnySchedule, Schedule, exponential_decay};
