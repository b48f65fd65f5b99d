//! The source document's TF1 snippet, whole: linear regression trained with
//!
//! ```python
//! global_step = tf.train.get_or_create_global_step()
//! learning_rate = tf.train.exponential_decay(0.1, global_step, 20, 0.96, staircase=True)
//! train = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)
//! ```
//!
//! usage: cargo run --release --example linear_regression [-- STEPS]
//! prints `step loss learning_rate global_step` for each step (the values of that run: the loss
//! and the rate before the update, the step after it), then the learned weights.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::train::{GradientDescentOptimizer, Optimizer, exponential_decay};
use stepflow::{DType, Graph, Initializer, Result, Session, Shape, Tensor};

fn main() -> Result<()> {
    let steps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    // y = 3·x0 − 2·x1 + 0.5·x2 + 1, plus a little noise.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let rows = 64;
    let xs: Vec<f32> = (0..rows * 3).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let ys: Vec<f32> =
        xs.chunks(3).map(|r| 3.0 * r[0] - 2.0 * r[1] + 0.5 * r[2] + 1.0 + 0.01 * (rng.random::<f32>() - 0.5)).collect();

    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(1)]))?;
    let w = g.variable("w", DType::Float32, &[3, 1], Initializer::Zeros)?;
    let b = g.variable("b", DType::Float32, &[], Initializer::Zeros)?;
    let xw = g.matmul(x, w)?;
    let prediction = g.add(xw, b)?;
    let error = g.sub(prediction, y)?;
    let squared = g.square(error)?;
    let loss = g.reduce_mean(squared, None, false)?;
    let global_step = g.get_or_create_global_step()?;
    let learning_rate = exponential_decay(&mut g, 0.1, global_step, 20, 0.96, true)?;
    let train = GradientDescentOptimizer::new(learning_rate).minimize(&mut g, loss, Some(global_step), None)?;
    let init = g.global_variables_initializer()?;

    let sess = Session::new(g);
    sess.run(&[], &[], &[init])?;
    let feed = [(x, Tensor::from_vec(&[rows, 3], xs)?), (y, Tensor::from_vec(&[rows, 1], ys)?)];
    println!("step loss learning_rate global_step");
    for step in 0..steps {
        let out = sess.run(&feed, &[loss, learning_rate], &[train])?;
        let gs = sess.variable_value(global_step)?;
        println!("{step} {} {} {}", out[0], out[1], gs);
    }
    println!("w = {}, b = {}", sess.variable_value(w)?, sess.variable_value(b)?);
    Ok(())
}
