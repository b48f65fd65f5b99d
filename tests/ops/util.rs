//! Helpers for op tests: tensors, comparisons with hand-worked values, and the record of which op
//! types a test built.

use std::cell::RefCell;
use std::collections::BTreeSet;
use stepflow::{Graph, NodeId, Tensor};

pub use super::run::{eval, eval1, feed};

thread_local! {
    static BUILT: RefCell<BTreeSet<&'static str>> = const { RefCell::new(BTreeSet::new()) };
}

/// Notes the op type of every node of `g` but the `helpers` (the feeds' scaffolding), so the
/// table can check that a test built the op it is named after.
pub fn record_graph(g: &Graph, helpers: &[NodeId]) {
    BUILT.with(|b| {
        let mut b = b.borrow_mut();
        b.extend(g.node_ids().filter(|id| !helpers.contains(id)).map(|id| g.node(id).op().op_type()));
    });
}

/// The op types built since the last call, clearing the record.
pub fn take_built() -> BTreeSet<&'static str> {
    BUILT.with(|b| std::mem::take(&mut *b.borrow_mut()))
}

/// A session on `g`, recording its op types (for tests that build and run a graph by hand).
pub fn session(g: Graph) -> stepflow::Session {
    record_graph(&g, &[]);
    stepflow::Session::new(g)
}

/// A float32 tensor.
pub fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_vec(shape, v.to_vec()).unwrap()
}

/// A float64 tensor.
pub fn f64s(shape: &[usize], v: &[f64]) -> Tensor {
    Tensor::from_vec(shape, v.to_vec()).unwrap()
}

/// An int32 tensor.
pub fn i32s(shape: &[usize], v: &[i32]) -> Tensor {
    Tensor::from_vec(shape, v.to_vec()).unwrap()
}

/// A bool tensor.
pub fn bools(shape: &[usize], v: &[bool]) -> Tensor {
    Tensor::from_vec(shape, v.to_vec()).unwrap()
}

/// Asserts shape and values within a relative tolerance of 1e-6 (f32 rounding).
#[track_caller]
pub fn assert_close(t: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(t.shape(), shape, "shape of {t}");
    let got = t.to_f64_vec();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 * w.abs().max(1e-30) + 1e-7 || g == w;
        assert!(ok, "element {i}: got {g}, want {w} (tensor {t})");
    }
}

/// Asserts exact integer or bool values.
#[track_caller]
pub fn assert_exact(t: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(t.shape(), shape, "shape of {t}");
    assert_eq!(t.to_f64_vec(), want, "values of {t}");
}
