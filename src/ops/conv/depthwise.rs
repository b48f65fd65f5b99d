//! DepthwiseConv2dNative and its backprops: each input channel convolved with its own
//! `channel_multiplier` filters, output channel `c * multiplier + m`. Direct loops over the
//! window with the channels innermost (contiguous in NHWC), vectorized; images go to threads,
//! and the filter gradient adds fixed groups of output pixels in group order.

use super::ConvReal;
use super::geometry::{Padding, Window2d, check_len, product};
use super::split::{MAX_GROUPS, for_each_slot, ordered_sum, slot_start, slots};
use crate::error::OpResult;
use crate::ops::elementwise::vectorized;

/// The geometry of a depthwise convolution: NHWC input `[batch, in_h, in_w, channels]`, filter
/// `[filter_h, filter_w, channels, multiplier]`, output `[batch, out_h, out_w, channels *
/// multiplier]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseGeometry {
    pub batch: usize,
    pub channels: usize,
    pub multiplier: usize,
    pub window: Window2d,
    pub input_len: usize,
    pub filter_len: usize,
    pub output_len: usize,
}

impl DepthwiseGeometry {
    /// The geometry of `DepthwiseConv2dNative(input, filter)` (strides, dilations: height, width).
    pub fn new(
        input: [usize; 4],
        filter: [usize; 4],
        strides: [usize; 2],
        dilations: [usize; 2],
        padding: Padding,
    ) -> OpResult<Self> {
        let [batch, in_h, in_w, channels] = input;
        let [fh, fw, fc, multiplier] = filter;
        if fc != channels {
            return Err(crate::invalid!(
                "input depth {channels} must equal the filter's in_channels {fc} (filter shape {filter:?})"
            ));
        }
        let window = Window2d::new([in_h, in_w], [fh, fw], strides, dilations, padding)?;
        let out_c = product("depthwise output depth", &[channels, multiplier])?;
        Ok(DepthwiseGeometry {
            batch,
            channels,
            multiplier,
            window,
            input_len: product("depthwise input", &input)?,
            filter_len: product("depthwise filter", &filter)?,
            output_len: product("depthwise output", &[batch, window.rows.output, window.cols.output, out_c])?,
        })
    }

    /// `[batch, out_h, out_w, channels * multiplier]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.window.rows.output, self.window.cols.output, self.channels * self.multiplier]
    }

    fn work(&self) -> usize {
        self.output_len.saturating_mul(self.window.taps())
    }
}

/// Calls `f(oh, ow, tap, ih, iw)` for every window tap inside the input, output pixels in
/// row-major order and taps in filter order.
#[inline(always)]
fn for_each_tap(w: &Window2d, oh: usize, ow: usize, mut f: impl FnMut(usize, usize, usize)) {
    let (r, c) = (w.rows, w.cols);
    let taps = c.valid_taps(ow);
    for kh in 0..r.window {
        let Some(ih) = r.input_at(oh, kh) else { continue };
        for kw in taps.clone() {
            f(kh * c.window + kw, ih, ow * c.stride + kw * c.dilation - c.pad_before);
        }
    }
}

/// `out[c·M + m] += x[c] · f[c·M + m]` for one tap.
#[inline(always)]
fn tap_forward<T: ConvReal>(out: &mut [T], x: &[T], f: &[T], m: usize) {
    if m == 1 {
        out.iter_mut().zip(x).zip(f).for_each(|((o, &x), &f)| *o += x * f);
    } else {
        for ((o, f), &x) in out.chunks_exact_mut(m).zip(f.chunks_exact(m)).zip(x) {
            o.iter_mut().zip(f).for_each(|(o, &f)| *o += x * f);
        }
    }
}

/// `DepthwiseConv2dNative`: `output[b, i, j, c·M + m] = Σ input[b, i·s + di·d - pad,
/// j·s + dj·d - pad, c] · filter[di, dj, c, m]`.
pub fn depthwise_conv2d<T: ConvReal>(
    g: &DepthwiseGeometry,
    input: &[T],
    filter: &[T],
    output: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check_len("DepthwiseConv2dNative input", input.len(), g.input_len)?;
    check_len("DepthwiseConv2dNative filter", filter.len(), g.filter_len)?;
    check_len("DepthwiseConv2dNative output", output.len(), g.output_len)?;
    if g.output_len == 0 {
        return Ok(());
    }
    let (c, cm, w) = (g.channels, g.channels * g.multiplier, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    per_image_slots(g, output, out_px * cm, parallel, |b, out| {
        for (p, o) in out.chunks_exact_mut(cm).enumerate() {
            o.fill(T::zero());
            for_each_tap(&w, p / w.cols.output, p % w.cols.output, |tap, ih, iw| {
                let x = &input[(b * in_px + ih * w.cols.input + iw) * c..][..c];
                tap_forward(o, x, &filter[tap * cm..(tap + 1) * cm], g.multiplier);
            });
        }
    });
    Ok(())
}

/// Runs `f(image, image_slice)` over the images of `data` (`per_image` elements each), on
/// contiguous runs of images per thread.
fn per_image_slots<T: ConvReal>(
    g: &DepthwiseGeometry,
    data: &mut [T],
    per_image: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let n = slots(parallel, g.batch, g.work());
    let ends: Vec<usize> = (1..=n).map(|s| slot_start(s, n, g.batch) * per_image).collect();
    for_each_slot(data, &ends, &mut [(); 0], 0, |s, piece, _| {
        let first = slot_start(s, n, g.batch);
        vectorized(
            #[inline(always)]
            || {
                for (i, img) in piece.chunks_exact_mut(per_image.max(1)).enumerate() {
                    f(first + i, img);
                }
            },
        )
    });
}

/// The gradient of [`depthwise_conv2d`] with respect to its input
/// (`DepthwiseConv2dNativeBackpropInput`).
pub fn depthwise_conv2d_backprop_input<T: ConvReal>(
    g: &DepthwiseGeometry,
    filter: &[T],
    out_backprop: &[T],
    in_backprop: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check_len("DepthwiseConv2dNativeBackpropInput filter", filter.len(), g.filter_len)?;
    check_len("DepthwiseConv2dNativeBackpropInput out_backprop", out_backprop.len(), g.output_len)?;
    check_len("DepthwiseConv2dNativeBackpropInput output", in_backprop.len(), g.input_len)?;
    in_backprop.fill(T::zero());
    if g.output_len == 0 || g.input_len == 0 {
        return Ok(());
    }
    let (c, m, w) = (g.channels, g.multiplier, g.window);
    let (cm, out_px) = (c * m, w.output_pixels());
    per_image_slots(g, in_backprop, w.input_pixels() * c, parallel, |b, dx| {
        for p in 0..out_px {
            let dy = &out_backprop[(b * out_px + p) * cm..][..cm];
            for_each_tap(&w, p / w.cols.output, p % w.cols.output, |tap, ih, iw| {
                let d = &mut dx[(ih * w.cols.input + iw) * c..][..c];
                let f = &filter[tap * cm..(tap + 1) * cm];
                if m == 1 {
                    d.iter_mut().zip(dy).zip(f).for_each(|((d, &y), &f)| *d += y * f);
                } else {
                    for ((d, y), f) in d.iter_mut().zip(dy.chunks_exact(m)).zip(f.chunks_exact(m)) {
                        y.iter().zip(f).for_each(|(&y, &f)| *d += y * f);
                    }
                }
            });
        }
    });
    Ok(())
}

/// Output pixels per group of the filter gradient, at least.
const PIXELS_PER_GROUP: usize = 256;

/// The gradient of [`depthwise_conv2d`] with respect to its filter
/// (`DepthwiseConv2dNativeBackpropFilter`). `scratch` holds the groups' partial sums.
pub fn depthwise_conv2d_backprop_filter<T: ConvReal>(
    g: &DepthwiseGeometry,
    input: &[T],
    out_backprop: &[T],
    filter_backprop: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    check_len("DepthwiseConv2dNativeBackpropFilter input", input.len(), g.input_len)?;
    check_len("DepthwiseConv2dNativeBackpropFilter out_backprop", out_backprop.len(), g.output_len)?;
    check_len("DepthwiseConv2dNativeBackpropFilter output", filter_backprop.len(), g.filter_len)?;
    let (c, m, w) = (g.channels, g.multiplier, g.window);
    let (cm, in_px, out_px) = (c * m, w.input_pixels(), w.output_pixels());
    let pixels = if g.output_len == 0 { 0 } else { g.batch * out_px };
    let groups = pixels.div_ceil(PIXELS_PER_GROUP).min(MAX_GROUPS);
    let n = slots(parallel, groups, g.work());
    ordered_sum(filter_backprop, groups, 0, n, scratch, |grp, partial, _| {
        partial.fill(T::zero());
        vectorized(
            #[inline(always)]
            || {
                for row in slot_start(grp, groups, pixels)..slot_start(grp + 1, groups, pixels) {
                    let (b, p) = (row / out_px, row % out_px);
                    let dy = &out_backprop[row * cm..][..cm];
                    for_each_tap(&w, p / w.cols.output, p % w.cols.output, |tap, ih, iw| {
                        let x = &input[(b * in_px + ih * w.cols.input + iw) * c..][..c];
                        let df = &mut partial[tap * cm..(tap + 1) * cm];
                        for ((df, y), &x) in df.chunks_exact_mut(m).zip(dy.chunks_exact(m)).zip(x) {
                            df.iter_mut().zip(y).for_each(|(d, &y)| *d += x * y);
                        }
                    });
                }
            },
        )
    });
    Ok(())
}

/// Scratch elements [`depthwise_conv2d_backprop_filter`] may use.
pub fn depthwise_scratch_len(g: &DepthwiseGeometry) -> usize {
    MAX_GROUPS * g.filter_len
}
