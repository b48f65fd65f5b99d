//! Data for training: numeric CSV tables, seeded splits and shuffles, and batches.

mod dataset;
mod table;

pub use dataset::{Columns, DataSpec, Dataset, Encoding, InputSpec};
pub use table::Table;
