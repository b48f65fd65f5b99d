//! Conv2D and its two backprops (Conv2DBackpropInput, Conv2DBackpropFilter) as im2col onto
//! faer's GEMM, NHWC with HWIO filters.
//!
//! The output pixels of the batch are cut into chunks (whole images when an image is small, or
//! pieces of one image) whose size depends only on the geometry. Each chunk's patch matrix is
//! built in the caller's scratch buffer and multiplied on one thread; threads take contiguous
//! runs of chunks. The filter gradient sums over chunks, so chunks form at most
//! [`MAX_GROUPS`](super::split::MAX_GROUPS) fixed groups whose partial sums are added in group
//! order. Results are therefore bit-identical for any thread count.

use super::ConvReal;
use super::geometry::{Conv2dGeometry, check_len};
use super::im2col::{col2im, im2col};
use super::split::{MAX_GROUPS, for_each_slot, gemm, ordered_sum, rows_of, scratch_of, slot_start, slots};
use crate::error::OpResult;
use std::ops::Range;

/// A chunk's patch matrix aims at this many elements (2 MB of f32): large enough for the
/// GEMM to run at full speed, small enough to stay near the core.
const CHUNK_ELEMENTS: usize = 1 << 19;
const MIN_CHUNK_ROWS: usize = 128;
const MAX_CHUNK_ROWS: usize = 4096;

/// The fixed cut of the batch's output pixels into chunks, and of chunks into units that own
/// whole images (what a thread may write to the input gradient alone).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowChunks {
    per_image: usize,
    batch: usize,
    /// Whole images per chunk, when chunks are whole images.
    images_per_chunk: usize,
    /// Pieces per image and rows per piece, when images are cut.
    pieces: usize,
    piece_rows: usize,
}

impl RowChunks {
    pub(crate) fn new(per_image: usize, batch: usize, row_len: usize) -> Self {
        let target = (CHUNK_ELEMENTS / row_len.max(1)).clamp(MIN_CHUNK_ROWS, MAX_CHUNK_ROWS);
        let per_image_nz = per_image.max(1);
        if per_image_nz <= target {
            let chunks = (batch * per_image_nz).div_ceil(target).max(1);
            let images_per_chunk = batch.div_ceil(chunks).max(1);
            RowChunks { per_image, batch, images_per_chunk, pieces: 1, piece_rows: per_image }
        } else {
            let pieces = per_image.div_ceil(target);
            RowChunks { per_image, batch, images_per_chunk: 1, pieces, piece_rows: per_image.div_ceil(pieces) }
        }
    }

    /// Units: runs of chunks covering whole images.
    pub(crate) fn units(&self) -> usize {
        self.batch.div_ceil(self.images_per_chunk)
    }

    pub(crate) fn chunks(&self) -> usize {
        self.units() * self.pieces
    }

    /// The images of unit `u`.
    pub(crate) fn unit_images(&self, u: usize) -> Range<usize> {
        u * self.images_per_chunk..((u + 1) * self.images_per_chunk).min(self.batch)
    }

    /// The chunks of unit `u`.
    pub(crate) fn unit_chunks(&self, u: usize) -> Range<usize> {
        u * self.pieces..(u + 1) * self.pieces
    }

    /// The output pixels (rows, counted across the batch) of chunk `c`.
    pub(crate) fn rows(&self, c: usize) -> Range<usize> {
        let (u, piece) = (c / self.pieces, c % self.pieces);
        let images = self.unit_images(u);
        if self.pieces == 1 {
            return images.start * self.per_image..images.end * self.per_image;
        }
        let base = images.start * self.per_image;
        base + piece * self.piece_rows..(base + (piece + 1) * self.piece_rows).min(base + self.per_image)
    }

    /// The most rows any chunk has.
    pub(crate) fn max_rows(&self) -> usize {
        if self.pieces == 1 { self.images_per_chunk * self.per_image } else { self.piece_rows }
    }
}

/// How a pass over a geometry is cut, and how many threads it uses.
struct Cut {
    chunks: RowChunks,
    slots: usize,
    patch: usize,
}

impl Cut {
    fn new(g: &Conv2dGeometry, parallel: bool) -> Self {
        let chunks = RowChunks::new(g.window.output_pixels(), g.batch, g.patch_len());
        let work = g.output_len.saturating_mul(g.patch_len());
        Cut { chunks, slots: slots(parallel, chunks.units(), work), patch: g.patch_len() }
    }

    /// The unit runs of the slots, as image ranges, and their ends scaled to elements.
    fn slot_ends(&self, elements_per_image: usize) -> (Vec<Range<usize>>, Vec<usize>) {
        let units = self.chunks.units();
        let runs: Vec<Range<usize>> =
            (0..self.slots).map(|s| slot_start(s, self.slots, units)..slot_start(s + 1, self.slots, units)).collect();
        let ends = runs
            .iter()
            .map(|r| if r.is_empty() { 0 } else { self.chunks.unit_images(r.end - 1).end } * elements_per_image)
            .scan(0, |last, e| {
                *last = e.max(*last);
                Some(*last)
            })
            .collect();
        (runs, ends)
    }

    fn work_len(&self) -> usize {
        self.chunks.max_rows() * self.patch
    }
}

/// Whether the patches are the input pixels themselves (1×1 filter, stride 1, no padding):
/// then the input is already the patch matrix.
fn is_pointwise(g: &Conv2dGeometry) -> bool {
    let (r, c) = (g.window.rows, g.window.cols);
    r.window == 1
        && c.window == 1
        && r.stride == 1
        && c.stride == 1
        && r.pad_before == 0
        && c.pad_before == 0
        && r.output == r.input
        && c.output == c.input
}

/// Scratch elements the three Conv2D kernels may use for `g` (the most of the three), so an op
/// can size its buffer once at plan time.
pub fn conv2d_scratch_len(g: &Conv2dGeometry, parallel: bool) -> usize {
    let cut = Cut::new(g, parallel);
    let cols = cut.slots * cut.work_len();
    let groups = cut.chunks.chunks().min(MAX_GROUPS);
    cols + groups.saturating_sub(1).max(1) * g.filter_len
}

/// `Conv2D`: `output[b, i, j, o] = Σ input[b, i·s + di·d - pad, j·s + dj·d - pad, c] ·
/// filter[di, dj, c, o]`, zero outside the input. `scratch` grows to hold the patch matrices
/// (see [`conv2d_scratch_len`]); `parallel` lets it use the rayon pool.
///
/// ```
/// use stepflow::ops::conv::{Conv2dGeometry, Padding, conv2d};
/// let g = Conv2dGeometry::new([1, 2, 2, 1], [2, 2, 1, 1], [1, 1], [1, 1], Padding::Valid).unwrap();
/// let mut out = vec![0f32; 1];
/// conv2d(&g, &[1., 2., 3., 4.], &[1., 0., 0., 1.], &mut out, &mut Vec::new(), false).unwrap();
/// assert_eq!(out, [5.]);
/// ```
pub fn conv2d<T: ConvReal>(
    g: &Conv2dGeometry,
    input: &[T],
    filter: &[T],
    output: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    conv2d_then(g, input, filter, output, scratch, parallel, |_| {})
}

/// [`conv2d`], then `epilogue` applied to each piece of the output while it is still in cache:
/// whole output pixels (rows of `out_channels` elements), each piece once (a fused bias and
/// activation).
///
/// ```
/// use stepflow::ops::conv::{Conv2dGeometry, Padding, conv2d_then};
/// let g = Conv2dGeometry::new([1, 2, 2, 1], [1, 1, 1, 1], [1, 1], [1, 1], Padding::Valid).unwrap();
/// let mut out = vec![0f32; 4];
/// let relu = |piece: &mut [f32]| piece.iter_mut().for_each(|v| *v = v.max(0.0));
/// conv2d_then(&g, &[1., -2., 3., -4.], &[2.], &mut out, &mut Vec::new(), false, relu).unwrap();
/// assert_eq!(out, [2., 0., 6., 0.]);
/// ```
pub fn conv2d_then<T: ConvReal>(
    g: &Conv2dGeometry,
    input: &[T],
    filter: &[T],
    output: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
    epilogue: impl Fn(&mut [T]) + Sync,
) -> OpResult<()> {
    check_len("Conv2D input", input.len(), g.input_len)?;
    check_len("Conv2D filter", filter.len(), g.filter_len)?;
    check_len("Conv2D output", output.len(), g.output_len)?;
    let (k, n) = (g.patch_len(), g.out_channels);
    if k == 0 {
        // No input channels: every sum is empty.
        output.fill(T::zero());
        epilogue(output);
        return Ok(());
    }
    let cut = Cut::new(g, parallel);
    let pointwise = is_pointwise(g);
    let work_len = if pointwise { 0 } else { cut.work_len() };
    let (runs, ends) = cut.slot_ends(g.window.output_pixels() * n);
    let w = rows_of(filter, k, n);
    let chunks = cut.chunks;
    let work = scratch_of(scratch, cut.slots * work_len);
    for_each_slot(output, &ends, work, work_len, |s, out, cols| {
        let first_row = chunks.unit_images(runs[s].start).start * chunks.per_image;
        for c in runs[s].clone().flat_map(|u| chunks.unit_chunks(u)) {
            let rows = chunks.rows(c);
            let m = rows.len();
            let dst = &mut out[(rows.start - first_row) * n..(rows.end - first_row) * n];
            if pointwise {
                gemm(dst, m, n, rows_of(&input[rows.start * k..rows.end * k], m, k), w, false);
            } else {
                let cols = &mut cols[..m * k];
                im2col(g, input, rows, cols);
                gemm(dst, m, n, rows_of(cols, m, k), w, false);
            }
            epilogue(dst);
        }
    });
    Ok(())
}

/// `Conv2DBackpropInput`: the gradient of [`conv2d`] with respect to its input, from the
/// filter and the output gradient: `dY · Wᵀ` per chunk, scatter-added back by col2im.
pub fn conv2d_backprop_input<T: ConvReal>(
    g: &Conv2dGeometry,
    filter: &[T],
    out_backprop: &[T],
    in_backprop: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    check_len("Conv2DBackpropInput filter", filter.len(), g.filter_len)?;
    check_len("Conv2DBackpropInput out_backprop", out_backprop.len(), g.output_len)?;
    check_len("Conv2DBackpropInput output", in_backprop.len(), g.input_len)?;
    if g.output_len == 0 || g.input_len == 0 {
        in_backprop.fill(T::zero());
        return Ok(());
    }
    let (k, n) = (g.patch_len(), g.out_channels);
    let cut = Cut::new(g, parallel);
    let (runs, ends) = cut.slot_ends(g.window.input_pixels() * g.in_channels);
    let wt = rows_of(filter, k, n).transpose();
    let chunks = cut.chunks;
    let pointwise = is_pointwise(g);
    let work_len = cut.work_len();
    let work = scratch_of(scratch, cut.slots * work_len);
    for_each_slot(in_backprop, &ends, work, work_len, |s, dx, cols| {
        if !pointwise {
            // col2im adds into it; zeroed by each thread for its own images.
            dx.fill(T::zero());
        }
        let first_image = chunks.unit_images(runs[s].start).start;
        for c in runs[s].clone().flat_map(|u| chunks.unit_chunks(u)) {
            let rows = chunks.rows(c);
            let m = rows.len();
            let dy = rows_of(&out_backprop[rows.start * n..rows.end * n], m, n);
            if pointwise {
                let first = first_image * chunks.per_image;
                gemm(&mut dx[(rows.start - first) * k..(rows.end - first) * k], m, k, dy, wt, false);
            } else {
                let cols = &mut cols[..m * k];
                gemm(cols, m, k, dy, wt, false);
                col2im(g, cols, rows, first_image, dx);
            }
        }
    });
    Ok(())
}

/// `Conv2DBackpropFilter`: the gradient of [`conv2d`] with respect to its filter,
/// `Σ_chunks patchesᵀ · dY`, summed in a fixed order.
pub fn conv2d_backprop_filter<T: ConvReal>(
    g: &Conv2dGeometry,
    input: &[T],
    out_backprop: &[T],
    filter_backprop: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    check_len("Conv2DBackpropFilter input", input.len(), g.input_len)?;
    check_len("Conv2DBackpropFilter out_backprop", out_backprop.len(), g.output_len)?;
    check_len("Conv2DBackpropFilter output", filter_backprop.len(), g.filter_len)?;
    if g.filter_len == 0 {
        return Ok(());
    }
    let (k, n) = (g.patch_len(), g.out_channels);
    let cut = Cut::new(g, parallel);
    let chunks = cut.chunks;
    let total = if g.output_len == 0 { 0 } else { chunks.chunks() };
    let groups = total.min(MAX_GROUPS);
    let pointwise = is_pointwise(g);
    let work_len = if pointwise { 0 } else { cut.work_len() };
    let group_slots = if cut.slots > 1 { cut.slots.min(groups) } else { 1 };
    ordered_sum(filter_backprop, groups, work_len, group_slots, scratch, |grp, partial, cols| {
        for (i, c) in (slot_start(grp, groups, total)..slot_start(grp + 1, groups, total)).enumerate() {
            let rows = chunks.rows(c);
            let m = rows.len();
            let dy = rows_of(&out_backprop[rows.start * n..rows.end * n], m, n);
            if pointwise {
                gemm(partial, k, n, rows_of(&input[rows.start * k..rows.end * k], m, k).transpose(), dy, i > 0);
            } else {
                let cols = &mut cols[..m * k];
                im2col(g, input, rows, cols);
                gemm(partial, k, n, rows_of(cols, m, k).transpose(), dy, i > 0);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_rows_once_in_order() {
        // (pixels per image, batch, patch length) -> (chunks, units): whole images, then pieces
        for (p, b, k, chunks, units) in
            [(256, 32, 288, 5, 5), (84 * 80, 3, 72, 6, 3), (256, 64, 32, 4, 4), (64, 1, 9, 1, 1)]
        {
            let c = RowChunks::new(p, b, k);
            assert_eq!((c.chunks(), c.units()), (chunks, units), "{p} {b} {k}");
            let rows: Vec<usize> = (0..c.chunks()).flat_map(|i| c.rows(i)).collect();
            assert_eq!(rows, (0..p * b).collect::<Vec<_>>());
            assert!((0..c.chunks()).all(|i| c.rows(i).len() <= c.max_rows()));
            let images: Vec<usize> = (0..c.units()).flat_map(|u| c.unit_images(u)).collect();
            assert_eq!(images, (0..b).collect::<Vec<_>>());
        }
    }
}
