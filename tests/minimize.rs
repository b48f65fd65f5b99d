//! `minimize`: TF's ordering of updates and global_step, slot names, errors, graph files.

use stepflow::train::optimizers::*;
use stepflow::train::schedules::{ExponentialDecay, Schedule};
use stepflow::{DType, Graph, Initializer, Output, Session, Shape, Tensor};

#[test]
fn update_k_uses_the_rate_of_step_k_minus_1_and_the_step_counts_runs() {
    // loss = w², lr = 0.1 · 0.5^step (staircase): w ← w − lr·2w with lr 0.1, 0.05, 0.025.
    let mut g = Graph::new();
    let w = g.variable("w", DType::Float32, &[], Initializer::Constant(1.0)).unwrap();
    let loss = g.square(w).unwrap();
    let step = g.get_or_create_global_step().unwrap();
    let lr = ExponentialDecay {
        learning_rate: 0.1,
        decay_steps: 1.0,
        decay_rate: 0.5,
        staircase: true,
        dtype: DType::Float32,
    }
    .build(&mut g, step)
    .unwrap();
    let train = GradientDescentOptimizer::new(lr).minimize(&mut g, loss, Some(step), None).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    let mut w_expected = 1.0f32;
    for (k, want_lr) in [0.1f32, 0.05, 0.025].into_iter().enumerate() {
        let out = s.run(&[], &[lr], &[train]).unwrap();
        assert_eq!(out[0].to_f64_vec(), vec![want_lr as f64], "the rate fetched with run {k}");
        w_expected -= want_lr * 2.0 * w_expected;
        assert!((s.variable_value(w).unwrap().to_f64_vec()[0] - w_expected as f64).abs() < 1e-7);
        assert_eq!(s.variable_value(step).unwrap().to_i64_vec().unwrap(), vec![k as i64 + 1]);
    }
}

fn names(g: &Graph) -> Vec<String> {
    g.variables().iter().map(|v| g.node(v.node).name().to_string()).collect()
}

fn model() -> (Graph, Output, Output) {
    let mut g = Graph::new();
    let w = g.variable("w", DType::Float32, &[2], Initializer::Ones).unwrap();
    let sq = g.square(w).unwrap();
    let loss = g.reduce_sum(sq, None, false).unwrap();
    (g, w, loss)
}

#[test]
fn slots_are_named_as_tf_names_them() {
    let cases: Vec<(Box<dyn Optimizer>, Vec<&str>)> = vec![
        (Box::new(AdamOptimizer::new(0.1)), vec!["w", "beta1_power", "beta2_power", "w/Adam", "w/Adam_1"]),
        (Box::new(MomentumOptimizer::new(0.1, 0.9)), vec!["w", "w/Momentum"]),
        (Box::new(AdagradOptimizer::new(0.1)), vec!["w", "w/Adagrad"]),
        (Box::new(RMSPropOptimizer::new(0.1)), vec!["w", "w/RMSProp", "w/RMSProp_1"]),
        (
            Box::new(RMSPropOptimizer { centered: true, ..RMSPropOptimizer::new(0.1) }),
            vec!["w", "w/RMSProp", "w/RMSProp_1", "w/RMSProp_2"],
        ),
    ];
    for (opt, want) in cases {
        let (mut g, _, loss) = model();
        let train = opt.minimize(&mut g, loss, None, None).unwrap();
        assert_eq!(names(&g), want, "{}", opt.name());
        assert_eq!(g.node(train).name(), opt.name());
        assert!(
            g.node_id(&format!(
                "{}/update_w/Apply{}",
                opt.name(),
                if opt.name() == "RMSProp" && want.len() == 4 { "CenteredRMSProp" } else { opt.name() }
            ))
            .is_ok()
        );
        assert!(g.trainable_variables() == vec![g.output("w").unwrap()], "slots are not trainable");
    }
}

#[test]
fn errors_as_tf_reports_them() {
    let mut g = Graph::new();
    let c = g.constant(1.0f32).unwrap();
    let e = GradientDescentOptimizer::new(0.1).minimize(&mut g, c, None, None).unwrap_err().to_string();
    assert!(e.contains("No variables to optimize"), "{e}");

    let (mut g, w, _) = model();
    let other = g.constant(2.0f32).unwrap();
    let e = GradientDescentOptimizer::new(0.1).minimize(&mut g, other, None, Some(&[w])).unwrap_err().to_string();
    assert!(e.contains("No gradients provided for any variable"), "{e}");

    let (mut g, _, loss) = model();
    let lr = g.constant(Tensor::from_vec(&[2], vec![0.1f32, 0.2]).unwrap()).unwrap();
    let e = GradientDescentOptimizer::new(lr).minimize(&mut g, loss, None, None).unwrap_err().to_string();
    assert!(e.contains("learning_rate") && e.contains("scalar"), "{e}");

    let (mut g, _, loss) = model();
    let e = AdagradOptimizer { initial_accumulator_value: 0.0, ..AdagradOptimizer::new(0.1) }
        .minimize(&mut g, loss, None, None)
        .unwrap_err();
    assert!(
        e.to_string().contains("initial_accumulator_value must be positive")
            || e.to_string().contains("must be positive"),
        "{e}"
    );
}

#[test]
fn a_fed_placeholder_drives_the_learning_rate() {
    let (mut g, w, loss) = model();
    let lr = g.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let train = MomentumOptimizer::new(lr, 0.0).minimize(&mut g, loss, None, None).unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    s.run(&[(lr, Tensor::scalar(0.25f32))], &[], &[train]).unwrap();
    assert_eq!(s.variable_value(w).unwrap().to_f64_vec(), vec![0.5, 0.5], "w − 0.25·2w");
    assert!(s.run(&[], &[], &[train]).is_err(), "the rate must be fed");
}

#[test]
fn the_updates_of_minimize_are_independent() {
    let mut g = Graph::new();
    let vars: Vec<Output> = (0..4)
        .map(|i| {
            g.variable("w", DType::Float32, &[64, 64], Initializer::RandomNormal { mean: 0.0, stddev: 1.0, seed: i })
                .unwrap()
        })
        .collect();
    let mut total = vars[0];
    for &v in &vars[1..] {
        total = g.matmul(total, v).unwrap();
    }
    let loss = g.reduce_sum(total, None, false).unwrap();
    AdamOptimizer::new(0.01).minimize(&mut g, loss, None, None).unwrap();
    let updates: Vec<_> = g.node_ids().filter(|&id| g.node(id).op().op_type() == "ApplyAdam").collect();
    assert_eq!(updates.len(), 4);
    // No update depends on another: each may run as soon as its gradient is ready.
    for &u in &updates {
        let mut stack = vec![u];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            for i in g.node(n).inputs().iter().map(|o| o.node).chain(g.node(n).control_inputs().iter().copied()) {
                assert!(i == u || !updates.contains(&i), "update {} depends on another", g.node(u).name());
                if seen.insert(i) {
                    stack.push(i);
                }
            }
        }
    }
}

/// An MLP trained with Adam on an exponential decay: (graph, loss, train op, x, y).
fn mlp() -> (Graph, Output, stepflow::NodeId, Output, Output) {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(4)])).unwrap();
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)])).unwrap();
    let w1 = g.variable("w1", DType::Float32, &[4, 8], Initializer::HeNormal { seed: 1 }).unwrap();
    let b1 = g.variable("b1", DType::Float32, &[8], Initializer::Zeros).unwrap();
    let w2 = g.variable("w2", DType::Float32, &[8, 3], Initializer::GlorotUniform { seed: 2 }).unwrap();
    let h = g.matmul(x, w1).unwrap();
    let h = g.add(h, b1).unwrap();
    let h = g.relu(h).unwrap();
    let logits = g.matmul(h, w2).unwrap();
    let xent = g.softmax_cross_entropy_with_logits(y, logits).unwrap();
    let loss = g.named("loss", |g| g.reduce_mean(xent, None, false)).unwrap();
    let step = g.get_or_create_global_step().unwrap();
    let lr = ExponentialDecay {
        learning_rate: 0.05,
        decay_steps: 10.0,
        decay_rate: 0.9,
        staircase: true,
        dtype: DType::Float32,
    }
    .build(&mut g, step)
    .unwrap();
    let train = AdamOptimizer::new(lr).minimize(&mut g, loss, Some(step), None).unwrap();
    (g, loss, train, x, y)
}

#[test]
fn a_training_graph_saved_and_loaded_trains_bit_identically() {
    let xs = Tensor::from_vec(&[6, 4], (0..24).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect()).unwrap();
    let ys =
        Tensor::from_vec(&[6, 3], (0..18).map(|i| if i % 3 == (i / 3) % 3 { 1.0f32 } else { 0.0 }).collect()).unwrap();
    let (g, loss, train, x, y) = mlp();
    let text = g.to_json();
    let loaded = Graph::from_json(&text, "saved").unwrap();
    let train_again = loaded.node_id(g.node(train).name()).unwrap();
    let (loss_again, x_again, y_again) = (
        loaded.output("loss").unwrap(),
        loaded.output(&g.output_name(x)).unwrap(),
        loaded.output(&g.output_name(y)).unwrap(),
    );
    let run = |g: Graph, loss, train, x, y| {
        let vars: Vec<Output> = g.variables().iter().map(|v| v.node.into()).collect();
        let s = Session::new(g);
        s.initialize().unwrap();
        let mut seen: Vec<Tensor> = (0..100)
            .map(|_| s.run(&[(x, xs.clone()), (y, ys.clone())], &[loss], &[train]).unwrap().remove(0))
            .collect();
        seen.extend(vars.iter().map(|&v| s.variable_value(v).unwrap()));
        seen
    };
    let a = run(g, loss, train, x, y);
    let b = run(loaded, loss_again, train_again, x_again, y_again);
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(p, q)| p.bit_eq(q)), "training differs after a save and load");
    assert!(a[99].scalar_f64().unwrap() < a[0].scalar_f64().unwrap(), "the loss went down");
}

#[test]
fn minimize_in_a_graph_file() {
    let text = r#"{"version": 1, "nodes": [
        {"name": "w", "op": "Variable", "attrs": {"shape": [], "initializer": {"constant": 3.0}}},
        {"name": "loss", "op": "Square", "inputs": ["w"]},
        {"name": "global_step", "op": "global_step"},
        {"name": "lr", "op": "exponential_decay", "inputs": ["global_step"], "attrs": {"learning_rate": 0.25, "decay_steps": 1, "decay_rate": 1.0}},
        {"name": "train", "op": "minimize", "inputs": ["loss", "lr", "global_step"], "attrs": {"optimizer": "gradient_descent"}}
    ]}"#;
    let g = Graph::from_json(text, "inline").unwrap();
    let s = Session::new(g);
    s.initialize().unwrap();
    s.run_by_name(&[], &[], &["train"]).unwrap();
    let out = s.run_by_name(&[], &["w", "global_step"], &[]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![1.5]);
    assert_eq!(out[1].to_i64_vec().unwrap(), vec![1]);
}
