//! [`Session`]: runs fetches and targets of a graph with a feed dict, with TF1 semantics, and
//! holds the variables' values.
//!
//! Each (feeds, fetches, targets) signature gets one cached plan; a repeated `run` with the same
//! handles finds it by hashing a few integers and does no graph walk, no name look-up and no plan
//! allocation. [`Session::make_callable`] skips even that look-up.

mod executor;
mod plan;
mod profile;
mod run_state;
mod trace;

pub use crate::variables::VariableStore;
pub use profile::{OpTotal, Profile};
pub use trace::{NodeStats, RunMetadata};

use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, Output};
use crate::shape::Shape;
use crate::tensor::Tensor;
use executor::Exec;
use plan::Plan;
use run_state::RunState;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

/// Which executor runs a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Executor {
    /// The parallel executor (the default).
    #[default]
    Parallel,
    /// The serial reference executor: one node at a time in plan order, single-threaded kernels,
    /// no buffer reuse. Slow; for checking the parallel executor and for debugging.
    Serial,
}

/// Options of one `run` (TF's `RunOptions`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub executor: Executor,
    /// Record each node's timing (see [`Session::run_traced`]).
    pub trace: bool,
    /// Check that every kernel's outputs have the dtype and shape that shape inference promised,
    /// failing the run with an error naming the node otherwise. Always on in debug builds; a
    /// small cost per node in release builds, where the tests and the op fuzzer turn it on.
    pub check_outputs: bool,
}

/// How a session builds its plans (TF's `ConfigProto` graph options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Fuse a producer into its only reader where the op offers it (a Conv2D with its BiasAdd
    /// and Relu, as TF Grappler's remapper does). On by default; the values are bit-identical
    /// either way, and turning it off shows every node on its own in traces.
    pub fuse: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { fuse: true }
    }
}

/// Cached plans by signature hash; a bucket holds the (rare) signatures that share a hash.
type PlanCache = HashMap<u64, Vec<(PlanKey, Arc<Plan>)>>;

#[derive(PartialEq, Eq)]
struct PlanKey {
    feeds: Vec<Output>,
    fetches: Vec<Output>,
    targets: Vec<NodeId>,
}

/// A graph with a variable store: TF1's `tf.Session`. `Send + Sync`: concurrent `run` calls on
/// one session are safe, and each read-modify-write of a variable is atomic.
///
/// ```
/// use stepflow::{Graph, Session};
/// let mut g = Graph::new();
/// let step = g.get_or_create_global_step()?;
/// let one = g.constant(1i64)?;
/// let inc = g.assign_add(step, one)?;
/// let init = g.global_variables_initializer()?;
/// let s = Session::new(g);
/// s.run(&[], &[], &[init])?;
/// for _ in 0..3 {
///     s.run(&[], &[], &[inc.node])?;
/// }
/// assert_eq!(s.run(&[], &[step], &[])?[0].to_i64_vec()?, vec![3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session {
    graph: Arc<Graph>,
    options: SessionOptions,
    vars: VariableStore,
    plans: RwLock<PlanCache>,
    counters: Vec<AtomicU64>,
}

impl Session {
    /// A session over `graph`, with every variable uninitialized.
    pub fn new(graph: Graph) -> Self {
        Self::from_arc(Arc::new(graph))
    }

    /// A session over a shared graph (several sessions may share one graph, each with its own
    /// variables).
    pub fn from_arc(graph: Arc<Graph>) -> Self {
        Self::with_options(graph, SessionOptions::default())
    }

    /// A session over a shared graph whose plans are built as `options` say.
    ///
    /// ```
    /// use stepflow::{Graph, Session, SessionOptions};
    /// let s = Session::with_options(Graph::new().into(), SessionOptions { fuse: false });
    /// assert!(!s.options().fuse);
    /// ```
    pub fn with_options(graph: Arc<Graph>, options: SessionOptions) -> Self {
        let names = graph.variables().iter().map(|v| graph.node(v.node).name().to_string()).collect();
        let specs = graph.variables().iter().map(|v| graph.node(v.node).outputs()[0].clone()).collect();
        let counters = (0..graph.len()).map(|_| AtomicU64::new(0)).collect();
        Session { vars: VariableStore::new(names, specs), graph, options, plans: RwLock::new(HashMap::new()), counters }
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// How the session builds its plans.
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Builds plans as `options` say from now on (the plans built so far are dropped).
    ///
    /// ```
    /// use stepflow::{Graph, Session, SessionOptions};
    /// let mut s = Session::new(Graph::new());
    /// s.set_options(SessionOptions { fuse: false });
    /// assert_eq!(s.options(), SessionOptions { fuse: false });
    /// ```
    pub fn set_options(&mut self, options: SessionOptions) {
        self.options = options;
        self.plans.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The shared graph.
    pub fn graph_arc(&self) -> Arc<Graph> {
        self.graph.clone()
    }

    /// Runs what `fetches` and `targets` need, with `feeds` replacing the values of the fed
    /// tensors (any tensor can be fed; a placeholder must be), and returns the fetched values in
    /// order. A target runs but returns nothing.
    ///
    /// Errors (nothing runs and no variable changes): an unknown handle, a missing feed, a feed
    /// of the wrong dtype or shape, a variable the run needs that is not initialized.
    pub fn run(&self, feeds: &[(Output, Tensor)], fetches: &[Output], targets: &[NodeId]) -> Result<Vec<Tensor>> {
        self.run_with(RunOptions::default(), feeds, fetches, targets)
    }

    /// [`run`](Session::run) with options (the executor to use).
    pub fn run_with(
        &self,
        options: RunOptions,
        feeds: &[(Output, Tensor)],
        fetches: &[Output],
        targets: &[NodeId],
    ) -> Result<Vec<Tensor>> {
        let plan = self.plan(feeds.iter().map(|f| f.0), fetches, targets)?;
        let values: smallvec::SmallVec<[&Tensor; 8]> = feeds.iter().map(|f| &f.1).collect();
        self.execute(&plan, &values, options, None)
    }

    /// [`run`](Session::run) recording every node's start and duration (TF's
    /// `RunOptions(trace_level=FULL_TRACE)` with `RunMetadata`).
    ///
    /// ```
    /// use stepflow::{Graph, RunOptions, Session};
    /// let mut g = Graph::new();
    /// let step = g.get_or_create_global_step()?;
    /// let x = g.cast(step, stepflow::DType::Float32)?;
    /// let y = g.exp(x)?;
    /// let s = Session::new(g);
    /// s.initialize()?;
    /// let (_, meta) = s.run_traced(RunOptions::default(), &[], &[y], &[])?;
    /// let ops: Vec<&str> = meta.step_stats.iter().map(|n| n.op).collect();
    /// assert_eq!(ops, vec!["VariableV2", "Cast", "Exp"]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn run_traced(
        &self,
        options: RunOptions,
        feeds: &[(Output, Tensor)],
        fetches: &[Output],
        targets: &[NodeId],
    ) -> Result<(Vec<Tensor>, RunMetadata)> {
        let plan = self.plan(feeds.iter().map(|f| f.0), fetches, targets)?;
        let values: smallvec::SmallVec<[&Tensor; 8]> = feeds.iter().map(|f| &f.1).collect();
        let tracer = trace::Tracer::new();
        let out = self.execute(&plan, &values, options, Some(&tracer))?;
        Ok((out, tracer.finish()))
    }

    /// [`run`](Session::run) with tensors named as in TF (`"x"`, `"node:1"`) and targets by node
    /// name. Convenient, but it looks names up on every call; hot loops should use handles.
    pub fn run_by_name(&self, feeds: &[(&str, Tensor)], fetches: &[&str], targets: &[&str]) -> Result<Vec<Tensor>> {
        let g = &self.graph;
        let feeds: Vec<(Output, Tensor)> =
            feeds.iter().map(|(n, t)| Ok((g.output(n)?, t.clone()))).collect::<Result<_>>()?;
        let fetches: Vec<Output> = fetches.iter().map(|n| g.output(n)).collect::<Result<_>>()?;
        let targets: Vec<NodeId> = targets.iter().map(|n| g.node_id(n)).collect::<Result<_>>()?;
        self.run(&feeds, &fetches, &targets)
    }

    /// A prepared signature (TF's `Session.make_callable`): its `run` takes only the feed values,
    /// in the order of `feeds`, and reaches the plan without any look-up.
    pub fn make_callable(&self, feeds: &[Output], fetches: &[Output], targets: &[NodeId]) -> Result<Callable<'_>> {
        let plan = self.plan(feeds.iter().copied(), fetches, targets)?;
        Ok(Callable { session: self, plan })
    }

    /// Runs every variable's initializer (what running `global_variables_initializer()` does).
    pub fn initialize(&self) -> Result<()> {
        let inits: Vec<NodeId> = self.graph.variables().iter().filter_map(|v| v.initializer).collect();
        self.run(&[], &[], &inits).map(|_| ())
    }

    /// The current value of a variable.
    pub fn variable_value(&self, var: Output) -> Result<Tensor> {
        let (index, name) = self.var_index(var)?;
        self.vars.read(index).ok_or(Error::UninitializedVariable { node: name })
    }

    /// Sets a variable's value (restoring a checkpoint, or TF's `var.load(value)`). The value must
    /// have the variable's dtype and shape.
    pub fn set_variable(&self, var: Output, value: Tensor) -> Result<()> {
        let (index, name) = self.var_index(var)?;
        let spec = self.graph.spec(var);
        if value.dtype() != spec.dtype || !spec.shape.is_compatible_with(value.shape()) {
            return Err(Error::FeedMismatch {
                node: name,
                dtype: spec.dtype,
                shape: spec.shape.clone(),
                got_dtype: value.dtype(),
                got_shape: Shape::known(value.shape()),
            });
        }
        self.vars.set(index, value);
        Ok(())
    }

    /// How many times each node has run, for the nodes whose kernels count their runs (the
    /// random ops, whose streams advance with it); indexed by node. With
    /// [`set_run_counts`](Self::set_run_counts) it puts the random streams back, as a snapshot
    /// of the variables puts their values back.
    pub fn run_counts(&self) -> Vec<u64> {
        self.counters.iter().map(|c| c.load(std::sync::atomic::Ordering::Relaxed)).collect()
    }

    /// Puts back counts taken by [`run_counts`](Self::run_counts) from this session.
    pub fn set_run_counts(&self, counts: &[u64]) -> Result<()> {
        if counts.len() != self.counters.len() {
            let got = format!("{} counts for a graph of {} nodes", counts.len(), self.counters.len());
            return Err(Error::argument("session", "run counts", got));
        }
        for (c, &v) in self.counters.iter().zip(counts) {
            c.store(v, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// What a `run` with this signature would execute: the nodes in plan order, and whether the
    /// parallel schedule is used. Builds (and caches) the plan without running it.
    ///
    /// ```
    /// use stepflow::{Graph, Session};
    /// let mut g = Graph::new();
    /// let a = g.constant(2.0f32)?;
    /// let step = g.get_or_create_global_step()?;
    /// let b = g.cast(step, stepflow::DType::Float32)?;
    /// let c = g.mul(a, b)?;
    /// let s = Session::new(g);
    /// let plan = s.explain(&[], &[c], &[])?;
    /// assert_eq!(plan.steps, vec!["global_step", "Cast", "mul"]);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn explain(&self, feeds: &[Output], fetches: &[Output], targets: &[NodeId]) -> Result<PlanInfo> {
        let plan = self.plan(feeds.iter().copied(), fetches, targets)?;
        Ok(PlanInfo {
            steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
            expensive: plan.steps.iter().filter(|s| s.expensive).map(|s| s.name.clone()).collect(),
            parallel: plan.parallel,
        })
    }

    /// How many plans the session has cached (one per distinct run signature).
    pub fn cached_plans(&self) -> usize {
        self.plans.read().unwrap_or_else(|e| e.into_inner()).values().map(Vec::len).sum()
    }

    /// The variable store (for checkpoints).
    pub fn variables(&self) -> &VariableStore {
        &self.vars
    }

    fn var_index(&self, var: Output) -> Result<(usize, String)> {
        self.graph.check_output(var)?;
        let node = self.graph.node(var.node);
        let index = node.var.ok_or_else(|| Error::argument("variable", node.name(), "is not a variable"))?;
        Ok((index, node.name().to_string()))
    }

    fn plan(
        &self,
        feeds: impl Iterator<Item = Output> + Clone,
        fetches: &[Output],
        targets: &[NodeId],
    ) -> Result<Arc<Plan>> {
        let ids = feeds.clone().flat_map(|f| [f.node.index() as u32, f.slot]);
        let ids = ids.chain([u32::MAX]).chain(fetches.iter().flat_map(|f| [f.node.index() as u32, f.slot]));
        let hash = signature_hash(ids.chain([u32::MAX]).chain(targets.iter().map(|t| t.index() as u32)));
        let matches =
            |k: &PlanKey| k.feeds.iter().copied().eq(feeds.clone()) && k.fetches == fetches && k.targets == targets;
        if let Some(bucket) = self.plans.read().unwrap_or_else(|e| e.into_inner()).get(&hash)
            && let Some((_, p)) = bucket.iter().find(|(k, _)| matches(k))
        {
            return Ok(p.clone());
        }
        let feeds: Vec<Output> = feeds.collect();
        let plan = Arc::new(Plan::build(&self.graph, &feeds, fetches, targets, self.options.fuse)?);
        let key = PlanKey { feeds, fetches: fetches.to_vec(), targets: targets.to_vec() };
        let mut plans = self.plans.write().unwrap_or_else(|e| e.into_inner());
        let bucket = plans.entry(hash).or_default();
        if let Some((_, p)) = bucket.iter().find(|(k, _)| *k == key) {
            return Ok(p.clone());
        }
        bucket.push((key, plan.clone()));
        Ok(plan)
    }

    fn execute(
        &self,
        plan: &Plan,
        feeds: &[&Tensor],
        options: RunOptions,
        tracer: Option<&trace::Tracer>,
    ) -> Result<Vec<Tensor>> {
        self.check_feeds(plan, feeds)?;
        for &v in &plan.must_be_initialized {
            if !self.vars.is_initialized(v) {
                return Err(Error::UninitializedVariable { node: self.vars.name(v).to_string() });
            }
        }
        let check_outputs = options.check_outputs || cfg!(debug_assertions);
        let exec = Exec { plan, vars: &self.vars, counters: &self.counters, tracer, check_outputs };
        if options.executor == Executor::Serial {
            let owned: Vec<Tensor> = feeds.iter().map(|&t| t.clone()).collect();
            return executor::run_reference(&exec, &owned);
        }
        let mut st = RunState::take(plan);
        for (feed, &t) in plan.feeds.iter().zip(feeds) {
            if let Some(s) = feed.slot {
                st.slots[s as usize].get_mut().unwrap_or_else(|e| e.into_inner()).value = Some(t.clone());
            }
        }
        let ran = if plan.parallel { exec.run_parallel(&st) } else { exec.run_inline(&mut st) };
        let out = ran.and_then(|()| exec.collect(&mut st));
        st.give_back(plan);
        out
    }

    fn check_feeds(&self, plan: &Plan, feeds: &[&Tensor]) -> Result<()> {
        if feeds.len() != plan.feeds.len() {
            return Err(Error::argument(
                "run",
                "feeds",
                format!("{} values for {} fed tensors", feeds.len(), plan.feeds.len()),
            ));
        }
        for (f, t) in plan.feeds.iter().zip(feeds) {
            if t.dtype() != f.spec.dtype || !f.spec.shape.is_compatible_with(t.shape()) {
                return Err(Error::FeedMismatch {
                    node: f.name.clone(),
                    dtype: f.spec.dtype,
                    shape: f.spec.shape.clone(),
                    got_dtype: t.dtype(),
                    got_shape: Shape::known(t.shape()),
                });
            }
        }
        Ok(())
    }
}

/// What a run signature executes (see [`Session::explain`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanInfo {
    /// The nodes that run, in plan order (folded constants and fed tensors excluded).
    pub steps: Vec<String>,
    /// The steps expensive enough to run as their own task.
    pub expensive: Vec<String>,
    /// Whether the parallel schedule runs the plan (otherwise it runs inline).
    pub parallel: bool,
}

/// A fast hash of a run signature's ids (the Fx multiply-rotate scheme): a few nanoseconds per
/// run, where SipHash would cost more than the rest of a small run's bookkeeping.
fn signature_hash(ids: impl Iterator<Item = u32>) -> u64 {
    ids.fold(0u64, |h, x| (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95))
}

/// A prepared `run` signature of a session (see [`Session::make_callable`]).
///
/// ```
/// use stepflow::{DType, Graph, Session, Shape, Tensor};
/// let mut g = Graph::new();
/// let x = g.placeholder(DType::Float32, Shape::scalar())?;
/// let y = g.square(x)?;
/// let s = Session::new(g);
/// let f = s.make_callable(&[x], &[y], &[])?;
/// assert_eq!(f.run(&[Tensor::scalar(3.0f32)])?[0].to_f64_vec(), vec![9.0]);
/// # Ok::<(), stepflow::Error>(())
/// ```
pub struct Callable<'s> {
    session: &'s Session,
    plan: Arc<Plan>,
}

impl Callable<'_> {
    /// Runs the signature with these feed values (in the order the callable was made with).
    pub fn run(&self, feeds: &[Tensor]) -> Result<Vec<Tensor>> {
        self.run_with(RunOptions::default(), feeds)
    }

    /// [`run`](Callable::run) with options.
    pub fn run_with(&self, options: RunOptions, feeds: &[Tensor]) -> Result<Vec<Tensor>> {
        let values: smallvec::SmallVec<[&Tensor; 8]> = feeds.iter().collect();
        self.session.execute(&self.plan, &values, options, None)
    }
}
