//! One run of the range test, the seeds of the runs' data orders, and the runs' mean curve.

use super::{Band, Point, RangeTest, RunCurve, Stop};
use crate::error::Result;
use crate::fit::Trainer;

impl RangeTest {
    /// One run: the rates in turn, `batches_per_step` steps at each, until the end or divergence.
    pub(super) fn sweep_rates(&self, trainer: &mut Trainer, on_point: &mut impl FnMut(&Point)) -> Result<RunCurve> {
        let mut points = Vec::new();
        let (mut avg, mut best) = (0.0, f64::INFINITY);
        for k in 0..self.steps {
            let learning_rate = self.rate(k);
            let mut sum = 0.0;
            for _ in 0..self.batches_per_step {
                sum += trainer.step_with_learning_rate(learning_rate)?;
            }
            let loss = sum / self.batches_per_step as f64;
            avg = self.smooth * avg + (1.0 - self.smooth) * loss;
            let smoothed_loss = avg / (1.0 - self.smooth.powi(i32::try_from(k + 1).unwrap_or(i32::MAX)));
            let p = Point { step: k + 1, learning_rate, loss, smoothed_loss };
            points.push(p);
            on_point(&p);
            if !smoothed_loss.is_finite() {
                return Ok(RunCurve { points, stop: Stop::NotFinite { step: k + 1 } });
            }
            best = best.min(smoothed_loss);
            if smoothed_loss > self.diverge * best {
                return Ok(RunCurve { points, stop: Stop::Diverged { step: k + 1 } });
            }
        }
        Ok(RunCurve { points, stop: Stop::Completed })
    }
}

/// The shuffle seed of run `run`: the config's for the first, so that one run sees the data as
/// training does; a SplitMix64 mix of both for the others.
pub(super) fn seed(base: u64, run: u64) -> u64 {
    if run == 0 {
        return base;
    }
    let mut z = base ^ run.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// At each rate every run reached: the mean loss and smoothed loss, and the smoothed losses'
/// range.
pub(super) fn mean(runs: &[RunCurve]) -> (Vec<Point>, Vec<Band>) {
    let n = runs.iter().map(|r| r.points.len()).min().unwrap_or(0);
    let k = runs.len().max(1) as f64;
    (0..n)
        .map(|i| {
            let at = || runs.iter().map(move |r| r.points[i]);
            let first = runs[0].points[i];
            let loss = at().map(|p| p.loss).sum::<f64>() / k;
            let smoothed_loss = at().map(|p| p.smoothed_loss).sum::<f64>() / k;
            let low = at().map(|p| p.smoothed_loss).fold(f64::INFINITY, f64::min);
            let high = at().map(|p| p.smoothed_loss).fold(f64::NEG_INFINITY, f64::max);
            (Point { loss, smoothed_loss, ..first }, Band { low, high })
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(smoothed: &[f64]) -> RunCurve {
        let points = (smoothed.iter().enumerate())
            .map(|(i, &s)| Point {
                step: i as u64 + 1,
                learning_rate: 0.1 * (i + 1) as f64,
                loss: 2.0 * s,
                smoothed_loss: s,
            })
            .collect();
        RunCurve { points, stop: Stop::Completed }
    }

    #[test]
    fn the_mean_curve_covers_the_rates_every_run_reached() {
        let (points, band) = mean(&[run(&[3.0, 2.0, 1.0]), run(&[1.0, 4.0]), run(&[2.0, 3.0, 5.0, 6.0])]);
        assert_eq!(points.len(), 2);
        assert_eq!(points.iter().map(|p| p.smoothed_loss).collect::<Vec<_>>(), [2.0, 3.0]);
        assert_eq!(points.iter().map(|p| p.loss).collect::<Vec<_>>(), [4.0, 6.0]);
        assert_eq!((points[1].step, points[1].learning_rate), (2, 0.2));
        assert_eq!(band, [Band { low: 1.0, high: 3.0 }, Band { low: 2.0, high: 4.0 }]);
    }

    #[test]
    fn the_first_run_keeps_the_configs_seed_and_the_others_differ() {
        assert_eq!(seed(7, 0), 7);
        let seeds: Vec<u64> = (0..5).map(|i| seed(7, i)).collect();
        assert!(seeds.iter().enumerate().all(|(i, a)| seeds[..i].iter().all(|b| a != b)));
        assert_ne!(seed(7, 1), seed(8, 1));
    }
}
