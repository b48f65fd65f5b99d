//! The parallel executor against the serial reference on random graphs: fetched values and the
//! variables after each run must be bit-identical. Sizes are chosen so that both the inline and
//! the parallel schedule run, and large kernels split their work across threads. Some graphs hold
//! TF1 conds (Switch/Merge), whose untaken side must not run in either executor.

use proptest::prelude::*;
use stepflow::{DType, Executor, Graph, Initializer, Output, Result, RunOptions, Session, Shape, Tensor};

/// One random node: an op code and two input picks (among the values built so far).
#[derive(Clone, Debug)]
struct Pick {
    op: u8,
    a: usize,
    b: usize,
    flag: bool,
}

fn picks() -> impl Strategy<Value = (bool, Vec<Pick>)> {
    let pick =
        (0u8..22, 0usize..1000, 0usize..1000, any::<bool>()).prop_map(|(op, a, b, flag)| Pick { op, a, b, flag });
    (any::<bool>(), prop::collection::vec(pick, 1..24))
}

/// The graph a recipe describes: its fetches, its assign targets and the feed.
struct Built {
    graph: Graph,
    fetches: Vec<Output>,
    targets: Vec<stepflow::NodeId>,
    feed: (Output, Tensor),
}

fn build(large: bool, recipe: &[Pick]) -> Result<Built> {
    let n = if large { 192 } else { 4 };
    let mut g = Graph::new();
    let vars: Vec<Output> = (0..3)
        .map(|i| {
            g.variable("v", DType::Float32, &[n, n], Initializer::RandomNormal { mean: 0.0, stddev: 0.5, seed: i })
        })
        .collect::<Result<_>>()?;
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(n)]))?;
    let mut values: Vec<Output> = vars.clone();
    values.push(x);
    let mut targets = Vec::new();
    for p in recipe {
        let a = values[p.a % values.len()];
        let b = values[p.b % values.len()];
        let full = |g: &Graph, o: Output| g.spec(o).shape.dims().is_some_and(|d| d.len() == 2 && d[0] != Some(1));
        let out = match p.op {
            0 => g.add(a, b)?,
            1 => g.sub(a, b)?,
            2 => g.mul(a, b)?,
            3 => {
                let sq = g.square(b)?;
                let one = g.constant(1.0f32)?;
                let d = g.add(one, sq)?;
                g.div(a, d)?
            }
            4 => g.tanh(a)?,
            5 => g.sigmoid(a)?,
            6 => g.maximum(a, b)?,
            7 | 16..=19 if full(&g, a) && full(&g, b) => {
                let m = g.matmul_t(a, b, p.flag, !p.flag)?;
                let s = g.constant((n as f32).recip())?;
                g.mul(m, s)?
            }
            8 => g.reduce_sum(a, Some(&[0]), true)?,
            9 => g.reduce_mean(a, Some(&[1]), true)?,
            10 => {
                let c = g.greater(a, b)?;
                g.select(c, a, b)?
            }
            11 => g.relu(a)?,
            12..=14 if full(&g, a) => {
                let var = vars[p.b % vars.len()];
                let t = g.tanh(a)?;
                let s = g.constant(0.01f32)?;
                let v = g.mul(t, s)?;
                let w = match p.op {
                    12 => g.assign_add(var, v)?,
                    13 => g.assign_sub(var, v)?,
                    _ => g.assign(var, v)?,
                };
                targets.push(w.node);
                w
            }
            15 => g.softmax(a)?,
            20 | 21 if g.spec(a).shape == g.spec(b).shape => {
                // A TF1 cond on the sign of sum(a): only the taken branch runs, and the true
                // one may update a variable (a dead update when the false side is taken).
                let sum = g.reduce_sum(a, None, false)?;
                let zero = g.constant(0.0f32)?;
                let pred = g.greater(sum, zero)?;
                let ((af, at), (bf, bt)) = (g.switch(a, pred)?, g.switch(b, pred)?);
                let t = g.tanh(at)?;
                let yes = g.mul(t, bt)?;
                let no = g.sub(af, bf)?;
                if p.op == 21 && full(&g, at) {
                    let s = g.constant(0.01f32)?;
                    let v = g.mul(t, s)?;
                    targets.push(g.assign_add(vars[p.b % vars.len()], v)?.node);
                }
                g.merge(&[no, yes])?.0
            }
            _ => g.square(a)?,
        };
        values.push(out);
    }
    let fetches: Vec<Output> = values[4..].iter().rev().take(8).copied().collect();
    let feed = Tensor::from_vec(&[n, n], (0..n * n).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect())?;
    Ok(Built { graph: g, fetches, targets, feed: (x, feed) })
}

fn runs(large: bool, recipe: &[Pick], executor: Executor) -> Result<Vec<Tensor>> {
    let b = build(large, recipe)?;
    let vars: Vec<Output> = b.graph.variables().iter().map(|v| v.node.into()).collect();
    let s = Session::new(b.graph);
    s.initialize()?;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.extend(s.run_with(
            RunOptions { executor, trace: false, check_outputs: true },
            std::slice::from_ref(&b.feed),
            &b.fetches,
            &b.targets,
        )?);
        for &v in &vars {
            seen.push(s.variable_value(v)?);
        }
    }
    Ok(seen)
}

fn same(large: bool, recipe: &[Pick]) -> std::result::Result<(), TestCaseError> {
    let parallel = runs(large, recipe, Executor::Parallel);
    let serial = runs(large, recipe, Executor::Serial);
    match (parallel, serial) {
        (Ok(p), Ok(s)) => {
            prop_assert_eq!(p.len(), s.len());
            for (i, (a, b)) in p.iter().zip(&s).enumerate() {
                prop_assert!(a.bit_eq(b), "value {} differs: parallel {} serial {}", i, a, b);
            }
        }
        (Err(p), Err(s)) => prop_assert_eq!(p.to_string(), s.to_string()),
        (p, s) => prop_assert!(false, "one executor failed: parallel {:?} serial {:?}", p.err(), s.err()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parallel_executor_is_bit_identical_to_serial((large, recipe) in picks()) {
        same(large, &recipe)?;
    }
}

/// A wide graph that certainly takes the parallel schedule with concurrent matmuls and updates.
#[test]
fn wide_graph_with_concurrent_updates() {
    let recipe: Vec<Pick> = (0..16)
        .map(|i| Pick { op: if i % 4 == 3 { 12 } else { 7 }, a: i * 97 % 1000, b: i * 31 % 1000, flag: i % 2 == 0 })
        .collect();
    same(true, &recipe).unwrap();
}
