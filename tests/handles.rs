//! Handles from another graph are errors wherever they are used: in builder functions, in
//! schedules, in `gradients`, and in `Session::run`, even when their index exists in both graphs.

use stepflow::train::exponential_decay;
use stepflow::{DType, Error, Graph, Session, Shape, grad::gradients};

/// Two graphs of the same size, so the foreign handle's index exists in both.
fn two_graphs() -> (Graph, Graph, stepflow::Output) {
    let mut a = Graph::new();
    let mut b = Graph::new();
    a.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let x = b.placeholder(DType::Int64, Shape::scalar()).unwrap();
    (a, b, x)
}

fn assert_foreign(r: Result<impl std::fmt::Debug, Error>) {
    let e = r.unwrap_err();
    assert!(e.to_string().contains("another graph"), "{e}");
}

#[test]
fn builder_functions_reject_a_handle_of_another_graph() {
    let (mut a, _b, x) = two_graphs();
    assert_foreign(a.cast(x, DType::Float32));
    assert_foreign(a.square(x));
    assert_foreign(a.reduce_sum(x, None, false));
}

#[test]
fn a_schedule_rejects_a_step_of_another_graph() {
    let (mut a, _b, step) = two_graphs();
    assert_foreign(exponential_decay(&mut a, 0.1, step, 100, 0.9, true));
}

#[test]
fn gradients_reject_handles_of_another_graph() {
    let (mut a, _b, x) = two_graphs();
    let own = a.output("Placeholder").unwrap();
    assert_foreign(gradients(&mut a, &[x], &[own], None));
    assert_foreign(gradients(&mut a, &[own], &[x], None));
}

#[test]
fn a_run_rejects_handles_of_another_graph_with_an_index_it_has() {
    let (a, _b, x) = two_graphs();
    let s = Session::new(a);
    assert_foreign(s.run(&[], &[x], &[]));
    assert_foreign(s.run(&[], &[], &[x.node]));
    assert_foreign(s.run(&[(x, stepflow::Tensor::from(1i64))], &[], &[]));
}
