//! The source document's step decay, as its TF code builds it:
//!
//! ```python
//! global_step = tf.Variable(0, trainable=False)
//! learning_rate = tf.train.exponential_decay(0.1, global_step, 10, 0.5, staircase=True)
//! increment = tf.assign_add(global_step, 1)
//! for step in range(30): print(step, sess.run(learning_rate)); sess.run(increment)
//! ```
//!
//! usage: cargo run --release --example staircase_decay [-- STEPS]
//! prints `step learning_rate` per step: 0.1 for steps 0–9, 0.05 for 10–19, 0.025 for 20–29.

use stepflow::train::exponential_decay;
use stepflow::{Graph, Result, Session};

fn main() -> Result<()> {
    let steps: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let mut g = Graph::new();
    let global_step = g.get_or_create_global_step()?;
    let learning_rate = exponential_decay(&mut g, 0.1, global_step, 10, 0.5, true)?;
    let one = g.constant(1i64)?;
    let increment = g.assign_add(global_step, one)?;
    let sess = Session::new(g);
    sess.initialize()?;
    for step in 0..steps {
        let lr = sess.run(&[], &[learning_rate], &[])?;
        println!("{step} {}", lr[0]);
        sess.run(&[], &[], &[increment.node])?;
    }
    Ok(())
}
