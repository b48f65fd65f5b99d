//! The `tf.layers` builders and `tf.nn.dropout`: TF's variable names and initializers, forward
//! values on fed inputs, dropout's statistics and gradient, the training flag, `UPDATE_OPS`, and
//! the same layers as graph functions.

use stepflow::grad::gradients;
use stepflow::graph::UPDATE_OPS;
use stepflow::layers::{Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Padding, Pooling2D, Training};
use stepflow::{DType, Graph, Initializer, Session, Shape, Tensor};

fn ramp(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|i| (i as f32 - n as f32 / 2.0) * 0.25).collect()).unwrap()
}

#[test]
fn dense_is_matmul_bias_add_and_activation_under_tf_names() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)])).unwrap();
    let layer = Dense {
        activation: Activation::Relu,
        kernel_initializer: Some(Initializer::Value(ramp(&[3, 2]))),
        bias_initializer: Initializer::Constant(0.5),
        ..Dense::new(2)
    };
    let y = layer.apply(&mut g, x).unwrap();
    let z = Dense::new(4).apply(&mut g, y).unwrap();
    for name in ["dense/kernel", "dense/bias", "dense/MatMul", "dense/BiasAdd", "dense/Relu", "dense_1/kernel"] {
        assert!(g.output(name).is_ok(), "no {name}");
    }
    assert_eq!(g.node(y.node).name(), "dense/Relu");
    assert_eq!(g.trainable_variables().len(), 4);
    let s = Session::new(g);
    s.initialize().unwrap();
    let xs = Tensor::from_vec(&[2, 3], vec![1.0f32, 2.0, 3.0, -1.0, 0.0, 1.0]).unwrap();
    let out = s.run(&[(x, xs)], &[y, z], &[]).unwrap();
    // kernel = [[-0.75, -0.5], [-0.25, 0], [0.25, 0.5]]; x·k + 0.5, then relu.
    assert_eq!(out[0].to_f64_vec(), vec![0.0, 1.5, 1.5, 1.5]);
    assert_eq!(out[1].shape(), &[2, 4]);
}

#[test]
fn default_kernels_are_glorot_uniform_and_differ_by_layer() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(100)])).unwrap();
    let a = Dense::new(50).apply(&mut g, x).unwrap();
    Dense::new(50).apply(&mut g, a).unwrap();
    let (k0, k1) = (g.output("dense/kernel").unwrap(), g.output("dense_1/kernel").unwrap());
    let s = Session::new(g);
    s.initialize().unwrap();
    let (v0, v1) = (s.variable_value(k0).unwrap().to_f64_vec(), s.variable_value(k1).unwrap().to_f64_vec());
    let limit = (6.0f64 / 150.0).sqrt();
    assert!(v0.iter().all(|v| v.abs() <= limit) && v0.iter().any(|v| v.abs() > 0.9 * limit));
    assert_ne!(v0[..50], v1[..50]);
}

#[test]
fn flatten_keeps_the_batch_axis() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2), Some(3)])).unwrap();
    let y = Flatten::default().apply(&mut g, x).unwrap();
    assert_eq!(g.node(y.node).name(), "flatten/Reshape");
    let s = Session::new(g);
    let out = s.run(&[(x, ramp(&[4, 2, 3]))], &[y], &[]).unwrap();
    assert_eq!((out[0].shape(), out[0].to_f64_vec()), (&[4usize, 6][..], ramp(&[24]).to_f64_vec()));
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, None])).unwrap();
    let e = Flatten::default().apply(&mut g, x).unwrap_err().to_string();
    assert!(e.contains("non-batch axes") && e.contains("Placeholder"), "{e}");
}

#[test]
fn dropout_keeps_with_probability_one_minus_rate_and_scales() {
    let build = || {
        let mut g = Graph::new();
        let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(100)])).unwrap();
        let y = g.dropout(x, 0.25, 3).unwrap();
        let dx = gradients(&mut g, &[y], &[x], None).unwrap()[0].unwrap();
        (g, x, y, dx)
    };
    let (g, x, y, dx) = build();
    for name in ["dropout/mul", "dropout/random_uniform/RandomUniform", "dropout/GreaterEqual", "dropout/SelectV2"] {
        assert!(g.output(name).is_ok(), "no {name}");
    }
    let s = Session::new(g);
    let feed = [(x, Tensor::from_vec(&[100, 100], vec![3.0f32; 10_000]).unwrap())];
    let first = s.run(&feed, &[y, dx], &[]).unwrap();
    let (v, d) = (first[0].to_f64_vec(), first[1].to_f64_vec());
    assert!(v.iter().all(|&e| e == 0.0 || e == 4.0), "kept values are x / (1 - rate)");
    let kept = v.iter().filter(|&&e| e != 0.0).count() as f64 / 10_000.0;
    assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
    // The gradient is the same mask, scaled: y = x · mask / (1 - rate).
    assert!(v.iter().zip(&d).all(|(&y, &g)| (y == 0.0) == (g == 0.0) && (g == 0.0 || (g - 4.0 / 3.0).abs() < 1e-6)));
    // Each run draws a new mask; a new session with the same seed draws the same ones.
    let second = s.run(&feed, &[y], &[]).unwrap()[0].to_f64_vec();
    assert_ne!(v, second);
    let (g2, x2, y2, _) = build();
    let feed2 = [(x2, feed[0].1.clone())];
    assert_eq!(Session::new(g2).run(&feed2, &[y2], &[]).unwrap()[0].to_f64_vec(), v);
}

#[test]
fn dropout_rate_outside_zero_to_one_is_an_error_and_zero_is_identity() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None])).unwrap();
    for rate in [1.0, -0.1, f64::NAN] {
        let e = g.dropout(x, rate, 0).unwrap_err().to_string();
        assert!(e.contains("rate must be in [0, 1)"), "{e}");
    }
    assert_eq!(g.dropout(x, 0.0, 0).unwrap(), x);
}

#[test]
fn dropout_layer_follows_its_training_flag() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None])).unwrap();
    let no = g.constant(false).unwrap();
    let flag = g.placeholder_with_default(no, Shape::scalar()).unwrap();
    let y = Dropout { training: Training::Flag(flag), seed: 1, ..Dropout::new(0.5) }.apply(&mut g, x).unwrap();
    let always = Dropout { training: Training::Yes, ..Dropout::new(0.5) }.apply(&mut g, x).unwrap();
    let never = Dropout::new(0.5).apply(&mut g, x).unwrap();
    let s = Session::new(g);
    let ones = Tensor::from_vec(&[64], vec![1.0f32; 64]).unwrap();
    let eval = s.run(&[(x, ones.clone())], &[y, never], &[]).unwrap();
    assert_eq!((eval[0].to_f64_vec(), eval[1].to_f64_vec()), (vec![1.0; 64], vec![1.0; 64]));
    for fetched in [
        s.run(&[(x, ones.clone()), (flag, Tensor::from(true))], &[y], &[]).unwrap(),
        s.run(&[(x, ones)], &[always], &[]).unwrap(),
    ] {
        let v = fetched[0].to_f64_vec();
        assert!(v.iter().all(|&e| e == 0.0 || e == 2.0) && v.contains(&0.0) && v.contains(&2.0), "{v:?}");
    }
}

#[test]
fn collections_hold_nodes_of_their_graph_in_order() {
    let mut g = Graph::new();
    let a = g.no_op().unwrap();
    let b = g.no_op().unwrap();
    g.add_to_collection(UPDATE_OPS, a).unwrap();
    g.add_to_collection(UPDATE_OPS, b).unwrap();
    assert_eq!(g.collection(UPDATE_OPS), &[a, b]);
    let other = Graph::new().no_op().unwrap();
    assert!(g.add_to_collection(UPDATE_OPS, other).is_err());
}

#[test]
fn layers_as_graph_functions() {
    let text = r#"{"format": "stepflow.graph", "version": 1, "nodes": [
        {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 2, 2]}},
        {"name": "no", "op": "Const", "attrs": {"value": {"dtype": "bool", "data": false}}},
        {"name": "training", "op": "PlaceholderWithDefault", "inputs": ["no"], "attrs": {"shape": []}},
        {"name": "flat", "op": "flatten", "inputs": ["x"]},
        {"name": "hidden", "op": "dense", "inputs": ["flat"], "attrs": {"units": 3, "activation": "tanh",
          "kernel_initializer": "ones", "bias_initializer": {"constant": 0.25}}},
        {"name": "drop", "op": "dropout", "inputs": ["hidden", "training"], "attrs": {"rate": 0.5, "seed": 2}}
    ]}"#;
    let g = Graph::from_json(text, "layers.json").unwrap();
    for name in ["hidden/kernel", "hidden/bias", "hidden", "flat", "drop"] {
        assert!(g.output(name).is_ok(), "no {name}");
    }
    let (x, drop, training) = (g.output("x").unwrap(), g.output("drop").unwrap(), g.output("training").unwrap());
    let s = Session::new(g);
    s.initialize().unwrap();
    let xs = Tensor::from_vec(&[1, 2, 2], vec![0.5f32, -0.25, 0.0, 0.0]).unwrap();
    let eval = s.run(&[(x, xs.clone())], &[drop], &[]).unwrap()[0].to_f64_vec();
    let want = 0.5f64.tanh();
    assert!(eval.iter().all(|&v| (v - want).abs() < 1e-6), "{eval:?}");
    let train = s.run(&[(x, xs), (training, Tensor::from(true))], &[drop], &[]).unwrap()[0].to_f64_vec();
    assert!(train.iter().all(|&v| v == 0.0 || (v - 2.0 * want).abs() < 1e-6), "{train:?}");
    let bad = r#"{"format": "stepflow.graph", "version": 1, "nodes": [
        {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 2]}},
        {"name": "d", "op": "dense", "inputs": ["x"], "attrs": {"units": 3, "activation": "swish"}}]}"#;
    let e = Graph::from_json(bad, "bad.json").unwrap_err().to_string();
    assert!(e.contains("'d'") && e.contains("swish"), "{e}");
}

#[test]
fn conv2d_and_pooling_layers_under_tf_names() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(4), Some(4), Some(1)])).unwrap();
    let conv = Conv2D {
        padding: Padding::Same,
        activation: Activation::Relu,
        kernel_initializer: Some(Initializer::Ones),
        bias_initializer: Initializer::Constant(-1.0),
        ..Conv2D::new(2, [3, 3])
    };
    let h = conv.apply(&mut g, x).unwrap();
    let max = Pooling2D::max([2, 2], [2, 2]).apply(&mut g, h).unwrap();
    let avg = Pooling2D::average([2, 2], [2, 2]).apply(&mut g, h).unwrap();
    for name in ["conv2d/kernel", "conv2d/bias", "conv2d/Conv2D", "conv2d/BiasAdd", "conv2d/Relu"] {
        assert!(g.output(name).is_ok(), "no {name}");
    }
    assert_eq!(
        (g.node(max.node).name(), g.node(avg.node).name()),
        ("max_pooling2d/MaxPool", "average_pooling2d/AvgPool")
    );
    assert_eq!(g.spec(max).shape, Shape::partial(&[None, Some(2), Some(2), Some(2)]));
    let s = Session::new(g);
    s.initialize().unwrap();
    // All-ones 3×3 kernel, SAME: each output is the sum of the 3×3 neighbourhood, minus 1.
    let out = s.run(&[(x, Tensor::from_vec(&[1, 4, 4, 1], vec![1.0f32; 16]).unwrap())], &[h, max, avg], &[]).unwrap();
    let h = out[0].to_f64_vec();
    assert_eq!((h[0], h[2], h[10]), (3.0, 5.0, 8.0)); // corner, edge, inside (both channels alike)
    assert_eq!(out[1].to_f64_vec(), vec![8.0; 8]);
    // Every 2×2 window holds a corner (3), two edges (5) and an inside value (8).
    assert_eq!(out[2].to_f64_vec(), vec![5.25; 8]);
}

#[test]
fn batch_normalization_trains_on_batch_statistics_and_infers_on_moving_ones() {
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(1), Some(1), Some(2)])).unwrap();
    let no = g.constant(false).unwrap();
    let flag = g.placeholder_with_default(no, Shape::scalar()).unwrap();
    let bn = BatchNormalization { training: Training::Flag(flag), momentum: 0.5, epsilon: 0.0, ..Default::default() };
    let y = bn.apply(&mut g, x).unwrap();
    let dx = gradients(&mut g, &[y], &[x], None).unwrap()[0].unwrap();
    let updates = g.collection(UPDATE_OPS).to_vec();
    assert_eq!(updates.len(), 2);
    let step = g.group(&updates, "updates").unwrap();
    let (mean, var) = (
        g.output("batch_normalization/moving_mean").unwrap(),
        g.output("batch_normalization/moving_variance").unwrap(),
    );
    assert_eq!(g.trainable_variables().len(), 2, "gamma and beta");
    let s = Session::new(g);
    s.initialize().unwrap();
    // Channel 0: 1, 3 (mean 2, biased variance 1, unbiased 2); channel 1: -1, 1 (mean 0).
    let xs = Tensor::from_vec(&[2, 1, 1, 2], vec![1.0f32, -1.0, 3.0, 1.0]).unwrap();
    let training = [(x, xs.clone()), (flag, Tensor::from(true))];
    let out = s.run(&training, &[y, dx], &[step]).unwrap();
    assert_eq!(out[0].to_f64_vec(), vec![-1.0, -1.0, 1.0, 1.0]);
    // The moving averages move half way (momentum 0.5) to the batch's mean and unbiased variance.
    assert_eq!(s.variable_value(mean).unwrap().to_f64_vec(), vec![1.0, 0.0]);
    assert_eq!(s.variable_value(var).unwrap().to_f64_vec(), vec![1.5, 1.5]);
    // Inference uses them, (x - [1, 0]) / sqrt(1.5), and the updates' decay is 0.
    let out = s.run(&[(x, xs)], &[y], &[step]).unwrap()[0].to_f64_vec();
    let r = 1.5f64.sqrt();
    let want = [0.0, -1.0 / r, 2.0 / r, 1.0 / r];
    assert!(out.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{out:?}");
    assert_eq!(s.variable_value(mean).unwrap().to_f64_vec(), vec![1.0, 0.0]);
}

#[test]
fn conv_layers_and_batch_norm_as_graph_functions_with_update_ops() {
    let text = r#"{"format": "stepflow.graph", "version": 1, "nodes": [
        {"name": "x", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 4, 4, 1]}},
        {"name": "y", "op": "Placeholder", "attrs": {"dtype": "float32", "shape": [null, 3]}},
        {"name": "conv", "op": "conv2d", "inputs": ["x"], "attrs": {"filters": 2, "kernel_size": [3, 3], "padding": "same"}},
        {"name": "bn", "op": "batch_normalization", "inputs": ["conv"], "attrs": {"training": true}},
        {"name": "pool", "op": "average_pooling2d", "inputs": ["bn"], "attrs": {"pool_size": 2, "strides": 2}},
        {"name": "flat", "op": "flatten", "inputs": ["pool"]},
        {"name": "out", "op": "dense", "inputs": ["flat"], "attrs": {"units": 3}},
        {"name": "err", "op": "SquaredDifference", "inputs": ["out", "y"]},
        {"name": "loss", "op": "reduce_mean", "inputs": ["err"]},
        {"name": "train", "op": "minimize", "inputs": ["loss"],
         "attrs": {"optimizer": "gradient_descent", "learning_rate": 0.1, "update_ops": true}}
    ]}"#;
    let g = Graph::from_json(text, "cnn.json").unwrap();
    let (x, y, train, mean) = (
        g.output("x").unwrap(),
        g.output("y").unwrap(),
        g.node_id("train").unwrap(),
        g.output("bn/moving_mean").unwrap(),
    );
    assert_eq!(g.spec(g.output("flat").unwrap()).shape, Shape::partial(&[None, Some(8)]));
    let s = Session::new(g);
    s.initialize().unwrap();
    let feeds = [(x, ramp(&[2, 4, 4, 1])), (y, ramp(&[2, 3]))];
    let losses: Vec<f64> = (0..20)
        .map(|_| s.run(&feeds, &[s.graph().output("loss").unwrap()], &[train]).unwrap()[0].to_f64_vec()[0])
        .collect();
    assert!(losses[19] < 0.5 * losses[0], "{losses:?}");
    assert!(s.variable_value(mean).unwrap().to_f64_vec().iter().any(|&m| m != 0.0), "the update ops ran");
}
