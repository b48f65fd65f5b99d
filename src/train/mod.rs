//! Training: learning-rate schedules as graph ops on `global_step`.

pub mod schedules;

pub use schedules::{Schedule, exponential_decay};
