//! Memory over many runs: runs a workload and prints the resident memory of the process every
//! tenth of the way, then the growth and the peak.
//!
//! usage: cargo run --release --example memory -- [step_and_lr|mlp_big_train|cnn_big_train] [RUNS]
//! (default: step_and_lr, 10000000 runs; mlp_big_train defaults to 300 runs, cnn_big_train to 30)

#[path = "common/models.rs"]
#[allow(dead_code)]
mod models;

use stepflow::Result;

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
    let workload = std::env::args().nth(1).unwrap_or_else(|| "step_and_lr".into());
    let default_runs = match workload.as_str() {
        "mlp_big_train" => 300,
        "cnn_big_train" => 30,
        _ => 10_000_000,
    };
    let runs: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(default_runs);
    let mut step: Box<dyn FnMut(usize) -> Result<()>> = match workload.as_str() {
        "step_and_lr" => {
            let (s, lr, inc) = models::lr_graph()?;
            Box::new(move |_| s.run(&[], &[lr, inc], &[]).map(drop))
        }
        "mlp_big_train" => {
            let m = models::big_mlp()?;
            Box::new(move |i| m.step(i))
        }
        "cnn_big_train" => {
            let m = models::big_cnn()?;
            Box::new(move |i| m.step(i))
        }
        other => {
            eprintln!("unknown workload '{other}' (step_and_lr, mlp_big_train or cnn_big_train)");
            std::process::exit(2);
        }
    };
    step(0)?;
    let (start, _) = rss_kib();
    println!("runs rss_kib");
    println!("1 {start}");
    let tenth = (runs / 10).max(1);
    for k in 1..=runs {
        step(k)?;
        if k % tenth == 0 {
            println!("{k} {}", rss_kib().0);
        }
    }
    let (end, peak) = rss_kib();
    println!("growth {} KiB after the first run, over {runs} runs; peak {peak} KiB", end as i64 - start as i64);
    Ok(())
}
