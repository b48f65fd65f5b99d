//! Graph builders shared by the benchmark examples (`workloads`, `memory`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stepflow::data::Table;
use stepflow::ops::conv::Padding;
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

/// A model trained on batches cycling through `x` and one-hot `y` (batch rows each).
pub struct Model {
    pub session: Session,
    pub x: Output,
    pub y: Output,
    pub train: NodeId,
    pub batches: Vec<(Tensor, Tensor)>,
}

pub fn mlp(sizes: &[usize], adam: bool, xs: Vec<f32>, labels: Vec<usize>, batch: usize) -> Result<Model> {
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
    Ok(Model { session, x, y, train, batches: batches(&xs, &labels, d, k, batch)? })
}

/// The rows cut into batches of `batch`, labels one-hot over `k` classes.
fn batches(xs: &[f32], labels: &[usize], d: usize, k: usize, batch: usize) -> Result<Vec<(Tensor, Tensor)>> {
    image_batches(xs, labels, &[d], k, batch)
}

/// Rows of shape `row` cut into batches of `batch`, labels one-hot over `k` classes.
fn image_batches(xs: &[f32], labels: &[usize], row: &[usize], k: usize, batch: usize) -> Result<Vec<(Tensor, Tensor)>> {
    let d: usize = row.iter().product();
    let shape: Vec<usize> = std::iter::once(batch).chain(row.iter().copied()).collect();
    let rows = labels.len() / batch;
    (0..rows)
        .map(|i| {
            let bx = xs[i * batch * d..(i + 1) * batch * d].to_vec();
            let by: Vec<f32> = labels[i * batch..(i + 1) * batch]
                .iter()
                .flat_map(|&l| (0..k).map(move |c| (c == l) as u8 as f32))
                .collect();
            Ok((Tensor::from_vec(&shape, bx)?, Tensor::from_vec(&[batch, k], by)?))
        })
        .collect()
}

/// A CNN as the benchmark's TF script builds it: per `(kernel, channels)` of `convs` a SAME
/// stride-1 conv + bias + relu and a 2×2 stride-2 VALID max-pool, then a reshape and a dense
/// layer; He-normal weights, zero biases; mean softmax cross-entropy; `exponential_decay(0.001
/// (Adam) or 0.01 (gradient descent), gs, 1000, 0.96, staircase)`.
pub fn cnn(
    images: Vec<f32>,
    image: [usize; 3],
    labels: Vec<usize>,
    convs: &[(usize, usize)],
    adam: bool,
    batch: usize,
) -> Result<Model> {
    let k = 10;
    let mut g = Graph::new();
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(image[0]), Some(image[1]), Some(image[2])]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(k)]))?;
    let mut h = x;
    let mut cin = image[2];
    let mut side = [image[0], image[1]];
    for (i, &(ks, c)) in convs.iter().enumerate() {
        let stddev = (2.0 / (ks * ks * cin) as f64).sqrt();
        let w = g.variable(
            "w",
            DType::Float32,
            &[ks, ks, cin, c],
            Initializer::RandomNormal { mean: 0.0, stddev, seed: i as u64 },
        )?;
        let b = g.variable("b", DType::Float32, &[c], Initializer::Zeros)?;
        h = g.conv2d(h, w, [1, 1], Padding::Same)?;
        h = g.bias_add(h, b)?;
        h = g.relu(h)?;
        h = g.max_pool(h, [2, 2], [2, 2], Padding::Valid)?;
        cin = c;
        side = [side[0] / 2, side[1] / 2];
    }
    let d = side[0] * side[1] * cin;
    h = g.reshape(h, &[-1, d as i64])?;
    let stddev = (2.0 / d as f64).sqrt();
    let w = g.variable("w", DType::Float32, &[d, k], Initializer::RandomNormal { mean: 0.0, stddev, seed: 99 })?;
    let b = g.variable("b", DType::Float32, &[k], Initializer::Zeros)?;
    let mm = g.matmul(h, w)?;
    let logits = g.add(mm, b)?;
    let xent = g.softmax_cross_entropy_with_logits(y, logits)?;
    let loss = g.reduce_mean(xent, None, false)?;
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, if adam { 0.001 } else { 0.01 }, step, 1000, 0.96, true)?;
    let train = if adam {
        AdamOptimizer::new(lr).minimize(&mut g, loss, Some(step), None)?
    } else {
        GradientDescentOptimizer::new(lr).minimize(&mut g, loss, Some(step), None)?
    };
    let session = Session::new(g);
    session.initialize()?;
    Ok(Model { session, x, y, train, batches: image_batches(&images, &labels, &image, k, batch)? })
}

/// The cnn_digits_train workload: the digits as 8×8×1 images, conv 3×3 → 32 and 3×3 → 64,
/// Adam, batches of 128.
pub fn digits_cnn() -> Result<Model> {
    let (xs, labels) = digits()?;
    cnn(xs, [8, 8, 1], labels, &[(3, 32), (3, 64)], true, 128)
}

/// The cnn_big_train workload: 128 random 32×32×3 images, conv 5×5 → 64 and 5×5 → 128,
/// gradient descent, batches of 32.
pub fn big_cnn() -> Result<Model> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let xs: Vec<f32> = (0..128 * 32 * 32 * 3).map(|_| rng.random::<f32>()).collect();
    let labels: Vec<usize> = (0..128).map(|_| rng.random_range(0..10)).collect();
    cnn(xs, [32, 32, 3], labels, &[(5, 64), (5, 128)], false, 32)
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
pub fn digits_mlp_imported() -> Result<Model> {
    let g = Graph::load(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/tf/mlp_digits_train.pbtxt"))?;
    let (x, y, train) = (g.output("x")?, g.output("y")?, g.node_id("train")?);
    let init = g.node_id("init")?;
    let session = Session::new(g);
    session.run(&[], &[], &[init])?;
    let (xs, labels) = digits()?;
    Ok(Model { session, x, y, train, batches: batches(&xs, &labels, 64, 10, 64)? })
}

/// 64→128→10 on the digits data with Adam, batches of 64 (the mlp_digits_train workload).
pub fn digits_mlp() -> Result<Model> {
    let (xs, labels) = digits()?;
    mlp(&[64, 128, 10], true, xs, labels, 64)
}

/// 784→1024→1024→10 on random data with gradient descent, batches of 256 (mlp_big_train).
pub fn big_mlp() -> Result<Model> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let xs: Vec<f32> = (0..1024 * 784).map(|_| rng.random::<f32>()).collect();
    let labels: Vec<usize> = (0..1024).map(|_| rng.random_range(0..10)).collect();
    mlp(&[784, 1024, 1024, 10], false, xs, labels, 256)
}

impl Model {
    /// One training step on batch `i` (cycling).
    pub fn step(&self, i: usize) -> Result<()> {
        let (bx, by) = &self.batches[i % self.batches.len()];
        self.session.run(&[(self.x, bx.clone()), (self.y, by.clone())], &[], &[self.train]).map(drop)
    }
}
