//! Watching training: the trainable variables' values, the gradients of the loss with respect
//! to them at a chosen step (what TensorBoard's histograms show), and the steps' profile.

use super::run::{EpochLog, StepLog, Trainer};
use crate::error::Result;
use crate::grad::gradients;
use crate::graph::{Graph, Output};
use crate::tensor::Tensor;

/// A trainable variable and the gradient of the loss with respect to it (`None` when the loss
/// does not depend on it).
pub(super) struct VariableGradient {
    name: String,
    gradient: Option<Output>,
}

/// A training step's log, whether it ended an epoch, and the values of extra fetches.
pub(super) struct TrainStep {
    pub log: StepLog,
    pub ended: bool,
    pub fetched: Vec<Tensor>,
}

/// A step's log, its epoch's validation when it ended one, and the values of extra fetches.
pub(super) struct FetchedStep {
    pub log: StepLog,
    pub epoch: Option<EpochLog>,
    pub fetched: Vec<Tensor>,
}

/// A training step of [`Trainer::step_with_gradients`].
#[derive(Clone, Debug)]
pub struct GradientStep {
    /// The step's values, as [`Trainer::step`] returns them.
    pub log: StepLog,
    /// The validation values when the step ended an epoch.
    pub epoch: Option<EpochLog>,
    /// `(variable name, gradient)` for each trainable variable the loss depends on, in creation
    /// order: the gradient of the loss on this step's batch, before the update.
    pub gradients: Vec<(String, Tensor)>,
}

/// Adds to `graph` the gradient of `loss` with respect to each trainable variable (`tf.gradients`).
pub(super) fn watch_gradients(graph: &mut Graph, loss: Output) -> Result<Vec<VariableGradient>> {
    let variables = graph.trainable_variables();
    let grads = graph.with_name_scope("watched", |g| gradients(g, &[loss], &variables, None))?;
    Ok(variables
        .iter()
        .zip(grads)
        .map(|(v, gradient)| VariableGradient { name: graph.node(v.node).name().to_string(), gradient })
        .collect())
}

impl Trainer {
    /// One step, as [`step`](Self::step), that also fetches the gradients of the loss with respect
    /// to the trainable variables in the same run. Without gradients (a trainer made by
    /// [`new`](Self::new)), the list is empty.
    ///
    /// ```
    /// use stepflow::fit::{TrainConfig, Trainer, base_dir};
    /// let path = std::path::Path::new("graphs/digits_mlp.json");
    /// let config = TrainConfig::load(path)?;
    /// let mut t = Trainer::with_gradients(config, &base_dir(path), "digits_mlp.json")?;
    /// let s = t.step_with_gradients()?;
    /// let names: Vec<&str> = s.gradients.iter().map(|(n, _)| n.as_str()).collect();
    /// assert_eq!(names, ["hidden/w", "hidden/b", "logits/w", "logits/b"]);
    /// assert_eq!(s.gradients[0].1.shape(), &[64, 128]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn step_with_gradients(&mut self) -> Result<GradientStep> {
        let watched: Vec<(String, Output)> =
            self.watched.iter().filter_map(|w| Some((w.name.clone(), w.gradient?))).collect();
        let fetches: Vec<Output> = watched.iter().map(|(_, g)| *g).collect();
        let s = self.step_fetching(&fetches)?;
        let gradients = watched.into_iter().map(|(n, _)| n).zip(s.fetched).collect();
        Ok(GradientStep { log: s.log, epoch: s.epoch, gradients })
    }

    /// `(name, value)` of each trainable variable, in creation order.
    pub fn trainable_values(&self) -> Result<Vec<(String, Tensor)>> {
        let g = self.session.graph();
        g.variables()
            .iter()
            .filter(|v| v.trainable)
            .map(|v| Ok((g.node(v.node).name().to_string(), self.session.variable_value(v.node.into())?)))
            .collect()
    }
}

impl Trainer {
    /// Traces every training step from now on (TF's `FULL_TRACE`): [`profile`](Self::profile)
    /// then sums the steps' node times per op type.
    ///
    /// ```
    /// use stepflow::fit::Trainer;
    /// let mut t = Trainer::from_file("graphs/digits_mlp.json".as_ref())?;
    /// t.profile_steps();
    /// t.step()?;
    /// assert!(t.profile().unwrap().totals().iter().any(|o| o.op == "MatMul" && o.flops.is_some()));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn profile_steps(&mut self) {
        self.profile.get_or_insert_with(crate::session::Profile::new);
    }

    /// Builds the session's plans as `options` say (`SessionOptions { fuse: false }` runs every
    /// node on its own, for debugging).
    pub fn set_session_options(&mut self, options: crate::session::SessionOptions) {
        self.session.set_options(options);
    }

    /// The profile of the traced steps, if [`profile_steps`](Self::profile_steps) was called.
    pub fn profile(&self) -> Option<&crate::session::Profile> {
        self.profile.as_ref()
    }
}
