//! `--tensorboard DIR`: a training run or a range test as a TensorBoard event file. Scalars are
//! tagged with the config's names and stepped by the global step; the graph is written once, and
//! histograms of the trainable variables and their gradients every `--histogram-every` steps.

use std::path::Path;
use stepflow::fit::{EpochLog, Point, StepLog, TrainConfig, Trainer, base_dir};
use stepflow::summary::FileWriter;
use stepflow::{Result, Tensor};

/// The event file of one `stepflow train` invocation.
pub struct Board {
    writer: FileWriter,
    step_tags: Vec<String>,
    eval_tags: Vec<String>,
    /// Steps between histograms; 0 for none.
    histogram_every: u64,
}

fn step_of(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// The trainer of `config`, with the gradients the histograms need; when the graph's gradients
/// cannot be built, a plain one and a warning (the scalars and the graph are still written).
pub fn trainer(config: &Path) -> Result<Trainer> {
    let file = config.display().to_string();
    match Trainer::with_gradients(TrainConfig::load(config)?, &base_dir(config), &file) {
        Ok(t) => Ok(t),
        Err(e) => {
            eprintln!("warning: tensorboard: no gradient histograms: {e}");
            Trainer::from_file(config)
        }
    }
}

impl Board {
    /// A new event file in `dir` for the run of `t` (built from `config`), starting at its
    /// position; `histogram_every` defaults to once per epoch.
    pub fn open(dir: &Path, config: &Path, t: &Trainer, histogram_every: Option<u64>) -> Result<Board> {
        let mut writer = FileWriter::new(dir)?;
        // A resumed run replaces, in TensorBoard's view, what an earlier file of this directory
        // holds past the checkpoint.
        writer.add_session_start(step_of(t.position().step + 1))?;
        // The graph as the config builds it, without the gradients added for the histograms.
        let graph = t.config().graph(&base_dir(config), &config.display().to_string())?;
        if let Err(e) = writer.add_graph(&graph) {
            eprintln!("warning: tensorboard: graph not written: {e}");
        }
        writer.flush()?;
        Ok(Board {
            writer,
            step_tags: t.step_names().to_vec(),
            eval_tags: t.eval_names().iter().map(|n| format!("val_{n}")).collect(),
            histogram_every: histogram_every.unwrap_or(t.steps_per_epoch()),
        })
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// Whether step `step` writes histograms.
    fn histograms_due(&self, step: u64) -> bool {
        self.histogram_every > 0 && step.is_multiple_of(self.histogram_every)
    }

    /// One step of `t`, its scalars (and histograms when due) written.
    pub fn train_step(&mut self, t: &mut Trainer) -> Result<(StepLog, Option<EpochLog>)> {
        let (s, e) = if self.histograms_due(t.position().step + 1) {
            let g = t.step_with_gradients()?;
            self.histograms(t, g.log.step, &g.gradients)?;
            (g.log, g.epoch)
        } else {
            t.step()?
        };
        self.step(&s)?;
        if let Some(e) = &e {
            self.epoch(e)?;
        }
        Ok((s, e))
    }

    /// The step's scalars: `loss`, `learning_rate` and the config's `log`.
    fn step(&mut self, s: &StepLog) -> Result<()> {
        for (tag, v) in self.step_tags.iter().zip(&s.values) {
            self.writer.add_scalar(tag, *v, step_of(s.step))?;
        }
        Ok(())
    }

    /// The epoch's validation scalars: `val_loss` and `val_` each metric.
    fn epoch(&mut self, e: &EpochLog) -> Result<()> {
        for (tag, v) in self.eval_tags.iter().zip(&e.values) {
            self.writer.add_scalar(tag, *v, step_of(e.step))?;
        }
        Ok(())
    }

    /// Histograms of every trainable variable (its value after the step) and of `gradients`,
    /// tagged `NAME` and `NAME/gradient`.
    fn histograms(&mut self, t: &Trainer, step: u64, gradients: &[(String, Tensor)]) -> Result<()> {
        for (name, value) in t.trainable_values()? {
            self.writer.add_histogram(&name, &value.to_f64_vec(), step_of(step))?;
        }
        for (name, grad) in gradients {
            self.writer.add_histogram(&format!("{name}/gradient"), &grad.to_f64_vec(), step_of(step))?;
        }
        Ok(())
    }

    /// Writes the buffered events out.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }
}

/// The range test's curve: `loss`, `smoothed_loss` and `learning_rate` against the test's step.
pub fn range_test(dir: &Path, points: &[Point]) -> Result<String> {
    let mut writer = FileWriter::new(dir)?;
    for p in points {
        let step = step_of(p.step);
        writer.add_scalar("loss", p.loss, step)?;
        writer.add_scalar("smoothed_loss", p.smoothed_loss, step)?;
        writer.add_scalar("learning_rate", p.learning_rate, step)?;
    }
    writer.flush()?;
    Ok(writer.path().display().to_string())
}
