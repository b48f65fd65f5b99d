//! Large inputs for element-wise ops: the hand-worked input repeated along a new leading axis
//! until the array is past the kernels' split threshold, so the value is computed in chunks on
//! several threads (and in place, in the owned way). Every repeat of the result must equal the
//! small result bit for bit.

use super::run::{eval1, feed};
use stepflow::{Graph, Output, Result, Tensor, with_array};

/// Arrays with at least this many elements are split across threads by the element-wise kernels
/// (their `PARALLEL_MIN_ELEMENTS`).
pub const SPLIT_ELEMENTS: usize = 1 << 17;

/// `t` repeated `k` times along a new leading axis.
pub fn tiled(t: &Tensor, k: usize) -> Tensor {
    let mut shape = vec![k];
    shape.extend_from_slice(t.shape());
    with_array!(t, a => Tensor::from_array(
        a.view().insert_axis(ndarray::Axis(0)).broadcast(ndarray::IxDyn(&shape)).unwrap().to_owned()
    ))
}

/// `t` with leading axes of size 1 up to rank `rank`.
fn padded(t: &Tensor, rank: usize) -> Tensor {
    let mut shape = vec![1; rank.saturating_sub(t.rank())];
    shape.extend_from_slice(t.shape());
    with_array!(t, a => Tensor::from_array(a.to_owned().into_shape_with_order(ndarray::IxDyn(&shape)).unwrap()))
}

/// How many repeats of an output of `len` elements pass the split threshold.
pub fn repeats(len: usize) -> usize {
    SPLIT_ELEMENTS / len.max(1) + 1
}

/// Asserts that `big` is `small` repeated along a new leading axis, bit for bit.
#[track_caller]
pub fn assert_tiles(big: &Tensor, small: &Tensor) {
    assert_eq!(big.dtype(), small.dtype());
    let k = repeats(small.len());
    assert_eq!(big.shape(), tiled(small, k).shape(), "shape of the repeated result");
    assert!(big.bit_eq(&tiled(small, k)), "a repeat differs from the small result {small}");
}

/// Runs `build` on `inputs` (as fed data), then on every input brought to the result's rank and
/// repeated past the split threshold, and checks the repeats; returns the small result.
pub fn eval_tiled(inputs: &[Tensor], build: impl Fn(&mut Graph, &[Output]) -> Result<Output>) -> Result<Tensor> {
    tiled_runs(inputs, false, build)
}

/// Like [`eval_tiled`] for ops that broadcast: also repeats only the operand of highest rank, so
/// the others broadcast against it (a scalar, a row), the kernels' fast broadcasting paths.
pub fn eval_broadcast(inputs: &[Tensor], build: impl Fn(&mut Graph, &[Output]) -> Result<Output>) -> Result<Tensor> {
    tiled_runs(inputs, true, build)
}

fn tiled_runs(
    inputs: &[Tensor],
    one_side: bool,
    build: impl Fn(&mut Graph, &[Output]) -> Result<Output>,
) -> Result<Tensor> {
    let fed = |ts: Vec<Tensor>| {
        eval1(|g| {
            let xs = ts.iter().map(|t| feed(g, t.clone())).collect::<Result<Vec<_>>>()?;
            build(g, &xs)
        })
    };
    let small = fed(inputs.to_vec())?;
    let k = repeats(small.len());
    let all: Vec<Tensor> = inputs.iter().map(|t| tiled(&padded(t, small.rank()), k)).collect();
    assert_tiles(&fed(all).expect("the repeated inputs fail"), &small);
    if one_side && inputs.len() > 1 {
        let top = (0..inputs.len()).max_by_key(|&i| (inputs[i].rank(), usize::MAX - i)).unwrap_or(0);
        let one: Vec<Tensor> =
            inputs.iter().enumerate().map(|(i, t)| if i == top { tiled(t, k) } else { t.clone() }).collect();
        if inputs[top].rank() == small.rank() {
            assert_tiles(&fed(one).expect("the repeated input fails"), &small);
        }
    }
    Ok(small)
}
