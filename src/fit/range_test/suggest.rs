//! The suggested rates, read off a range test's (mean) smoothed-loss curve as fastai v2 reads
//! them (`fastai/callback/schedule.py`), on the curve without its first tenth and its last five
//! points:
//! - *valley* (the default): the longest strictly descending subsequence of the smoothed loss
//!   (not necessarily contiguous, so single spikes do not break it), from `start` (one before
//!   its first point) to `end`, and the rate at `start + ⌊s⌋ + ⌊s/2⌋`, `s = (end − start)/3`:
//!   about halfway down;
//! - *slide*: walking left from the last point with a window of 15 points, the left end of the
//!   last window whose two ends' slopes (`np.gradient`) differ by more than 0.005, in the loss's
//!   own units per point (fastai's `lr_diff=15, thresh=.005, adjust_value=1`);
//! - *steepest*: the left end of the segment where the loss falls fastest per unit of log rate;
//! - *minimum / 10*: the rate of the lowest smoothed loss divided by ten.
//!
//! When the loss never fell — its lowest point on that part of the curve is not at least 5% of
//! its value below where that part starts — nothing is suggested.

use super::Point;

/// A suggested rate and where to mark it on the curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suggestion {
    pub learning_rate: f64,
    /// The index of the point of the curve nearest the suggested rate.
    pub index: usize,
    /// The smoothed loss drawn at the mark (interpolated on log rate for `slide`).
    pub loss: f64,
}

/// Every rule's suggestion; all absent when too few points remain or the loss never fell.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Suggestions {
    /// Whether at least two points remain after the trimming.
    pub enough_points: bool,
    /// Whether the smoothed loss fell by at least 5% (see the module's doc).
    pub fell: bool,
    pub valley: Option<Suggestion>,
    pub slide: Option<Suggestion>,
    pub steepest: Option<Suggestion>,
    pub minimum: Option<Suggestion>,
}

impl Suggestions {
    /// Each rule's name and suggestion, the default (`valley`) first.
    pub fn named(&self) -> [(&'static str, Option<Suggestion>); 4] {
        [("valley", self.valley), ("slide", self.slide), ("steepest", self.steepest), ("minimum / 10", self.minimum)]
    }

    /// The rate `train --learning-rate auto` uses: `valley`'s.
    pub fn default_choice(&self) -> Option<Suggestion> {
        self.valley
    }
}

/// How far below its start the smoothed loss must get to count as having fallen.
const FELL: f64 = 0.05;

/// The suggestions on a curve.
///
/// ```
/// use stepflow::fit::{Point, suggest};
/// // A U-shaped curve over 1e-5 ... 1e1 with its minimum at 1e-1 and its steepest fall at 1e-3.
/// let points: Vec<Point> = (0..=60)
///     .map(|k| {
///         let x = -5.0 + k as f64 * 0.1; // log10 of the rate
///         let loss = if x < -1.0 { 1.0 - (x + 3.0).tanh() } else { (x + 1.0).powi(2) + 1.0 - 2f64.tanh() };
///         Point { step: k + 1, learning_rate: 10f64.powf(x), loss, smoothed_loss: loss }
///     })
///     .collect();
/// let s = suggest(&points);
/// assert!(s.fell);
/// assert!((s.steepest.unwrap().learning_rate.log10() - -3.05).abs() < 0.06);
/// assert!((s.minimum.unwrap().learning_rate.log10() - -2.0).abs() < 1e-9);
/// // The window is points 6..56; its longest descent runs from 1e-4.5 (point 5, one before the
/// // window) to the minimum at 1e-1 (point 40): s = 35/3, valley at point 5 + 11 + 5 = 21.
/// assert!((s.valley.unwrap().learning_rate.log10() - -2.9).abs() < 1e-9);
/// // A flat curve fell nowhere: no suggestion at all.
/// let flat: Vec<Point> = points.iter().map(|p| Point { smoothed_loss: 2.0, ..*p }).collect();
/// let none = suggest(&flat);
/// assert!(none.enough_points && !none.fell && none.named().iter().all(|(_, s)| s.is_none()));
/// ```
pub fn suggest(points: &[Point]) -> Suggestions {
    let finite = points.iter().position(|p| !p.smoothed_loss.is_finite()).unwrap_or(points.len());
    let (lo, hi) = (points.len() / 10, finite.saturating_sub(5));
    if hi < lo + 2 {
        return Suggestions::default();
    }
    let window = &points[lo..hi];
    let losses: Vec<f64> = window.iter().map(|p| p.smoothed_loss).collect();
    let lowest = losses.iter().copied().fold(f64::INFINITY, f64::min);
    if losses[0] - lowest < FELL * losses[0].abs() {
        return Suggestions { enough_points: true, ..Default::default() };
    }
    let at = |i: usize| Suggestion { learning_rate: window[i].learning_rate, index: lo + i, loss: losses[i] };
    let rates: Vec<f64> = window.iter().map(|p| p.learning_rate).collect();
    Suggestions {
        enough_points: true,
        fell: true,
        valley: valley(&losses).map(at),
        slide: slide(&rates, &losses).map(|learning_rate| Suggestion {
            learning_rate,
            index: nearest(points, learning_rate),
            loss: interpolate(&rates, &losses, learning_rate),
        }),
        steepest: steepest(&rates, &losses).map(at),
        minimum: minimum(&losses).map(|m| {
            let learning_rate = rates[m] / 10.0;
            let index = nearest(&points[..=lo + m], learning_rate);
            Suggestion { learning_rate, index, loss: points[index].smoothed_loss }
        }),
    }
}

/// The index of the point nearest `rate` on log rate.
fn nearest(points: &[Point], rate: f64) -> usize {
    let distance = |p: &Point| (p.learning_rate.ln() - rate.ln()).abs();
    (0..points.len()).min_by(|&a, &b| distance(&points[a]).total_cmp(&distance(&points[b]))).unwrap_or(0)
}

/// fastai's `valley`: the index about halfway down the longest strictly descending subsequence;
/// `None` when there is none (no point below an earlier one).
///
/// The lengths are found in O(n log n) (patience sorting) rather than fastai's O(n²) double
/// loop; they are the same numbers, and ties go to the earliest end, as there. Where fastai's
/// index comes out as −1 (a descent of two points from the first), Python would read the last
/// point; this reads the first.
pub(super) fn valley(losses: &[f64]) -> Option<usize> {
    // tails[k]: the highest last loss of a strictly descending subsequence of length k + 1.
    let mut tails: Vec<f64> = Vec::new();
    let (mut best, mut end) = (0usize, 0usize);
    for (i, &l) in losses.iter().enumerate() {
        let k = tails.partition_point(|&t| t > l);
        if k == tails.len() {
            tails.push(l);
        } else {
            tails[k] = l;
        }
        if k + 1 > best {
            (best, end) = (k + 1, i);
        }
    }
    if best < 2 {
        return None;
    }
    let start = end as i64 - best as i64;
    let sections = (end as i64 - start) as f64 / 3.0;
    let idx = start + sections as i64 + (sections / 2.0) as i64;
    Some(idx.max(0) as usize)
}

/// fastai's `slide` with its defaults: the suggested rate, or `None` with fewer than 16 points.
pub(super) fn slide(rates: &[f64], losses: &[f64]) -> Option<f64> {
    const LR_DIFF: usize = 15;
    const THRESH: f64 = 0.005;
    let n = losses.len();
    if n <= LR_DIFF {
        return None;
    }
    let grad = gradient(losses);
    let (mut r, mut l) = (n - 1, Some(n - 1 - LR_DIFF));
    let mut local = rates[n - 1 - LR_DIFF];
    while let Some(li) = l {
        if (grad[r] - grad[li]).abs() <= THRESH {
            break;
        }
        local = rates[li];
        (r, l) = (r - 1, li.checked_sub(1));
    }
    Some(local)
}

/// `np.gradient`: central differences inside, one-sided at the ends (unit spacing).
fn gradient(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n)
        .map(|i| match i {
            0 => v[1] - v[0],
            _ if i == n - 1 => v[i] - v[i - 1],
            _ => (v[i + 1] - v[i - 1]) / 2.0,
        })
        .collect()
}

/// `np.interp(log10(rate), log10(rates), losses)`: linear on log rate, clamped at the ends.
fn interpolate(rates: &[f64], losses: &[f64], rate: f64) -> f64 {
    let x = rate.log10();
    let i = rates.partition_point(|r| r.log10() <= x);
    match i {
        0 => losses[0],
        _ if i == rates.len() => losses[i - 1],
        _ => {
            let (x0, x1) = (rates[i - 1].log10(), rates[i].log10());
            let t = if x1 > x0 { (x - x0) / (x1 - x0) } else { 0.0 };
            losses[i - 1] + t * (losses[i] - losses[i - 1])
        }
    }
}

/// fastai's `steep`: the left end of the segment of the most negative slope per unit of log rate.
fn steepest(rates: &[f64], losses: &[f64]) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for i in 0..rates.len().saturating_sub(1) {
        let dx = rates[i + 1].ln() - rates[i].ln();
        if dx <= 0.0 {
            continue;
        }
        let slope = (losses[i + 1] - losses[i]) / dx;
        if best.is_none_or(|(s, _)| slope < s) {
            best = Some((slope, i));
        }
    }
    best.map(|(_, i)| i)
}

/// The index of the lowest loss (the first, on ties).
fn minimum(losses: &[f64]) -> Option<usize> {
    (0..losses.len()).min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valley_is_halfway_down_the_longest_descent_spikes_and_all() {
        // By hand: the longest strictly descending subsequence is 3.1, 2.9, 2.6, 2.0, 1.5, 1.0
        // (six points, ending at index 7), so start = 7 − 6 = 1, s = 2, index 1 + 2 + 1 = 4.
        assert_eq!(valley(&[3.0, 3.1, 2.9, 2.5, 2.6, 2.0, 1.5, 1.0, 1.2, 4.0]), Some(4));
        // Five points down from the first (start −1, s = 5/3): index −1 + 1 + 0 = 0.
        assert_eq!(valley(&[5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0]), Some(0));
        // Thirty points down from the first: −1 + 10 + 5 = 14, the middle.
        let down: Vec<f64> = (0..30).map(|i| 100.0 - i as f64).chain([200.0]).collect();
        assert_eq!(valley(&down), Some(14));
        assert_eq!(valley(&[1.0, 1.0, 2.0, 3.0]), None);
        // Two points down from the first: fastai's −1 (Python's last point) reads the first.
        assert_eq!(valley(&[2.0, 1.0, 5.0]), Some(0));
    }

    #[test]
    fn slide_walks_left_until_the_window_ends_slopes_agree() {
        let rates: Vec<f64> = (0..40).map(|i| 10f64.powf(-5.0 + 0.1 * i as f64)).collect();
        // A straight line: the first window's ends agree at once, so its left end, 15 before
        // the last point: index 29 − 15 = 14.
        let line: Vec<f64> = (0..30).map(|i| 10.0 - 0.1 * i as f64).collect();
        assert_eq!(slide(&rates[..30], &line), Some(rates[14]));
        // Falling 0.1 a point up to index 31, then rising 0.5 a point: the slopes are −0.1
        // before 31, 0.3 at 31 (central difference), 0.5 after. The window slides while its
        // right end is in the rise (r ≥ 31), last moving with l = 16; at r = 30 both ends
        // are −0.1.
        let vee: Vec<f64> =
            (0..40).map(|i| if i <= 31 { 5.0 - 0.1 * i as f64 } else { 1.9 + 0.5 * (i - 31) as f64 }).collect();
        assert_eq!(slide(&rates, &vee), Some(rates[16]));
        assert_eq!(slide(&rates[..15], &line[..15]), None);
    }

    #[test]
    fn gradient_and_interpolation_follow_numpy() {
        assert_eq!(gradient(&[1.0, 2.0, 4.0, 7.0]), vec![1.0, 1.5, 2.5, 3.0]);
        let rates = [1e-3, 1e-2, 1e-1];
        assert!((interpolate(&rates, &[3.0, 2.0, 0.0], 10f64.powf(-1.5)) - 1.0).abs() < 1e-12);
        assert_eq!(interpolate(&rates, &[3.0, 2.0, 0.0], 1e-5), 3.0);
        assert_eq!(interpolate(&rates, &[3.0, 2.0, 0.0], 1.0), 0.0);
    }

    #[test]
    fn a_loss_that_barely_moves_never_fell() {
        let curve = |f: &dyn Fn(f64) -> f64| -> Vec<Point> {
            (0..50)
                .map(|k| {
                    let l = f(k as f64);
                    Point { step: k + 1, learning_rate: 10f64.powf(-6.0 + 0.1 * k as f64), loss: l, smoothed_loss: l }
                })
                .collect()
        };
        // Down by 4% of where the window starts (point 5): no suggestion.
        let s = suggest(&curve(&|k| 2.0 - 0.08 * (k / 49.0)));
        assert!(!s.fell && s.named().iter().all(|(_, v)| v.is_none()));
        // Down by 20%: every rule suggests.
        let s = suggest(&curve(&|k| 2.0 - 0.4 * (k / 49.0)));
        assert!(s.fell && s.named().iter().all(|(_, v)| v.is_some()), "{s:?}");
    }
}
