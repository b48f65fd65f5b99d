//! `--tensorboard DIR`: a training run or a range test as a TensorBoard event file. Scalars are
//! tagged with the config's names and stepped by the global step; the graph is written once, and
//! histograms of the trainable variables and their gradients every `--histogram-every` steps.
//!
//! As in TF1's `FileWriter`, the events are written by a thread of their own, so that training
//! does not wait for the graph's export, the histograms' buckets or the file.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use stepflow::fit::{EpochLog, RangeTestResult, StepLog, TrainConfig, Trainer, base_dir};
use stepflow::summary::FileWriter;
use stepflow::{Error, Result, Tensor};

/// What the writing thread is asked to write.
enum Job {
    Scalars(i64, Vec<(String, f64)>),
    Histograms(i64, Vec<(String, Tensor)>),
}

/// The event file of one `stepflow train` invocation.
pub struct Board {
    jobs: Option<Sender<Job>>,
    worker: Option<JoinHandle<Result<()>>>,
    path: PathBuf,
    step_tags: Vec<String>,
    eval_tags: Vec<String>,
    /// Steps between histograms; 0 for none.
    histogram_every: u64,
}

/// The writing thread: the graph first, then each job in turn, until the sender is dropped.
fn write_all(
    mut writer: FileWriter,
    graph: Result<stepflow::Graph>,
    jobs: std::sync::mpsc::Receiver<Job>,
) -> Result<()> {
    // The graph as the config builds it, without the gradients added for the histograms.
    if let Err(e) = graph.and_then(|g| writer.add_graph(&g)) {
        eprintln!("warning: tensorboard: graph not written: {e}");
    }
    for job in jobs {
        match job {
            Job::Scalars(step, values) => {
                for (tag, v) in values {
                    writer.add_scalar(&tag, v, step)?;
                }
            }
            Job::Histograms(step, tensors) => {
                for (tag, t) in tensors {
                    writer.add_histogram(&tag, &t.to_f64_vec(), step)?;
                }
            }
        }
    }
    writer.flush()
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
        writer.flush()?;
        let path = writer.path().to_path_buf();
        let (cfg, base, file) = (t.config().clone(), base_dir(config), config.display().to_string());
        let (jobs, receiver) = channel();
        let worker = std::thread::spawn(move || write_all(writer, cfg.graph(&base, &file), receiver));
        Ok(Board {
            jobs: Some(jobs),
            worker: Some(worker),
            path,
            step_tags: t.step_names().to_vec(),
            eval_tags: t.eval_names().iter().map(|n| format!("val_{n}")).collect(),
            histogram_every: histogram_every.unwrap_or(t.steps_per_epoch()),
        })
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands `job` to the writing thread; when it has stopped, [`finish`](Self::finish) says why.
    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// One more scalar, `tag` = `value` at `step`.
    pub fn scalar(&self, tag: &str, value: f64, step: u64) {
        self.send(Job::Scalars(step_of(step), vec![(tag.to_string(), value)]));
    }

    /// Whether step `step` writes histograms.
    fn histograms_due(&self, step: u64) -> bool {
        self.histogram_every > 0 && step.is_multiple_of(self.histogram_every)
    }

    /// One step of `t`, its scalars (and histograms when due) written.
    pub fn train_step(&mut self, t: &mut Trainer) -> Result<(StepLog, Option<EpochLog>)> {
        let (s, e) = if self.histograms_due(t.position().step + 1) {
            let g = t.step_with_gradients()?;
            self.histograms(t, g.log.step, g.gradients)?;
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
        let values = self.step_tags.iter().cloned().zip(s.values.iter().copied()).collect();
        self.send(Job::Scalars(step_of(s.step), values));
        Ok(())
    }

    /// The epoch's validation scalars: `val_loss` and `val_` each metric.
    fn epoch(&mut self, e: &EpochLog) -> Result<()> {
        let values = self.eval_tags.iter().cloned().zip(e.values.iter().copied()).collect();
        self.send(Job::Scalars(step_of(e.step), values));
        Ok(())
    }

    /// Histograms of every trainable variable (its value after the step) and of `gradients`,
    /// tagged `NAME` and `NAME/gradient`.
    fn histograms(&mut self, t: &Trainer, step: u64, gradients: Vec<(String, Tensor)>) -> Result<()> {
        let mut tensors = t.trainable_values()?;
        tensors.extend(gradients.into_iter().map(|(name, g)| (format!("{name}/gradient"), g)));
        self.send(Job::Histograms(step_of(step), tensors));
        Ok(())
    }

    /// Waits for the writing thread to write every event out; its first error, if any.
    pub fn finish(&mut self) -> Result<()> {
        self.jobs = None;
        match self.worker.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::format(self.path.display().to_string(), "the event writer stopped")),
        }
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        // Events of a run that failed are still written out.
        let _ = self.finish();
    }
}

/// The range test's curve: `loss`, `smoothed_loss` and `learning_rate` against the test's step
/// (the means over the runs, and `smoothed_loss_min` and `_max` with several), and each
/// suggested rate as `suggested_learning_rate/RULE` at step 0.
pub fn range_test(dir: &Path, r: &RangeTestResult) -> Result<String> {
    let mut writer = FileWriter::new(dir)?;
    for (p, b) in r.points.iter().zip(&r.band) {
        let step = step_of(p.step);
        writer.add_scalar("loss", p.loss, step)?;
        writer.add_scalar("smoothed_loss", p.smoothed_loss, step)?;
        writer.add_scalar("learning_rate", p.learning_rate, step)?;
        if r.runs.len() > 1 {
            writer.add_scalar("smoothed_loss_min", b.low, step)?;
            writer.add_scalar("smoothed_loss_max", b.high, step)?;
        }
    }
    for (name, s) in r.suggestions.named() {
        if let Some(s) = s {
            writer.add_scalar(&format!("suggested_learning_rate/{}", rule_tag(name)), s.learning_rate, 0)?;
        }
    }
    writer.flush()?;
    Ok(writer.path().display().to_string())
}

/// A rule's name as a tag: `minimum / 10` is `minimum_over_10`.
pub fn rule_tag(name: &str) -> String {
    name.replace(" / ", "_over_")
}
