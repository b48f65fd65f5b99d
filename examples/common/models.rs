//! Graph builders shared by the benchmark examples (`workloads`, `memory`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::data::Table;
use stepflow::train::{AdamOptimizer, GradientDescentOptimizer, Optimizer, exponential_decay};
use stepflow::{DType, Graph, Initializer, NodeId, Output, Result, Session, Shape, Tensor};

/// global_step, `exponential_decay(0.1, global_step, 100000, 0.96, staircase=True)`, an increment.
pub fn lr_graph() -> Result<(Session, Output, Output)> {
    let mut g = Graph::new();
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, 0.1, step, 100000, 0.96, true)?;
    let one = g.constant(1i64)?;
    let inc = g.assign_add(step, one)?;
    let s = Session::new(g);
    s.initialize()?;
    Ok((s, lr, inc))
}

/// An MLP trained on batches cycling through `x` and one-hot `y` (batch rows each).
pub struct Mlp {
    pub session: Session,
    pub x: Output,
    pub y: Output,
    pub train: NodeId,
    pub batches: Vec<(Tensor, Tensor)>,
}

pub fn mlp(sizes: &[usize], adam: bool, xs: Vec<f32>, labels: Vec<usize>, batch: usize) -> Result<Mlp> {
    let (d, k) = (sizes[0], sizes[sizes.len() - 1]);
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(d)]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(k)]))?;
    let mut h = x;
    for (i, w) in sizes.windows(2).enumerate() {
        let stddev = (2.0 / w[0] as f64).sqrt();
        let init = Initializer::RandomNormal { mean: 0.0, stddev, seed: i as u64 };
        let wv = g.variable("w", DType::Float32, &[w[0], w[1]], init)?;
        let bv = g.variable("b", DType::Float32, &[w[1]], Initializer::Zeros)?;
        h = g.matmul(h, wv)?;
        h = g.add(h, bv)?;
        if i + 2 < sizes.len() {
            h = g.relu(h)?;
        }
    }
    let xent = g.softmax_cross_entropy_with_logits(y, h)?;
    let loss = g.reduce_mean(xent, None, false)?;
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, if adam { 0.01 } else { 0.1 }, step, 1000, 0.96, true)?;
    let train = if adam {
        AdamOptimizer::new(lr).minimize(&mut g, loss, Some(step), None)?
    } else {
        GradientDescentOptimizer::new(lr).minimize(&mut g, loss, Some(step), None)?
    };
    let session = Session::new(g);
    session.initialize()?;
    Ok(Mlp { session, x, y, train, batches: batches(&xs, &labels, d, k, batch)? })
}

/// The rows cut into batches of `batch`, labels one-hot over `k` classes.
fn batches(xs: &[f32], labels: &[usize], d: usize, k: usize, batch: usize) -> Result<Vec<(Tensor, Tensor)>> {
    let rows = labels.len() / batch;
    (0..rows)
        .map(|i| {
            let bx = xs[i * batch * d..(i + 1) * batch * d].to_vec();
            let by: Vec<f32> = labels[i * batch..(i + 1) * batch]
                .iter()
                .flat_map(|&l| (0..k).map(move |c| (c == l) as u8 as f32))
                .collect();
            Ok((Tensor::from_vec(&[batch, d], bx)?, Tensor::from_vec(&[batch, k], by)?))
        })
        .collect()
}

/// The digits as 64 pixels scaled to [0, 1] and integer labels.
fn digits() -> Result<(Vec<f32>, Vec<usize>)> {
    let t = Table::from_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv"))?;
    let xs: Vec<f32> = t.rows.iter().flat_map(|r| r[..64].iter().map(|&p| p as f32 / 16.0)).collect();
    let labels: Vec<usize> = t.rows.iter().map(|r| r[64] as usize).collect();
    Ok((xs, labels))
}

/// mlp_digits_train on the graph TensorFlow builds for it (`bench/tf/mlp_digits_train.pbtxt`),
/// imported: placeholders `x`, `y`, train op `train`, initialized by the graph's `init`.
pub fn digits_mlp_imported() -> Result<Mlp> {
    let g = Graph::load(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/tf/mlp_digits_train.pbtxt"))?;
    let (x, y, train) = (g.output("x")?, g.output("y")?, g.node_id("train")?);
    let init = g.node_id("init")?;
    let session = Session::new(g);
    session.run(&[], &[], &[init])?;
    let (xs, labels) = digits()?;
    Ok(Mlp { session, x, y, train, batches: batches(&xs, &labels, 64, 10, 64)? })
}

/// 64→128→10 on the digits data with Adam, batches of 64 (the mlp_digits_train workload).
pub fn digits_mlp() -> Result<Mlp> {
    let (xs, labels) = digits()?;
    mlp(&[64, 128, 10], true, xs, labels, 64)
}

/// 784→1024→1024→10 on random data with gradient descent, batches of 256 (mlp_big_train).
pub fn big_mlp() -> Result<Mlp> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let xs: Vec<f32> = (0..1024 * 784).map(|_| rng.random::<f32>()).collect();
    let labels: Vec<usize> = (0..1024).map(|_| rng.random_range(0..10)).collect();
    mlp(&[784, 1024, 1024, 10], false, xs, labels, 256)
}

impl Mlp {
    /// One training step on batch `i` (cycling).
    pub fn step(&self, i: usize) -> Result<()> {
        let (bx, by) = &self.batches[i % self.batches.len()];
        self.session.run(&[(self.x, bx.clone()), (self.y, by.clone())], &[], &[self.train]).map(drop)
    }
}
