//! Symbolic gradients (`tf.gradients`): reverse mode as a pass that adds gradient nodes to the
//! same graph, so a gradient can be run, saved, inspected and differentiated again.

use crate::error::{Error, Result};
use crate::graph::{Graph, NodeId, NodeName, Output};
use crate::ops::TensorSpec;
use crate::ops::array::BroadcastGradientArgs;
use std::collections::HashMap;

/// What an op's gradient function sees: the graph to add nodes to, the node, and the gradient
/// flowing into each of its outputs.
pub struct GradCx<'a> {
    /// The graph, to build gradient nodes in.
    pub g: &'a mut Graph,
    node: NodeId,
    grads: Vec<Output>,
    /// Which outputs received a gradient (the others got zeros).
    flowing: Vec<bool>,
}

impl GradCx<'_> {
    /// Input `i` of the node being differentiated.
    pub fn input(&self, i: usize) -> Output {
        self.g.node(self.node).inputs[i]
    }

    /// Output `i` of the node being differentiated.
    pub fn output(&self, i: usize) -> Output {
        Output { node: self.node, slot: i as u32 }
    }

    /// The gradient of the loss with respect to output `i` (zeros where none flows).
    pub fn grad(&self, i: usize) -> Output {
        self.grads[i]
    }

    /// Whether any gradient reached output `i` ([`grad`](GradCx::grad) is zeros otherwise).
    pub fn has_grad(&self, i: usize) -> bool {
        self.flowing.get(i).copied().unwrap_or(false)
    }

    /// The spec of input `i`.
    pub fn input_spec(&self, i: usize) -> TensorSpec {
        self.g.spec(self.input(i)).clone()
    }

    /// The error for an op that has no gradient.
    pub fn no_gradient(&self) -> Error {
        let n = self.g.node(self.node);
        Error::NoGradient { node: n.name().to_string(), op: n.op().op_type().to_string() }
    }

    /// Sums `grad` (shaped like the broadcast of this node's inputs) back to the shape of input
    /// `i`. The other inputs' static shapes often show which axes were broadcast even when some
    /// dimensions are unknown (`xw [?,128] + b [128]` never broadcast `xw`); only a truly
    /// ambiguous case needs `BroadcastGradientArgs` at run time.
    pub fn sum_to_input(&mut self, grad: Output, i: usize) -> Result<Output> {
        let like = self.input(i);
        let inputs = self.g.node(self.node).inputs().to_vec();
        let others: Vec<crate::shape::Shape> =
            inputs.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &o)| self.g.spec(o).shape.clone()).collect();
        match broadcast_axes(&self.g.try_spec(like)?.shape, &others) {
            Some((lead, ones)) => {
                let mut out = grad;
                if !lead.is_empty() {
                    out = self.g.reduce_sum(out, Some(&lead), false)?;
                }
                if !ones.is_empty() {
                    out = self.g.reduce_sum(out, Some(&ones), true)?;
                }
                Ok(out)
            }
            None => sum_to_shape_of(self.g, grad, like),
        }
    }
}

/// The axes along which an input of shape `x` was broadcast against `others`, when the static
/// shapes decide it: the leading axes `x` lacks, and (counted within `x`) its size-1 axes that
/// the others may have stretched. `None` when an unknown dimension of `x` meets an unknown or
/// larger one.
fn broadcast_axes(x: &crate::shape::Shape, others: &[crate::shape::Shape]) -> Option<(Vec<i64>, Vec<i64>)> {
    let xd = x.dims()?;
    let od: Vec<&[Option<usize>]> = others.iter().map(|o| o.dims()).collect::<Option<_>>()?;
    let rank = od.iter().map(|d| d.len()).max().unwrap_or(0).max(xd.len());
    let lead = rank - xd.len();
    // The others' combined size at output axis k: Some(1) when none can stretch it.
    let other_dim = |k: usize| -> Option<usize> {
        let mut combined = Some(1);
        for d in &od {
            let at = (k + d.len()).checked_sub(rank).map(|j| d[j]).unwrap_or(Some(1));
            combined = match (combined, at) {
                (Some(1), a) => a,
                (c, Some(1)) => c,
                (Some(a), Some(b)) if a == b => Some(a),
                _ => None,
            };
        }
        combined
    };
    let mut ones = Vec::new();
    for (j, &d) in xd.iter().enumerate() {
        let o = other_dim(lead + j);
        match (d, o) {
            (Some(1), Some(1)) => {}
            (Some(1), _) => ones.push(j as i64),
            (Some(_), _) => {}
            (None, Some(1)) => {}
            (None, _) => return None,
        }
    }
    Some(((0..lead as i64).collect(), ones))
}

/// Sums `grad` over the axes along which `like` was broadcast, and reshapes it to `like`'s shape.
/// Static shapes decide the axes when they can; otherwise `BroadcastGradientArgs` finds them at
/// run time.
pub fn sum_to_shape_of(g: &mut Graph, grad: Output, like: Output) -> Result<Output> {
    let gs = g.try_spec(grad)?.shape.clone();
    let xs = g.try_spec(like)?.shape.clone();
    if let (Some(xd), Some(gd)) = (xs.to_known(), gs.dims())
        && gd.len() >= xd.len()
    {
        let lead = gd.len() - xd.len();
        let mut axes: Vec<i64> = (0..lead as i64).collect();
        for (i, &d) in xd.iter().enumerate() {
            if d == 1 && gd[lead + i] != Some(1) {
                axes.push((lead + i) as i64);
            }
        }
        if axes.is_empty() {
            return Ok(grad);
        }
        let s = g.reduce_sum(grad, Some(&axes), false)?;
        return if g.try_spec(s)?.shape == xs {
            Ok(s)
        } else {
            g.reshape(s, &xd.iter().map(|&d| d as i64).collect::<Vec<_>>())
        };
    }
    let sx = g.shape_of(like)?;
    let sg = g.shape_of(grad)?;
    let args = g.add_node(NodeName::Default("BroadcastGradientArgs"), BroadcastGradientArgs {}, &[sx, sg], &[])?;
    let s = g.reduce_sum_axes(grad, Output { node: args, slot: 0 }, false)?;
    g.reshape_dynamic(s, sx)
}

/// The gradients of `sum(ys)` with respect to each of `xs`, as graph nodes (TF's
/// `tf.gradients`). `grad_ys` weights each y (ones when `None`). An x on which no y depends gets
/// `None`; an op without a gradient on a path from an x to a y is an error naming it.
///
/// ```
/// use stepflow::{grad::gradients, Graph, Session};
/// let mut g = Graph::new();
/// let x = g.constant(3.0f32)?;
/// let y = g.square(x)?;
/// let dx = gradients(&mut g, &[y], &[x], None)?[0].unwrap();
/// let s = Session::new(g);
/// assert_eq!(s.run(&[], &[dx], &[])?[0].to_f64_vec(), vec![6.0]);
/// # Ok::<(), stepflow::Error>(())
/// ```
pub fn gradients(
    g: &mut Graph,
    ys: &[Output],
    xs: &[Output],
    grad_ys: Option<&[Output]>,
) -> Result<Vec<Option<Output>>> {
    if let Some(gy) = grad_ys
        && gy.len() != ys.len()
    {
        return Err(Error::argument("gradients", "grad_ys", format!("has {} entries for {} ys", gy.len(), ys.len())));
    }
    for &o in ys.iter().chain(xs).chain(grad_ys.unwrap_or(&[])) {
        g.check_output(o)?;
    }
    let between = between_nodes(g, ys, xs);
    g.with_name_scope("gradients", |g| {
        let mut pending: HashMap<Output, Vec<Output>> = HashMap::new();
        for (k, &y) in ys.iter().enumerate() {
            let gy = match grad_ys {
                Some(gys) => gys[k],
                None => g.ones_like(y)?,
            };
            pending.entry(y).or_default().push(gy);
        }
        let last = between.iter().rposition(|&b| b).map_or(0, |p| p + 1);
        for i in (0..last).rev().filter(|&i| between[i]) {
            let id = g.id_at(i);
            backprop_node(g, id, &between, xs, &mut pending)?;
        }
        xs.iter().map(|x| aggregate(g, pending.remove(x).unwrap_or_default())).collect()
    })
}

/// Marks the nodes on some data path from an x to a y.
fn between_nodes(g: &Graph, ys: &[Output], xs: &[Output]) -> Vec<bool> {
    let n = g.len();
    let mut from_x = vec![false; n];
    for x in xs {
        from_x[x.node.index()] = true;
    }
    for id in g.node_ids() {
        let node = g.node(id);
        let refs = node.ref_inputs();
        if node.inputs().iter().skip(refs).any(|i| from_x[i.node.index()]) {
            from_x[id.index()] = true;
        }
    }
    let mut to_y = vec![false; n];
    for y in ys {
        to_y[y.node.index()] = true;
    }
    for id in g.node_ids().collect::<Vec<_>>().into_iter().rev() {
        if to_y[id.index()] {
            let node = g.node(id);
            for i in node.inputs().iter().skip(node.ref_inputs()) {
                to_y[i.node.index()] = true;
            }
        }
    }
    (0..n).map(|i| from_x[i] && to_y[i]).collect()
}

fn backprop_node(
    g: &mut Graph,
    id: NodeId,
    between: &[bool],
    xs: &[Output],
    pending: &mut HashMap<Output, Vec<Output>>,
) -> Result<()> {
    let n_out = g.node(id).outputs().len();
    let outs: Vec<Output> = (0..n_out as u32).map(|slot| Output { node: id, slot }).collect();
    if !outs.iter().any(|o| pending.contains_key(o)) {
        return Ok(());
    }
    let name = g.node(id).name().to_string();
    let mut grads = Vec::with_capacity(n_out);
    let mut flowing = Vec::with_capacity(n_out);
    g.with_name_scope(&format!("{name}_grad"), |g| {
        for o in &outs {
            let contributions = pending.remove(o).unwrap_or_default();
            flowing.push(!contributions.is_empty());
            let summed = match aggregate(g, contributions)? {
                Some(s) => {
                    if xs.contains(o) {
                        // An x whose own inputs are also differentiated keeps its total here.
                        pending.insert(*o, vec![s]);
                    }
                    s
                }
                None => g.zeros_like(*o)?,
            };
            grads.push(summed);
        }
        let op = g.node(id).op.clone();
        let upstream = g.node(id).inputs().iter().skip(g.node(id).ref_inputs()).any(|i| between[i.node.index()]);
        if !upstream {
            // An x with nothing to differentiate above it: its total is all that is needed.
            return Ok(());
        }
        let mut cx = GradCx { g, node: id, grads, flowing };
        let input_grads = op.grad(&mut cx)?;
        let inputs = g.node(id).inputs().to_vec();
        if input_grads.len() != inputs.len() {
            return Err(Error::at(
                &name,
                op.op_type(),
                crate::invalid!("gradient returned {} values for {} inputs", input_grads.len(), inputs.len()),
            ));
        }
        for (i, (input, gi)) in inputs.iter().zip(input_grads).enumerate() {
            let Some(gi) = gi else { continue };
            if i < g.node(id).ref_inputs() || !between[input.node.index()] || !g.try_spec(*input)?.dtype.is_float() {
                continue;
            }
            pending.entry(*input).or_default().push(gi);
        }
        Ok(())
    })
}

/// Sums the gradient contributions reaching one output (`AddN` when there are several).
fn aggregate(g: &mut Graph, mut contributions: Vec<Output>) -> Result<Option<Output>> {
    match contributions.len() {
        0 => Ok(None),
        1 => Ok(contributions.pop()),
        _ => g.add_n(&contributions).map(Some),
    }
}
