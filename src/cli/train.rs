//! `stepflow train CONFIG`: trains with a progress bar, prints a line per epoch and a summary,
//! writes the step and epoch logs as CSV, optionally checkpoints, resumes and plots.

use super::profile::ProfileArgs;
use super::progress::{bar, cell, num, stop_on_ctrl_c, stop_requested};
use super::tensorboard::{self, Board};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use stepflow::fit::{CsvLog, EpochLog, RangeTest, Trainer};
use stepflow::plot::{Chart, Series, spans_decades};
use stepflow::{Error, Result};

#[derive(Args)]
pub struct TrainArgs {
    /// The training config (see README: "Training configs").
    config: PathBuf,
    /// Where the logs go (steps.csv, epochs.csv) [default: runs/<config name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Save checkpoints here: every --save-every steps, at the end, and on Ctrl-C.
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Steps between checkpoints (0: only at the end and on Ctrl-C).
    #[arg(long, default_value_t = 0)]
    save_every: u64,
    /// Continue from the checkpoint in this directory (and keep saving there unless
    /// --checkpoint-dir says otherwise).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Stop at this step (counting the steps before a resume).
    #[arg(long)]
    max_steps: Option<u64>,
    /// Feed this constant learning rate instead of the config's schedule; `auto` runs the
    /// range test first (lr-find's defaults) and uses its default suggestion (valley), writing
    /// the test's curve beside the logs (lr_find.csv, .png, .svg).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_rate, value_name = "RATE|auto")]
    learning_rate: Option<Rate>,
    /// Draw loss.png/svg and learning_rate.png/svg into this directory at the end.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Write a TensorBoard event file into this directory: scalars every step and epoch, the
    /// graph, and histograms of the variables and their gradients.
    #[arg(long)]
    tensorboard: Option<PathBuf>,
    /// Steps between histograms in the event file (0: none) [default: once per epoch].
    #[arg(long, requires = "tensorboard")]
    histogram_every: Option<u64>,
    #[command(flatten)]
    look: ProfileArgs,
}

/// A learning rate given on the command line.
#[derive(Clone, Copy, Debug)]
enum Rate {
    /// The range test's choice.
    Auto,
    Fixed(f64),
}

fn parse_rate(s: &str) -> std::result::Result<Rate, String> {
    if s == "auto" {
        return Ok(Rate::Auto);
    }
    s.parse().map(Rate::Fixed).map_err(|_| format!("expected a number or 'auto', got '{s}'"))
}

/// `--learning-rate auto`: the range test on `t` (put back afterwards), its curve written to
/// `out`, its report printed; feeds its default suggestion from now on and returns it.
fn auto_rate(t: &mut Trainer, out: &Path, tensorboard: Option<&Path>) -> Result<f64> {
    let test = RangeTest::default();
    let r = super::lr_find::run(&test, t)?;
    super::lr_find::report(&test, &r);
    let mut files = super::lr_find::write(out, &r)?;
    if let Some(dir) = tensorboard {
        files.push(tensorboard::range_test(&dir.join("lr_find"), &r)?);
    }
    println!("wrote {}", files.join(", "));
    let Some(choice) = r.suggestions.default_choice() else {
        return Err(Error::argument(
            "train",
            "--learning-rate",
            "auto: the range test found no rate (see above); give a number",
        ));
    };
    t.set_learning_rate(choice.learning_rate)?;
    println!(
        "learning rate auto: training with {} (valley, the range test's default suggestion)",
        num(choice.learning_rate)
    );
    Ok(choice.learning_rate)
}

/// The column names of the two logs.
fn headers(t: &Trainer) -> (Vec<String>, Vec<String>) {
    let mut steps = vec!["step".to_string(), "epoch".to_string()];
    steps.extend(t.step_names().iter().cloned());
    let mut epochs = vec!["epoch".to_string(), "step".to_string(), "train_loss".to_string()];
    epochs.extend(t.eval_names().iter().map(|n| format!("val_{n}")));
    epochs.extend(["learning_rate".to_string(), "reduced".to_string()]);
    (steps, epochs)
}

pub fn train(a: TrainArgs) -> Result<ExitCode> {
    let mut t = match &a.tensorboard {
        Some(_) => tensorboard::trainer(&a.config)?,
        None => Trainer::from_file(&a.config)?,
    };
    t.set_session_options(a.look.session_options());
    let stem = a.config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "train".into());
    let out = a.out.clone().unwrap_or_else(|| Path::new("runs").join(stem));
    let chosen = match a.learning_rate {
        None => None,
        Some(Rate::Fixed(rate)) => {
            t.set_learning_rate(rate)?;
            None
        }
        Some(Rate::Auto) if a.resume.is_some() => {
            return Err(Error::argument(
                "train",
                "--learning-rate",
                "auto cannot continue a run (--resume): give the rate the first run chose as a number",
            ));
        }
        Some(Rate::Auto) => Some(auto_rate(&mut t, &out, a.tensorboard.as_deref())?),
    };
    if let Some(dir) = &a.resume {
        t.restore(dir)?;
        println!("resumed from {} at step {}", dir.display(), t.position().step);
    }
    let ckpt_dir = a.checkpoint_dir.clone().or_else(|| a.resume.clone());
    let (mut steps_log, mut epochs_log) = open_logs(&t, &out, a.resume.is_some())?;
    let mut board = a.tensorboard.as_deref().map(|d| Board::open(d, &a.config, &t, a.histogram_every)).transpose()?;
    if let (Some(b), Some(rate)) = (&board, chosen) {
        b.scalar("lr_find/chosen_learning_rate", rate, 0);
    }
    if a.look.enabled() {
        t.profile_steps();
    }
    let end = a.max_steps.map_or(t.total_steps(), |m| m.min(t.total_steps()));
    let first = t.position().step;
    let epochs = t.total_steps().div_ceil(t.steps_per_epoch().max(1));
    let lr_column = t.step_names().iter().position(|n| n == "learning_rate");
    stop_on_ctrl_c();
    let progress = bar(end.saturating_sub(first));
    let started = Instant::now();
    let mut last_message = Instant::now() - Duration::from_secs(1);
    let mut interrupted = false;
    while t.position().step < end {
        if stop_requested() {
            interrupted = true;
            break;
        }
        let (s, e) = match &mut board {
            Some(b) => b.train_step(&mut t),
            None => t.step(),
        }
        .inspect_err(|_| progress.abandon())?;
        let mut row = vec![s.step.to_string(), s.epoch.to_string()];
        row.extend(s.values.iter().map(|&v| cell(v)));
        steps_log.write(&row)?;
        progress.inc(1);
        if last_message.elapsed() > Duration::from_millis(100) {
            let lr = lr_column.map(|i| format!(" · lr {}", num(s.values[i]))).unwrap_or_default();
            progress.set_message(format!("· loss {}{lr} ·", num(s.values[0])));
            last_message = Instant::now();
        }
        if let Some(e) = e {
            let step_lr = lr_column.map(|i| s.values[i]);
            progress.suspend(|| println!("{}", epoch_line(&t, &e, epochs, step_lr)));
            log_epoch(&mut epochs_log, &e, step_lr)?;
        }
        if let Some(dir) = &ckpt_dir
            && a.save_every > 0
            && t.position().step % a.save_every == 0
        {
            steps_log.flush()?;
            t.save(dir)?;
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    steps_log.flush()?;
    epochs_log.flush()?;
    if let Some(b) = &mut board {
        b.finish()?;
    }
    let saved = match &ckpt_dir {
        Some(dir) => Some((dir, t.save(dir)?)),
        None => None,
    };
    let done = t.position().step - first;
    if interrupted {
        let ckpt = match &saved {
            Some((dir, _)) => format!("; checkpoint saved, continue with --resume {}", dir.display()),
            None => "; no checkpoint (use --checkpoint-dir to keep one)".into(),
        };
        println!("interrupted at step {}{ckpt}", t.position().step);
        return Ok(ExitCode::from(130));
    }
    summary(&t, done, elapsed)?;
    let mut wrote = vec![steps_log.path().display().to_string(), epochs_log.path().display().to_string()];
    if let Some((_, file)) = saved {
        wrote.push(file.display().to_string());
    }
    if let Some(b) = &board {
        wrote.push(b.path().display().to_string());
    }
    if let Some(dir) = &a.plot {
        wrote.extend(plot(dir, steps_log.path(), epochs_log.path())?);
    }
    if let Some(p) = t.profile() {
        wrote.extend(a.look.report(p)?);
    }
    println!("wrote {}", wrote.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// The end-of-training lines: speed, then the final validation values.
fn summary(t: &Trainer, done: u64, elapsed: f64) -> Result<()> {
    let rate = num(done as f64 / elapsed.max(1e-9));
    let (now, total) = (t.position().step, t.total_steps());
    println!("trained {done} steps in {elapsed:.2} s ({rate} steps/s), now at step {now} of {total}");
    let values = t.final_evaluation()?;
    if !values.is_empty() {
        let parts: Vec<String> =
            t.eval_names().iter().zip(&values).map(|(n, v)| format!("validation {n} {}", num(*v))).collect();
        println!("{}", parts.join(", "));
    }
    Ok(())
}

/// The step and epoch logs in `out`: new ones, or when resuming the old ones cut back to the
/// checkpoint's step.
fn open_logs(t: &Trainer, out: &Path, resume: bool) -> Result<(CsvLog, CsvLog)> {
    let (step_header, epoch_header) = headers(t);
    let (steps, epochs) = (out.join("steps.csv"), out.join("epochs.csv"));
    if resume {
        let upto = t.position().step;
        Ok((CsvLog::resume(&steps, &step_header, 0, upto)?, CsvLog::resume(&epochs, &epoch_header, 1, upto)?))
    } else {
        Ok((CsvLog::create(&steps, &step_header)?, CsvLog::create(&epochs, &epoch_header)?))
    }
}

/// One row of `epochs.csv`, written through to the file.
fn log_epoch(log: &mut CsvLog, e: &EpochLog, step_lr: Option<f64>) -> Result<()> {
    let mut row = vec![e.epoch.to_string(), e.step.to_string(), cell(e.train_loss)];
    row.extend(e.values.iter().map(|&v| cell(v)));
    row.push(e.learning_rate.or(step_lr).map(cell).unwrap_or_default());
    row.push(u8::from(e.reduced).to_string());
    log.write(&row)?;
    log.flush()
}

/// `epoch  3/20  step 135  loss 0.0445  val_loss 0.2060  val_accuracy 0.9248  lr 0.003000`
fn epoch_line(t: &Trainer, e: &EpochLog, epochs: u64, step_lr: Option<f64>) -> String {
    let width = epochs.to_string().len();
    let mut line = format!("epoch {:>width$}/{epochs}  step {:>6}  loss {}", e.epoch, e.step, num(e.train_loss));
    for (n, v) in t.eval_names().iter().zip(&e.values) {
        line.push_str(&format!("  val_{n} {}", num(*v)));
    }
    if let Some(lr) = e.learning_rate.or(step_lr) {
        line.push_str(&format!("  lr {}", num(lr)));
    }
    if e.reduced {
        line.push_str("  (plateau: learning rate reduced)");
    }
    line
}

/// Reads a CSV log's columns as numbers.
fn read_columns(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let mut r = csv::Reader::from_path(path).map_err(|e| Error::format(path.display().to_string(), e.to_string()))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| Error::format(path.display().to_string(), e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::format(path.display().to_string(), e.to_string()))?;
        for (c, v) in cols.iter_mut().zip(rec.iter()) {
            c.push(v.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    Ok((header, cols))
}

/// Loss (training steps and validation epochs) and learning rate against step, as PNG and SVG.
fn plot(dir: &Path, steps: &Path, epochs: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (sh, sc) = read_columns(steps)?;
    let (eh, ec) = read_columns(epochs)?;
    let col = |h: &[String], c: &[Vec<f64>], name: &str| h.iter().position(|n| n == name).map(|i| c[i].clone());
    let step = col(&sh, &sc, "step").unwrap_or_default();
    let pairs = |x: &[f64], y: Vec<f64>| x.iter().copied().zip(y).collect::<Vec<_>>();
    let mut loss = Chart::new("loss", "step", "loss");
    let train_loss = col(&sh, &sc, "loss").unwrap_or_default();
    loss.log_y = spans_decades(&train_loss);
    let mut avg = 0.0;
    let smoothed: Vec<f64> = (train_loss.iter().enumerate())
        .map(|(i, l)| {
            avg = 0.9 * avg + 0.1 * l;
            avg / (1.0 - 0.9f64.powi(i as i32 + 1))
        })
        .collect();
    loss.series.push(Series::faint("training batch", pairs(&step, train_loss)));
    loss.series.push(Series::line("training, smoothed", pairs(&step, smoothed)));
    if let (Some(es), Some(vl)) = (col(&eh, &ec, "step"), col(&eh, &ec, "val_loss")) {
        loss.series.push(Series::points("validation", pairs(&es, vl)));
    }
    let mut charts = vec![("loss", loss)];
    if let Some(lr) = col(&sh, &sc, "learning_rate") {
        let mut c = Chart::new("learning rate", "step", "learning rate");
        c.log_y = spans_decades(&lr);
        c.series.push(Series::line("learning rate", pairs(&step, lr)));
        charts.push(("learning_rate", c));
    }
    let mut written = Vec::new();
    for (name, chart) in charts {
        for ext in ["png", "svg"] {
            let path = dir.join(format!("{name}.{ext}"));
            chart.save(&path)?;
            written.push(path.display().to_string());
        }
    }
    Ok(written)
}
