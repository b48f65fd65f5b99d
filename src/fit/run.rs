//! The training loop: batches fed to the graph's placeholders, the train op run at each step,
//! validation at the end of each epoch, the plateau rule, and checkpoints of the whole state.

use super::config::{TrainConfig, base_dir, resolve};
use super::lookup::{bool_scalar, float_scalar, scalar};
use super::plateau::Plateau;
use super::watch::{FetchedStep, TrainStep, VariableGradient, watch_gradients};
use crate::data::{Dataset, Table};
use crate::error::{Error, Result};
use crate::graph::{NodeId, Output};
use crate::session::Session;
use crate::tensor::{DType, Tensor};
use crate::train::plateau::PlateauController;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a training run is: steps taken, the current epoch, and the next batch within it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Steps taken so far.
    pub step: u64,
    /// The current epoch (0-based).
    pub epoch: u64,
    /// The next batch of the current epoch (0-based).
    pub batch: u64,
    /// The sum of the current epoch's training losses so far.
    #[serde(default)]
    pub epoch_loss: f64,
}

/// The values recorded at one training step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLog {
    /// The step's number (1 for the first).
    pub step: u64,
    /// The epoch it belongs to (1 for the first).
    pub epoch: u64,
    /// One value per name of [`Trainer::step_names`].
    pub values: Vec<f64>,
}

/// The validation values at the end of an epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    /// The epoch (1 for the first).
    pub epoch: u64,
    /// Steps taken when it ended.
    pub step: u64,
    /// The mean loss of the epoch's training batches.
    pub train_loss: f64,
    /// One value per name of [`Trainer::eval_names`] (empty without a validation part).
    pub values: Vec<f64>,
    /// The learning rate from now on, when a plateau rule is on.
    pub learning_rate: Option<f64>,
    /// Whether the plateau rule reduced the rate at this epoch.
    pub reduced: bool,
}

/// A training run of a [`TrainConfig`]: call [`step`](Trainer::step) until
/// [`finished`](Trainer::finished).
///
/// ```
/// use stepflow::fit::Trainer;
/// let mut t = Trainer::from_file("graphs/digits_mlp.json".as_ref())?;
/// let first = t.step()?.0;
/// assert_eq!((first.step, t.step_names()[0].as_str()), (1, "loss"));
/// assert!(first.values[0] > 1.0); // about ln 10 before training
/// # Ok::<(), stepflow::Error>(())
/// ```
pub struct Trainer {
    pub(super) session: Session,
    pub(super) config: TrainConfig,
    pub(super) data: Dataset,
    pub(super) train: NodeId,
    pub(super) step_fetches: Vec<Output>,
    pub(super) step_names: Vec<String>,
    pub(super) eval_fetches: Vec<Output>,
    pub(super) eval_names: Vec<String>,
    pub(super) learning_rate: Option<Output>,
    /// A learning rate fed in place of the schedule.
    pub(super) rate_override: Option<(Output, f64)>,
    /// Constant feeds beside the batch (the fixed learning rate, the plateau rate).
    pub(super) fixed_feeds: Vec<(Output, Tensor)>,
    /// The training flag, fed `true` at training steps only.
    pub(super) training: Option<Output>,
    pub(super) plateau: Option<Plateau>,
    pub(super) position: Position,
    pub(super) order: Vec<usize>,
    pub(super) order_epoch: Option<u64>,
    /// The seed of the epochs' shuffles: the config's, except during a range test's later runs.
    pub(super) shuffle_seed: u64,
    pub(super) steps_per_epoch: u64,
    pub(super) total_steps: u64,
    pub(super) last_epoch: Option<EpochLog>,
    /// The trainable variables and their gradients, for [`Trainer::step_with_gradients`].
    pub(super) watched: Vec<VariableGradient>,
    /// The training steps' node timings, when asked for ([`Trainer::profile_steps`]).
    pub(super) profile: Option<crate::session::Profile>,
}

impl Trainer {
    /// A run of the config file at `path`, its variables initialized.
    pub fn from_file(path: &Path) -> Result<Trainer> {
        let config = TrainConfig::load(path)?;
        Trainer::new(config, &base_dir(path), &path.display().to_string())
    }

    /// A run of `config`, whose relative paths start at `base`; `file` names it in errors.
    pub fn new(config: TrainConfig, base: &Path, file: &str) -> Result<Trainer> {
        Trainer::build(config, base, file, false)
    }

    /// A run of `config` (as [`new`](Self::new)) whose graph also computes the gradient of the
    /// loss with respect to each trainable variable, for [`step_with_gradients`](Self::step_with_gradients).
    pub fn with_gradients(config: TrainConfig, base: &Path, file: &str) -> Result<Trainer> {
        Trainer::build(config, base, file, true)
    }

    fn build(config: TrainConfig, base: &Path, file: &str, gradients: bool) -> Result<Trainer> {
        let mut graph = config.graph(base, file)?;
        let table = Table::from_csv(resolve(base, &config.data.csv))?;
        let data = Dataset::new(&table, &config.data, &graph)?;
        let train = graph.node_id(&config.train).map_err(|e| Error::argument("config", "train", e.to_string()))?;
        let loss = float_scalar(&graph, "loss", &config.loss)?;
        let watched = if gradients { watch_gradients(&mut graph, loss)? } else { Vec::new() };
        let learning_rate =
            config.learning_rate.as_deref().map(|n| float_scalar(&graph, "learning_rate", n)).transpose()?;
        let training = config.training.as_deref().map(|n| bool_scalar(&graph, "training", n)).transpose()?;
        let mut step_fetches = vec![loss];
        let mut step_names = vec!["loss".to_string()];
        if let Some(lr) = learning_rate {
            step_fetches.push(lr);
            step_names.push("learning_rate".into());
        }
        for name in &config.log {
            step_fetches.push(scalar(&graph, "log", name)?);
            step_names.push(name.clone());
        }
        let mut eval_fetches = vec![loss];
        let mut eval_names = vec!["loss".to_string()];
        for name in &config.metrics {
            eval_fetches.push(scalar(&graph, "metrics", name)?);
            eval_names.push(name.clone());
        }
        let plateau = match &config.plateau {
            None => None,
            Some(_) if data.validation.is_empty() => {
                return Err(Error::argument("config", "plateau", "needs a validation part (validation_fraction > 0)"));
            }
            Some(p) => Some(Plateau::new(&graph, p, &eval_names)?),
        };
        let steps_per_epoch = data.train.len().div_ceil(config.batch_size) as u64;
        let total_steps = match (config.epochs, config.steps) {
            (Some(e), _) => e.saturating_mul(steps_per_epoch),
            (None, Some(s)) => s,
            (None, None) => return Err(Error::argument("config", "epochs", "give 'epochs' or 'steps'")),
        };
        let shuffle_seed = config.data.seed;
        let session = Session::new(graph);
        session.initialize()?;
        let mut t = Trainer {
            session,
            config,
            data,
            train,
            step_fetches,
            step_names,
            eval_fetches,
            eval_names,
            learning_rate,
            rate_override: None,
            fixed_feeds: Vec::new(),
            training,
            plateau,
            position: Position::default(),
            order: Vec::new(),
            order_epoch: None,
            shuffle_seed,
            steps_per_epoch,
            total_steps,
            last_epoch: None,
            watched,
            profile: None,
        };
        t.refresh_fixed_feeds();
        Ok(t)
    }

    /// Feeds `rate` to the learning-rate tensor at every step from now on, in place of the
    /// schedule (or, with a plateau rule in the loop, as its starting rate).
    pub fn set_learning_rate(&mut self, rate: f64) -> Result<()> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Error::argument("train", "--learning-rate", format!("must be a positive number, got {rate}")));
        }
        if let Some(Plateau::Loop { controller, .. }) = &mut self.plateau {
            let config = self.config.plateau.as_ref().map(|p| p.rule.clone()).unwrap_or_default();
            *controller = PlateauController::new(rate, config)?;
            self.refresh_fixed_feeds();
            return Ok(());
        }
        let Some(lr) = self.learning_rate else {
            return Err(Error::argument(
                "train",
                "--learning-rate",
                "the config names no 'learning_rate' tensor to feed",
            ));
        };
        self.rate_override = Some((lr, rate));
        self.refresh_fixed_feeds();
        Ok(())
    }

    /// Rebuilds the constant feeds: a fixed learning rate, and the plateau controller's rate.
    pub(super) fn refresh_fixed_feeds(&mut self) {
        let g = self.session.graph();
        let scalar_feed = |out: Output, v: f64| (out, Tensor::filled(g.spec(out).dtype, &[], v));
        self.fixed_feeds.clear();
        if let Some((out, rate)) = self.rate_override {
            self.fixed_feeds.push(scalar_feed(out, rate));
        }
        if let Some(Plateau::Loop { feed, controller, .. }) = &self.plateau {
            self.fixed_feeds.push(scalar_feed(*feed, controller.learning_rate()));
        }
    }

    /// The session (its graph and variables).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The config.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The names of [`StepLog::values`]: `loss`, `learning_rate` (when the config names it), then
    /// the config's `log`.
    pub fn step_names(&self) -> &[String] {
        &self.step_names
    }

    /// The names of [`EpochLog::values`]: `loss`, then the config's `metrics`.
    pub fn eval_names(&self) -> &[String] {
        &self.eval_names
    }

    /// Where the run is.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Training batches per epoch.
    pub fn steps_per_epoch(&self) -> u64 {
        self.steps_per_epoch
    }

    /// The step the run ends at.
    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    /// Whether every step has been taken.
    pub fn finished(&self) -> bool {
        self.position.step >= self.total_steps
    }

    /// The rows of the data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The next batch's rows, advancing the position.
    fn next_rows(&mut self) -> Vec<usize> {
        let p = &mut self.position;
        if self.order_epoch != Some(p.epoch) {
            self.order = self.data.epoch_order(p.epoch, self.shuffle_seed, self.config.shuffle);
            self.order_epoch = Some(p.epoch);
        }
        let bs = self.config.batch_size;
        let start = (p.batch as usize).saturating_mul(bs).min(self.order.len());
        let end = start.saturating_add(bs).min(self.order.len());
        p.batch += 1;
        p.step += 1;
        self.order[start..end].to_vec()
    }

    /// One training step with `extra` feeds; returns the step's values and whether it ended an
    /// epoch.
    /// `also` are more fetches, whose values come back after the log.
    pub(super) fn train_step(&mut self, extra: &[(Output, Tensor)], also: &[Output]) -> Result<TrainStep> {
        let epoch = self.position.epoch + 1;
        let rows = self.next_rows();
        let mut feeds = self.data.batch(&rows)?;
        feeds.extend(self.fixed_feeds.iter().filter(|(o, _)| !extra.iter().any(|(e, _)| e == o)).cloned());
        feeds.extend_from_slice(extra);
        if let Some(flag) = self.training {
            feeds.push((flag, Tensor::from(true)));
        }
        let fetches: Vec<Output> = self.step_fetches.iter().chain(also).copied().collect();
        let mut out = match &mut self.profile {
            Some(p) => {
                let began = std::time::Instant::now();
                let options = crate::session::RunOptions::default();
                let (out, meta) = self.session.run_traced(options, &feeds, &fetches, &[self.train])?;
                p.add(began, &meta);
                out
            }
            None => self.session.run(&feeds, &fetches, &[self.train])?,
        };
        let fetched = out.split_off(self.step_fetches.len());
        let values = out.iter().zip(&self.step_names).map(|(t, n)| value_of(t, n)).collect::<Result<Vec<_>>>()?;
        self.position.epoch_loss += values[0];
        let ended = self.position.batch >= self.steps_per_epoch;
        Ok(TrainStep { log: StepLog { step: self.position.step, epoch, values }, ended, fetched })
    }

    /// Takes one step; at the end of an epoch, also evaluates on the validation part and applies
    /// the plateau rule.
    pub fn step(&mut self) -> Result<(StepLog, Option<EpochLog>)> {
        let s = self.step_fetching(&[])?;
        Ok((s.log, s.epoch))
    }

    /// [`step`](Self::step), fetching `also` in the same run.
    pub(super) fn step_fetching(&mut self, also: &[Output]) -> Result<FetchedStep> {
        let TrainStep { log, ended, fetched } = self.train_step(&[], also)?;
        if !log.values[0].is_finite() {
            let lr = self
                .learning_rate
                .and(log.values.get(1))
                .map(|v| format!(" at learning rate {v:e}"))
                .unwrap_or_default();
            return Err(Error::argument(
                "train",
                "loss",
                format!("became {} at step {}{lr}: training diverged", log.values[0], log.step),
            ));
        }
        let epoch = if ended { Some(self.end_epoch()?) } else { None };
        Ok(FetchedStep { log, epoch, fetched })
    }

    /// Moves the position to the next epoch; returns the mean training loss of the one ending.
    fn next_epoch(&mut self) -> f64 {
        let p = &mut self.position;
        let train_loss = p.epoch_loss / p.batch.max(1) as f64;
        (p.epoch, p.batch, p.epoch_loss) = (p.epoch + 1, 0, 0.0);
        train_loss
    }

    /// Validation values and the plateau rule at the end of an epoch.
    fn end_epoch(&mut self) -> Result<EpochLog> {
        let train_loss = self.next_epoch();
        let values = self.evaluate()?;
        let (mut learning_rate, mut reduced) = (None, false);
        match &mut self.plateau {
            None => {}
            Some(Plateau::Loop { controller, monitor, .. }) => {
                let s = controller.step(values[*monitor]);
                (learning_rate, reduced) = (Some(s.learning_rate), s.reduced);
                self.refresh_fixed_feeds();
            }
            Some(Plateau::Graph { update, metric, rate, monitor }) => {
                let before = self.session.run(&[], &[*rate], &[])?[0].scalar_f64().unwrap_or(f64::NAN);
                let d = self.session.graph().spec(*metric).dtype;
                let feed = [(*metric, Tensor::filled(d, &[], values[*monitor]))];
                self.session.run(&feed, &[], &[*update])?;
                let after = self.session.run(&[], &[*rate], &[])?[0].scalar_f64().unwrap_or(f64::NAN);
                (learning_rate, reduced) = (Some(after), after < before);
            }
        }
        let log = EpochLog {
            epoch: self.position.epoch,
            step: self.position.step,
            train_loss,
            values,
            learning_rate,
            reduced,
        };
        self.last_epoch = Some(log.clone());
        Ok(log)
    }

    /// The loss and metrics on the validation part (means weighted by batch size); empty without
    /// a validation part.
    pub fn evaluate(&self) -> Result<Vec<f64>> {
        let rows = &self.data.validation;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut sums = vec![0.0; self.eval_fetches.len()];
        for chunk in rows.chunks(self.config.eval_batch_size) {
            let mut feeds = self.data.batch(chunk)?;
            feeds.extend(self.fixed_feeds.iter().cloned());
            let out = self.session.run(&feeds, &self.eval_fetches, &[])?;
            for ((s, t), n) in sums.iter_mut().zip(&out).zip(&self.eval_names) {
                *s += value_of(t, n)? * chunk.len() as f64;
            }
        }
        Ok(sums.into_iter().map(|s| s / rows.len() as f64).collect())
    }

    /// The validation values at the current step: the last epoch's when it ended here, else
    /// evaluated now.
    pub fn final_evaluation(&self) -> Result<Vec<f64>> {
        match &self.last_epoch {
            Some(e) if e.step == self.position.step => Ok(e.values.clone()),
            _ => self.evaluate(),
        }
    }

    /// One step of the range test: trains a batch with `rate` fed to the learning-rate tensor
    /// (and the plateau rate to its placeholder), returning the batch's loss before the update.
    pub fn step_with_learning_rate(&mut self, rate: f64) -> Result<f64> {
        let lr = self.learning_rate.ok_or_else(|| {
            Error::argument("config", "learning_rate", "names no tensor; the range test feeds the rate to it")
        })?;
        let feed = (lr, Tensor::filled(self.session.graph().spec(lr).dtype, &[], rate));
        let s = self.train_step(&[feed], &[])?;
        if s.ended {
            self.next_epoch();
        }
        Ok(s.log.values[0])
    }
}

/// A fetched scalar as f64.
fn value_of(t: &Tensor, name: &str) -> Result<f64> {
    if t.dtype() == DType::Bool || t.len() != 1 {
        return Err(Error::argument(
            "config",
            name,
            format!("must be a numeric scalar, got {} {:?}", t.dtype(), t.shape()),
        ));
    }
    t.scalar_f64().ok_or_else(|| Error::argument("config", name, "must be a numeric scalar"))
}
