//! `tf.layers.conv2d`: `activation(conv2d(x, kernel) + bias)`, NHWC.

use super::dense::variable;
use super::{Activation, Padding, default_kernel_initializer, feature_dims, in_layer_scope};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, Output};
use crate::ops::conv_attrs::ConvOptions;

/// A 2-D convolution layer (`tf.layers.conv2d(inputs, filters, kernel_size, strides, padding,
/// dilation_rate, activation, use_bias)`): variables `conv2d/kernel` `[kh, kw, in, filters]`
/// and `conv2d/bias` `[filters]`, ops `conv2d/Conv2D`, `conv2d/BiasAdd` and the activation. The
/// input is NHWC with its channels known.
///
/// ```
/// use stepflow::layers::{Activation, Conv2D, Padding};
/// use stepflow::{DType, Graph, Shape};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(8), Some(8), Some(1)]))?;
/// let conv = Conv2D { padding: Padding::Same, activation: Activation::Relu, ..Conv2D::new(16, [3, 3]) };
/// let y = conv.apply(&mut g, x)?;
/// assert_eq!(g.spec(y).shape, Shape::partial(&[None, Some(8), Some(8), Some(16)]));
/// assert_eq!(g.node(y.node).name(), "conv2d/Relu");
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Conv2D {
    pub filters: usize,
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub dilation_rate: [usize; 2],
    pub activation: Activation,
    pub use_bias: bool,
    /// `None`: Glorot uniform, seeded by the kernel's name.
    pub kernel_initializer: Option<Initializer>,
    pub bias_initializer: Initializer,
    pub trainable: bool,
    /// The variable scope; `None` for `conv2d` made unique.
    pub name: Option<String>,
}

impl Conv2D {
    /// `filters` output channels from a `kernel_size` window, stride 1, VALID (TF's defaults).
    pub fn new(filters: usize, kernel_size: [usize; 2]) -> Conv2D {
        Conv2D {
            filters,
            kernel_size,
            strides: [1, 1],
            padding: Padding::Valid,
            dilation_rate: [1, 1],
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
        in_layer_scope(g, self.name.as_deref(), "conv2d", |g| self.build(g, x))
    }

    /// The layer's nodes, in the current scope.
    pub(crate) fn build(&self, g: &mut Graph, x: Output) -> Result<Output> {
        let channels = feature_dims(g, x, "conv2d", 4)?[2];
        if self.filters == 0 || self.kernel_size.contains(&0) {
            let node = g.try_node(x.node)?.name().to_string();
            return Err(Error::argument("conv2d", &node, "needs at least one filter and a non-empty kernel"));
        }
        let dtype = g.try_spec(x)?.dtype;
        let [kh, kw] = self.kernel_size;
        let init = self.kernel_initializer.clone().unwrap_or_else(|| default_kernel_initializer(g, "kernel"));
        let kernel = variable(g, "kernel", dtype, &[kh, kw, channels, self.filters], init, self.trainable)?;
        let options =
            ConvOptions { strides: self.strides, padding: self.padding.into(), dilations: self.dilation_rate };
        let mut y = g.conv2d_with(x, kernel, options)?;
        if self.use_bias {
            let bias = variable(g, "bias", dtype, &[self.filters], self.bias_initializer.clone(), self.trainable)?;
            y = g.bias_add(y, bias)?;
        }
        self.activation.apply(g, y)
    }
}
