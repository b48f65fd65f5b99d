//! Running one fuzz case under the invariants: no panic, no hang (each case has a time limit),
//! no memory beyond a bound far below the tensor size limit, every error one line naming the node
//! and its op, and every output with the dtype and shape that shape inference promised.

use super::bounded::within;
use super::case::{Case, NODE, Source};
use std::time::Duration;
use stepflow::{Error, Executor, Graph, RunOptions, Session};

/// How a case ended when it kept the invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The loader refused the graph (attributes, arity, dtypes, shapes).
    Refused,
    /// The run failed with a well-formed error.
    Failed,
    /// The run produced outputs that agree with their specs.
    Ran,
    /// Not run: with the inputs' values known, shape inference says the outputs legitimately
    /// hold more than [`RUN_BUDGET`] elements (a `Range` from the int32 minimum), which would take
    /// gigabytes and seconds; such sizes are pinned in `tests/fuzz_regressions.rs`.
    Skipped,
}

/// The most output elements a case may legitimately ask for and still run.
pub const RUN_BUDGET: usize = 1 << 24;

/// Whether the node's outputs, by shape inference on the inputs' values, exceed [`RUN_BUDGET`].
fn too_large(case: &Case) -> bool {
    let Ok(g) = Graph::from_json(&case.constant_document().to_string(), "fuzz case") else { return false };
    let Ok(id) = g.node_id(NODE) else { return false };
    g.node(id).outputs().iter().fold(0usize, |n, o| n.saturating_add(o.shape.known_elements())) > RUN_BUDGET
}

/// Loads and runs `case`, checking every invariant but time.
pub fn check(case: &Case) -> Result<Outcome, String> {
    if too_large(case) {
        return Ok(Outcome::Skipped);
    }
    let doc = case.document().to_string();
    let mut g = match Graph::from_json(&doc, "fuzz case") {
        Ok(g) => g,
        Err(e) => return well_formed(&e, case.op).map(|()| Outcome::Refused),
    };
    round_trip(&g)?;
    let grads = if case.grad { gradient(&mut g, case)? } else { Vec::new() };
    let s = Session::new(g);
    s.initialize().map_err(|e| format!("the inputs' initializers failed: {e}"))?;
    let g = s.graph();
    let id = g.node_id(NODE).map_err(|e| e.to_string())?;
    let n = g.node(id).outputs().len() as u32;
    let fetches: Vec<_> = (0..n).map(|slot| stepflow::Output { node: id, slot }).collect();
    let targets = if n == 0 { vec![id] } else { vec![] };
    let feeds: Vec<_> = case
        .feeds()
        .into_iter()
        .map(|(name, t)| g.output(&name).map(|o| (o, t)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let executor = if case.serial { Executor::Serial } else { Executor::Parallel };
    let options = RunOptions { executor, check_outputs: true, ..RunOptions::default() };
    match s.run_with(options, &feeds, &fetches, &targets) {
        Ok(out) => {
            for (t, &o) in out.iter().zip(&fetches) {
                let spec = g.spec(o);
                if t.dtype() != spec.dtype || !spec.shape.is_compatible_with(t.shape()) {
                    return Err(format!(
                        "output {} is {} {:?}, but shape inference promised {} {}",
                        o.slot,
                        t.dtype(),
                        t.shape(),
                        spec.dtype,
                        spec.shape
                    ));
                }
            }
            if !grads.is_empty() {
                // The forward node ran, so its gradient must run too.
                // (Except into a Merge's inputs that it did not pass on: as in TF, those
                // gradients are dead values, and fetching one says so.)
                let merges = g.node(id).op().control_flow() == stepflow::ops::ControlFlow::Merge;
                match s.run_with(options, &feeds, &grads, &[]) {
                    Err(stepflow::Error::DeadFetch { .. }) if merges => {}
                    Err(e) => return Err(format!("the gradient failed: {e}")),
                    Ok(_) => {}
                }
            }
            Ok(Outcome::Ran)
        }
        Err(e) => well_formed(&e, case.op).map(|()| Outcome::Failed),
    }
}

/// A graph that loads exports to TensorFlow's GraphDef (or says in one line, naming the node,
/// what TF cannot hold), and the export imports back with the same output specs.
fn round_trip(g: &Graph) -> Result<(), String> {
    let tf = match g.to_tf() {
        Ok(tf) => tf,
        Err(e) if e.to_string().contains('\n') || !e.to_string().contains(&format!("'{NODE}'")) => {
            return Err(format!("badly formed export error: {e}"));
        }
        Err(_) => return Ok(()),
    };
    let bytes = tf.encode(stepflow::io::tf::Form::Binary).map_err(|e| format!("the export does not encode: {e}"))?;
    let back =
        stepflow::io::tf::TfGraph::parse(&bytes, "export").map_err(|e| format!("the export does not parse: {e}"))?;
    let g2 = Graph::from_tf(&back, "export").map_err(|e| format!("the export does not import: {e}"))?;
    let specs = |g: &Graph| g.node_id(NODE).map(|id| g.node(id).outputs().to_vec()).map_err(|e| e.to_string());
    if specs(g)? != specs(&g2)? {
        return Err(format!("the export imports with other outputs: {:?} against {:?}", specs(g)?, specs(&g2)?));
    }
    Ok(())
}

/// The gradient of the node's first output, when it is a float, with respect to its float inputs
/// (none when the op has no gradient or refuses these inputs, which must say so in one line).
fn gradient(g: &mut Graph, case: &Case) -> Result<Vec<stepflow::Output>, String> {
    let id = g.node_id(NODE).map_err(|e| e.to_string())?;
    let Some(spec) = g.node(id).outputs().first() else { return Ok(Vec::new()) };
    if !spec.dtype.is_float() {
        return Ok(Vec::new());
    }
    let xs: Vec<_> = (0..case.inputs.len())
        .filter(|&i| case.inputs[i].dtype.is_float() && !matches!(case.inputs[i].source, Source::Variable))
        .filter_map(|i| g.output(&Case::input_name(i)).ok())
        .collect();
    match stepflow::grad::gradients(g, &[stepflow::Output { node: id, slot: 0 }], &xs, None) {
        Ok(dxs) => Ok(dxs.into_iter().flatten().collect()),
        Err(e) if e.to_string().contains('\n') => Err(format!("badly formed gradient error: {e}")),
        Err(_) => Ok(Vec::new()),
    }
}

/// An error must be one line that names the fuzzed node and, when an op rejected something, the
/// op; a kernel output that broke its spec is a bug, whatever the message.
fn well_formed(e: &Error, op: &str) -> Result<(), String> {
    let msg = e.to_string();
    let names_node_and_op = msg.contains(&format!("'{NODE}' ({op})"));
    let about_the_node =
        matches!(e, Error::MissingFeed { node, .. } | Error::UninitializedVariable { node } if node == NODE);
    if msg.contains('\n') || !(names_node_and_op || about_the_node) {
        return Err(format!("badly formed error: {msg:?}"));
    }
    if msg.contains("shape inference promised") || msg.contains("shape inference said") {
        return Err(format!("kernel broke its spec: {msg}"));
    }
    Ok(())
}

/// [`check`] on a thread of its own, failing when it panics or takes longer than `limit`.
pub fn bounded(case: &Case, limit: Duration) -> Result<Outcome, String> {
    let owned = case.clone();
    within(limit, move || check(&owned))
}

/// Resets the process's peak resident memory (Linux; elsewhere a no-op).
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory in bytes since the last reset (Linux), if known.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
