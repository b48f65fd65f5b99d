//! `stepflow lr-find CONFIG`: the learning-rate range test. Trains from the initial weights while
//! the rate grows each step (several times with `--runs`), prints the suggested rates, and writes
//! the curve as CSV, PNG and SVG.

use super::progress::{bar, cell, num, stop_on_ctrl_c, stop_requested};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use stepflow::fit::{CsvLog, RangeTest, RangeTestResult, Stop, Suggestion, Sweep, Trainer};
use stepflow::plot::{Band, Chart, Corner, Marker, Series};
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
    /// Repeat the test this many times from the same weights, each with its own data order; the
    /// curve is their mean, with their range as a band.
    #[arg(long, default_value_t = 1)]
    runs: u64,
    /// Train this many batches at each rate; the point's loss is their mean.
    #[arg(long, default_value_t = 1)]
    batches_per_step: u64,
    /// Where lr_find.csv, lr_find.png and lr_find.svg go.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Also write the curve (loss, smoothed loss and rate against the test's step) and the
    /// suggestions as a TensorBoard event file into this directory.
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
        runs: a.runs,
        batches_per_step: a.batches_per_step,
    };
    test.validate()?;
    let mut t = Trainer::from_file(&a.config)?;
    let r = run(&test, &mut t)?;
    report(&test, &r);
    let mut files = write(&a.out, &r)?;
    if let Some(dir) = &a.tensorboard {
        files.push(super::tensorboard::range_test(dir, &r)?);
    }
    println!("wrote {}", files.join(", "));
    Ok(())
}

/// Runs `test` on `t` with a progress bar across the runs; Ctrl-C ends the process.
pub fn run(test: &RangeTest, t: &mut Trainer) -> Result<RangeTestResult> {
    stop_on_ctrl_c();
    let progress = bar(test.steps.saturating_mul(test.runs));
    let result = test.run(t, |run, p| {
        // A run that diverged early leaves its remaining rates untaken: the bar skips them.
        progress.set_position((run as u64).saturating_mul(test.steps).saturating_add(p.step));
        let of = if test.runs > 1 { format!("run {}/{} · ", run + 1, test.runs) } else { String::new() };
        progress.set_message(format!("· {of}lr {} · loss {} ·", num(p.learning_rate), num(p.smoothed_loss)));
        if stop_requested() {
            progress.abandon();
            eprintln!("interrupted at step {} of run {}; nothing written", p.step, run + 1);
            std::process::exit(130);
        }
    });
    progress.finish_and_clear();
    result
}

/// Why a run ended, in words.
fn stopped(test: &RangeTest, stop: Stop) -> String {
    match stop {
        Stop::Completed => "ran every step".to_string(),
        Stop::Diverged { step } => {
            format!("stopped at step {step}: the smoothed loss passed {} × its minimum", test.diverge)
        }
        Stop::NotFinite { step } => format!("stopped at step {step}: the loss is not finite"),
    }
}

/// What the test found: the curve's extent, how each run ended, one line per suggestion.
pub fn report(test: &RangeTest, r: &RangeTestResult) {
    let last = r.points.last().map(|p| p.learning_rate).unwrap_or(test.start);
    let per = match test.batches_per_step {
        1 => String::new(),
        b => format!(" ({b} batches per step)"),
    };
    let range = format!("learning rate {} → {}", num(test.start), num(last));
    if let [only] = r.runs.as_slice() {
        println!("range test: {} steps{per}, {range}; {}", r.points.len(), stopped(test, only.stop));
    } else {
        println!(
            "range test: {} runs{per}, mean curve over the {} steps all reached, {range}",
            r.runs.len(),
            r.points.len()
        );
        for (i, run) in r.runs.iter().enumerate() {
            println!("  run {}: {} steps, {}", i + 1, run.points.len(), stopped(test, run.stop));
        }
    }
    let s = &r.suggestions;
    if !s.enough_points {
        println!("too few steps before divergence to suggest a rate; lower --start or raise --steps");
        return;
    }
    if !s.fell {
        println!(
            "the loss never fell: no rate to suggest; its lowest smoothed value is not 5% below where the \
             curve starts. Widen the range (--start, --end) or check that the config's learning_rate drives training"
        );
        return;
    }
    println!("suggested learning rates:");
    for (name, suggestion) in s.named() {
        let label = label(name);
        match suggestion {
            Some(x) => println!("  {label:<18}{:<12}{}", num(x.learning_rate), explain(name, x, r)),
            None => println!("  {label:<18}none: fewer than 16 points on the trimmed curve"),
        }
    }
}

/// The rule's name as printed, the default marked.
fn label(name: &str) -> String {
    if name == "valley" { format!("{name} (default)") } else { name.to_string() }
}

fn explain(name: &str, s: Suggestion, r: &RangeTestResult) -> String {
    match name {
        "valley" => "halfway down the longest descent of the smoothed loss".into(),
        "slide" => "where the slope stops changing, walking back from the end of the curve".into(),
        "steepest" => "the steepest descent of the smoothed loss".into(),
        _ => {
            let lowest =
                r.points.iter().map(|p| p.smoothed_loss).filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
            let at =
                r.points.iter().find(|p| p.smoothed_loss == lowest).map_or(s.learning_rate * 10.0, |p| p.learning_rate);
            format!("the smoothed loss is lowest at {}", num(at))
        }
    }
}

/// The curve as CSV (the mean over the runs, and the range of their smoothed losses), and the
/// chart as PNG and SVG.
pub fn write(dir: &Path, r: &RangeTestResult) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let csv = dir.join("lr_find.csv");
    let header = ["step", "learning_rate", "loss", "smoothed_loss", "smoothed_loss_min", "smoothed_loss_max"];
    let mut log = CsvLog::create(&csv, &header.map(String::from))?;
    for (p, b) in r.points.iter().zip(&r.band) {
        let row = [cell(p.learning_rate), cell(p.loss), cell(p.smoothed_loss), cell(b.low), cell(b.high)];
        log.write(&[&[p.step.to_string()], &row[..]].concat())?;
    }
    log.flush()?;
    let chart = chart(r);
    let mut files = vec![csv.display().to_string()];
    for ext in ["png", "svg"] {
        let path = dir.join(format!("lr_find.{ext}"));
        chart.save(&path)?;
        files.push(path.display().to_string());
    }
    Ok(files)
}

/// The loss against the rate: the batch loss faint, the smoothed loss, the runs' band, and a
/// mark per suggestion.
fn chart(r: &RangeTestResult) -> Chart {
    let mut chart = Chart::new("learning-rate range test", "learning rate", "loss");
    chart.log_x = true;
    // The curve starts high on the left and ends high on the right: the lower left is free.
    chart.legend = Corner::LowerLeft;
    let several = r.runs.len() > 1;
    let pts = |f: fn(&stepflow::fit::Point) -> f64| r.points.iter().map(|p| (p.learning_rate, f(p))).collect();
    if several {
        let band = r.points.iter().zip(&r.band).map(|(p, b)| (p.learning_rate, b.low, b.high)).collect();
        chart.bands.push(Band { label: format!("smoothed loss, range of {} runs", r.runs.len()), points: band });
    }
    let mean = if several { " (mean of the runs)" } else { "" };
    chart.series.push(Series::faint(format!("batch loss{mean}"), pts(|p| p.loss)));
    chart.series.push(Series::line(format!("smoothed loss{mean}"), pts(|p| p.smoothed_loss)));
    let finite = |v: &f64| v.is_finite();
    let smoothed: Vec<f64> = r.points.iter().map(|p| p.smoothed_loss).filter(finite).collect();
    let lows = r.band.iter().map(|b| b.low);
    let lowest = r.points.iter().flat_map(|p| [p.loss, p.smoothed_loss]).chain(lows).filter(finite).reduce(f64::min);
    if let (Some(first), Some(low)) = (smoothed.first(), lowest) {
        // The interesting part: from the lowest loss up to a little above where it started.
        let high = smoothed.iter().copied().fold(*first, f64::max).min(first * 1.2).max(low * 1.1);
        chart.y_range = Some((low - (high - low) * 0.05, high));
    }
    for (name, s) in r.suggestions.named() {
        if let Some(s) = s {
            let label = format!("{}: {}", label(name), num(s.learning_rate));
            chart.markers.push(Marker { label, x: s.learning_rate, y: s.loss });
        }
    }
    chart
}
