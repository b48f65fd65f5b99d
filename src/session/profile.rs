//! [`Profile`]: traced runs summed per op type (count, time, share, GFLOP/s of matrix products and
//! convolutions), and their nodes as a Chrome trace-event file, which Perfetto and
//! `chrome://tracing` open as TF's timeline does, one row per thread.

use super::RunMetadata;
use crate::error::{Error, Result};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// A trace keeps at most this many node events (about 10 MB of JSON); the table counts them all.
const MAX_EVENTS: usize = 100_000;

/// One op type's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct OpTotal {
    /// The op type (`MatMul`, `FusedConv2D`).
    pub op: &'static str,
    /// How many nodes of it ran.
    pub count: u64,
    /// Their summed kernel time, in microseconds.
    pub micros: f64,
    /// Their summed floating-point operations, when the op counts them.
    pub flops: Option<f64>,
}

/// Traced runs summed up: add each run's [`RunMetadata`] with the instant the run began.
///
/// ```
/// use stepflow::{Graph, Profile, RunOptions, Session, Tensor};
/// let mut g = Graph::new();
/// let a = g.constant(Tensor::from_vec(&[64, 64], vec![1.0f32; 4096])?)?;
/// let x = g.placeholder(stepflow::DType::Float32, stepflow::Shape::from(&[64usize, 64][..]))?;
/// let y = g.matmul(x, a)?;
/// let s = Session::new(g);
/// let mut profile = Profile::new();
/// for _ in 0..3 {
///     let began = std::time::Instant::now();
///     let (_, meta) = s.run_traced(RunOptions::default(), &[(x, Tensor::filled(stepflow::DType::Float32, &[64, 64], 1.0))], &[y], &[])?;
///     profile.add(began, &meta);
/// }
/// let matmul = &profile.totals()[0];
/// assert_eq!((matmul.op, matmul.count, matmul.flops), ("MatMul", 3, Some(3.0 * 2.0 * 64f64.powi(3))));
/// assert!(profile.table().contains("MatMul"));
/// # Ok::<(), stepflow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Profile {
    origin: Instant,
    totals: Vec<OpTotal>,
    events: Vec<serde_json::Value>,
    dropped: u64,
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

impl Profile {
    /// An empty profile; trace times count from now.
    pub fn new() -> Self {
        Profile { origin: Instant::now(), totals: Vec::new(), events: Vec::new(), dropped: 0 }
    }

    /// Adds a traced run that began at `began`.
    pub fn add(&mut self, began: Instant, run: &RunMetadata) {
        let offset = began.saturating_duration_since(self.origin).as_secs_f64() * 1e6;
        for s in &run.step_stats {
            let i = match self.totals.iter().position(|t| t.op == s.op) {
                Some(i) => i,
                None => {
                    self.totals.push(OpTotal { op: s.op, count: 0, micros: 0.0, flops: None });
                    self.totals.len() - 1
                }
            };
            let total = &mut self.totals[i];
            total.count += 1;
            total.micros += s.micros;
            if let Some(f) = s.flops {
                total.flops = Some(total.flops.unwrap_or(0.0) + f);
            }
            if self.events.len() >= MAX_EVENTS {
                self.dropped += 1;
                continue;
            }
            // The calling thread is row 0, rayon's workers rows 1, 2, ...
            let tid = s.thread.map_or(0, |t| t + 1);
            let ts = offset + s.start_micros;
            self.events
                .push(json!({"name": s.node, "cat": s.op, "ph": "X", "ts": ts, "dur": s.micros, "pid": 0, "tid": tid}));
        }
    }

    /// The op types, most time first.
    pub fn totals(&self) -> Vec<OpTotal> {
        let mut t = self.totals.clone();
        t.sort_by(|a, b| b.micros.total_cmp(&a.micros));
        t
    }

    /// The per-op-type table: count, total time, share of the summed node time, and GFLOP/s where
    /// the op counts its operations.
    pub fn table(&self) -> String {
        let totals = self.totals();
        let sum: f64 = totals.iter().map(|t| t.micros).sum();
        let mut out = format!("{:>28} {:>8} {:>11} {:>7} {:>9}\n", "op", "count", "total ms", "share", "GFLOP/s");
        for t in &totals {
            let share = if sum > 0.0 { 100.0 * t.micros / sum } else { 0.0 };
            let rate = match t.flops {
                Some(f) if t.micros > 0.0 => format!("{:.1}", f / t.micros / 1e3),
                _ => String::new(),
            };
            out += &format!("{:>28} {:>8} {:>11.3} {:>6.1}% {:>9}\n", t.op, t.count, t.micros / 1e3, share, rate);
        }
        out
    }

    /// Writes the nodes as a Chrome trace-event file (JSON), written whole or not at all.
    pub fn write_trace(&self, path: &Path) -> Result<()> {
        let names = (0..=rayon::current_num_threads()).map(|t| {
            let name = if t == 0 { "caller".to_string() } else { format!("worker {}", t - 1) };
            json!({"name": "thread_name", "ph": "M", "pid": 0, "tid": t, "args": {"name": name}})
        });
        let mut events: Vec<serde_json::Value> = names.collect();
        events.extend(self.events.iter().cloned());
        let doc =
            json!({"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"dropped_events": self.dropped}});
        let tmp = path.with_extension("json.partial");
        let text = serde_json::to_string(&doc).map_err(|e| Error::argument("profile", "--trace", e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}
