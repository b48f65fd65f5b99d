//! The benchmarks' timing protocol, shared by the examples that measure.

use std::time::Instant;
use stepflow::Result;

/// Median over 5 rounds (after a warm-up round) of the mean microseconds of one call.
pub fn time(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..runs {
        f()?;
    }
    let mut rounds = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..runs {
            f()?;
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / runs as f64);
    }
    rounds.sort_by(f64::total_cmp);
    Ok(rounds[2])
}
