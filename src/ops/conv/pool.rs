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
    per_image(g, output, out_px * c, parallel, |b, out| {
        let image = &input[b * in_px * c..(b + 1) * in_px * c];
        for (p, o) in out.chunks_exact_mut(c.max(1)).enumerate() {
            o.fill(T::min_value());
            for_each_in_window(g, p / w.cols.output, p % w.cols.output, |i| {
                let x = &image[i * c..(i + 1) * c];
                // A select, not a conditional store, so the loop vectorizes.
                o.iter_mut().zip(x).for_each(|(o, &x)| *o = if *o < x { x } else { *o });
            });
        }
    });
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
    check(g, "MaxPoolGrad", input.len(), out_backprop.len())?;
    check_len("MaxPoolGrad in_backprop", in_backprop.len(), g.input_len)?;
    in_backprop.fill(T::zero());
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    per_image(g, in_backprop, in_px * c, parallel, |b, dx| {
        let image = &input[b * in_px * c..(b + 1) * in_px * c];
        let mut window = Vec::with_capacity(window_capacity(g));
        for p in 0..out_px {
            window.clear();
            for_each_in_window(g, p / w.cols.output, p % w.cols.output, |i| window.push(i * c));
            let dy = &out_backprop[(b * out_px + p) * c..][..c];
            for (ch, &y) in dy.iter().enumerate() {
                if let Some(at) = first_max(image, &window, ch) {
                    dx[at] += y;
                }
            }
        }
    });
    Ok(())
}

/// The most input elements a window can hold: its taps, but no more than the image has (a
/// window far larger than the image is legal with SAME padding).
fn window_capacity(g: &PoolGeometry) -> usize {
    let (r, c) = (g.window.rows, g.window.cols);
    r.window.min(r.input) * c.window.min(c.input)
}

/// TF's arg-max scan over a window (element offsets `window`, channel `ch`): the first element,
/// replaced only by a strictly larger one; `None` for a window with no input element.
#[inline(always)]
fn first_max<T: ConvReal>(image: &[T], window: &[usize], ch: usize) -> Option<usize> {
    let (&first, rest) = window.split_first()?;
    let (mut at, mut best) = (first + ch, image[first + ch]);
    for &i in rest {
        let x = image[i + ch];
        if best < x {
            (at, best) = (i + ch, x);
        }
    }
    Some(at)
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
    per_image(g, output, out_px * c, parallel, |b, out| {
        let image = &input[b * in_px * c..(b + 1) * in_px * c];
        let dx = &grad[b * in_px * c..(b + 1) * in_px * c];
        let mut window = Vec::with_capacity(window_capacity(g));
        for (p, o) in out.chunks_exact_mut(c.max(1)).enumerate() {
            window.clear();
            for_each_in_window(g, p / w.cols.output, p % w.cols.output, |i| window.push(i * c));
            for (ch, o) in o.iter_mut().enumerate() {
                *o = first_max(image, &window, ch).map_or(T::zero(), |at| dx[at]);
            }
        }
    });
    Ok(())
}

/// `AvgPool`: the mean of the input elements in each window (padding not counted).
pub fn avg_pool<T: ConvReal>(g: &PoolGeometry, input: &[T], output: &mut [T], parallel: bool) -> OpResult<()> {
    check(g, "AvgPool", input.len(), output.len())?;
    let (c, w) = (g.channels, g.window);
    let (in_px, out_px) = (w.input_pixels(), w.output_pixels());
    per_image(g, output, out_px * c, parallel, |b, out| {
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
    });
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
    in_backprop.fill(T::zero());
    let (c, w) = (g.channels, g.window);
    let out_px = w.output_pixels();
    per_image(g, in_backprop, w.input_pixels() * c, parallel, |b, dx| {
        for p in 0..out_px {
            let (oh, ow) = (p / w.cols.output, p % w.cols.output);
            // TF forms the coefficient in double, then rounds it to T.
            let coeff = T::from_f64(1.0 / window_count(g, oh, ow) as f64);
            let dy = &out_backprop[(b * out_px + p) * c..][..c];
            for_each_in_window(g, oh, ow, |i| {
                dx[i * c..(i + 1) * c].iter_mut().zip(dy).for_each(|(d, &y)| *d += y * coeff);
            });
        }
    });
    Ok(())
}
