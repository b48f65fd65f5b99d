//! `tf.layers.dense`: `activation(x · kernel + bias)`.

use super::{Activation, default_kernel_initializer, feature_dims, in_layer_scope};
use crate::error::Result;
use crate::graph::{Graph, Initializer, Output};

/// A fully connected layer (`tf.layers.dense(inputs, units, activation, use_bias)`): variables
/// `dense/kernel` `[in, units]` and `dense/bias` `[units]`, ops `dense/MatMul`,
/// `dense/BiasAdd` and the activation. The input must be 2-D with its features known.
///
/// ```
/// use stepflow::layers::{Activation, Dense};
/// use stepflow::{DType, Graph, Session, Shape, Tensor};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)]))?;
/// let y = Dense { activation: Activation::Relu, name: Some("hidden".into()), ..Dense::new(3) }.apply(&mut g, x)?;
/// let init = g.global_variables_initializer()?;
/// let s = Session::new(g);
/// s.run(&[], &[], &[init])?;
/// let out = s.run(&[(x, Tensor::from_vec(&[1, 2], vec![0.0f32, 0.0])?)], &[y], &[])?;
/// assert_eq!(out[0].to_f64_vec(), vec![0.0, 0.0, 0.0]);
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
    /// `None`: Glorot uniform, seeded by the kernel's name.
    pub kernel_initializer: Option<Initializer>,
    pub bias_initializer: Initializer,
    pub trainable: bool,
    /// The variable scope; `None` for `dense` made unique.
    pub name: Option<String>,
}

impl Dense {
    /// A linear layer of `units` outputs with a bias (TF's defaults).
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: None,
            bias_initializer: Initializer::Zeros,
            trainable: true,
            name: None,
        }
    }

    /// Adds the layer on `x`, returning its output.
    pub fn apply(&self, g: &mut Graph, x: Output) -> Result<Output> {
        in_layer_scope(g, self.name.as_deref(), "dense", |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let features = feature_dims(g, x, "dense", 2)?[0];
        let dtype = g.try_spec(x)?.dtype;
        let init = self.kernel_initializer.clone().unwrap_or_else(|| default_kernel_initializer(g, "kernel"));
        let kernel = variable(g, "kernel", dtype, &[features, self.units], init, self.trainable)?;
        let mut y = g.matmul(x, kernel)?;
        if self.use_bias {
            let bias = variable(g, "bias", dtype, &[self.units], self.bias_initializer.clone(), self.trainable)?;
            y = g.bias_add(y, bias)?;
        }
        self.activation.apply(g, y)
    }
}

/// A layer variable, trainable or not.
pub(crate) fn variable(
    g: &mut Graph,
    name: &str,
    dtype: crate::DType,
    shape: &[usize],
    init: Initializer,
    trainable: bool,
) -> Result<Output> {
    if trainable { g.variable(name, dtype, shape, init) } else { g.non_trainable_variable(name, dtype, shape, init) }
}
