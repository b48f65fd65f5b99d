//! The benchmark workloads of stepflow: each builds its graph once,
//! initializes its variables once, then times only `Session::run` calls.
//!
//! usage: cargo run --release --example workloads -- [NAME ...]
//! `linreg_train_tf` and `mlp_digits_train_tf` (not in the default list) run those workloads on
//! the graphs TensorFlow builds for them, imported (`bench/tf/`), to compare with the native ones.
//! prints one line per workload: `NAME MICROSECONDS us/run`, the median over 5 timed rounds
//! (after one warm-up round) of the mean time of one run in that round.

#[path = "common/models.rs"]
mod models;
#[path = "common/timing.rs"]
mod timing;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::train::{GradientDescentOptimizer, Optimizer, exponential_decay};
use stepflow::{DType, Graph, Initializer, Result, Session, Shape, Tensor};

fn main() -> Result<()> {
    let all = [
        "lr_fetch",
        "step_and_lr",
        "linreg_train",
        "mlp_digits_train",
        "mlp_big_train",
        "wide_parallel",
        "cnn_digits_train",
        "cnn_big_train",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() { all.to_vec() } else { args.iter().map(String::as_str).collect() };
    for name in names {
        let us = match name {
            "lr_fetch" => lr_fetch()?,
            "step_and_lr" => step_and_lr()?,
            "linreg_train" => linreg_train()?,
            "linreg_train_tf" => linreg_train_tf()?,
            "mlp_digits_train" => mlp_digits_train()?,
            "mlp_digits_train_tf" => time_model(models::digits_mlp_imported()?, 1000)?,
            "mlp_big_train" => mlp_big_train()?,
            "wide_parallel" => wide_parallel()?,
            "cnn_digits_train" => time_model(models::digits_cnn()?, 200)?,
            "cnn_big_train" => time_model(models::big_cnn()?, 10)?,
            other => {
                eprintln!("unknown workload '{other}' (known: {})", all.join(", "));
                std::process::exit(2);
            }
        };
        println!("{name} {us:.1} us/run");
    }
    Ok(())
}

fn lr_fetch() -> Result<f64> {
    let (s, lr, _) = models::lr_graph()?;
    timing::time(2000, || s.run(&[], &[lr], &[]).map(drop))
}

fn step_and_lr() -> Result<f64> {
    let (s, lr, inc) = models::lr_graph()?;
    timing::time(2000, || s.run(&[], &[lr, inc], &[]).map(drop))
}

/// The 32 fixed rows of linreg_train.
fn linreg_rows() -> Result<(Tensor, Tensor)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let xs = Tensor::from_vec(&[32, 3], (0..96).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect())?;
    let ys = Tensor::from_vec(&[32, 1], (0..32).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect())?;
    Ok((xs, ys))
}

/// linreg_train on the graph TensorFlow builds for it (`bench/tf/linreg_train.pbtxt`), imported.
fn linreg_train_tf() -> Result<f64> {
    let g = Graph::load(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/tf/linreg_train.pbtxt"))?;
    let (x, y, train, init) = (g.output("x")?, g.output("y")?, g.node_id("train")?, g.node_id("init")?);
    let s = Session::new(g);
    s.run(&[], &[], &[init])?;
    let (xs, ys) = linreg_rows()?;
    let feeds = [(x, xs), (y, ys)];
    timing::time(1000, || s.run(&feeds, &[], &[train]).map(drop))
}

/// Linear regression trained with gradient descent on `exponential_decay`, 32 fixed rows fed.
fn linreg_train() -> Result<f64> {
    let (xs, ys) = linreg_rows()?;
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(1)]))?;
    let w = g.variable("w", DType::Float32, &[3, 1], Initializer::Zeros)?;
    let b = g.variable("b", DType::Float32, &[], Initializer::Zeros)?;
    let xw = g.matmul(x, w)?;
    let p = g.add(xw, b)?;
    let e = g.sub(p, y)?;
    let sq = g.square(e)?;
    let loss = g.reduce_mean(sq, None, false)?;
    let step =
        g.variable_with(stepflow::NodeName::Default("global_step"), DType::Int64, &[], Initializer::Zeros, false)?;
    let lr = exponential_decay(&mut g, 0.1, step, 100000, 0.96, true)?;
    let train = GradientDescentOptimizer::new(lr).minimize(&mut g, loss, Some(step), None)?;
    let s = Session::new(g);
    s.initialize()?;
    let feeds = [(x, xs), (y, ys)];
    timing::time(1000, || s.run(&feeds, &[], &[train]).map(drop))
}

fn time_model(m: models::Model, runs: usize) -> Result<f64> {
    let mut i = 0;
    timing::time(runs, || {
        i += 1;
        m.step(i)
    })
}

/// 64→128→10 on the digits data with Adam, batches of 64.
fn mlp_digits_train() -> Result<f64> {
    time_model(models::digits_mlp()?, 1000)
}

/// 784→1024→1024→10 on random data with gradient descent, batches of 256.
fn mlp_big_train() -> Result<f64> {
    time_model(models::big_mlp()?, 30)
}

/// 8 independent branches of four chained 256x256 matmuls, each reduced, then summed.
fn wide_parallel() -> Result<f64> {
    let mut g = Graph::new();
    let mut sums = Vec::new();
    for k in 0..8u64 {
        let init = |seed| Initializer::RandomUniform { minval: 0.0, maxval: 1.0 / 256.0, seed };
        let mut h = g.variable("h", DType::Float32, &[256, 256], init(2 * k))?;
        let w = g.variable("w", DType::Float32, &[256, 256], init(2 * k + 1))?;
        for _ in 0..4 {
            h = g.matmul(h, w)?;
        }
        sums.push(g.reduce_sum(h, None, false)?);
    }
    let total = g.add_n(&sums)?;
    let s = Session::new(g);
    s.initialize()?;
    timing::time(50, || s.run(&[], &[total], &[]).map(drop))
}
