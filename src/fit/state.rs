//! A training run's state beyond the graph: snapshots for the range test, and checkpoints that
//! let a fresh process continue exactly where a run stopped.

use super::plateau::Plateau;
use super::run::{Position, Trainer};
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::graph::NodeId;
use crate::tensor::Tensor;
use crate::train::plateau::{PlateauController, PlateauState};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a checkpoint keeps besides the variables.
#[derive(Serialize, Deserialize)]
struct State {
    position: Position,
    batch_size: usize,
    train_rows: usize,
    #[serde(default)]
    plateau: Option<PlateauState>,
}

/// Everything a training step changes, taken by [`Trainer::snapshot`]: the variables' values
/// (weights, optimizer slots, `global_step`, moving statistics), the position in the data and
/// the seed of its order, the random ops' streams (dropout masks), and the plateau rule's state.
pub struct Snapshot {
    values: Vec<(NodeId, Tensor)>,
    position: Position,
    shuffle_seed: u64,
    run_counts: Vec<u64>,
    plateau: Option<PlateauState>,
}

impl Trainer {
    /// Everything a step changes (see [`Snapshot`]), to put back with [`reset`](Self::reset).
    pub fn snapshot(&self) -> Result<Snapshot> {
        let g = self.session.graph();
        let values = g
            .variables()
            .iter()
            .map(|v| Ok((v.node, self.session.variable_value(v.node.into())?)))
            .collect::<Result<_>>()?;
        let plateau = match &self.plateau {
            Some(Plateau::Loop { controller, .. }) => Some(controller.state()),
            _ => None,
        };
        Ok(Snapshot {
            values,
            position: self.position,
            shuffle_seed: self.shuffle_seed,
            run_counts: self.session.run_counts(),
            plateau,
        })
    }

    /// Puts back a [`snapshot`](Self::snapshot).
    pub fn reset(&mut self, s: &Snapshot) -> Result<()> {
        for (node, t) in &s.values {
            self.session.set_variable((*node).into(), t.clone())?;
        }
        self.session.set_run_counts(&s.run_counts)?;
        self.position = s.position;
        self.set_shuffle_seed(s.shuffle_seed);
        self.set_plateau_state(s.plateau)
    }

    /// Shuffles the epochs with `seed` from now on (the range test's own data order per run).
    pub(super) fn set_shuffle_seed(&mut self, seed: u64) {
        if seed != self.shuffle_seed {
            self.shuffle_seed = seed;
            // The cached order is the old seed's.
            self.order_epoch = None;
        }
    }

    fn set_plateau_state(&mut self, state: Option<PlateauState>) -> Result<()> {
        if let (Some(Plateau::Loop { controller, .. }), Some(state)) = (&mut self.plateau, state) {
            let config = self.config.plateau.as_ref().map(|p| p.rule.clone()).unwrap_or_default();
            *controller = PlateauController::with_state(config, state)?;
            self.refresh_fixed_feeds();
        }
        Ok(())
    }

    /// Saves a checkpoint of every variable and of the run's place in the data to `dir`.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let plateau = match &self.plateau {
            Some(Plateau::Loop { controller, .. }) => Some(controller.state()),
            _ => None,
        };
        let state = State {
            position: self.position,
            batch_size: self.config.batch_size,
            train_rows: self.data.train.len(),
            plateau,
        };
        let state =
            serde_json::to_value(&state).map_err(|e| Error::format(dir.display().to_string(), e.to_string()))?;
        checkpoint::save(&self.session, dir, self.position.step, state)
    }

    /// Continues from the checkpoint in `dir`: variables, position and plateau state.
    pub fn restore(&mut self, dir: &Path) -> Result<()> {
        let index = checkpoint::read_index(dir)?;
        let file = dir.join(checkpoint::INDEX).display().to_string();
        let state: State = serde_json::from_value(index.state.clone())
            .map_err(|e| Error::format(file.clone(), format!("state: {e}")))?;
        if state.batch_size != self.config.batch_size || state.train_rows != self.data.train.len() {
            return Err(Error::format(
                file,
                format!(
                    "was written with batch_size {} and {} training rows; this config has {} and {}",
                    state.batch_size,
                    state.train_rows,
                    self.config.batch_size,
                    self.data.train.len()
                ),
            ));
        }
        checkpoint::restore(&self.session, dir)?;
        self.position = state.position;
        self.set_plateau_state(state.plateau)
    }
}
