//! Exports graphs to TensorFlow GraphDefs with what stepflow computes on them, so that TensorFlow
//! can run the same graphs and compare (`tests/tf/run_exports.py`).
//!
//! usage: cargo run --release --example export_probe -- OUT_DIR GRAPH...
//! Each graph (any file `stepflow export` takes) gives OUT_DIR/NAME.pb, the export (NAME is the
//! file name with `_` for `.`), and
//! OUT_DIR/NAME.probe.json: the probe's feeds and targets (see `stepflow::conformance::probe`),
//! each variable's initial value (TensorFlow loads these, since its random initializers draw
//! other numbers), and the values stepflow read after the runs. Outputs that depend on a random
//! op are left out, for the same reason.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use stepflow::conformance::probe::Probe;
use stepflow::io::tf::Form;
use stepflow::ops::State;
use stepflow::{Error, Graph, Result, Session, Tensor};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, files)) = args.split_first() else {
        eprintln!("usage: export_probe OUT_DIR GRAPH...");
        std::process::exit(2);
    };
    let out = Path::new(out);
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    for file in files {
        let path = Path::new(file);
        let stem = path.file_name().map_or("graph".into(), |s| s.to_string_lossy().replace('.', "_"));
        let load = || stepflow::fit::load_graph(path);
        let g = load()?;
        g.to_tf()?.write(out.join(format!("{stem}.pb")), Form::Binary)?;
        let mut probe = Probe::new(&g);
        let random = downstream_of_random(&g);
        probe.outputs.retain(|o| !random.contains(o.split(':').next().unwrap_or(o)));
        let initial = initial_values(load()?)?;
        let seen: serde_json::Map<String, Value> = probe
            .run(g)?
            .into_iter()
            .map(|(name, r)| (name, r.map_or_else(|e| json!({ "error": e }), |t| tensor(&t))))
            .collect();
        let feeds: serde_json::Map<String, Value> = probe.feeds.iter().map(|(n, t)| (n.clone(), tensor(t))).collect();
        let doc = json!({ "feeds": feeds, "targets": probe.targets, "steps": stepflow::conformance::probe::STEPS,
                          "initial": initial, "variables": probe.variables, "outputs": probe.outputs,
                          "values": seen });
        let text = serde_json::to_string(&doc).map_err(|e| Error::format(file, e.to_string()))?;
        stepflow::io::write_atomic(&out.join(format!("{stem}.probe.json")), text.as_bytes())?;
        println!("{stem}: {} values", doc["values"].as_object().map_or(0, |m| m.len()));
    }
    Ok(())
}

/// Each variable's value right after initialization.
fn initial_values(g: Graph) -> Result<Value> {
    let vars: Vec<_> = g.variables().iter().map(|v| (g.node(v.node).name().to_string(), v.node)).collect();
    let s = Session::new(g);
    s.initialize()?;
    let mut m = serde_json::Map::new();
    for (name, node) in vars {
        m.insert(name, tensor(&s.variable_value(node.into())?));
    }
    Ok(Value::Object(m))
}

/// The names of nodes whose value depends on a random op.
fn downstream_of_random(g: &Graph) -> HashSet<String> {
    let mut random = HashSet::new();
    for id in g.node_ids() {
        let n = g.node(id);
        let fed_by_random = n.inputs().iter().any(|i| random.contains(g.node(i.node).name()));
        if n.op().state() == State::Random || fed_by_random {
            random.insert(n.name().to_string());
        }
    }
    random
}

fn tensor(t: &Tensor) -> Value {
    json!({ "dtype": t.dtype().to_string(), "shape": t.shape(), "values": t.to_f64_vec() })
}
