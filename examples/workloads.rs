//! The benchmark workloads of stepflow (see BENCHMARKS in the docs): each builds its graph once,
//! initializes its variables once, then times only `Session::run` calls.
//!
//! usage: cargo run --release --example workloads -- [NAME ...]
//! prints one line per workload: `NAME MICROSECONDS us/run`, the median over 5 timed rounds
//! (after one warm-up round) of the mean time of one run in that round.

use std::time::Instant;
use stepflow::train::exponential_decay;
use stepflow::{DType, Graph, Initializer, Output, Result, Session, Tensor};

fn main() -> Result<()> {
    let all = ["lr_fetch", "step_and_lr", "wide_parallel"];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() { all.to_vec() } else { args.iter().map(String::as_str).collect() };
    for name in names {
        let us = match name {
            "lr_fetch" => lr_fetch()?,
            "step_and_lr" => step_and_lr()?,
            "wide_parallel" => wide_parallel()?,
            other => {
                eprintln!("unknown workload '{other}' (known: {})", all.join(", "));
                std::process::exit(2);
            }
        };
        println!("{name} {us:.1} us/run");
    }
    Ok(())
}

/// Median over 5 rounds (after a warm-up round) of the mean microseconds of one call.
fn time(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..runs {
        f()?;
    }
    let mut rounds = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..runs {
            f()?;
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / runs as f64);
    }
    rounds.sort_by(f64::total_cmp);
    Ok(rounds[2])
}

/// global_step, `exponential_decay(0.1, global_step, 100000, 0.96, staircase=True)`, an increment.
fn lr_graph() -> Result<(Session, Output, Output)> {
    let mut g = Graph::new();
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, 0.1, step, 100000, 0.96, true)?;
    let one = g.constant(1i64)?;
    let inc = g.assign_add(step, one)?;
    let s = Session::new(g);
    s.initialize()?;
    Ok((s, lr, inc))
}

fn lr_fetch() -> Result<f64> {
    let (s, lr, _) = lr_graph()?;
    time(2000, || s.run(&[], &[lr], &[]).map(drop))
}

fn step_and_lr() -> Result<f64> {
    let (s, lr, inc) = lr_graph()?;
    time(2000, || s.run(&[], &[lr, inc], &[]).map(drop))
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
    let _ = Tensor::scalar(0.0f32);
    time(50, || s.run(&[], &[total], &[]).map(drop))
}
