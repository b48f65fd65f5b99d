//! Variables in the graph: a `VariableV2` node, an initial-value subgraph built by an
//! [`Initializer`], and an `Assign` node that is the variable's initializer, all under the
//! variable's name scope (`w`, `w/Initializer/...`, `w/Assign`), as TF builds them.

use super::{Graph, NodeId, NodeName, Output};
use crate::error::{Error, Result};
use crate::ops::Access;
use crate::ops::state::VariableV2;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

/// What the graph knows of a variable: its node, its initializer (`Assign`) and whether
/// optimizers update it by default.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableInfo {
    pub node: NodeId,
    pub initializer: Option<NodeId>,
    pub trainable: bool,
}

/// How a variable's initial value is made. Random initializers take an explicit seed.
///
/// In graph files: `"zeros"`, `"ones"`, `{"constant": 0.5}`, `{"value": TENSOR}`,
/// `{"random_normal": {"mean": 0, "stddev": 1, "seed": 1}}`, `{"truncated_normal": {...}}`,
/// `{"random_uniform": {"minval": 0, "maxval": 1, "seed": 1}}`, `{"glorot_uniform": {"seed": 1}}`,
/// `{"he_normal": {"seed": 1}}`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element equal to the value.
    Constant(f64),
    /// Exactly this tensor (its shape must be the variable's).
    Value(Tensor),
    /// N(mean, stddev²).
    RandomNormal { mean: f64, stddev: f64, seed: u64 },
    /// N(mean, stddev²) redrawn beyond two standard deviations.
    TruncatedNormal { mean: f64, stddev: f64, seed: u64 },
    /// U[minval, maxval).
    RandomUniform { minval: f64, maxval: f64, seed: u64 },
    /// Glorot (Xavier) uniform: U[-l, l) with `l = sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform { seed: u64 },
    /// He normal as TF2's `he_normal`: truncated normal with stddev `sqrt(2 / fan_in) / 0.8796...`
    /// (the correction for truncation).
    HeNormal { seed: u64 },
}

/// Fan-in and fan-out of a weight shape, as TF's `_compute_fans`.
fn fans(shape: &[usize]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f64, *n as f64),
        [i, o] => (*i as f64, *o as f64),
        more => {
            let receptive: usize = more[..more.len() - 2].iter().product();
            let n = more.len();
            ((more[n - 2] * receptive) as f64, (more[n - 1] * receptive) as f64)
        }
    }
}

impl Initializer {
    /// Builds the initial value for a variable of `dtype` and `shape` in the current scope.
    fn build(&self, g: &mut Graph, dtype: DType, shape: &[usize]) -> Result<Output> {
        let scaled = |g: &mut Graph, x: Output, scale: f64, shift: f64| -> Result<Output> {
            let s = g.scalar(dtype, scale)?;
            let m = g.mul(x, s)?;
            let b = g.scalar(dtype, shift)?;
            g.add(m, b)
        };
        match self {
            Initializer::Zeros => g.constant(Tensor::zeros(dtype, shape)),
            Initializer::Ones => g.constant(Tensor::filled(dtype, shape, 1.0)),
            Initializer::Constant(v) => g.constant(Tensor::filled(dtype, shape, *v)),
            Initializer::Value(t) => {
                if t.shape() != shape || t.dtype() != dtype {
                    return Err(Error::argument(
                        "variable",
                        "initializer",
                        format!("value is {} {:?}, the variable is {dtype} {shape:?}", t.dtype(), t.shape()),
                    ));
                }
                g.constant(t.clone())
            }
            Initializer::RandomNormal { mean, stddev, seed } => {
                let x = g.random_normal(shape, dtype, *seed)?;
                scaled(g, x, *stddev, *mean)
            }
            Initializer::TruncatedNormal { mean, stddev, seed } => {
                let x = g.truncated_normal(shape, dtype, *seed)?;
                scaled(g, x, *stddev, *mean)
            }
            Initializer::RandomUniform { minval, maxval, seed } => {
                let x = g.random_uniform(shape, dtype, *seed)?;
                scaled(g, x, maxval - minval, *minval)
            }
            Initializer::GlorotUniform { seed } => {
                let (fi, fo) = fans(shape);
                let limit = (6.0 / (fi + fo).max(1.0)).sqrt();
                let x = g.random_uniform(shape, dtype, *seed)?;
                scaled(g, x, 2.0 * limit, -limit)
            }
            Initializer::HeNormal { seed } => {
                let (fi, _) = fans(shape);
                let stddev = (2.0 / fi.max(1.0)).sqrt() / 0.879_625_661_034_239_8;
                let x = g.truncated_normal(shape, dtype, *seed)?;
                scaled(g, x, stddev, 0.0)
            }
        }
    }
}

impl Graph {
    /// A trainable variable named `name` (made unique) with the given initializer; its output is
    /// the variable's value (`tf.Variable`).
    ///
    /// ```
    /// use stepflow::{DType, Graph, Initializer, Session};
    /// let mut g = Graph::new();
    /// let w = g.variable("w", DType::Float32, &[2], Initializer::Constant(0.5))?;
    /// let init = g.global_variables_initializer()?;
    /// let s = Session::new(g);
    /// s.run(&[], &[], &[init])?;
    /// assert_eq!(s.run(&[], &[w], &[])?[0].to_f64_vec(), vec![0.5, 0.5]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn variable(&mut self, name: &str, dtype: DType, shape: &[usize], init: Initializer) -> Result<Output> {
        self.variable_with(NodeName::Default(name), dtype, shape, init, true)
    }

    /// A variable that optimizers leave alone unless asked (`trainable=False`).
    pub fn non_trainable_variable(
        &mut self,
        name: &str,
        dtype: DType,
        shape: &[usize],
        init: Initializer,
    ) -> Result<Output> {
        self.variable_with(NodeName::Default(name), dtype, shape, init, false)
    }

    /// A variable with full control of its name and trainability (graph files use exact names).
    pub fn variable_with(
        &mut self,
        name: NodeName,
        dtype: DType,
        shape: &[usize],
        init: Initializer,
        trainable: bool,
    ) -> Result<Output> {
        let var: Output = self.add_node(name, VariableV2 { dtype, shape: Shape::known(shape) }, &[], &[])?.into();
        let full = self.node(var.node).name().to_string();
        let assign = self.in_exact_scope(&full, |g| {
            let value = g.with_name_scope("Initializer", |g| init.build(g, dtype, shape))?;
            g.assign(var, value)
        })?;
        self.set_variable_info(var.node, Some(assign.node), trainable)?;
        Ok(var)
    }

    /// Runs `f` with the exact scope `scope` (not made unique), for nodes that belong to an
    /// existing node (`w/Assign`).
    pub(crate) fn in_exact_scope<R>(&mut self, scope: &str, f: impl FnOnce(&mut Graph) -> Result<R>) -> Result<R> {
        self.scopes.push(scope.to_string());
        let r = f(self);
        self.scopes.pop();
        r
    }

    /// Records a variable's initializer and trainability (graph files declare them in their
    /// `variables` list).
    pub fn set_variable_info(&mut self, var: NodeId, initializer: Option<NodeId>, trainable: bool) -> Result<()> {
        let name = self.node(var).name().to_string();
        let index = self.node(var).var.ok_or_else(|| Error::argument("variables", &name, "is not a variable"))?;
        if let Some(init) = initializer {
            let n = self.node(init);
            let ok = n.op().state().refs() == [Access::Overwrite] && n.inputs()[0].node == var;
            if !ok {
                return Err(Error::argument(
                    "variables",
                    &name,
                    format!("initializer '{}' is not an Assign to it", n.name()),
                ));
            }
        }
        self.variables[index] = super::VariableInfo { node: var, initializer, trainable };
        Ok(())
    }

    /// A `NoOp` named `init` that runs every variable's initializer
    /// (`tf.global_variables_initializer()`).
    pub fn global_variables_initializer(&mut self) -> Result<NodeId> {
        let inits: Vec<NodeId> = self.variables.iter().filter_map(|v| v.initializer).collect();
        self.group(&inits, "init")
    }

    /// The variable named `global_step`, creating it when absent: an int64 scalar, initialized to
    /// zero, not trainable (`tf.train.get_or_create_global_step()`).
    pub fn get_or_create_global_step(&mut self) -> Result<Output> {
        if let Ok(id) = self.node_id("global_step") {
            let n = self.node(id);
            if n.var.is_none() || !n.outputs()[0].dtype.is_int() {
                return Err(Error::argument(
                    "get_or_create_global_step",
                    "global_step",
                    "exists but is not an integer variable",
                ));
            }
            return Ok(id.into());
        }
        // global_step lives at the top level whatever scope the caller is in.
        let saved = std::mem::take(&mut self.scopes);
        let r = self.non_trainable_variable("global_step", DType::Int64, &[], Initializer::Zeros);
        self.scopes = saved;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_follow_tensorflow() {
        assert_eq!(fans(&[3, 5]), (3.0, 5.0));
        assert_eq!(fans(&[3, 3, 4, 8]), (36.0, 72.0));
        assert_eq!(fans(&[7]), (7.0, 7.0));
    }
}
