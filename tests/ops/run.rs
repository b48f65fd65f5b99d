//! Runs one test graph every way a value can reach a kernel, and checks that the ways agree bit
//! for bit:
//! - `Folded`: data inputs are constants, so small results fold on the builder's path;
//! - `Serial`: data inputs are placeholders of known shape, run by the serial reference executor;
//! - `Inline`: the same graph under the parallel executor's inline schedule, kernels reading the
//!   fed buffers (shared, so never written in place);
//! - `Owned`: each fed value first goes through an exact copy (`x - 0`, `x || false`), so the
//!   kernel holds the only reference and may reuse the buffer in place;
//! - `Scheduled`: placeholders of unknown dimensions (shape checks fall to run time) and owned
//!   buffers, beside two expensive independent nodes that force the parallel schedule: the nodes
//!   under test run as cheap steps on the driving thread, or as tasks when large.
//!
//! A test graph builds its data inputs with [`feed`]; each way calls the build function again.

use super::util::record_graph;
use std::cell::RefCell;
use stepflow::{DType, Executor, Graph, NodeId, Output, Result, RunOptions, Session, Shape, Tensor};

/// One way of building and running a test graph.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Folded,
    Serial,
    Inline,
    Owned,
    Scheduled,
}

const FED_WAYS: [Way; 4] = [Way::Serial, Way::Inline, Way::Owned, Way::Scheduled];

/// The elements of each node that forces the parallel schedule: the plan's threshold for an
/// expensive step.
const BALLAST_ELEMENTS: i32 = 1 << 20;

/// What [`feed`] does in the build under way: `None` while building with constants.
struct Feeding {
    way: Way,
    feeds: Vec<(Output, Tensor)>,
    helpers: Vec<NodeId>,
}

thread_local! {
    static FEEDING: RefCell<Option<Feeding>> = const { RefCell::new(None) };
}

/// A data input of a test graph: a constant in the folded way, a fed placeholder otherwise.
pub fn feed(g: &mut Graph, t: Tensor) -> Result<Output> {
    let way = FEEDING.with(|f| f.borrow().as_ref().map(|f| f.way));
    let Some(way) = way else { return g.constant(t) };
    let shape = match way {
        Way::Scheduled => Shape::unknown_dims(t.rank()),
        _ => Shape::known(t.shape()),
    };
    let first = g.len();
    let p = g.placeholder(t.dtype(), shape)?;
    let out = match way {
        Way::Owned | Way::Scheduled => exact_copy(g, p, t.dtype())?,
        _ => p,
    };
    FEEDING.with(|f| {
        if let Some(f) = f.borrow_mut().as_mut() {
            f.feeds.push((p, t));
            f.helpers.extend(g.node_ids().skip(first));
        }
    });
    Ok(out)
}

/// A new buffer holding exactly `x`: `x - 0` keeps every float's bits (−0 and NaN included).
/// Strings have no arithmetic (and no kernel writes them in place): an identity.
fn exact_copy(g: &mut Graph, x: Output, dtype: DType) -> Result<Output> {
    if dtype == DType::String {
        return g.identity(x);
    }
    if dtype == DType::Bool {
        let no = g.constant(false)?;
        return g.logical_or(x, no);
    }
    let zero = g.constant(Tensor::zeros(dtype, &[]))?;
    g.sub(x, zero)
}

/// Builds the graph of `build` every way, runs it, asserts that the ways agree (the same values
/// bit for bit, or all an error), and returns the values (or the error) of the folded way.
pub fn eval(build: impl Fn(&mut Graph) -> Result<Vec<Output>>) -> Result<Vec<Tensor>> {
    let folded = run_way(&build, Way::Folded);
    for way in FED_WAYS {
        agree(&folded, &run_way(&build, way), way);
    }
    folded
}

/// Like [`eval`] for one output.
pub fn eval1(build: impl Fn(&mut Graph) -> Result<Output>) -> Result<Tensor> {
    Ok(eval(|g| Ok(vec![build(g)?]))?.remove(0))
}

#[track_caller]
fn agree(folded: &Result<Vec<Tensor>>, other: &Result<Vec<Tensor>>, way: Way) {
    match (folded, other) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len());
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert!(x.bit_eq(y), "output {i}: folded {x} but {way:?} {y}");
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(a), Err(e)) => panic!("folded gives {a:?} but {way:?} fails: {e}"),
        (Err(e), Ok(b)) => panic!("folded fails ({e}) but {way:?} gives {b:?}"),
    }
}

fn run_way(build: &impl Fn(&mut Graph) -> Result<Vec<Output>>, way: Way) -> Result<Vec<Tensor>> {
    let mut g = Graph::new();
    if way != Way::Folded {
        FEEDING.with(|f| *f.borrow_mut() = Some(Feeding { way, feeds: Vec::new(), helpers: Vec::new() }));
    }
    let built = build(&mut g);
    let Feeding { mut feeds, helpers, .. } =
        FEEDING.with(|f| f.borrow_mut().take()).unwrap_or(Feeding { way, feeds: Vec::new(), helpers: Vec::new() });
    record_graph(&g, &helpers);
    let fetches = built?;
    let targets = match way {
        Way::Scheduled => ballast(&mut g, &mut feeds)?,
        _ => Vec::new(),
    };
    let s = Session::new(g);
    s.initialize()?;
    let fed: Vec<Output> = feeds.iter().map(|(o, _)| *o).collect();
    let plan = s.explain(&fed, &fetches, &targets)?;
    match way {
        // With one thread there is no parallel schedule to take.
        Way::Scheduled if rayon::current_num_threads() > 1 => {
            assert!(plan.parallel, "the ballast did not force the parallel schedule")
        }
        Way::Inline | Way::Owned => assert!(!plan.parallel, "a test graph took the parallel schedule on its own"),
        _ => {}
    }
    let executor = if way == Way::Serial { Executor::Serial } else { Executor::Parallel };
    s.run_with(RunOptions { executor, trace: false, check_outputs: true }, &feeds, &fetches, &targets)
}

/// Two independent expensive nodes (fills of a fed scalar, so nothing folds), as targets.
fn ballast(g: &mut Graph, feeds: &mut Vec<(Output, Tensor)>) -> Result<Vec<NodeId>> {
    let v = g.placeholder(DType::Float32, Shape::scalar())?;
    feeds.push((v, Tensor::scalar(1.0f32)));
    let dims = g.constant_vec(vec![BALLAST_ELEMENTS])?;
    let a = g.fill(dims, v)?;
    let b = g.fill(dims, v)?;
    Ok(vec![a.node, b.node])
}
