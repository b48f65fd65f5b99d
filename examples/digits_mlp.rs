//! A 64→128→10 ReLU network on the bundled digits data (data/digits.csv), trained with Adam and
//! an exponentially decaying learning rate, evaluated on a held-out fifth.
//!
//! usage: cargo run --release --example digits_mlp [-- EPOCHS]
//! prints the loss, rate and held-out accuracy every few epochs, then `validation accuracy A`.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use stepflow::data::Table;
use stepflow::train::{AdamOptimizer, Optimizer, exponential_decay};
use stepflow::{DType, Graph, Initializer, Output, Result, Session, Shape, Tensor};

/// Pixels scaled to [0, 1] and integer labels, for the rows `idx`.
fn batch(t: &Table, idx: &[usize]) -> Result<(Tensor, Tensor)> {
    let label = t.header.len() - 1;
    let x: Vec<f32> = idx.iter().flat_map(|&i| t.rows[i][..label].iter().map(|&p| p as f32 / 16.0)).collect();
    let y: Vec<i64> = idx.iter().map(|&i| t.rows[i][label] as i64).collect();
    Ok((Tensor::from_vec(&[idx.len(), label], x)?, Tensor::from_vec(&[idx.len()], y)?))
}

/// The network: placeholders, logits, loss, accuracy.
struct Net {
    x: Output,
    y: Output,
    loss: Output,
    accuracy: Output,
}

fn net(g: &mut Graph) -> Result<Net> {
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(64)]))?;
    let y = g.placeholder(DType::Int64, Shape::partial(&[None]))?;
    let w1 = g.variable("w1", DType::Float32, &[64, 128], Initializer::HeNormal { seed: 1 })?;
    let b1 = g.variable("b1", DType::Float32, &[128], Initializer::Zeros)?;
    let w2 = g.variable("w2", DType::Float32, &[128, 10], Initializer::GlorotUniform { seed: 2 })?;
    let b2 = g.variable("b2", DType::Float32, &[10], Initializer::Zeros)?;
    let h = g.matmul(x, w1)?;
    let h = g.add(h, b1)?;
    let h = g.relu(h)?;
    let o = g.matmul(h, w2)?;
    let logits = g.add(o, b2)?;
    let xent = g.sparse_softmax_cross_entropy_with_logits(y, logits)?;
    let loss = g.reduce_mean(xent, None, false)?;
    let predicted = g.argmax(logits, 1)?;
    let right = g.equal(predicted, y)?;
    let right = g.cast(right, DType::Float32)?;
    let accuracy = g.reduce_mean(right, None, false)?;
    Ok(Net { x, y, loss, accuracy })
}

fn main() -> Result<()> {
    let epochs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let table = Table::from_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut order: Vec<usize> = (0..table.rows.len()).collect();
    order.shuffle(&mut rng);
    let held_out = order.len() / 5;
    let (valid, mut train_rows) = (order[..held_out].to_vec(), order[held_out..].to_vec());

    let mut g = Graph::new();
    let n = net(&mut g)?;
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, 0.005, step, 200, 0.9, true)?;
    let train = AdamOptimizer::new(lr).minimize(&mut g, n.loss, Some(step), None)?;
    let s = Session::new(g);
    s.initialize()?;

    let (vx, vy) = batch(&table, &valid)?;
    let mut accuracy = 0.0;
    for epoch in 1..=epochs {
        train_rows.shuffle(&mut rng);
        let mut last = Vec::new();
        for chunk in train_rows.chunks(64) {
            let (bx, by) = batch(&table, chunk)?;
            last = s.run(&[(n.x, bx), (n.y, by)], &[n.loss, lr], &[train])?;
        }
        accuracy = s.run(&[(n.x, vx.clone()), (n.y, vy.clone())], &[n.accuracy], &[])?[0].scalar_f64().unwrap_or(0.0);
        if epoch % 5 == 0 || epoch == epochs {
            println!(
                "epoch {epoch:3}  loss {:.4}  learning_rate {:.5}  validation accuracy {accuracy:.4}",
                last[0], last[1]
            );
        }
    }
    println!("validation accuracy {accuracy:.4} on {held_out} held-out digits");
    Ok(())
}
