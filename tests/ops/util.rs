//! Helpers for op tests: build a tiny graph, run it, compare with hand-worked values.

use stepflow::{Graph, Output, Result, Session, Tensor};

/// Builds a graph with `build`, runs its returned outputs, and returns their values.
pub fn eval(build: impl FnOnce(&mut Graph) -> Result<Vec<Output>>) -> Result<Vec<Tensor>> {
    let mut g = Graph::new();
    let outs = build(&mut g)?;
    let s = Session::new(g);
    s.initialize()?;
    s.run(&[], &outs, &[])
}

/// Like [`eval`] for one output.
pub fn eval1(build: impl FnOnce(&mut Graph) -> Result<Output>) -> Result<Tensor> {
    Ok(eval(|g| Ok(vec![build(g)?]))?.remove(0))
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
