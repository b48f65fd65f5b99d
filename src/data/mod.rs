//! Data for training: numeric CSV tables, seeded splits and shuffles, and batches.

mod table;

pub use table::Table;
