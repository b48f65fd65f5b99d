//! The learning-rate range test ("LR finder"): train briefly from the initial weights while
//! the rate grows each step, watch the smoothed loss, stop when it diverges, suggest a rate, and put
//! the weights back.
//!
//! The choices, where fastai and pytorch-lr-finder differ:
//! - rates: `start·(end/start)^(k/(steps−1))` (or linear), both ends included (pytorch-lr-finder;
//!   fastai never reaches `end`);
//! - smoothing: fastai's debiased moving average, `avg = β·avg + (1−β)·loss`,
//!   `smoothed = avg / (1 − β^(k+1))`;
//! - stop: when the smoothed loss exceeds `diverge` × its minimum or is not finite (fastai v1); the
//!   diverging point is kept;
//! - suggestions: fastai's four rules, on the curve without its first tenth and last five points
//!   ([`suggest`]).
//!
//! Beyond both, against the complaints their users file:
//! - `runs` K > 1 repeats the test from the same weights, run `i` with its own seeded data order
//!   (run 0 the config's); the curve is, at each rate, the mean of the runs' smoothed losses, with
//!   their minimum and maximum as a band, and the suggestions are read off the mean. Each run stops
//!   at its own divergence; the curve covers the rates every run reached (the shortest run's), so
//!   a mean is never taken over fewer runs;
//! - `batches_per_step` B > 1 takes B training steps at each rate; the point's loss is the mean
//!   of the B batches' losses (each measured before its own update), and that mean is smoothed;
//! - afterwards everything a step changes is put back ([`Trainer::snapshot`]): weights,
//!   optimizer slots, `global_step`, moving statistics, the random ops' streams and the data's
//!   place and order, so a run that follows trains exactly as without the test.

mod runs;
mod suggest;

pub use suggest::{Suggestion, Suggestions, suggest};

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
    /// How many tests, each with its own data order.
    pub runs: u64,
    /// Training steps (batches) at each rate, whose losses are averaged.
    pub batches_per_step: u64,
}

impl Default for RangeTest {
    fn default() -> Self {
        RangeTest {
            start: 1e-7,
            end: 10.0,
            steps: 100,
            sweep: Sweep::Exp,
            smooth: 0.98,
            diverge: 4.0,
            runs: 1,
            batches_per_step: 1,
        }
    }
}

/// One rate of the test: of one run, or of the runs' mean curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The rate's number (1 for the first).
    pub step: u64,
    pub learning_rate: f64,
    pub loss: f64,
    pub smoothed_loss: f64,
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

/// The spread of the runs' smoothed losses at one rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// One run of the test: its curve and why it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCurve {
    pub points: Vec<Point>,
    pub stop: Stop,
}

/// The test's result: the mean curve over the runs, its band, each run, and the suggestions.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeTestResult {
    /// At each rate every run reached: the mean loss and the mean smoothed loss.
    pub points: Vec<Point>,
    /// At each point, the lowest and highest smoothed loss of the runs.
    pub band: Vec<Band>,
    pub runs: Vec<RunCurve>,
    /// Read off [`points`](Self::points).
    pub suggestions: Suggestions,
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
        if self.runs == 0 {
            return Err(Error::argument(f, "--runs", "must be at least 1, got 0"));
        }
        if self.batches_per_step == 0 {
            return Err(Error::argument(f, "--batches-per-step", "must be at least 1, got 0"));
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

    /// Training steps of the whole test when no run stops early.
    pub fn total_steps(&self) -> u64 {
        self.steps.saturating_mul(self.batches_per_step).saturating_mul(self.runs)
    }

    /// Runs the test on `trainer`, calling `on_point(run, point)` after each rate of each run
    /// (runs count from 0), and puts back everything the steps changed (also when a step fails).
    pub fn run(&self, trainer: &mut Trainer, mut on_point: impl FnMut(usize, &Point)) -> Result<RangeTestResult> {
        self.validate()?;
        let snapshot = trainer.snapshot()?;
        let seed = trainer.shuffle_seed;
        let mut runs = Vec::new();
        let mut result = Ok(());
        for i in 0..self.runs {
            let swept = trainer.reset(&snapshot).and_then(|()| {
                trainer.set_shuffle_seed(runs::seed(seed, i));
                self.sweep_rates(trainer, &mut |p| on_point(i as usize, p))
            });
            match swept {
                Ok(r) => runs.push(r),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        trainer.reset(&snapshot)?;
        result?;
        let (points, band) = runs::mean(&runs);
        let suggestions = suggest(&points);
        Ok(RangeTestResult { points, band, runs, suggestions })
    }
}
