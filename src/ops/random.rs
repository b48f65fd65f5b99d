//! Seeded random tensors: RandomStandardNormal, TruncatedNormal, RandomUniform.
//!
//! Each op draws from a ChaCha8 stream keyed by its `seed`, `seed2` and how many times the node
//! has run in the session, so a run is reproducible, successive runs differ (as TF's stateful
//! random ops do), and the parallel and serial executors agree bit for bit.

use super::op;
use super::{FLOATS, INTS, InferCx, Kernel, Op, Outputs, State, TensorSpec, one, single};
use crate::error::{OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// SplitMix64 finalizer: spreads seeds so nearby seeds give unrelated streams.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rng_for(seed: u64, seed2: u64, invocation: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(mix(seed) ^ seed2) ^ invocation))
}

fn infer_random(cx: &InferCx, dtype: DType) -> OpResult<Vec<TensorSpec>> {
    cx.arity(1)?;
    cx.dtype_in(0, INTS)?;
    if !FLOATS.contains(&dtype) {
        return Err(crate::invalid!("dtype must be float32 or float64, got {dtype}"));
    }
    let shape = match cx.ints(0)? {
        Some(v) if v.iter().all(|&d| d >= 0) => Shape::known(&v.iter().map(|&d| d as usize).collect::<Vec<_>>()),
        Some(v) => return Err(crate::invalid!("negative dimension in shape {v:?}")),
        None => Shape::unknown(),
    };
    single(dtype, shape)
}

fn draw(k: &Kernel, dtype: DType, seed: u64, seed2: u64, sample: impl Fn(&mut ChaCha8Rng) -> f64) -> OpResult<Outputs> {
    let v = k.input(0)?.ints()?;
    let dims: Vec<usize> = v
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| crate::invalid!("negative dimension in {v:?}")))
        .collect::<OpResult<_>>()?;
    let n = crate::shape::checked_elements(&dims)?;
    let mut rng = rng_for(seed, seed2, k.invocation());
    let t = match dtype {
        DType::Float64 => Tensor::from_vec(&dims, (0..n).map(|_| sample(&mut rng)).collect())?,
        _ => Tensor::from_vec(&dims, (0..n).map(|_| sample(&mut rng) as f32).collect())?,
    };
    one(t)
}

/// Defines a random op drawing each element with `sample`.
macro_rules! random_op {
    ($(#[doc = $doc:literal])* $name:ident, |$rng:ident| $sample:expr) => {
        op! {
            $(#[doc = $doc])*
            $name derive(Copy) { dtype: DType, #[serde(default)] seed: u64, #[serde(default)] seed2: u64 }
        }

        impl Op for $name {
            fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
                infer_random(cx, self.dtype)
            }
            fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
                draw(k, self.dtype, self.seed, self.seed2, |$rng| $sample)
            }
            fn state(&self) -> State {
                State::Random
            }
            // not differentiable
            fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
                Ok(vec![None])
            }
        }
    };
}

random_op!(
    /// Samples of N(0, 1).
    RandomStandardNormal, |rng| rng.sample::<f64, _>(StandardNormal)
);
random_op!(
    /// Samples of N(0, 1) redrawn until within two standard deviations.
    TruncatedNormal, |rng| loop {
        let x: f64 = rng.sample(StandardNormal);
        if x.abs() <= 2.0 {
            break x;
        }
    }
);
random_op!(
    /// Samples of U[0, 1).
    RandomUniform, |rng| rng.random::<f64>()
);

impl Graph {
    /// `RandomStandardNormal(shape)` with the given seed.
    pub fn random_normal(&mut self, shape: &[usize], dtype: DType, seed: u64) -> Result<Output> {
        let s = self.constant_vec(shape.iter().map(|&d| d as i64).collect())?;
        self.op("RandomStandardNormal", RandomStandardNormal { dtype, seed, seed2: 0 }, &[s])
    }

    /// `TruncatedNormal(shape)` with the given seed.
    pub fn truncated_normal(&mut self, shape: &[usize], dtype: DType, seed: u64) -> Result<Output> {
        let s = self.constant_vec(shape.iter().map(|&d| d as i64).collect())?;
        self.op("TruncatedNormal", TruncatedNormal { dtype, seed, seed2: 0 }, &[s])
    }

    /// `RandomUniform(shape)` in [0, 1) with the given seed.
    pub fn random_uniform(&mut self, shape: &[usize], dtype: DType, seed: u64) -> Result<Output> {
        let s = self.constant_vec(shape.iter().map(|&d| d as i64).collect())?;
        self.op("RandomUniform", RandomUniform { dtype, seed, seed2: 0 }, &[s])
    }
}
