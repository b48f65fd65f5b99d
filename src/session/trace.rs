//! Per-node timings of a run (TF1's `RunOptions(trace_level=FULL_TRACE)` and
//! `RunMetadata.step_stats`).

use std::sync::Mutex;
use std::time::Instant;

/// The timing of one node in a traced run.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStats {
    /// The node's name.
    pub node: String,
    /// Its op type.
    pub op: &'static str,
    /// When it started, in microseconds since the run started.
    pub start_micros: f64,
    /// How long its kernel ran, in microseconds.
    pub micros: f64,
    /// The rayon worker that ran it (`None`: the calling thread).
    pub thread: Option<usize>,
    /// The floating-point operations it did, for ops that count them (matrix products and
    /// convolutions, see [`Op::flops`](crate::ops::Op::flops)).
    pub flops: Option<f64>,
}

/// What a traced run measured: one entry per node that ran, in completion order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetadata {
    pub step_stats: Vec<NodeStats>,
}

impl RunMetadata {
    /// Total kernel time per op type, largest first: where a run spends its time.
    pub fn by_op(&self) -> Vec<(&'static str, f64)> {
        let mut totals: Vec<(&'static str, f64)> = Vec::new();
        for s in &self.step_stats {
            match totals.iter_mut().find(|(op, _)| *op == s.op) {
                Some((_, t)) => *t += s.micros,
                None => totals.push((s.op, s.micros)),
            }
        }
        totals.sort_by(|a, b| b.1.total_cmp(&a.1));
        totals
    }
}

/// Collects node timings during a run.
pub(crate) struct Tracer {
    start: Instant,
    stats: Mutex<Vec<NodeStats>>,
}

impl Tracer {
    pub(crate) fn new() -> Self {
        Tracer { start: Instant::now(), stats: Mutex::new(Vec::new()) }
    }

    /// Records a node that started at `began` and did `flops` operations.
    pub(crate) fn record(&self, node: &str, op: &'static str, began: Instant, flops: Option<f64>) {
        let s = NodeStats {
            node: node.to_string(),
            op,
            start_micros: began.duration_since(self.start).as_secs_f64() * 1e6,
            micros: began.elapsed().as_secs_f64() * 1e6,
            thread: rayon::current_thread_index(),
            flops,
        };
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    }

    pub(crate) fn finish(self) -> RunMetadata {
        RunMetadata { step_stats: self.stats.into_inner().unwrap_or_else(|e| e.into_inner()) }
    }
}
