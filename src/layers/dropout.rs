//! Dropout as TF builds it: `tf.nn.dropout` and `tf.layers.dropout`.

use super::{Training, in_layer_scope};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::ops::random::RandomUniform;

impl Graph {
    /// `tf.nn.dropout(x, rate, seed=seed)`: each element of `x` kept with probability `1 − rate`
    /// and scaled by `1 / (1 − rate)`, else zero, as TF builds it under the scope `dropout`: a
    /// `RandomUniform` of `x`'s run-time shape, `GreaterEqual(r, rate)` as the keep mask, and
    /// `SelectV2(mask, x · 1/(1 − rate), 0)`. Every run draws a new mask (the node's run count
    /// keys the stream), reproducibly for a given `seed`. `rate` must be in `[0, 1)`; a rate of
    /// 0 returns `x`.
    ///
    /// ```
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.placeholder(DType::Float32, Shape::partial(&[None]))?;
    /// let y = g.dropout(x, 0.5, 7)?;
    /// let s = Session::new(g);
    /// let out = s.run(&[(x, Tensor::from_vec(&[1000], vec![1.0f32; 1000])?)], &[y], &[])?;
    /// let v = out[0].to_f64_vec();
    /// assert!(v.iter().all(|&e| e == 0.0 || e == 2.0));
    /// let kept = v.iter().filter(|&&e| e == 2.0).count();
    /// assert!((400..600).contains(&kept));
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn dropout(&mut self, x: Output, rate: f64, seed: u64) -> Result<Output> {
        if !(0.0..1.0).contains(&rate) {
            let node = self.try_node(x.node)?.name().to_string();
            return Err(Error::argument("dropout", &node, format!("rate must be in [0, 1), got {rate}")));
        }
        if rate == 0.0 {
            return Ok(x);
        }
        let dtype = self.try_spec(x)?.dtype;
        self.with_name_scope("dropout", |g| {
            let scale = g.scalar(dtype, 1.0 / (1.0 - rate))?;
            let scaled = g.mul(x, scale)?;
            let shape = g.shape_of(x)?;
            let random = g.with_name_scope("random_uniform", |g| {
                g.op("RandomUniform", RandomUniform { dtype, seed, seed2: 0 }, &[shape])
            })?;
            let threshold = g.scalar(dtype, rate)?;
            let keep = g.greater_equal(random, threshold)?;
            let zero = g.scalar(dtype, 0.0)?;
            let y = g.select(keep, scaled, zero)?;
            with_shape_of(g, y, x)
        })
    }
}

/// `y` (of `x`'s shape at run time) with the static shape of `x` when shape inference lost it:
/// a mask drawn in a run-time shape has an unknown one. With one unknown axis (the batch) a
/// `Reshape` to `x`'s dimensions restores it, so layers after the dropout can size their
/// variables.
fn with_shape_of(g: &mut Graph, y: Output, x: Output) -> Result<Output> {
    let Some(dims) = g.try_spec(x)?.shape.dims().map(<[Option<usize>]>::to_vec) else { return Ok(y) };
    if g.try_spec(y)?.shape.dims().is_some() || dims.iter().filter(|d| d.is_none()).count() > 1 {
        return Ok(y);
    }
    let target: Option<Vec<i64>> = dims.iter().map(|d| d.map_or(Some(-1), |d| i64::try_from(d).ok())).collect();
    match target {
        Some(t) => g.reshape(y, &t),
        None => Ok(y),
    }
}

/// `tf.layers.dropout(inputs, rate, training=..., seed=...)`: [`Graph::dropout`] in training
/// mode, `x` unchanged otherwise; with a [`Training::Flag`] both sit in a `cond` on the flag, so
/// evaluation draws nothing.
///
/// ```
/// use stepflow::layers::{Dropout, Training};
/// use stepflow::{DType, Graph, Session, Shape, Tensor};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None]))?;
/// let no = g.constant(false)?;
/// let training = g.placeholder_with_default(no, Shape::scalar())?;
/// let y = Dropout { training: Training::Flag(training), ..Dropout::new(0.5) }.apply(&mut g, x)?;
/// let s = Session::new(g);
/// let ones = Tensor::from_vec(&[8], vec![1.0f32; 8])?;
/// assert_eq!(s.run(&[(x, ones.clone())], &[y], &[])?[0].to_f64_vec(), vec![1.0; 8]);
/// let dropped = s.run(&[(x, ones), (training, Tensor::from(true))], &[y], &[])?[0].to_f64_vec();
/// assert!(dropped.iter().all(|&e| e == 0.0 || e == 2.0));
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dropout {
    pub rate: f64,
    pub training: Training,
    pub seed: u64,
    /// The name scope; `None` for `dropout` made unique.
    pub name: Option<String>,
}

impl Dropout {
    /// Dropout of `rate`, off unless [`training`](Dropout::training) says otherwise (TF's
    /// default `training=False`), with seed 0.
    pub fn new(rate: f64) -> Dropout {
        Dropout { rate, training: Training::No, seed: 0, name: None }
    }

    /// Adds the layer on `x`.
    pub fn apply(&self, g: &mut Graph, x: Output) -> Result<Output> {
        in_layer_scope(g, self.name.as_deref(), "dropout", |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let (rate, seed) = (self.rate, self.seed);
        match self.training {
            Training::No => g.identity(x),
            Training::Yes => g.dropout(x, rate, seed),
            Training::Flag(flag) => {
                let out = g.cond(
                    flag,
                    &[x],
                    Box::new(move |g, x| Ok(vec![g.dropout(x[0], rate, seed)?])),
                    Box::new(|g, x| Ok(vec![g.identity(x[0])?])),
                )?;
                Ok(out[0])
            }
        }
    }
}
