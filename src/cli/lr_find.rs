//! `stepflow lr-find CONFIG`: the learning-rate range test. Trains from the initial weights while
//! the rate grows each step, prints the suggested rates, and writes the curve as CSV, PNG and SVG.

use super::progress::{bar, cell, num, stop_on_ctrl_c, stop_requested};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use stepflow::fit::{CsvLog, RangeTest, RangeTestResult, Stop, Sweep, Trainer};
use stepflow::plot::{Chart, Marker, Series};
use stepflow::{Error, Result};

#[derive(Args)]
pub struct LrFindArgs {
    /// The training config; the rate is fed to its `learning_rate` tensor.
    config: PathBuf,
    /// The first learning rate.
    #[arg(long, default_value_t = 1e-7, allow_negative_numbers = true)]
    start: f64,
    /// The last learning rate.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    end: f64,
    /// The number of steps (rates).
    #[arg(long, default_value_t = 100)]
    steps: u64,
    /// How the rate grows: exp (the same factor each step) or linear.
    #[arg(long, value_enum, default_value_t = Mode::Exp)]
    mode: Mode,
    /// The smoothing factor of the loss's moving average, in [0, 1).
    #[arg(long, default_value_t = 0.98)]
    smooth: f64,
    /// Stop when the smoothed loss exceeds this many times its minimum.
    #[arg(long, default_value_t = 4.0)]
    diverge: f64,
    /// Where lr_find.csv, lr_find.png and lr_find.svg go.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Also write the curve (loss, smoothed loss and rate against the test's step) as a
    /// TensorBoard event file into this directory.
    #[arg(long)]
    tensorboard: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Exp,
    Linear,
}

pub fn lr_find(a: LrFindArgs) -> Result<()> {
    let test = RangeTest {
        start: a.start,
        end: a.end,
        steps: a.steps,
        sweep: match a.mode {
            Mode::Exp => Sweep::Exp,
            Mode::Linear => Sweep::Linear,
        },
        smooth: a.smooth,
        diverge: a.diverge,
    };
    test.validate()?;
    let mut t = Trainer::from_file(&a.config)?;
    stop_on_ctrl_c();
    let progress = bar(a.steps);
    let result = test.run(&mut t, |p| {
        progress.inc(1);
        progress.set_message(format!("· lr {} · loss {} ·", num(p.learning_rate), num(p.smoothed_loss)));
        if stop_requested() {
            progress.abandon();
            eprintln!("interrupted at step {}; nothing written", p.step);
            std::process::exit(130);
        }
    });
    progress.finish_and_clear();
    let r = result?;
    let how = match r.stop {
        Stop::Completed => "ran every step".to_string(),
        Stop::Diverged { step } => {
            format!("stopped at step {step}: the smoothed loss passed {} × its minimum", a.diverge)
        }
        Stop::NotFinite { step } => format!("stopped at step {step}: the loss is not finite"),
    };
    let last = r.points.last().map(|p| p.learning_rate).unwrap_or(a.start);
    println!("range test: {} steps, learning rate {} → {}; {how}", r.points.len(), num(a.start), num(last));
    match (r.steepest, r.minimum) {
        (Some(s), Some(m)) => {
            println!("suggested learning rates:");
            let lowest = num(m.learning_rate * 10.0);
            println!("  {}  minimum / 10 (the smoothed loss is lowest at {lowest})", num(m.learning_rate));
            println!("  {}  steepest descent of the smoothed loss", num(s.learning_rate));
        }
        _ => println!("too few steps before divergence to suggest a rate; lower --start or raise --steps"),
    }
    let mut files = write(&a.out, &r)?;
    if let Some(dir) = &a.tensorboard {
        files.push(super::tensorboard::range_test(dir, &r.points)?);
    }
    println!("wrote {}", files.join(", "));
    Ok(())
}

/// The curve as CSV, and the chart as PNG and SVG.
fn write(dir: &Path, r: &RangeTestResult) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let csv = dir.join("lr_find.csv");
    let header: Vec<String> = ["step", "learning_rate", "loss", "smoothed_loss"].map(String::from).to_vec();
    let mut log = CsvLog::create(&csv, &header)?;
    for p in &r.points {
        log.write(&[p.step.to_string(), cell(p.learning_rate), cell(p.loss), cell(p.smoothed_loss)])?;
    }
    log.flush()?;
    let mut chart = Chart::new("learning-rate range test", "learning rate", "loss");
    chart.log_x = true;
    let pts = |f: fn(&stepflow::fit::Point) -> f64| r.points.iter().map(|p| (p.learning_rate, f(p))).collect();
    chart.series.push(Series::faint("batch loss", pts(|p| p.loss)));
    chart.series.push(Series::line("smoothed loss", pts(|p| p.smoothed_loss)));
    let finite = |v: &f64| v.is_finite();
    let smoothed: Vec<f64> = r.points.iter().map(|p| p.smoothed_loss).filter(finite).collect();
    let lowest = r.points.iter().flat_map(|p| [p.loss, p.smoothed_loss]).filter(finite).reduce(f64::min);
    if let (Some(first), Some(low)) = (smoothed.first(), lowest) {
        // The interesting part: from the lowest loss up to a little above where it started.
        let high = smoothed.iter().copied().fold(*first, f64::max).min(first * 1.2).max(low * 1.1);
        chart.y_range = Some((low - (high - low) * 0.05, high));
    }
    for (name, s) in [("minimum / 10", r.minimum), ("steepest", r.steepest)] {
        if let Some(s) = s {
            let y = r.points[s.index].smoothed_loss;
            chart.markers.push(Marker { label: format!("{name}: {}", num(s.learning_rate)), x: s.learning_rate, y });
        }
    }
    let mut files = vec![csv.display().to_string()];
    for ext in ["png", "svg"] {
        let path = dir.join(format!("lr_find.{ext}"));
        chart.save(&path)?;
        files.push(path.display().to_string());
    }
    Ok(files)
}
