//! The learning-rate range test ("LR finder"): train briefly from the initial weights while the
//! rate grows each step, watch the smoothed loss, stop when it diverges, suggest a rate, and put
//! the weights back.
//!
//! The choices, where fastai and pytorch-lr-finder differ:
//! - rates: `start·(end/start)^(k/(steps−1))` (or linear), both ends included (pytorch-lr-finder;
//!   fastai never reaches `end`);
//! - smoothing: fastai's debiased moving average, `avg = β·avg + (1−β)·loss`,
//!   `smoothed = avg / (1 − β^(k+1))`;
//! - stop: when the smoothed loss exceeds `diverge` × its minimum or is not finite (fastai v1); the
//!   diverging point is kept;
//! - suggestions on the curve without its first tenth and last five points (fastai's trimming):
//!   *steepest* — the left end of the segment where the smoothed loss falls fastest per unit of
//!   log rate (fastai's `steep`), and *minimum / 10* — the rate of the lowest smoothed loss divided
//!   by ten (fastai's `minimum`; the source document's "one or two orders below where the loss
//!   turns up").

use super::run::Trainer;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the rate grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sweep {
    /// Geometrically: the same factor every step.
    #[default]
    Exp,
    /// Linearly: the same increment every step.
    Linear,
}

/// The range test's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeTest {
    /// The first rate.
    pub start: f64,
    /// The last rate.
    pub end: f64,
    /// The most steps.
    pub steps: u64,
    /// How the rate grows.
    pub sweep: Sweep,
    /// The smoothing factor β of the loss's moving average, in [0, 1).
    pub smooth: f64,
    /// Stop when the smoothed loss exceeds this many times its minimum.
    pub diverge: f64,
}

impl Default for RangeTest {
    fn default() -> Self {
        RangeTest { start: 1e-7, end: 10.0, steps: 100, sweep: Sweep::Exp, smooth: 0.98, diverge: 4.0 }
    }
}

/// One step of the test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    pub step: u64,
    pub learning_rate: f64,
    pub loss: f64,
    pub smoothed_loss: f64,
}

/// A suggested rate and the point of the curve it was read from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suggestion {
    pub learning_rate: f64,
    /// The index of the point of [`RangeTestResult::points`] nearest the suggested rate.
    pub index: usize,
}

/// Why the test stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// Every step ran.
    Completed,
    /// The smoothed loss passed `diverge` × its minimum at this step.
    Diverged { step: u64 },
    /// The loss was NaN or infinite at this step.
    NotFinite { step: u64 },
}

/// The curve, why it ended, and the suggestions (absent when too few points remain).
#[derive(Clone, Debug, PartialEq)]
pub struct RangeTestResult {
    pub points: Vec<Point>,
    pub stop: Stop,
    pub steepest: Option<Suggestion>,
    pub minimum: Option<Suggestion>,
}

impl RangeTest {
    /// Checks the settings; errors name the option.
    pub fn validate(&self) -> Result<()> {
        let f = "lr-find";
        if !(self.start.is_finite() && self.start > 0.0) {
            return Err(Error::argument(f, "--start", format!("must be a positive number, got {}", self.start)));
        }
        if !(self.end.is_finite() && self.end > self.start) {
            return Err(Error::argument(
                f,
                "--end",
                format!("must be greater than --start ({}), got {}", self.start, self.end),
            ));
        }
        if self.steps < 2 {
            return Err(Error::argument(f, "--steps", format!("must be at least 2, got {}", self.steps)));
        }
        if !(0.0..1.0).contains(&self.smooth) {
            return Err(Error::argument(f, "--smooth", format!("must be in [0, 1), got {}", self.smooth)));
        }
        if !(self.diverge.is_finite() && self.diverge > 1.0) {
            return Err(Error::argument(f, "--diverge", format!("must be a number > 1, got {}", self.diverge)));
        }
        Ok(())
    }

    /// The rate of step `k` (0-based).
    ///
    /// ```
    /// use stepflow::fit::RangeTest;
    /// let t = RangeTest { start: 1e-4, end: 1.0, steps: 5, ..Default::default() };
    /// let rates: Vec<f64> = (0..5).map(|k| t.rate(k)).collect();
    /// let expected = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];
    /// assert!(rates.iter().zip(expected).all(|(r, e)| (r / e - 1.0).abs() < 1e-12));
    /// ```
    pub fn rate(&self, k: u64) -> f64 {
        let t = k as f64 / (self.steps - 1).max(1) as f64;
        match self.sweep {
            Sweep::Exp => self.start * (self.end / self.start).powf(t),
            Sweep::Linear => self.start + t * (self.end - self.start),
        }
    }

    /// Runs the test on `trainer`, calling `on_point` after each step, and puts its variables
    /// and place in the data back afterwards (also when a step fails).
    pub fn run(&self, trainer: &mut Trainer, mut on_point: impl FnMut(&Point)) -> Result<RangeTestResult> {
        self.validate()?;
        let snapshot = trainer.snapshot()?;
        let result = self.sweep_rates(trainer, &mut on_point);
        trainer.reset(&snapshot)?;
        let (points, stop) = result?;
        let (steepest, minimum) = suggest(&points);
        Ok(RangeTestResult { points, stop, steepest, minimum })
    }

    fn sweep_rates(&self, trainer: &mut Trainer, on_point: &mut impl FnMut(&Point)) -> Result<(Vec<Point>, Stop)> {
        let mut points = Vec::new();
        let (mut avg, mut best) = (0.0, f64::INFINITY);
        for k in 0..self.steps {
            let learning_rate = self.rate(k);
            let loss = trainer.step_with_learning_rate(learning_rate)?;
            avg = self.smooth * avg + (1.0 - self.smooth) * loss;
            let smoothed_loss = avg / (1.0 - self.smooth.powi(k as i32 + 1));
            let p = Point { step: k + 1, learning_rate, loss, smoothed_loss };
            points.push(p);
            on_point(&p);
            if !smoothed_loss.is_finite() {
                return Ok((points, Stop::NotFinite { step: k + 1 }));
            }
            best = best.min(smoothed_loss);
            if smoothed_loss > self.diverge * best {
                return Ok((points, Stop::Diverged { step: k + 1 }));
            }
        }
        Ok((points, Stop::Completed))
    }
}

/// The suggestions on a curve: `(steepest, minimum / 10)`.
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
/// let (steep, min) = suggest(&points);
/// assert!((steep.unwrap().learning_rate.log10() - -3.05).abs() < 0.06);
/// assert!((min.unwrap().learning_rate.log10() - -2.0).abs() < 1e-9);
/// ```
pub fn suggest(points: &[Point]) -> (Option<Suggestion>, Option<Suggestion>) {
    let finite = points.iter().position(|p| !p.smoothed_loss.is_finite()).unwrap_or(points.len());
    let (lo, hi) = (points.len() / 10, finite.saturating_sub(5));
    if hi < lo + 2 {
        return (None, None);
    }
    let window = &points[lo..hi];
    let mut steepest: Option<(f64, usize)> = None;
    for (i, w) in window.windows(2).enumerate() {
        let dx = w[1].learning_rate.ln() - w[0].learning_rate.ln();
        if dx <= 0.0 {
            continue;
        }
        let slope = (w[1].smoothed_loss - w[0].smoothed_loss) / dx;
        if steepest.is_none_or(|(s, _)| slope < s) {
            steepest = Some((slope, lo + i));
        }
    }
    let steepest = steepest.map(|(_, index)| Suggestion { learning_rate: points[index].learning_rate, index });
    let min = (lo..hi).min_by(|&a, &b| points[a].smoothed_loss.total_cmp(&points[b].smoothed_loss));
    let minimum = min.map(|m| {
        let learning_rate = points[m].learning_rate / 10.0;
        let distance = |p: &Point| (p.learning_rate.ln() - learning_rate.ln()).abs();
        let index = (0..=m).min_by(|&a, &b| distance(&points[a]).total_cmp(&distance(&points[b]))).unwrap_or(m);
        Suggestion { learning_rate, index }
    });
    (steepest, minimum)
}
