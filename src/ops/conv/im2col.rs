//! im2col and col2im: the patches of a convolution as the rows of a matrix, so that the
//! convolution becomes one matrix product, and the way back (scatter-adding a patch matrix into
//! an image gradient).
//!
//! Rows are output pixels in NHWC order (image, output row, output column) across the batch;
//! a row holds the filter taps in HWIO order, `(tap_row * filter_w + tap_col) * in_c + channel`,
//! so it multiplies the filter viewed as a `[taps * in_c, out_c]` matrix. Padding taps are zero.

use super::geometry::Conv2dGeometry;
use crate::tensor::Real;

/// Where output pixel `row` (counted across the batch) reads from: image and output position.
#[inline(always)]
fn pixel(g: &Conv2dGeometry, row: usize) -> (usize, usize, usize) {
    let per_image = g.window.output_pixels();
    let (b, p) = (row / per_image, row % per_image);
    (b, p / g.window.cols.output, p % g.window.cols.output)
}

/// Fills `cols` (`rows.len()` rows of [`Conv2dGeometry::patch_len`]) with the patches of the
/// output pixels `rows` of `input` (NHWC).
pub(crate) fn im2col<T: Real>(g: &Conv2dGeometry, input: &[T], rows: std::ops::Range<usize>, cols: &mut [T]) {
    let (c, k) = (g.in_channels, g.patch_len());
    let (wr, wc) = (g.window.rows, g.window.cols);
    let (in_h, in_w) = (wr.input, wc.input);
    for (row, dst) in rows.zip(cols.chunks_exact_mut(k)) {
        let (b, oh, ow) = pixel(g, row);
        let taps = wc.valid_taps(ow);
        for kh in 0..wr.window {
            let line = &mut dst[kh * wc.window * c..(kh + 1) * wc.window * c];
            let Some(ih) = wr.input_at(oh, kh) else {
                line.fill(T::zero());
                continue;
            };
            line[..taps.start * c].fill(T::zero());
            line[taps.end * c..].fill(T::zero());
            if taps.is_empty() {
                continue;
            }
            let base = (b * in_h + ih) * in_w;
            if wc.dilation == 1 {
                // Consecutive taps read consecutive pixels: one copy per filter row.
                let iw0 = ow * wc.stride + taps.start - wc.pad_before;
                let src = &input[(base + iw0) * c..(base + iw0 + taps.len()) * c];
                line[taps.start * c..taps.end * c].copy_from_slice(src);
            } else {
                for kw in taps.clone() {
                    let iw = ow * wc.stride + kw * wc.dilation - wc.pad_before;
                    line[kw * c..(kw + 1) * c].copy_from_slice(&input[(base + iw) * c..(base + iw + 1) * c]);
                }
            }
        }
    }
}

/// Adds every patch row of `cols` (the output pixels `rows`) back into `image_grad` (NHWC), the
/// adjoint of [`im2col`]. `image_grad` starts at image `first_image`; every row must belong to
/// an image inside it. Each input element receives its terms in row order, then tap order.
pub(crate) fn col2im<T: Real>(
    g: &Conv2dGeometry,
    cols: &[T],
    rows: std::ops::Range<usize>,
    first_image: usize,
    image_grad: &mut [T],
) {
    let (c, k) = (g.in_channels, g.patch_len());
    let (wr, wc) = (g.window.rows, g.window.cols);
    let (in_h, in_w) = (wr.input, wc.input);
    for (row, src) in rows.zip(cols.chunks_exact(k)) {
        let (b, oh, ow) = pixel(g, row);
        let taps = wc.valid_taps(ow);
        if taps.is_empty() {
            continue;
        }
        for kh in 0..wr.window {
            let Some(ih) = wr.input_at(oh, kh) else { continue };
            let base = ((b - first_image) * in_h + ih) * in_w;
            let line = &src[kh * wc.window * c..(kh + 1) * wc.window * c];
            if wc.dilation == 1 {
                let iw0 = ow * wc.stride + taps.start - wc.pad_before;
                let dst = &mut image_grad[(base + iw0) * c..(base + iw0 + taps.len()) * c];
                add_into(dst, &line[taps.start * c..taps.end * c]);
            } else {
                for kw in taps.clone() {
                    let iw = ow * wc.stride + kw * wc.dilation - wc.pad_before;
                    add_into(&mut image_grad[(base + iw) * c..(base + iw + 1) * c], &line[kw * c..(kw + 1) * c]);
                }
            }
        }
    }
}

#[inline(always)]
fn add_into<T: Real>(dst: &mut [T], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d = *d + s);
}
