//! Array ops: the tensor's elements rearranged, cut, joined, selected or described, never
//! computed on. One file per job:
//!
//! | file | ops |
//! | --- | --- |
//! | `reshape` | Reshape, ExpandDims, Squeeze: same elements, new shape |
//! | `transpose` | Transpose: axes permuted |
//! | `broadcast` | BroadcastTo, Tile: elements repeated |
//! | `slice` | Slice, Pad, ConcatV2: cut and joined along axes |
//! | `pack` | Pack: stacked along a new axis |
//! | `gather` | GatherV2, UnsortedSegmentSum, OneHot: selected by index |
//! | `shape` | Shape, Size, Rank, BroadcastGradientArgs: shapes as integer tensors |
//! | `fill` | Fill, ZerosLike, OnesLike: tensors of one value |
//! | `strided` | StridedSlice, StridedSliceGrad: Python's slicing (the spec resolved in `strided_spec`) |
//! | `split` | Unpack, Split, SplitV: one tensor cut into several outputs |
//! | `sequence` | Range, InvertPermutation: sequences of numbers |
//! | `shape_n` | ShapeN, ConcatOffset: the shapes of ConcatV2's gradient |
//! | `stitch` | DynamicStitch: interleaved by index |

mod broadcast;
mod fill;
mod gather;
mod pack;
mod reshape;
mod shape;
mod slice;
mod transpose;

mod sequence;
mod shape_n;
mod split;
mod stitch;
mod strided;
mod strided_spec;

pub use broadcast::{BroadcastTo, Tile};
pub use fill::{Fill, OnesLike, ZerosLike};
pub use gather::{GatherV2, OneHot, UnsortedSegmentSum};
pub use pack::Pack;
pub use reshape::{ExpandDims, Reshape, Squeeze};
pub use shape::{BroadcastGradientArgs, Rank, Shape, Size};
pub use slice::{ConcatV2, Pad, Slice};
pub use transpose::Transpose;

pub use sequence::{InvertPermutation, Range};
pub use shape_n::{ConcatOffset, ShapeN};
pub use split::{MAX_OUTPUTS, Split, SplitV, Unpack};
pub use stitch::DynamicStitch;
pub use strided::{StridedSlice, StridedSliceGrad};
