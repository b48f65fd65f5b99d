//! The source document's exponential decay `ε_k = ε0 · α^(k/N)`, as TF builds it with
//! `staircase=False`:
//!
//! ```python
//! learning_rate = tf.train.exponential_decay(0.1, global_step, 10, 0.5, staircase=False)
//! ```
//!
//! usage: cargo run --release --example continuous_decay [-- STEPS]
//! prints `step learning_rate` per step (the rate halves every 10 steps, smoothly).

use stepflow::train::exponential_decay;
use stepflow::{Graph, Result, Session};

fn main() -> Result<()> {
    let steps: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let mut g = Graph::new();
    let global_step = g.get_or_create_global_step()?;
    let learning_rate = exponential_decay(&mut g, 0.1, global_step, 10, 0.5, false)?;
    let one = g.constant(1i64)?;
    let increment = g.assign_add(global_step, one)?;
    let sess = Session::new(g);
    sess.initialize()?;
    for step in 0..steps {
        // The rate and the increment in one run: the rate is read before the increment.
        let out = sess.run(&[], &[learning_rate, increment], &[])?;
        println!("{step} {}", out[0]);
    }
    Ok(())
}
