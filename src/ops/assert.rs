//! Assert: fails the run with a message when its condition is false (TF `tf.debugging.Assert`).

use super::{InferCx, Kernel, Op, Outputs, State, TensorSpec, op};
use crate::error::{OpResult, Result};
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::tensor::{DType, Tensor};

op! {
    /// Fails the run when `condition` (a bool scalar, the first input) is false, with an error
    /// that shows `message` and then the value of every other input, as TF's `Assert` does. Its
    /// message strings are TF's string constant data inputs, which the GraphDef importer folds
    /// into `message`.
    ///
    /// ```
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.placeholder(DType::Float32, Shape::scalar())?;
    /// let zero = g.constant(0.0f32)?;
    /// let ok = g.greater_equal(x, zero)?;
    /// let check = g.assert(ok, &[x], &["x must not be negative"])?;
    /// let s = Session::new(g);
    /// assert!(s.run(&[(x, Tensor::from(1.0f32))], &[], &[check]).is_ok());
    /// let err = s.run(&[(x, Tensor::from(-1.0f32))], &[], &[check]).unwrap_err();
    /// assert!(err.to_string().contains("assertion failed: [x must not be negative] [-1]"), "{err}");
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    Assert derive(Default) { #[serde(default)] message: Vec<String> }
}

impl Op for Assert {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(crate::invalid!("Assert needs a condition input"));
        }
        cx.dtype_in(0, &[DType::Bool])?;
        Ok(vec![])
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let holds = match k.input(0)? {
            Tensor::Bool(c) if c.len() == 1 && c.ndim() <= 1 => c.iter().all(|&b| b),
            c => return Err(crate::invalid!("the condition must be a bool scalar, got shape {:?}", c.shape())),
        };
        if holds {
            return Ok(Outputs::new());
        }
        let mut parts: Vec<String> = self.message.iter().map(|m| format!("[{m}]")).collect();
        for i in 1..k.num_inputs() {
            parts.push(format!("[{}]", k.input(i)?));
        }
        Err(crate::invalid!("assertion failed: {}", parts.join(" ")))
    }
    fn state(&self) -> State {
        State::Effect
    }
}

impl Graph {
    /// An [`Assert`] node: the run fails unless `condition` holds, showing `message` and
    /// `data`. Run it as a target, or make other nodes depend on it.
    pub fn assert(&mut self, condition: Output, data: &[Output], message: &[&str]) -> Result<NodeId> {
        let mut inputs = vec![condition];
        inputs.extend_from_slice(data);
        let op = Assert { message: message.iter().map(|m| m.to_string()).collect() };
        self.add_node(NodeName::Default("Assert"), op, &inputs, &[])
    }
}
