//! Switch and Merge (TF1's dataflow `tf.cond`): the untaken side is dead, nothing downstream of
//! a dead value runs, and a Merge passes on its live input with its index.

use super::util::*;
use stepflow::{DType, Executor, Graph, Initializer, RunOptions, Shape, Tensor};

/// Switch puts its data on the side the predicate picks; fetching the other side is an error
/// saying it is dead.
pub fn switch() {
    for taken in [false, true] {
        let x = f32s(&[2], &[1.5, -2.0]);
        let live = eval1(|g| {
            let (d, p) = (feed(g, x.clone())?, feed(g, Tensor::from(taken))?);
            let (f, t) = g.switch(d, p)?;
            Ok(if taken { t } else { f })
        })
        .unwrap();
        assert_close(&live, &[2], &[1.5, -2.0]);
        let e = eval1(|g| {
            let (d, p) = (feed(g, x.clone())?, feed(g, Tensor::from(taken))?);
            let (f, t) = g.switch(d, p)?;
            Ok(if taken { f } else { t })
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("untaken side of a Switch"), "{e}");
        // A predicate that is not a bool scalar is refused.
        let e = eval1(|g| {
            let (d, p) = (feed(g, x.clone())?, feed(g, bools(&[2], &[true, false]))?);
            Ok(g.switch(d, p)?.0)
        });
        assert!(e.is_err());
    }
}

/// A cond as TF1 builds it: both branches read a Switch side, a Merge joins them. Each
/// predicate gives its branch's value and index; ops downstream of the dead side never run
/// (the untaken side holds an Assert that fails).
pub fn merge() {
    for (taken, value, index) in [(true, [4.0, -3.0], 1), (false, [1.5, -1.125], 0)] {
        let out = eval(|g| {
            let (d, p) = (feed(g, f32s(&[2], &[2.0, -1.5]))?, feed(g, Tensor::from(taken))?);
            let (f, t) = g.switch(d, p)?;
            let two = g.constant(2.0f32)?;
            let doubled = g.mul(t, two)?;
            let quarter = g.constant(0.75f32)?;
            let scaled = g.mul(f, quarter)?;
            // A branch on the untaken side that fails if it runs.
            let dead_side = if taken { f } else { t };
            let no = g.constant(false)?;
            let fails = g.assert(no, &[dead_side], &["the untaken branch ran"])?;
            let bad = g.with_control_dependencies(&[fails], |g| g.identity(dead_side))?;
            let (m, i) = g.merge(&[scaled, doubled, bad])?;
            Ok(vec![m, i])
        })
        .unwrap();
        assert_close(&out[0], &[2], &value);
        assert_eq!(out[1].to_f64_vec(), vec![index as f64]);
    }
    // With several live inputs the first wins; with none, the Merge is dead.
    let out = eval(|g| {
        let (a, b) = (feed(g, f32s(&[], &[1.0]))?, feed(g, f32s(&[], &[2.0]))?);
        let (m, i) = g.merge(&[a, b])?;
        Ok(vec![m, i])
    })
    .unwrap();
    assert_close(&out[0], &[], &[1.0]);
    assert_eq!(out[1].to_f64_vec(), vec![0.0]);
    let e = eval1(|g| {
        let (d, p) = (feed(g, f32s(&[], &[1.0]))?, feed(g, Tensor::from(true))?);
        let (f, _) = g.switch(d, p)?;
        let (d2, _) = g.switch(d, p)?;
        Ok(g.merge(&[f, d2])?.0)
    })
    .unwrap_err();
    assert!(e.to_string().contains("untaken side of a Switch"), "{e}");
}

/// What TF1's cond does with control edges: a branch constant runs after the branch's pivot (an
/// Identity of a Switch side), so it is dead with it; a variable update in the untaken branch
/// does not run. Checked in both executors.
pub fn dead_control_edges() {
    for executor in [Executor::Serial, Executor::Parallel] {
        let mut g = Graph::new();
        let p = g.placeholder(DType::Bool, Shape::scalar()).unwrap();
        let v = g.variable("counter", DType::Float32, &[], Initializer::Constant(0.0)).unwrap();
        let (pf, pt) = g.switch(p, p).unwrap();
        let (pivot_f, pivot_t) = (g.identity(pf).unwrap(), g.identity(pt).unwrap());
        let c_t = g.with_control_dependencies(&[pivot_t.node], |g| g.constant(10.0f32)).unwrap();
        let c_f = g.with_control_dependencies(&[pivot_f.node], |g| g.constant(20.0f32)).unwrap();
        let one = g.constant(1.0f32).unwrap();
        let c_t2 = g.add(c_t, one).unwrap();
        let bump = g.with_control_dependencies(&[pivot_t.node], |g| g.assign_add(v, one)).unwrap();
        let (m, _) = g.merge(&[c_f, c_t2]).unwrap();
        let read = g.identity(v).unwrap();
        let s = session(g);
        s.initialize().unwrap();
        let opts = RunOptions { executor, trace: false, check_outputs: true };
        for (taken, want, count) in [(false, 20.0, 0.0), (true, 11.0, 1.0), (false, 20.0, 1.0)] {
            let out = s.run_with(opts, &[(p, Tensor::from(taken))], &[m], &[bump.node]).unwrap();
            assert_eq!(out[0].scalar_f64(), Some(want), "{executor:?} taken {taken}");
            let c = s.run_with(opts, &[], &[read], &[]).unwrap();
            assert_eq!(c[0].scalar_f64(), Some(count), "{executor:?} taken {taken}");
        }
    }
}

/// `Graph::cond`: each branch sees the inputs on its side; a branch that returns a tensor made
/// outside it still yields the right side's value, and a branch's update runs only when taken.
pub fn cond_builder() {
    let mut g = Graph::new();
    let p = g.placeholder(DType::Bool, Shape::scalar()).unwrap();
    let x = g.placeholder(DType::Float32, Shape::scalar()).unwrap();
    let outer = g.constant(-1.0f32).unwrap();
    let v = g.variable("count", DType::Float32, &[], Initializer::Constant(0.0)).unwrap();
    let y = g
        .cond(
            p,
            &[x],
            Box::new(|g, x| {
                let one = g.constant(1.0f32)?;
                let bump = g.assign_add(v, one)?;
                let y = g.with_control_dependencies(&[bump.node], |g| g.square(x[0]))?;
                Ok(vec![y, x[0]])
            }),
            Box::new(move |_, x| Ok(vec![outer, x[0]])),
        )
        .unwrap();
    let read = g.identity(v).unwrap();
    let s = session(g);
    s.initialize().unwrap();
    for (taken, want, count) in [(true, 9.0, 1.0), (false, -1.0, 1.0), (true, 9.0, 2.0)] {
        let out = s.run(&[(p, Tensor::from(taken)), (x, Tensor::from(3.0f32))], &y, &[]).unwrap();
        assert_eq!(out[0].scalar_f64(), Some(want), "taken {taken}");
        assert_eq!(out[1].scalar_f64(), Some(3.0));
        assert_eq!(s.run(&[], &[read], &[]).unwrap()[0].scalar_f64(), Some(count));
    }
    let mut g = Graph::new();
    let p = g.placeholder(DType::Bool, Shape::scalar()).unwrap();
    let e = g.cond(p, &[], Box::new(|_, _| Ok(vec![])), Box::new(|g, _| Ok(vec![g.constant(1.0f32)?])));
    assert!(e.unwrap_err().to_string().contains("returns 0 outputs but false_fn returns 1"));
}
