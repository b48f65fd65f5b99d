//! Memory over many runs: runs the step_and_lr workload (global_step, exponential_decay and an
//! increment, fetching the rate and the increment) and prints the resident memory of the process
//! every tenth of the way and at the end, with the peak.
//!
//! usage: cargo run --release --example memory -- [RUNS]   (default 10000000)

use stepflow::train::exponential_decay;
use stepflow::{Graph, Result, Session};

/// Resident and peak resident memory in KiB, from /proc (Linux).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() -> Result<()> {
    let runs: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let mut g = Graph::new();
    let step = g.get_or_create_global_step()?;
    let lr = exponential_decay(&mut g, 0.1, step, 100000, 0.96, true)?;
    let one = g.constant(1i64)?;
    let inc = g.assign_add(step, one)?;
    let s = Session::new(g);
    s.initialize()?;
    let (start, _) = rss_kib();
    println!("runs rss_kib");
    println!("0 {start}");
    let tenth = (runs / 10).max(1);
    for k in 1..=runs {
        s.run(&[], &[lr, inc], &[])?;
        if k % tenth == 0 {
            println!("{k} {}", rss_kib().0);
        }
    }
    let (end, peak) = rss_kib();
    println!("growth {} KiB over {runs} runs, peak {peak} KiB", end as i64 - start as i64);
    Ok(())
}
