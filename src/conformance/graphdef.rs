//! TensorFlow's own training graphs: a run spec (see `tests/tf/README.md`) holds a GraphDef
//! exported by TF, the feeds, the ops to run and TF's losses, learning rates and final
//! variables. The graph is imported in the chosen form (the inline JSON, or the sibling
//! `.pbtxt`, `.pb` or `.meta` file the spec names), its `init` op run once, then `steps` runs
//! of the train op, each fetching the loss and the learning rate, then every final variable
//! (optimizer slots and `global_step` included) is compared with TF's.

use super::{CaseResult, Outcome, Tolerance};
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::io::tf::{Form, TfGraph, TfMetaGraph};
use crate::session::Session;
use crate::tensor::Tensor;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The form of a run spec's graph to import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecForm {
    /// The GraphDef inline in the spec (`graph_def`, TF's JSON mapping).
    Json,
    /// The sibling text GraphDef (`files.pbtxt`).
    Pbtxt,
    /// The sibling binary GraphDef (`files.pb`).
    Pb,
    /// The sibling MetaGraphDef (`files.meta`).
    Meta,
}

impl std::str::FromStr for SpecForm {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "json" => SpecForm::Json,
            "pbtxt" => SpecForm::Pbtxt,
            "pb" => SpecForm::Pb,
            "meta" => SpecForm::Meta,
            other => return Err(format!("unknown form '{other}' (expected json, pbtxt, pb or meta)")),
        })
    }
}

impl SpecForm {
    /// Every form, in the order the runner reports them.
    pub const ALL: [SpecForm; 4] = [SpecForm::Json, SpecForm::Pbtxt, SpecForm::Pb, SpecForm::Meta];

    fn key(self) -> &'static str {
        match self {
            SpecForm::Json => "json",
            SpecForm::Pbtxt => "pbtxt",
            SpecForm::Pb => "pb",
            SpecForm::Meta => "meta",
        }
    }
}

#[derive(Deserialize)]
struct Spec {
    init: String,
    train: String,
    fetches: BTreeMap<String, String>,
    #[serde(default)]
    feeds: BTreeMap<String, Value>,
    #[serde(default)]
    feed_per_step: BTreeMap<String, Vec<Value>>,
    steps: usize,
    expected: BTreeMap<String, Value>,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

/// Runs the run spec at `path` with its graph in `form`. The case is named after the file.
pub fn run_spec(path: impl AsRef<Path>, form: SpecForm) -> CaseResult {
    run_spec_ignoring(path, form, &[])
}

/// [`run_spec`] without comparing the final values of the variables named in `ignored`: for
/// variables that TF's own runs do not reproduce, such as a bias before a batch norm trained
/// with Adam, whose gradient is zero up to rounding and whose updates Adam scales to the full
/// rate, so their sign is rounding noise (the losses and every other variable still compare).
pub fn run_spec_ignoring(path: impl AsRef<Path>, form: SpecForm, ignored: &[&str]) -> CaseResult {
    let path = path.as_ref();
    let stem = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    let name = format!("{stem} [{}]", form.key());
    let outcome = evaluate(path, form, ignored).unwrap_or_else(|e| e);
    CaseResult { name, outcome }
}

fn evaluate(path: &Path, form: SpecForm, ignored: &[&str]) -> std::result::Result<Outcome, Outcome> {
    let err = |e: Error| Outcome::Error(e.to_string());
    let file = path.display().to_string();
    let text = crate::io::read_text(path).map_err(err)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| err(Error::format(&file, e.to_string())))?;
    let spec: Spec = serde_json::from_value(doc.clone()).map_err(|e| err(Error::format(&file, e.to_string())))?;
    let graph = import(path, &doc, &spec, form).map_err(err)?;
    run(graph, &spec, ignored).map_err(|e| match e {
        Failure::Error(e) => err(e),
        Failure::Outcome(o) => o,
    })
}

fn import(path: &Path, doc: &Value, spec: &Spec, form: SpecForm) -> Result<Graph> {
    let file = path.display().to_string();
    if form == SpecForm::Json {
        return Graph::from_tf(&TfGraph::from_json_value(doc, &file)?, &file);
    }
    let sibling = spec
        .files
        .get(form.key())
        .ok_or_else(|| Error::format(&file, format!("the spec names no '{}' file", form.key())))?;
    let sibling = path.with_file_name(sibling);
    let name = sibling.display().to_string();
    let bytes = crate::io::read_bytes(&sibling)?;
    match form {
        SpecForm::Meta => Graph::from_tf_meta(&TfMetaGraph::parse(&bytes, &name)?, &name),
        SpecForm::Pbtxt => Graph::from_tf(&crate::io::tf::Decoder::new().graph_in(&bytes, Form::Text, &name)?, &name),
        _ => Graph::from_tf(&crate::io::tf::Decoder::new().graph_in(&bytes, Form::Binary, &name)?, &name),
    }
}

enum Failure {
    Error(Error),
    Outcome(Outcome),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<Outcome> for Failure {
    fn from(o: Outcome) -> Self {
        Failure::Outcome(o)
    }
}

/// A fed value, in the dtype the graph declares for the tensor.
fn feed(g: &Graph, name: &str, value: &Value) -> Result<(Output, Tensor)> {
    let out = g.output(name)?;
    let dtype = g.try_spec(out)?.dtype;
    let t: Tensor = serde_json::from_value(serde_json::json!({"dtype": dtype, "data": value}))
        .map_err(|e| Error::format("run spec", format!("feed '{name}': {e}")))?;
    Ok((out, t))
}

fn run(graph: Graph, spec: &Spec, ignored: &[&str]) -> std::result::Result<Outcome, Failure> {
    let fixed: Vec<(Output, Tensor)> = spec.feeds.iter().map(|(n, v)| feed(&graph, n, v)).collect::<Result<_>>()?;
    let fetch_names: Vec<(&String, &String)> = spec.fetches.iter().collect();
    let fetches: Vec<Output> = fetch_names.iter().map(|(_, t)| graph.output(t)).collect::<Result<_>>()?;
    let init = graph.node_id(&spec.init)?;
    let train = graph.node_id(&spec.train)?;
    let s = Session::new(graph);
    s.run(&[], &[], &[init])?;
    let mut tol = Tolerance::new(1e-4, 1e-6);
    for k in 0..spec.steps {
        let mut feeds = fixed.clone();
        for (name, values) in &spec.feed_per_step {
            let v = values.get(k).ok_or_else(|| Outcome::Error(format!("feed_per_step '{name}' has no step {k}")))?;
            feeds.push(feed(s.graph(), name, v)?);
        }
        let got = s.run(&feeds, &fetches, &[train])?;
        for ((what, _), value) in fetch_names.iter().zip(&got) {
            let Some(want) = spec.expected.get(*what).and_then(|w| w.get(k)).and_then(Value::as_f64) else {
                continue;
            };
            tol.check(|| format!("{what}@{k}"), value.scalar_f64().unwrap_or(f64::NAN), want)?;
        }
    }
    let finals = spec.expected.get("final_variables").and_then(Value::as_object);
    for (name, want) in finals.into_iter().flatten().filter(|(n, _)| !ignored.contains(&n.as_str())) {
        let var = s.graph().output(name)?;
        let got = s.variable_value(var)?.to_f64_vec();
        let want: Vec<f64> = flatten(want);
        if got.len() != want.len() {
            return Err(Outcome::Error(format!("'{name}' has {} values, TF {}", got.len(), want.len())).into());
        }
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            tol.check(|| format!("{name}[{i}]"), *a, *b)?;
        }
    }
    Ok(Outcome::Pass { max_rel_err: tol.max_rel_err })
}

fn flatten(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flatten).collect(),
        other => other.as_f64().into_iter().collect(),
    }
}
