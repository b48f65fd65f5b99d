//! MaxPool, AvgPool and their gradients (and MaxPoolGrad's) over NHWC windows, with TF's CPU semantics:
//! windows never count padding; MaxPool starts from the lowest finite value and keeps the
//! first maximum in scan order (rows, then columns), where MaxPoolGrad sends the gradient;
//! AvgPool divides by the number of input elements in the window, and AvgPoolGrad multiplies
//! by that count's reciprocal. Images go to threads; each image is one serial pass.

use super::ConvReal;
use super::geometry::{PoolGeometry, check_len};
use super::split::{for_each_slot, slot_start, slots};
use crate::error::OpResult;
use crate::ops::elementwise::vectorized;

/// Runs `f(image, image_slice)` for every image of `data` (`per_image` elements each).
fn per_image<T: ConvReal>(
    g: &PoolGeometry,
    data: &mut [T],
    per_image: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let work = g.output_len.saturating_mul(window_capacity(g));
    let n = slots(parallel, g.batch, work);
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

/// Calls `f(input_pixel)` for the input pixels (within the image) of the window at output
/// pixel `(oh, ow)`, rows then columns.
#[inline(always)]
fn for_each_in_window(g: &PoolGeometry, oh: usize, ow: usize, mut f: impl FnMut(usize)) {
    let (r, c) = (g.window.rows, g.window.cols);
    let (rt, ct) = (r.valid_taps(oh), c.valid_taps(ow));
    for kh in rt {
        let ih = oh * r.stride + kh - r.pad_before;
        for kw in ct.clone() {
            f(ih * c.input + ow * c.stride + kw - c.pad_before);
        }
    }
}

/// The number of input elements in the window at `(oh, ow)`.
#[inline(always)]
fn window_count(g: &PoolGeometry, oh: usize, ow: usize) -> usize {
    g.window.rows.valid_taps(oh).len() * g.window.cols.valid_taps(ow).len()
}

fn check(g: &PoolGeometry, op: &str, input: usize, output: usize) -> OpResult<()> {
    check_len(&format!("{op} input"), input, g.input_len)?;
    check_len(&format!("{op} output"), output, g.output_len)
}

/// `MaxPool`: the largest input of every window.
pub fn max_pool<T: ConvReal>(g: &PoolGeometry, input: &[T], output: &mut [T], parallel: bool) -> OpResult<()> {
    check(g, "MaxPool", input.len(), output.len())?;
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    per_image(
        g,
        output,
        out_px * c,
        parallel,
        #[inline(always)]
        |b, out| {
            let image = &input[b * in_px * c..(b + 1) * in_px * c];
            for (p, o) in out.chunks_exact_mut(c.max(1)).enumerate() {
                o.fill(T::min_value());
                for_each_in_window(g, p / w.cols.output, p % w.cols.output, |i| {
                    let x = &image[i * c..(i + 1) * c];
                    // A select, not a conditional store, so the loop vectorizes.
                    o.iter_mut().zip(x).for_each(|(o, &x)| *o = if *o < x { x } else { *o });
                });
            }
        },
    );
    Ok(())
}

/// `MaxPoolGrad`: `out_backprop` routed to the first maximum of each window (recomputed from
/// `input`, as TF does), summed where windows share it.
pub fn max_pool_grad<T: ConvReal>(
    g: &PoolGeometry,
    input: &[T],
    out_backprop: &[T],
    in_backprop: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    max_pool_grad_then(g, input, out_backprop, in_backprop, parallel, |_, _| {})
}

/// [`max_pool_grad`], then `epilogue(image, image_gradient)` on each image's gradient as soon as
/// it is complete, while it is in cache (a fused activation gradient).
pub fn max_pool_grad_then<T: ConvReal>(
    g: &PoolGeometry,
    input: &[T],
    out_backprop: &[T],
    in_backprop: &mut [T],
    parallel: bool,
    epilogue: impl Fn(usize, &mut [T]) + Sync,
) -> OpResult<()> {
    check(g, "MaxPoolGrad", input.len(), out_backprop.len())?;
    check_len("MaxPoolGrad in_backprop", in_backprop.len(), g.input_len)?;
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    let blank = WindowMax::new(g)?;
    per_image(
        g,
        in_backprop,
        in_px * c,
        parallel,
        #[inline(always)]
        |b, dx| {
            // Zeroed image by image, so the sums below find it in cache.
            dx.fill(T::zero());
            let image = &input[b * in_px * c..(b + 1) * in_px * c];
            let mut argmax = blank.clone();
            for p in 0..out_px {
                if argmax.scan(g, image, p) {
                    let dy = &out_backprop[(b * out_px + p) * c..][..c];
                    for (ch, (&at, &y)) in argmax.at.iter().zip(dy).enumerate() {
                        dx[at as usize * c + ch] += y;
                    }
                }
            }
            epilogue(b, dx);
        },
    );
    Ok(())
}

/// The first maximum of every channel of one window, all channels scanned together: TF's
/// arg-max scan (the first element, replaced only by a strictly larger one) as selects on
/// same-width lanes, so it vectorizes across the channels.
#[derive(Clone)]
struct WindowMax<T> {
    best: Vec<T>,
    /// The image pixel holding each channel's maximum.
    at: Vec<u32>,
}

impl<T: ConvReal> WindowMax<T> {
    /// For images of `g`; an error when their pixels cannot be numbered in 32 bits.
    fn new(g: &PoolGeometry) -> OpResult<Self> {
        if u32::try_from(g.window.input_pixels()).is_err() {
            return Err(crate::invalid!("max-pool gradients take images of at most 2^32 pixels"));
        }
        Ok(WindowMax { best: vec![T::zero(); g.channels], at: vec![0; g.channels] })
    }

    /// Scans the window of output pixel `p`; false when it holds no input element.
    #[inline(always)]
    fn scan(&mut self, g: &PoolGeometry, image: &[T], p: usize) -> bool {
        let (c, r, w) = (g.channels, g.window.rows, g.window.cols);
        let (oh, ow) = (p / w.output, p % w.output);
        let (rows, cols) = (r.valid_taps(oh), w.valid_taps(ow));
        if rows.is_empty() || cols.is_empty() {
            return false;
        }
        let (best, at) = (&mut self.best[..], &mut self.at[..]);
        let mut first = true;
        for kh in rows {
            let line = (oh * r.stride + kh - r.pad_before) * w.input;
            for kw in cols.clone() {
                let i = line + ow * w.stride + kw - w.pad_before;
                let x = &image[i * c..(i + 1) * c];
                // The pixel count fits in u32 (checked in `new`).
                let pixel = i as u32;
                if first {
                    best.copy_from_slice(x);
                    at.fill(pixel);
                    first = false;
                    continue;
                }
                for ((b, a), &x) in best.iter_mut().zip(at.iter_mut()).zip(x) {
                    let larger = *b < x;
                    *b = if larger { x } else { *b };
                    *a = if larger { pixel } else { *a };
                }
            }
        }
        true
    }
}

/// The most input elements a window can hold: its taps, but no more than the image has (a
/// window far larger than the image is legal with SAME padding).
fn window_capacity(g: &PoolGeometry) -> usize {
    let (r, c) = (g.window.rows, g.window.cols);
    r.window.min(r.input) * c.window.min(c.input)
}

/// `MaxPoolGradGrad`: the derivative of MaxPoolGrad in its `out_backprop`: for each window,
/// `grad` (shaped like `input`) at the window's first maximum, the element MaxPoolGrad routes
/// the window's gradient to.
pub fn max_pool_grad_grad<T: ConvReal>(
    g: &PoolGeometry,
    input: &[T],
    grad: &[T],
    output: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check(g, "MaxPoolGradGrad", input.len(), output.len())?;
    check_len("MaxPoolGradGrad grad", grad.len(), g.input_len)?;
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    let blank = WindowMax::new(g)?;
    per_image(
        g,
        output,
        out_px * c,
        parallel,
        #[inline(always)]
        |b, out| {
            let image = &input[b * in_px * c..(b + 1) * in_px * c];
            let dx = &grad[b * in_px * c..(b + 1) * in_px * c];
            let mut argmax = blank.clone();
            for (p, o) in out.chunks_exact_mut(c.max(1)).enumerate() {
                if argmax.scan(g, image, p) {
                    o.iter_mut().zip(&argmax.at).enumerate().for_each(|(ch, (o, &at))| *o = dx[at as usize * c + ch]);
                } else {
                    o.fill(T::zero());
                }
            }
        },
    );
    Ok(())
}

/// `AvgPool`: the mean of the input elements in each window (padding not counted).
pub fn avg_pool<T: ConvReal>(g: &PoolGeometry, input: &[T], output: &mut [T], parallel: bool) -> OpResult<()> {
    check(g, "AvgPool", input.len(), output.len())?;
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    per_image(
        g,
        output,
        out_px * c,
        parallel,
        #[inline(always)]
        |b, out| {
            let image = &input[b * in_px * c..(b + 1) * in_px * c];
            for (p, o) in out.chunks_exact_mut(c.max(1)).enumerate() {
                let (oh, ow) = (p / w.cols.output, p % w.cols.output);
                o.fill(T::zero());
                for_each_in_window(g, oh, ow, |i| {
                    o.iter_mut().zip(&image[i * c..(i + 1) * c]).for_each(|(o, &x)| *o += x);
                });
                let count = T::from_f64(window_count(g, oh, ow) as f64);
                o.iter_mut().for_each(|o| *o /= count);
            }
        },
    );
    Ok(())
}

/// `AvgPoolGrad`: every window's gradient times `1 / count`, spread over its input elements.
pub fn avg_pool_grad<T: ConvReal>(
    g: &PoolGeometry,
    out_backprop: &[T],
    in_backprop: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check(g, "AvgPoolGrad", in_backprop.len(), out_backprop.len())?;
    let (c, w) = (g.channels, g.window);
    let out_px = w.output_pixels();
    per_image(
        g,
        in_backprop,
        w.input_pixels() * c,
        parallel,
        #[inline(always)]
        |b, dx| {
            dx.fill(T::zero());
            for p in 0..out_px {
                let (oh, ow) = (p / w.cols.output, p % w.cols.output);
                // TF forms the coefficient in double, then rounds it to T.
                let coeff = T::from_f64(1.0 / window_count(g, oh, ow) as f64);
                let dy = &out_backprop[(b * out_px + p) * c..][..c];
                for_each_in_window(g, oh, ow, |i| {
                    dx[i * c..(i + 1) * c].iter_mut().zip(dy).for_each(|(d, &y)| *d += y * coeff);
                });
            }
        },
    );
    Ok(())
}
