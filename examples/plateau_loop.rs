//! The source document's reduce-on-plateau pattern: the learning rate is a placeholder, fed at
//! every `run` with the value a rule in the training loop decides from the validation loss.
//!
//! ```python
//! learning_rate = tf.placeholder(tf.float32, shape=[])
//! train = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
//! for epoch in range(epochs):
//!     sess.run(train, feed_dict={x: xs, y: ys, learning_rate: lr})
//!     lr = reduce_on_plateau(val_loss)
//! ```
//!
//! usage: cargo run --release --example plateau_loop [-- EPOCHS]
//! prints `epoch validation_loss learning_rate` per epoch, and `reduced` when the rule lowered
//! the rate after that epoch.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::train::plateau::{PlateauConfig, PlateauController};
use stepflow::train::{GradientDescentOptimizer, Optimizer};
use stepflow::{DType, Graph, Initializer, Result, Session, Shape, Tensor};

fn main() -> Result<()> {
    let epochs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(40);
    // A noisy linear target: the loss plateaus at the noise level.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut data = |rows: usize| -> Result<(Tensor, Tensor)> {
        let x: Vec<f32> = (0..rows * 3).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
        let y: Vec<f32> =
            x.chunks(3).map(|r| 2.0 * r[0] - r[1] + 0.5 * r[2] + 0.3 * (rng.random::<f32>() - 0.5)).collect();
        Ok((Tensor::from_vec(&[rows, 3], x)?, Tensor::from_vec(&[rows, 1], y)?))
    };
    let (train_x, train_y) = data(256)?;
    let (val_x, val_y) = data(64)?;

    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(1)]))?;
    let learning_rate = g.placeholder(DType::Float32, Shape::scalar())?;
    let w = g.variable("w", DType::Float32, &[3, 1], Initializer::Zeros)?;
    let xw = g.matmul(x, w)?;
    let err = g.sub(xw, y)?;
    let sq = g.square(err)?;
    let loss = g.reduce_mean(sq, None, false)?;
    let train = GradientDescentOptimizer::new(learning_rate).minimize(&mut g, loss, None, None)?;
    let sess = Session::new(g);
    sess.initialize()?;

    let config = PlateauConfig { patience: 3, factor: 0.5, threshold: 1e-4, ..Default::default() };
    let mut controller = PlateauController::new(0.5, config)?;
    println!("epoch validation_loss learning_rate");
    for epoch in 0..epochs {
        let lr = Tensor::scalar(controller.learning_rate() as f32);
        sess.run(&[(x, train_x.clone()), (y, train_y.clone()), (learning_rate, lr)], &[], &[train])?;
        let val =
            sess.run(&[(x, val_x.clone()), (y, val_y.clone())], &[loss], &[])?[0].scalar_f64().unwrap_or(f64::NAN);
        let used = controller.learning_rate();
        let step = controller.step(val);
        println!("{epoch} {val} {used}{}", if step.reduced { " reduced" } else { "" });
    }
    Ok(())
}
