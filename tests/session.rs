//! Session semantics as in TF1: pruning, feeds, targets, initialization, errors that change
//! nothing, plan caching, concurrency, and the ordering of variable reads and writes.

use stepflow::{DType, Error, Graph, Initializer, Output, Session, Shape, Tensor};

fn counter_graph() -> (Graph, Output, Output) {
    let mut g = Graph::new();
    let step = g.get_or_create_global_step().unwrap();
    let one = g.constant(1i64).unwrap();
    let inc = g.assign_add(step, one).unwrap();
    (g, step, inc)
}

#[test]
fn only_what_fetches_need_runs() {
    // `bad` would fail (an unfed placeholder), but the fetch does not need it.
    let mut g = Graph::new();
    let a = g.constant(2.0f32).unwrap();
    let x = g.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let _bad = g.add(a, x).unwrap();
    let y = g.square(a).unwrap();
    let s = Session::new(g);
    assert_eq!(s.run(&[], &[y], &[]).unwrap()[0].to_f64_vec(), vec![4.0]);
}

#[test]
fn any_tensor_can_be_fed() {
    let mut g = Graph::new();
    let a = g.constant(2.0f32).unwrap();
    let b = g.square(a).unwrap();
    let c = g.add(b, a).unwrap();
    let s = Session::new(g);
    assert_eq!(s.run(&[], &[c], &[]).unwrap()[0].to_f64_vec(), vec![6.0]);
    // Feeding an intermediate tensor replaces it and what folds from it.
    assert_eq!(s.run(&[(b, Tensor::scalar(10.0f32))], &[c], &[]).unwrap()[0].to_f64_vec(), vec![12.0]);
    assert_eq!(s.run(&[(a, Tensor::scalar(3.0f32))], &[c], &[]).unwrap()[0].to_f64_vec(), vec![12.0]);
}

#[test]
fn targets_run_and_return_nothing() {
    let (g, step, inc) = counter_graph();
    let s = Session::new(g);
    s.initialize().unwrap();
    for _ in 0..5 {
        assert!(s.run(&[], &[], &[inc.node]).unwrap().is_empty());
    }
    assert_eq!(s.run(&[], &[step], &[]).unwrap()[0].to_i64_vec().unwrap(), vec![5]);
}

#[test]
fn global_variables_initializer_initializes_every_variable() {
    let mut g = Graph::new();
    let a = g.variable("a", DType::Float32, &[2], Initializer::Ones).unwrap();
    let b = g.variable("b", DType::Int32, &[], Initializer::Constant(7.0)).unwrap();
    let init = g.global_variables_initializer().unwrap();
    assert_eq!(g.node(init).name(), "init");
    let s = Session::new(g);
    assert!(s.run(&[], &[a], &[]).is_err());
    s.run(&[], &[], &[init]).unwrap();
    let out = s.run(&[], &[a, b], &[]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![1.0, 1.0]);
    assert_eq!(out[1].to_i64_vec().unwrap(), vec![7]);
}

/// A graph whose target increments `v` and whose fetch needs `x` fed (float32 [?, 2]) and `w`
/// initialized: every error below must leave `v` as it was.
fn guarded() -> (Session, Output, Output, Output, Output) {
    let mut g = Graph::new();
    let v = g.variable("v", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let w = g.variable("w", DType::Float32, &[2], Initializer::Ones).unwrap();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)])).unwrap();
    let one = g.constant(1.0f32).unwrap();
    let inc = g.assign_add(v, one).unwrap();
    let y = g.mul(x, w).unwrap();
    let s = Session::new(g);
    s.run(&[], &[], &[s.graph().variables()[0].initializer.unwrap()]).unwrap();
    (s, v, x, y, inc)
}

#[test]
fn errors_name_the_node_and_change_no_variable() {
    let (s, v, x, y, inc) = guarded();
    let feed = Tensor::from_vec(&[1, 2], vec![1.0f32, 2.0]).unwrap();
    let cases: Vec<(stepflow::Result<Vec<Tensor>>, &str)> = vec![
        // w is not initialized
        (s.run(&[(x, feed.clone())], &[y], &[inc.node]), "uninitialized variable 'w'"),
        // x is not fed
        (
            s.run(&[], &[y], &[inc.node]),
            "you must feed a value for placeholder 'Placeholder' with dtype float32 and shape [?,2]",
        ),
        // wrong dtype
        (s.run(&[(x, Tensor::from_vec(&[1, 2], vec![1i32, 2]).unwrap())], &[y], &[inc.node]), "dtype int32"),
        // wrong shape
        (s.run(&[(x, Tensor::from_vec(&[1, 3], vec![1f32, 2., 3.]).unwrap())], &[y], &[inc.node]), "shape [1,3]"),
        // unknown name
        (s.run_by_name(&[], &["nope"], &["AssignAdd"]), "no node named 'nope'"),
    ];
    for (r, expected) in cases {
        let e = r.unwrap_err().to_string();
        assert!(e.contains(expected), "error '{e}' should contain '{expected}'");
        assert_eq!(s.variable_value(v).unwrap().to_f64_vec(), vec![1.0], "after '{e}' the variable changed");
    }
}

#[test]
fn a_repeated_run_reuses_its_plan() {
    let (g, step, inc) = counter_graph();
    let s = Session::new(g);
    s.initialize().unwrap();
    let before = s.cached_plans();
    for _ in 0..100 {
        s.run(&[], &[step], &[inc.node]).unwrap();
    }
    assert_eq!(s.cached_plans(), before + 1);
    s.run(&[], &[step], &[]).unwrap();
    assert_eq!(s.cached_plans(), before + 2, "another signature gets its own plan");
}

#[test]
fn concurrent_runs_count_every_increment_once() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session>();
    let (g, step, inc) = counter_graph();
    let s = Session::new(g);
    s.initialize().unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..2500 {
                    s.run(&[], &[], &[inc.node]).unwrap();
                }
            });
        }
    });
    assert_eq!(s.run(&[], &[step], &[]).unwrap()[0].to_i64_vec().unwrap(), vec![10_000]);
}

#[test]
fn an_unordered_read_sees_the_value_before_the_write() {
    // Fetching the step and its increment together: the read is ordered before the write, so
    // each run returns the old value and the new one (TF 2.x happens to do the same).
    let (g, step, inc) = counter_graph();
    let s = Session::new(g);
    s.initialize().unwrap();
    for k in 0..3i64 {
        let out = s.run(&[], &[step, inc], &[]).unwrap();
        assert_eq!(out[0].to_i64_vec().unwrap(), vec![k]);
        assert_eq!(out[1].to_i64_vec().unwrap(), vec![k + 1]);
    }
}

#[test]
fn two_unordered_writes_go_in_creation_order() {
    let mut g = Graph::new();
    let v = g.variable("v", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let two = g.constant(2.0f32).unwrap();
    let three = g.constant(3.0f32).unwrap();
    let a = g.assign(v, two).unwrap();
    let b = g.assign_add(v, three).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    s.run(&[], &[], &[b.node, a.node]).unwrap();
    assert_eq!(s.variable_value(v).unwrap().to_f64_vec(), vec![5.0], "assign (2) then assign_add (3)");
}

#[test]
fn an_impossible_read_write_order_is_an_error() {
    // a := b and b := a, each reading the other's fresh value (ReadVariableOp after a control
    // dependency): no order satisfies both.
    let mut g = Graph::new();
    let a = g.variable("a", DType::Float32, &[], Initializer::Zeros).unwrap();
    let b = g.variable("b", DType::Float32, &[], Initializer::Zeros).unwrap();
    let one = g.constant(1.0f32).unwrap();
    let wa = g.assign_add(a, one).unwrap();
    let wb = g.assign_add(b, one).unwrap();
    let ra = g.with_control_dependencies(&[wb.node], |g| g.read_value(a)).unwrap();
    let rb = g.with_control_dependencies(&[wa.node], |g| g.read_value(b)).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    let e = s.run(&[], &[ra, rb], &[]).unwrap_err();
    assert!(matches!(e, Error::Cycle { .. }), "{e}");
}

#[test]
fn the_serial_reference_executor_agrees() {
    let mut g = Graph::new();
    let x = g
        .variable("x", DType::Float32, &[64, 64], Initializer::RandomNormal { mean: 0.0, stddev: 1.0, seed: 3 })
        .unwrap();
    let y = g.matmul(x, x).unwrap();
    let z = g.tanh(y).unwrap();
    let t = g.reduce_sum(z, Some(&[1]), false).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    let p = s.run(&[], &[t], &[]).unwrap();
    let opts = stepflow::RunOptions { executor: stepflow::Executor::Serial, ..Default::default() };
    let r = s.run_with(opts, &[], &[t], &[]).unwrap();
    assert!(p[0].bit_eq(&r[0]));
}

#[test]
fn callables_skip_the_lookup() {
    let (g, step, inc) = counter_graph();
    let s = Session::new(g);
    s.initialize().unwrap();
    let f = s.make_callable(&[], &[step], &[inc.node]).unwrap();
    for k in 0..3i64 {
        assert_eq!(f.run(&[]).unwrap()[0].to_i64_vec().unwrap(), vec![k]);
    }
    assert!(f.run(&[Tensor::scalar(1.0f32)]).is_err(), "a feed the callable was not made with");
}

#[test]
fn handles_from_another_graph_are_errors_not_panics() {
    let mut big = Graph::new();
    for _ in 0..10 {
        big.constant(1.0f32).unwrap();
    }
    let foreign = big.constant(1.0f32).unwrap();
    let s = Session::new(Graph::new());
    assert!(s.run(&[], &[foreign], &[]).is_err());
    assert!(s.run(&[], &[], &[foreign.node]).is_err());
    assert!(s.variable_value(foreign).is_err());
}

#[test]
fn identities_no_ops_and_unread_pure_nodes_are_skipped_keeping_their_orderings() {
    // TF's training graphs gate every gradient through `control_dependency` Identities and a
    // `group_deps` NoOp; the plan skips them, and a pure node nothing reads, but a read gated
    // before a write through them still sees the old value.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let v = g.variable("v", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let read = g.identity(v).unwrap();
    let sq = g.square(x).unwrap();
    let gated = g.with_control_dependencies(&[read.node], |g| g.identity(sq)).unwrap();
    let unread = g.exp(x).unwrap();
    let deps = g.group(&[gated.node, unread.node], "group_deps").unwrap();
    let update = g.with_control_dependencies(&[deps], |g| g.assign(v, gated)).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    let plan = s.explain(&[x], &[read, update], &[]).unwrap();
    for skipped in ["Identity", "Identity_1", "Exp", "group_deps"] {
        assert!(!plan.steps.iter().any(|n| n == skipped), "{skipped} runs in {:?}", plan.steps);
    }
    let out = s.run(&[(x, Tensor::scalar(3.0f32))], &[read, update], &[]).unwrap();
    assert_eq!((out[0].to_f64_vec(), out[1].to_f64_vec()), (vec![1.0], vec![9.0]));
    // A skipped node is still fetched, and still a target.
    let out = s.run(&[(x, Tensor::scalar(2.0f32))], &[gated, unread], &[deps]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![4.0]);
    assert!((out[1].to_f64_vec()[0] - 2f64.exp()).abs() < 1e-5);
}

/// A convolution, its bias and relu, a max-pool and the gradients of all of them: every large
/// value of a run dies in it, and later runs get their buffers back.
fn conv_net() -> (Graph, Output, [Output; 3]) {
    use stepflow::ops::conv::Padding;
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::known(&[4, 32, 32, 8])).unwrap();
    let f = g
        .constant(
            Tensor::from_vec(&[3, 3, 8, 32], (0..2304).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect()).unwrap(),
        )
        .unwrap();
    let b = g.constant(Tensor::from_vec(&[32], (0..32).map(|i| i as f32 / 64.0 - 0.25).collect()).unwrap()).unwrap();
    let c = g.conv2d(x, f, [1, 1], Padding::Same).unwrap();
    let c = g.bias_add(c, b).unwrap();
    let r = g.relu(c).unwrap();
    let p = g.max_pool(r, [2, 2], [2, 2], Padding::Valid).unwrap();
    let loss = g.reduce_sum(p, None, false).unwrap();
    let grads = stepflow::grad::gradients(&mut g, &[loss], &[x, f, b], None).unwrap();
    let grad = |i: usize| grads[i].unwrap();
    (g, x, [grad(0), grad(1), grad(2)])
}

#[test]
fn buffers_kept_from_earlier_runs_never_change_a_result() {
    let (g, x, fetches) = conv_net();
    let reused = Session::new(g);
    let feed = |seed: usize| {
        let v = (0..4 * 32 * 32 * 8).map(|i| (((i + seed) * 2654435761) % 1000) as f32 / 500.0 - 1.0).collect();
        Tensor::from_vec(&[4, 32, 32, 8], v).unwrap()
    };
    for seed in 0..3 {
        let got = reused.run(&[(x, feed(seed))], &fetches, &[]).unwrap();
        let (g, x, fetches) = conv_net();
        let fresh = Session::new(g).run(&[(x, feed(seed))], &fetches, &[]).unwrap();
        for (a, b) in got.iter().zip(&fresh) {
            assert!(a.bit_eq(b), "run {seed} differs from a fresh session's");
        }
    }
}

#[test]
fn gated_constants_and_reshapes_to_the_same_shape_do_not_run_but_keep_their_orderings() {
    // TF's gradients gate the constants they add on the incoming gradient (`^Mean_grad/truediv`),
    // `minimize` gates the increment of `global_step` on the updates, and the gradient of a
    // broadcast scalar reshapes a scalar to `[]`. None of them needs a step, and what waited for
    // a gated constant still waits for its control inputs: here a read of `v` after its update.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let v = g.variable("v", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let sq = g.square(x).unwrap();
    let same = g.reshape(sq, &[]).unwrap();
    let update = g.assign_add(v, same).unwrap();
    let gated = g.with_control_dependencies(&[update.node], |g| g.constant(1.0f32)).unwrap();
    let read = g.with_control_dependencies(&[gated.node], |g| g.read_value(v)).unwrap();
    let s = Session::new(g);
    let plan = s.explain(&[x], &[read], &[]).unwrap();
    for skipped in [gated, same] {
        let name = s.graph().node(skipped.node).name();
        assert!(!plan.steps.iter().any(|n| n == name), "{name} runs in {:?}", plan.steps);
    }
    for _ in 0..3 {
        s.initialize().unwrap();
        let out = s.run(&[(x, Tensor::scalar(3.0f32))], &[read, gated], &[]).unwrap();
        assert_eq!((out[0].to_f64_vec(), out[1].to_f64_vec()), (vec![10.0], vec![1.0]));
    }
    // A reshape to another shape, or to a shape only known when it runs, still runs.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None])).unwrap();
    let square = g.placeholder(DType::Float32, Shape::known(&[2, 2])).unwrap();
    let flat = g.reshape(square, &[4]).unwrap();
    let same = g.reshape(x, &[-1]).unwrap();
    let s = Session::new(g);
    let plan = s.explain(&[x, square], &[flat, same], &[]).unwrap();
    assert_eq!(plan.steps.len(), 2, "{:?}", plan.steps);
}

#[test]
fn a_gather_of_every_index_in_order_does_not_run() {
    // TF's `Mean` gradient gathers the reduced dimensions of `Shape(x)`: all of them, in order.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Int32, Shape::known(&[3])).unwrap();
    let all = g.constant_vec(vec![0i32, 1, 2]).unwrap();
    let some = g.constant_vec(vec![0i32, 2]).unwrap();
    let same = g.gather(x, all, 0).unwrap();
    let picked = g.gather(x, some, 0).unwrap();
    let s = Session::new(g);
    let plan = s.explain(&[x], &[same, picked], &[]).unwrap();
    assert_eq!(plan.steps, [s.graph().node(picked.node).name()]);
    let feed = Tensor::from_vec(&[3], vec![4i32, 5, 6]).unwrap();
    let out = s.run(&[(x, feed)], &[same, picked], &[]).unwrap();
    assert_eq!((out[0].to_f64_vec(), out[1].to_f64_vec()), (vec![4.0, 5.0, 6.0], vec![4.0, 6.0]));
}

#[test]
fn a_pure_node_that_repeats_an_earlier_one_does_not_run() {
    // TF's `Mean` gradient takes `Shape(x)` twice; a random op twice is two draws, and both run.
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)])).unwrap();
    let s1 = g.shape_of(x).unwrap();
    let s2 = g.shape_of(x).unwrap();
    let sum = g.add(s1, s2).unwrap();
    let r1 = g.random_uniform(&[2], DType::Float32, 1).unwrap();
    let r2 = g.random_uniform(&[2], DType::Float32, 1).unwrap();
    let s = Session::new(g);
    let plan = s.explain(&[x], &[sum, r1, r2], &[]).unwrap();
    assert_eq!(plan.steps.len(), 4, "{:?}", plan.steps);
    let feed = Tensor::from_vec(&[3, 2], vec![0f32; 6]).unwrap();
    let out = s.run(&[(x, feed)], &[sum, s2], &[]).unwrap();
    assert_eq!((out[0].to_f64_vec(), out[1].to_f64_vec()), (vec![6.0, 4.0], vec![3.0, 2.0]));
}
