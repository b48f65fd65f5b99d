//! FusedBatchNormV3 (training and inference) and FusedBatchNormGradV3 over NHWC data, seen as
//! `[rows, channels]` with `rows = batch · height · width`, with TF's CPU formulas:
//!
//! - training: `mean = Σx / rows`, `var = Σ(x - mean)² / rows` (biased, used to normalize and
//!   kept as the saved variance), `y = (x - mean) · rsqrt(var + ε) · scale + offset`; the
//!   running variance output is the unbiased `var · rows / (rows - 1)`, and with an
//!   `exponential_avg_factor` f ≠ 1 the running outputs are `(1 - f) · old + f · new`;
//! - inference: the given mean and variance instead of the batch's;
//! - gradient (training): `dx = scale · rsqrt(var + ε) · (dy - mean(dy) - (x - mean) ·
//!   mean(dy · (x - mean)) / (var + ε))`, `dscale = Σ dy · (x - mean) · rsqrt(var + ε)`,
//!   `doffset = Σ dy`; (inference) `dx = dy · scale · rsqrt(var + ε)`.
//!
//! Channel sums run over fixed groups of rows added in group order, so any thread count gives
//! the same bits.

use super::ConvReal;
use super::geometry::{check_len, product};
use super::split::{MAX_GROUPS, add_into, for_each_slot, ordered_sum, slot_start, slots};
use crate::error::OpResult;
use crate::ops::elementwise::vectorized;

/// NHWC data as `[rows, channels]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchNormGeometry {
    pub rows: usize,
    pub channels: usize,
}

impl BatchNormGeometry {
    /// The geometry of an NHWC `x` of `shape` `[batch, height, width, channels]`.
    pub fn new(shape: [usize; 4]) -> OpResult<Self> {
        let rows = product("batch norm x", &shape[..3])?;
        product("batch norm x", &shape)?;
        Ok(BatchNormGeometry { rows, channels: shape[3] })
    }

    fn len(&self) -> usize {
        self.rows * self.channels
    }

    fn groups(&self) -> usize {
        (self.len() / ELEMENTS_PER_GROUP).clamp(1, MAX_GROUPS).min(self.rows)
    }
}

const ELEMENTS_PER_GROUP: usize = 1 << 15;

/// The inputs of FusedBatchNormV3: `x` and the per-channel `scale`, `offset`, `mean` and
/// `variance` (in training, the running averages, read only when the factor is not 1).
#[derive(Debug, Clone, Copy)]
pub struct BatchNormInputs<'a, T> {
    pub x: &'a [T],
    pub scale: &'a [T],
    pub offset: &'a [T],
    pub mean: &'a [T],
    pub variance: &'a [T],
    pub epsilon: T,
    pub exponential_avg_factor: T,
}

/// The outputs of FusedBatchNormV3 in training: `y`, the new running `batch_mean` and
/// `batch_variance` (outputs 1 and 2), and `reserve_space_1` / `reserve_space_2`, the batch
/// mean and biased variance the gradient needs. (TF's `reserve_space_3` is an unused scalar.)
#[derive(Debug)]
pub struct BatchNormOutputs<'a, T> {
    pub y: &'a mut [T],
    pub batch_mean: &'a mut [T],
    pub batch_variance: &'a mut [T],
    pub saved_mean: &'a mut [T],
    pub saved_variance: &'a mut [T],
}

fn check_channels<T>(op: &str, c: usize, parts: &[(&str, &[T])]) -> OpResult<()> {
    parts.iter().try_for_each(|(name, v)| check_len(&format!("{op} {name}"), v.len(), c))
}

/// FusedBatchNormV3 with `is_training = true`. An empty `x` gives NaN running statistics and
/// zero reserve spaces, as TF.
pub fn fused_batch_norm_training<T: ConvReal>(
    g: &BatchNormGeometry,
    p: &BatchNormInputs<'_, T>,
    out: BatchNormOutputs<'_, T>,
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    let (op, c) = ("FusedBatchNormV3", g.channels);
    check_len("FusedBatchNormV3 x", p.x.len(), g.len())?;
    check_len("FusedBatchNormV3 y", out.y.len(), g.len())?;
    check_channels(op, c, &[("scale", p.scale), ("offset", p.offset), ("mean", p.mean), ("variance", p.variance)])?;
    let outs: [&[T]; 4] = [&*out.batch_mean, &*out.batch_variance, &*out.saved_mean, &*out.saved_variance];
    check_channels(
        op,
        c,
        &[
            ("batch_mean", outs[0]),
            ("batch_variance", outs[1]),
            ("reserve_space_1", outs[2]),
            ("reserve_space_2", outs[3]),
        ],
    )?;
    if g.len() == 0 {
        // As TF: NaN running statistics, zero reserve spaces.
        out.batch_mean.fill(T::nan());
        out.batch_variance.fill(T::nan());
        out.saved_mean.fill(T::zero());
        out.saved_variance.fill(T::zero());
        return Ok(());
    }
    let rows_t = T::from_f64(g.rows as f64);
    let inv_rows = T::one() / rows_t;
    let mean = &mut *out.saved_mean;
    channel_sums(g, mean, scratch, parallel, |row, acc| add_into(acc, &p.x[row * c..(row + 1) * c]));
    mean.iter_mut().for_each(|m| *m *= inv_rows);
    let var = &mut *out.saved_variance;
    let mean = &*mean;
    channel_sums(g, var, scratch, parallel, |row, acc| {
        let x = &p.x[row * c..(row + 1) * c];
        acc.iter_mut().zip(x).zip(mean).for_each(|((a, &x), &m)| *a += (x - m) * (x - m));
    });
    var.iter_mut().for_each(|v| *v *= inv_rows);
    normalize(g, p.x, mean, var, p, out.y, parallel);
    let adjust = rows_t / T::from_f64(g.rows.saturating_sub(1).max(1) as f64);
    let f = p.exponential_avg_factor;
    for ch in 0..c {
        if f == T::one() {
            out.batch_mean[ch] = mean[ch];
            out.batch_variance[ch] = var[ch] * adjust;
        } else {
            out.batch_mean[ch] = (T::one() - f) * p.mean[ch] + f * mean[ch];
            out.batch_variance[ch] = (T::one() - f) * p.variance[ch] + (f * adjust) * var[ch];
        }
    }
    Ok(())
}

/// FusedBatchNormV3 with `is_training = false`: `y` from the given mean and variance. (TF's
/// outputs 1 and 2 are then the given mean and variance, or NaN for an empty `x`.)
pub fn fused_batch_norm_inference<T: ConvReal>(
    g: &BatchNormGeometry,
    p: &BatchNormInputs<'_, T>,
    y: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check_len("FusedBatchNormV3 x", p.x.len(), g.len())?;
    check_len("FusedBatchNormV3 y", y.len(), g.len())?;
    let c = g.channels;
    check_channels(
        "FusedBatchNormV3",
        c,
        &[("scale", p.scale), ("offset", p.offset), ("mean", p.mean), ("variance", p.variance)],
    )?;
    normalize(g, p.x, p.mean, p.variance, p, y, parallel);
    Ok(())
}

/// `y = (x - mean) · (rsqrt(var + ε) · scale) + offset`, rows split across threads.
fn normalize<T: ConvReal>(
    g: &BatchNormGeometry,
    x: &[T],
    mean: &[T],
    var: &[T],
    p: &BatchNormInputs<'_, T>,
    y: &mut [T],
    parallel: bool,
) {
    let factor: Vec<T> = var.iter().zip(p.scale).map(|(&v, &s)| T::one() / (v + p.epsilon).sqrt() * s).collect();
    let offset = p.offset;
    for_rows(g, y, parallel, |first, y| {
        let c = g.channels;
        for (i, y) in y.chunks_exact_mut(c).enumerate() {
            let x = &x[(first + i) * c..][..c];
            for ch in 0..c {
                y[ch] = (x[ch] - mean[ch]) * factor[ch] + offset[ch];
            }
        }
    });
}

/// Runs `f(first_row, rows)` over `data` cut into runs of whole rows, one per thread.
fn for_rows<T: ConvReal>(g: &BatchNormGeometry, data: &mut [T], parallel: bool, f: impl Fn(usize, &mut [T]) + Sync) {
    if g.len() == 0 {
        return;
    }
    let n = slots(parallel, g.rows, g.len());
    let ends: Vec<usize> = (1..=n).map(|s| slot_start(s, n, g.rows) * g.channels).collect();
    for_each_slot(data, &ends, &mut [(); 0], 0, |s, piece, _| {
        vectorized(
            #[inline(always)]
            || f(slot_start(s, n, g.rows), piece),
        )
    });
}

/// Per-channel sums `out = Σ_rows add(row)` (`add(row, acc)` adds one row's terms into `acc`),
/// over fixed row groups added in group order.
fn channel_sums<T: ConvReal>(
    g: &BatchNormGeometry,
    out: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
    add: impl Fn(usize, &mut [T]) + Sync,
) {
    let groups = g.groups();
    let n = slots(parallel, groups, g.len());
    ordered_sum(out, groups, 0, n, scratch, |grp, partial, _| {
        partial.fill(T::zero());
        vectorized(
            #[inline(always)]
            || {
                for row in slot_start(grp, groups, g.rows)..slot_start(grp + 1, groups, g.rows) {
                    add(row, partial);
                }
            },
        )
    });
}

/// Scratch elements the batch-norm kernels may use (their channel sums).
pub fn batch_norm_scratch_len(g: &BatchNormGeometry) -> usize {
    MAX_GROUPS * 2 * g.channels
}

/// The inputs of FusedBatchNormGradV3: the output gradient, `x`, `scale`, and the mean and
/// variance the forward pass normalized with (`reserve_space_1` / `_2` in training, the
/// population statistics in inference).
#[derive(Debug, Clone, Copy)]
pub struct BatchNormGradInputs<'a, T> {
    pub y_backprop: &'a [T],
    pub x: &'a [T],
    pub scale: &'a [T],
    pub mean: &'a [T],
    pub variance: &'a [T],
    pub epsilon: T,
    pub is_training: bool,
}

/// The outputs of FusedBatchNormGradV3: `x_backprop`, `scale_backprop`, `offset_backprop`.
#[derive(Debug)]
pub struct BatchNormGrads<'a, T> {
    pub x_backprop: &'a mut [T],
    pub scale_backprop: &'a mut [T],
    pub offset_backprop: &'a mut [T],
}

/// FusedBatchNormGradV3. `scratch` holds the channel sums. An empty `x` gives zero
/// scale and offset gradients.
pub fn fused_batch_norm_grad<T: ConvReal>(
    g: &BatchNormGeometry,
    p: &BatchNormGradInputs<'_, T>,
    out: BatchNormGrads<'_, T>,
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    let (op, c) = ("FusedBatchNormGradV3", g.channels);
    for (name, len) in [("y_backprop", p.y_backprop.len()), ("x", p.x.len()), ("x_backprop", out.x_backprop.len())] {
        check_len(&format!("{op} {name}"), len, g.len())?;
    }
    check_channels(op, c, &[("scale", p.scale), ("reserve_space_1", p.mean), ("reserve_space_2", p.variance)])?;
    check_channels(op, c, &[("scale_backprop", &*out.scale_backprop), ("offset_backprop", &*out.offset_backprop)])?;
    // sums[..c] = Σ dy, sums[c..] = Σ dy · (x - mean)
    let mut sums = vec![T::zero(); 2 * c];
    if g.len() > 0 {
        channel_sums(g, &mut sums, scratch, parallel, |row, acc| {
            let (dy, x) = (&p.y_backprop[row * c..(row + 1) * c], &p.x[row * c..(row + 1) * c]);
            let (sum_dy, sum_dyx) = acc.split_at_mut(c);
            add_into(sum_dy, dy);
            sum_dyx.iter_mut().zip(dy).zip(x).zip(p.mean).for_each(|(((a, &d), &x), &m)| *a += d * (x - m));
        });
    }
    let coef0: Vec<T> = p.variance.iter().map(|&v| T::one() / (v + p.epsilon).sqrt()).collect();
    for ch in 0..c {
        out.offset_backprop[ch] = sums[ch];
        out.scale_backprop[ch] = sums[c + ch] * coef0[ch];
    }
    let inv_rows = T::one() / T::from_f64(g.rows as f64);
    let coef1: Vec<T> = coef0.iter().zip(p.scale).map(|(&k, &s)| s * k).collect();
    let mean_dy: Vec<T> = sums[..c].iter().map(|&s| s * inv_rows).collect();
    let coef2: Vec<T> = coef0.iter().zip(&sums[c..]).map(|(&k, &s)| k * k * (s * inv_rows)).collect();
    let training = p.is_training;
    for_rows(g, out.x_backprop, parallel, |first, dx| {
        for (i, dx) in dx.chunks_exact_mut(c).enumerate() {
            let r = first + i;
            let (dy, x) = (&p.y_backprop[r * c..][..c], &p.x[r * c..][..c]);
            for ch in 0..c {
                dx[ch] = if training {
                    coef1[ch] * ((dy[ch] - mean_dy[ch]) - (x[ch] - p.mean[ch]) * coef2[ch])
                } else {
                    dy[ch] * coef1[ch]
                };
            }
        }
    });
    Ok(())
}
