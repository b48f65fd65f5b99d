//! `tf.layers.batch_normalization`, fused (`FusedBatchNormV3`), with its moving averages in
//! `UPDATE_OPS`.

use super::dense::variable;
use super::{Training, feature_dims, in_layer_scope};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, Output, UPDATE_OPS};
use crate::ops::batch_norm::FusedBatchNormV3;

/// Batch normalization over the last axis (`tf.layers.batch_normalization(inputs, momentum,
/// epsilon, center, scale, training)`), as TF's fused kernel computes it.
///
/// Variables (under `batch_normalization/`): `gamma` (ones) and `beta` (zeros), trainable;
/// `moving_mean` (zeros) and `moving_variance` (ones), not trainable. In training mode the
/// output is normalized by the batch's statistics, and two updates join the graph's
/// [`UPDATE_OPS`]: `moving_mean −= (moving_mean − batch_mean)·(1 − momentum)`, and the same for
/// the variance with the batch's unbiased variance (`AssignMovingAvg`, `AssignMovingAvg_1`). In
/// inference the moving statistics are used. With a [`Training::Flag`], the two
/// `FusedBatchNormV3`s sit in a `cond` on the flag and the updates' decay is 0 when it is
/// false. A 4-D input is NHWC; a 2-D `[batch, features]` input is normalized as a
/// `[batch, 1, 1, features]` image.
///
/// ```
/// use stepflow::graph::UPDATE_OPS;
/// use stepflow::layers::{BatchNormalization, Training};
/// use stepflow::{DType, Graph, Session, Shape, Tensor};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(1)]))?;
/// let bn = BatchNormalization { training: Training::Yes, epsilon: 0.0, ..BatchNormalization::default() };
/// let y = bn.apply(&mut g, x)?;
/// let updates = g.group(&g.collection(UPDATE_OPS).to_vec(), "updates")?;
/// let mean = g.output("batch_normalization/moving_mean")?;
/// let s = Session::new(g);
/// s.initialize()?;
/// let out = s.run(&[(x, Tensor::from_vec(&[2, 1], vec![1.0f32, 3.0])?)], &[y], &[updates])?;
/// assert_eq!(out[0].to_f64_vec(), vec![-1.0, 1.0]);
/// assert!((s.variable_value(mean)?.to_f64_vec()[0] - 0.02).abs() < 1e-7); // 0.01 · 2
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BatchNormalization {
    pub momentum: f64,
    pub epsilon: f64,
    /// Add `beta`.
    pub center: bool,
    /// Multiply by `gamma`.
    pub scale: bool,
    pub training: Training,
    pub trainable: bool,
    /// The variable scope; `None` for `batch_normalization` made unique.
    pub name: Option<String>,
}

impl Default for BatchNormalization {
    /// TF's defaults: momentum 0.99, epsilon 0.001, center and scale, `training=False`.
    fn default() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            training: Training::No,
            trainable: true,
            name: None,
        }
    }
}

impl BatchNormalization {
    /// Adds the layer on `x`, returning its output.
    pub fn apply(&self, g: &mut Graph, x: Output) -> Result<Output> {
        in_layer_scope(g, self.name.as_deref(), "batch_normalization", |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let rank = g.try_spec(x)?.shape.rank();
        let node = g.try_node(x.node)?.name().to_string();
        let fail = |what: String| Error::argument("batch_normalization", &node, what);
        if !(0.0..=1.0).contains(&self.momentum) || !(0.0..=f64::MAX).contains(&self.epsilon) {
            return Err(fail(format!(
                "momentum must be in [0, 1] and epsilon >= 0, got {} and {}",
                self.momentum, self.epsilon
            )));
        }
        let (image, channels) = match rank {
            Some(4) => (x, feature_dims(g, x, "batch_normalization", 4)?[2]),
            Some(2) => {
                let c = feature_dims(g, x, "batch_normalization", 2)?[0];
                (g.reshape(x, &[-1, 1, 1, c as i64])?, c)
            }
            _ => return Err(fail(format!("needs a 2-D or 4-D input, got shape {}", g.try_spec(x)?.shape))),
        };
        let dtype = g.try_spec(x)?.dtype;
        let shape = [channels];
        let gamma = if self.scale {
            variable(g, "gamma", dtype, &shape, Initializer::Ones, self.trainable)?
        } else {
            g.constant(crate::Tensor::filled(dtype, &shape, 1.0))?
        };
        let beta = if self.center {
            variable(g, "beta", dtype, &shape, Initializer::Zeros, self.trainable)?
        } else {
            g.constant(crate::Tensor::zeros(dtype, &shape))?
        };
        let moving_mean = g.non_trainable_variable("moving_mean", dtype, &shape, Initializer::Zeros)?;
        let moving_variance = g.non_trainable_variable("moving_variance", dtype, &shape, Initializer::Ones)?;
        let epsilon = self.epsilon as f32;
        let training = |g: &mut Graph, x: &[Output]| -> Result<Vec<Output>> {
            let empty = g.constant(crate::Tensor::zeros(dtype, &[0]))?;
            let op = FusedBatchNormV3 { epsilon, is_training: true, ..FusedBatchNormV3::default() };
            let bn = g.fused_batch_norm(x[0], x[1], x[2], empty, empty, op)?;
            Ok(vec![bn.y, bn.batch_mean, bn.batch_variance])
        };
        let inference = |g: &mut Graph, x: &[Output]| -> Result<Vec<Output>> {
            let op = FusedBatchNormV3 { epsilon, is_training: false, ..FusedBatchNormV3::default() };
            let bn = g.fused_batch_norm(x[0], x[1], x[2], x[3], x[4], op)?;
            Ok(vec![bn.y, x[3], x[4]])
        };
        let inputs = [image, gamma, beta, moving_mean, moving_variance];
        let decay = 1.0 - self.momentum;
        let (out, decay) = match self.training {
            Training::No => {
                let y = inference(g, &inputs)?[0];
                return self.reshaped(g, y, x, rank);
            }
            Training::Yes => (training(g, &inputs)?, g.scalar(dtype, decay)?),
            Training::Flag(flag) => {
                let out = g.cond(flag, &inputs, Box::new(training), Box::new(inference))?;
                let (on, off) = (g.scalar(dtype, decay)?, g.scalar(dtype, 0.0)?);
                (out, g.select(flag, on, off)?)
            }
        };
        for (i, (var, batch)) in [(moving_mean, out[1]), (moving_variance, out[2])].into_iter().enumerate() {
            let scope = if i == 0 { "AssignMovingAvg".to_string() } else { format!("AssignMovingAvg_{i}") };
            let update = g.with_name_scope(&scope, |g| {
                let delta = g.sub(var, batch)?;
                let step = g.mul(delta, decay)?;
                g.assign_sub(var, step)
            })?;
            g.add_to_collection(UPDATE_OPS, update.node)?;
        }
        self.reshaped(g, out[0], x, rank)
    }

    /// The normalized image back in the input's shape.
    fn reshaped(&self, g: &mut Graph, y: Output, x: Output, rank: Option<usize>) -> Result<Output> {
        if rank == Some(4) {
            return Ok(y);
        }
        let shape = g.shape_of(x)?;
        g.op("Reshape", crate::ops::array::Reshape {}, &[y, shape])
    }
}
