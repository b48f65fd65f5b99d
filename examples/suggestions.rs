//! Measures the range test's suggestions: for each config, each data seed and each rule, train
//! with the suggested rate (a constant, as `train --learning-rate` feeds it) and compare with the
//! config's own rate or schedule. Prints README's table.
//!
//! usage: cargo run --release --example suggestions [-- EPOCHS]
//! EPOCHS overrides every config's epochs (default: each config's own).
//!
//! The seed is the config's `data.seed`: the train/validation split and the order of the batches
//! (the weights' initializers have seeds of their own in the graph). The range test is lr-find's
//! default (one run, one batch per rate), as `train --learning-rate auto` runs it.

use std::path::Path;
use stepflow::Result;
use stepflow::fit::{RangeTest, TrainConfig, Trainer, base_dir};

const CONFIGS: [&str; 3] = ["graphs/digits_mlp.json", "graphs/digits_cnn.json", "graphs/linear_regression.json"];
const SEEDS: [u64; 3] = [0, 1, 2];
const CHOICES: [&str; 5] = ["config's own", "valley (default)", "slide", "steepest", "minimum / 10"];

/// One training run's result: the validation value, or `None` when training diverged.
fn train(config: &TrainConfig, base: &Path, file: &str, rate: Option<f64>, metric: usize) -> Result<Option<f64>> {
    let mut t = Trainer::new(config.clone(), base, file)?;
    if let Some(rate) = rate {
        t.set_learning_rate(rate)?;
    }
    while !t.finished() {
        if t.step().is_err() {
            return Ok(None);
        }
    }
    Ok(t.final_evaluation()?.get(metric).copied().filter(|v| v.is_finite()))
}

/// Mean, minimum and maximum of the runs that finished, and how many diverged.
fn summary(values: &[Option<f64>]) -> String {
    let ok: Vec<f64> = values.iter().flatten().copied().collect();
    let failed = values.len() - ok.len();
    if ok.is_empty() {
        return "diverged | | ".to_string();
    }
    let mean = ok.iter().sum::<f64>() / ok.len() as f64;
    let (lo, hi) = ok.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let note = if failed > 0 { format!(" ({failed} diverged)") } else { String::new() };
    format!("{mean:.4}{note} | {lo:.4} – {hi:.4} | {:.4}", hi - lo)
}

fn main() -> Result<()> {
    let epochs: Option<u64> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    println!("| config | rate | validation value, mean | min – max | spread | rates used |");
    println!("|---|---|---|---|---|---|");
    for file in CONFIGS {
        let path = Path::new(file);
        let base = base_dir(path);
        let mut results: Vec<Vec<Option<f64>>> = vec![Vec::new(); CHOICES.len()];
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); CHOICES.len()];
        let mut metric_name = String::new();
        for seed in SEEDS {
            let mut config = TrainConfig::load(path)?;
            config.data.seed = seed;
            if let Some(e) = epochs {
                (config.epochs, config.steps) = (Some(e), None);
            }
            // Accuracy where the config measures it, else the loss.
            let metric = usize::from(!config.metrics.is_empty());
            metric_name = if metric == 1 { format!("val_{}", config.metrics[0]) } else { "val_loss".into() };
            let mut t = Trainer::new(config.clone(), &base, file)?;
            let found = RangeTest::default().run(&mut t, |_, _| {})?;
            let named = found.suggestions.named();
            for (i, _) in CHOICES.iter().enumerate() {
                let rate = match i {
                    0 => None,
                    _ => match named[i - 1].1 {
                        Some(s) => Some(s.learning_rate),
                        None => {
                            results[i].push(None);
                            continue;
                        }
                    },
                };
                rates[i].extend(rate);
                results[i].push(train(&config, &base, file, rate, metric)?);
            }
        }
        for (i, choice) in CHOICES.iter().enumerate() {
            let used: Vec<String> = rates[i].iter().map(|r| format!("{r:.3e}")).collect();
            let used = if i == 0 { "its schedule".to_string() } else { used.join(", ") };
            println!("| {file} ({metric_name}) | {choice} | {} | {used} |", summary(&results[i]));
        }
    }
    Ok(())
}
