//! Training cases: a model, data fed whole at every step, initial variables, an optimizer and a
//! schedule on `global_step`; the per-step losses and learning rates (fetched in the same run as
//! the train op), the final variables, the final loss and the final global_step are compared with
//! TF's.

use super::{CaseResult, Outcome, Tolerance};
use crate::error::{Error, Result};
use crate::graph::{Graph, Initializer, NodeId, NodeName, Output};
use crate::session::Session;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use crate::train::optimizers::*;
use crate::train::schedules::{AnySchedule, Schedule};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Case {
    model: String,
    optimizer: String,
    schedule: Value,
    steps: usize,
    data: Data,
    initial_variables: BTreeMap<String, Value>,
    losses: Vec<f64>,
    learning_rates: Vec<f64>,
    final_variables: BTreeMap<String, Value>,
    final_global_step: i64,
    final_loss: f64,
}

#[derive(Deserialize)]
struct Data {
    x: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
}

pub(super) fn run(index: usize, case: &Value) -> CaseResult {
    let name = case.get("name").and_then(Value::as_str).map_or_else(|| format!("training[{index}]"), str::to_string);
    let outcome = match serde_json::from_value::<Case>(case.clone()) {
        Ok(c) => evaluate(&c).unwrap_or_else(|e| e),
        Err(e) => Outcome::Error(format!("case: {e}")),
    };
    CaseResult { name, outcome }
}

/// A float32 tensor from nested JSON numbers (a scalar, a vector or a matrix).
fn tensor(v: &Value) -> Result<Tensor> {
    serde_json::from_value(serde_json::json!({"dtype": "float32", "data": v}))
        .map_err(|e| Error::format("golden", e.to_string()))
}

fn matrix(rows: &[Vec<f64>]) -> Result<Tensor> {
    let cols = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    Ok(Tensor::from_vec(&[rows.len(), cols], flat)?)
}

/// The model's graph: its variables (by golden name), the loss, the placeholders.
struct Model {
    vars: BTreeMap<String, Output>,
    loss: Output,
    x: Output,
    y: Output,
}

fn build_model(g: &mut Graph, kind: &str, init: &BTreeMap<String, Tensor>, d: usize, outputs: usize) -> Result<Model> {
    let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(d)]))?;
    let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(outputs)]))?;
    let mut vars = BTreeMap::new();
    let mut var = |g: &mut Graph, name: &str| -> Result<Output> {
        let t =
            init.get(name).ok_or_else(|| Error::format("golden", format!("initial_variables lacks '{name}'")))?.clone();
        let shape = t.shape().to_vec();
        let v = g.variable_with(NodeName::Exact(name), DType::Float32, &shape, Initializer::Value(t), true)?;
        vars.insert(name.to_string(), v);
        Ok(v)
    };
    let loss = match kind {
        "linear_mse" => {
            let (w, b) = (var(g, "w")?, var(g, "b")?);
            let xw = g.matmul(x, w)?;
            let pred = g.add(xw, b)?;
            let err = g.sub(pred, y)?;
            let sq = g.square(err)?;
            g.reduce_mean(sq, None, false)?
        }
        "mlp_relu_softmax_xent" | "mlp_tanh_sigmoid_mse" => {
            let (w1, b1, w2, b2) = (var(g, "w1")?, var(g, "b1")?, var(g, "w2")?, var(g, "b2")?);
            let h = g.matmul(x, w1)?;
            let h = g.add(h, b1)?;
            let relu = kind == "mlp_relu_softmax_xent";
            let h = if relu { g.relu(h)? } else { g.tanh(h)? };
            let o = g.matmul(h, w2)?;
            let logits = g.add(o, b2)?;
            if relu {
                let xent = g.softmax_cross_entropy_with_logits(y, logits)?;
                g.reduce_mean(xent, None, false)?
            } else {
                let out = g.sigmoid(logits)?;
                let err = g.sub(out, y)?;
                let sq = g.square(err)?;
                g.reduce_mean(sq, None, false)?
            }
        }
        other => return Err(Error::format("golden", format!("unknown model '{other}'"))),
    };
    Ok(Model { vars, loss, x, y })
}

/// The optimizer a golden names, with its fixed hyper-parameters.
fn optimizer(name: &str, lr: Output) -> Result<Box<dyn Optimizer>> {
    Ok(match name {
        "gradient_descent" => Box::new(GradientDescentOptimizer::new(lr)),
        "momentum" => Box::new(MomentumOptimizer::new(lr, 0.9)),
        "nesterov" => Box::new(MomentumOptimizer { use_nesterov: true, ..MomentumOptimizer::new(lr, 0.9) }),
        "adam" => Box::new(AdamOptimizer::with(lr, 0.9, 0.999, 1e-8)),
        "adagrad" => Box::new(AdagradOptimizer::new(lr)),
        "rmsprop" => Box::new(RMSPropOptimizer::new(lr)),
        "rmsprop_centered_momentum" => {
            Box::new(RMSPropOptimizer { momentum: Hyper::Value(0.5), centered: true, ..RMSPropOptimizer::new(lr) })
        }
        other => return Err(Error::format("golden", format!("unknown optimizer '{other}'"))),
    })
}

/// The built training graph.
struct Training {
    session: Session,
    model: Model,
    lr: Output,
    step: Output,
    train: NodeId,
}

fn build(c: &Case) -> Result<Training> {
    let init: BTreeMap<String, Tensor> =
        c.initial_variables.iter().map(|(k, v)| Ok((k.clone(), tensor(v)?))).collect::<Result<_>>()?;
    let d = c.data.x.first().map_or(0, Vec::len);
    let outputs = c.data.y.first().map_or(0, Vec::len);
    let mut g = Graph::new();
    let model = build_model(&mut g, &c.model, &init, d, outputs)?;
    let step = g.get_or_create_global_step()?;
    let schedule: AnySchedule = match &c.schedule {
        Value::String(s) if s == "constant" => {
            return Err(Error::format("golden", "a constant schedule needs its learning_rate"));
        }
        v => serde_json::from_value(v.clone()).map_err(|e| Error::format("golden", format!("schedule: {e}")))?,
    };
    let lr = g.named("learning_rate", |g| schedule.build(g, step))?;
    let train = optimizer(&c.optimizer, lr)?.minimize(&mut g, model.loss, Some(step), None)?;
    let session = Session::new(g);
    session.initialize()?;
    Ok(Training { session, model, lr, step, train })
}

fn evaluate(c: &Case) -> std::result::Result<Outcome, Outcome> {
    let err = |e: Error| Outcome::Error(e.to_string());
    let t = build(c).map_err(err)?;
    let feeds = [(t.model.x, matrix(&c.data.x).map_err(err)?), (t.model.y, matrix(&c.data.y).map_err(err)?)];
    let mut tol = Tolerance::new(1e-4, 1e-6);
    if c.losses.len() < c.steps || c.learning_rates.len() < c.steps {
        return Err(Outcome::Error(format!(
            "{} steps but {} losses and {} rates",
            c.steps,
            c.losses.len(),
            c.learning_rates.len()
        )));
    }
    for k in 0..c.steps {
        let out = t.session.run(&feeds, &[t.model.loss, t.lr], &[t.train]).map_err(err)?;
        let (loss, lr) = (out[0].scalar_f64().unwrap_or(f64::NAN), out[1].scalar_f64().unwrap_or(f64::NAN));
        tol.check(|| format!("loss@{k}"), loss, c.losses[k])?;
        tol.check(|| format!("learning_rate@{k}"), lr, c.learning_rates[k])?;
    }
    for (name, want) in &c.final_variables {
        let var = t.model.vars.get(name).ok_or_else(|| Outcome::Error(format!("no variable '{name}'")))?;
        let got = t.session.variable_value(*var).map_err(err)?.to_f64_vec();
        let want = tensor(want).map_err(err)?.to_f64_vec();
        if got.len() != want.len() {
            return Err(Outcome::Error(format!("'{name}' has {} values, TF {}", got.len(), want.len())));
        }
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            tol.check(|| format!("{name}[{i}]"), *a, *b)?;
        }
    }
    let final_loss = t.session.run(&feeds, &[t.model.loss], &[]).map_err(err)?[0].scalar_f64().unwrap_or(f64::NAN);
    tol.check(|| "final_loss".into(), final_loss, c.final_loss)?;
    let gs = t.session.variable_value(t.step).map_err(err)?.to_i64_vec().map_err(|e| err(e.into()))?;
    tol.check(|| "final_global_step".into(), gs[0] as f64, c.final_global_step as f64)?;
    Ok(Outcome::Pass { max_rel_err: tol.max_rel_err })
}
