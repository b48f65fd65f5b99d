//! The structured op fuzzer: cases that know the ops (their inputs' sources, dtypes, shapes and
//! values, and each op's own attributes), and the invariants every case must keep.

pub mod bounded;
pub mod case;
pub mod probe;
pub mod run;
pub mod values;
