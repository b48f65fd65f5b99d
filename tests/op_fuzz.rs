//! The structured op fuzzer: every op of `OP_TYPES` with 0–4 inputs (rarely up to 10), each a
//! constant, a fed placeholder or an initialized variable, of every dtype and of shapes of rank
//! 0–4 (zero-sized, partly unknown, of unknown rank), holding the edge values of each type (0, −1,
//! the integer limits, NaN, ±inf, subnormals, sizes past the tensor size limit), with attributes
//! drawn valid and invalid from the op's own attribute list. Each case is a graph file loaded
//! through the library's loader and run through a session with its placeholders fed.
//!
//! Invariants: no panic, no hang (each case has a time limit), no memory beyond a bound far below
//! the tensor size limit (a case whose outputs legitimately hold more than `RUN_BUDGET` elements,
//! such as a `Range` from the int32 minimum, is built but not run), every error one line naming the node and its op, and every kernel's
//! outputs of the dtype and shape that shape inference promised (checked by the executor with
//! `RunOptions::check_outputs` and again here). Failures found are pinned in
//! `tests/fuzz_regressions.rs`.
//!
//! `cargo test --release --test op_fuzz` runs 20,000 cases (about 3 s on 2 cores). A long soak:
//! `STEPFLOW_FUZZ_CASES=1000000 cargo test --release --test op_fuzz -- --nocapture`
//! (prints how the cases ended, per op); `STEPFLOW_FUZZ_OPS=Split,SplitV` soaks only those ops.

mod fuzz;

use fuzz::case::case;
use fuzz::run::{Outcome, bounded, peak_memory, reset_peak_memory};
use fuzz::values::valid_attr;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestRunner};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use stepflow::ops::{OP_TYPES, op_attributes};

/// Longer than any case takes on a loaded machine (the slowest take milliseconds), short enough
/// that a hang fails the test quickly.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Far below what the tensor size limit allows, far above what any case needs.
const PEAK_MEMORY_LIMIT: u64 = 1 << 30;

fn cases_to_run() -> u32 {
    std::env::var("STEPFLOW_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

/// How the cases ended, per op: refused by the loader, failed at run time, ran.
static OUTCOMES: Mutex<BTreeMap<&'static str, [u64; 4]>> = Mutex::new(BTreeMap::new());

fn record(op: &'static str, o: Outcome) {
    let mut m = OUTCOMES.lock().unwrap_or_else(|e| e.into_inner());
    m.entry(op).or_default()[o as usize] += 1;
}

/// The default run draws the same cases every time, so a red CI is a change's doing; a soak
/// (`STEPFLOW_FUZZ_CASES` set) or `STEPFLOW_FUZZ_SEED=random` draws new ones, and
/// `STEPFLOW_FUZZ_SEED=N` repeats a seed.
fn seed() -> RngSeed {
    match std::env::var("STEPFLOW_FUZZ_SEED").ok() {
        Some(v) if v == "random" => RngSeed::Random,
        Some(v) => v.parse().map_or(RngSeed::Random, RngSeed::Fixed),
        None if std::env::var("STEPFLOW_FUZZ_CASES").is_ok() => RngSeed::Random,
        None => RngSeed::Fixed(0x5eed_f10e),
    }
}

#[test]
fn every_op_keeps_the_invariants_on_hostile_inputs() {
    let config = ProptestConfig {
        cases: cases_to_run(),
        failure_persistence: None,
        rng_seed: seed(),
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |c| {
        reset_peak_memory();
        let outcome = bounded(&c, CASE_TIME_LIMIT).map_err(TestCaseError::fail)?;
        if let Some(peak) = peak_memory() {
            prop_assert!(peak < PEAK_MEMORY_LIMIT, "peak memory {peak} bytes");
        }
        record(c.op, outcome);
        Ok(())
    });
    print_outcomes();
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_attribute_kind_is_one_the_fuzzer_draws() {
    for op in OP_TYPES {
        let attrs = op_attributes(op).unwrap_or_else(|| panic!("{op} has no attribute list"));
        for a in attrs {
            let kind: String = a.kind.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(valid_attr(&kind, 0).is_some(), "{op}.{}: the fuzzer cannot draw a {kind}", a.name);
        }
    }
}

/// Prints how the cases ended, per op (seen with `--nocapture`).
fn print_outcomes() {
    let m = OUTCOMES.lock().unwrap_or_else(|e| e.into_inner());
    let total: [u64; 4] = m.values().fold([0; 4], |a, v| std::array::from_fn(|i| a[i] + v[i]));
    println!("{:<40} {:>9} {:>9} {:>9} {:>9}", "op", "refused", "failed", "ran", "too large");
    for (op, v) in m.iter() {
        println!("{op:<40} {:>9} {:>9} {:>9} {:>9}", v[0], v[1], v[2], v[3]);
    }
    println!("{:<40} {:>9} {:>9} {:>9} {:>9}", "total", total[0], total[1], total[2], total[3]);
}

/// Runs cases without stopping or shrinking and prints one example of each distinct failure:
/// `STEPFLOW_FUZZ_CASES=100000 cargo test --release --test op_fuzz -- --ignored --nocapture`.
#[test]
#[ignore]
fn survey_of_failures() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::default();
    let strategy = case();
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut grown = peak_memory().unwrap_or(0);
    for _ in 0..cases_to_run() {
        let Ok(tree) = strategy.new_tree(&mut runner) else { continue };
        let c = tree.current();
        reset_peak_memory();
        let result = bounded(&c, CASE_TIME_LIMIT);
        let peak = peak_memory().unwrap_or(0);
        if peak > grown + (64 << 20) {
            grown = peak;
            seen.entry(format!("{} memory peaked at {} MB", c.op, peak >> 20))
                .or_insert_with(|| (0, format!("{c:?}")))
                .0 += 1;
        }
        if let Ok(o) = result {
            record(c.op, o);
        }
        if let Err(e) = result {
            let key: String = format!("{} {}", c.op, e.chars().take(70).collect::<String>());
            let entry = seen.entry(key).or_insert_with(|| (0, format!("{c:?}")));
            entry.0 += 1;
        }
    }
    for (key, (n, example)) in &seen {
        println!("{n:>7}  {key}\n         {example}");
    }
    print_outcomes();
    println!("{} distinct failures", seen.len());
}
