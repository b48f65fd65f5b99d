//! The check that every kernel's outputs have the dtype and shape shape inference promised
//! (`RunOptions::check_outputs`, always on in debug builds), on an op that breaks its promise.

use stepflow::ops::{InferCx, Kernel, Op, OpType, Outputs, TensorSpec, one};
use stepflow::{DType, Graph, NodeName, OpError, RunOptions, Session, Shape, Tensor};

/// Promises a float32 `[2]` and returns a scalar: a buggy op.
#[derive(Debug, serde::Serialize)]
struct Liar;

impl OpType for Liar {
    fn op_type(&self) -> &'static str {
        "Liar"
    }
}

impl Op for Liar {
    fn infer(&self, _cx: &InferCx) -> Result<Vec<TensorSpec>, OpError> {
        Ok(vec![TensorSpec::new(DType::Float32, Shape::known(&[2]))])
    }
    fn compute(&self, _k: &mut Kernel) -> Result<Outputs, OpError> {
        one(Tensor::scalar(1.0f32))
    }
}

#[test]
fn a_kernel_output_that_breaks_its_spec_is_an_error_naming_the_node() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::unknown()).unwrap();
    let liar = g.add_node(NodeName::Exact("liar"), Liar, &[x], &[]).unwrap();
    let s = Session::new(g);
    let feeds = [(x, Tensor::scalar(0.0f32))];
    let fetch = [liar.into()];
    for executor in [stepflow::Executor::Parallel, stepflow::Executor::Serial] {
        let checked = RunOptions { executor, check_outputs: true, ..RunOptions::default() };
        let msg = s.run_with(checked, &feeds, &fetch, &[]).unwrap_err().to_string();
        assert_eq!(msg, "node 'liar' (Liar): kernel output 0 is float32 [], but shape inference promised float32 [2]");
        // Release builds check only when asked; debug builds always do.
        let unchecked = RunOptions { executor, ..RunOptions::default() };
        assert_eq!(s.run_with(unchecked, &feeds, &fetch, &[]).is_err(), cfg!(debug_assertions));
    }
}

#[test]
fn a_folded_value_that_breaks_its_spec_is_an_error_when_the_node_is_built() {
    let mut g = Graph::new();
    let c = g.constant(1.0f32).unwrap();
    let msg = g.add_node(NodeName::Exact("liar"), Liar, &[c], &[]).unwrap_err().to_string();
    assert_eq!(msg, "node 'liar' (Liar): kernel produced float32 [], but shape inference said float32 [2]");
}
