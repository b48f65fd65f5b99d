//! What a graph computes, taken in a fixed way so that two builds of one graph can be compared
//! (stepflow's graph against its export to TensorFlow and back, or against TensorFlow running
//! the export): every placeholder fed a fixed value, the variables initialized, the training
//! targets run three times, then every variable and every pure node's output read.
//!
//! ```
//! use stepflow::conformance::probe::Probe;
//! let g = stepflow::Graph::load("graphs/exponential_decay.json")?;
//! let p = Probe::new(&g);
//! assert_eq!(p.targets, ["increment"]);
//! let seen = p.run(g)?;
//! let step = seen.iter().find(|(name, _)| name == "global_step").unwrap();
//! assert_eq!(step.1.as_ref().unwrap().to_f64_vec(), vec![3.0]);
//! # Ok::<(), stepflow::Error>(())
//! ```

use crate::error::Result;
use crate::graph::{Graph, Output};
use crate::session::Session;
use crate::tensor::{DType, Tensor};

/// How many times the targets run.
pub const STEPS: usize = 3;

/// The fixed inputs and the names probed.
#[derive(Clone, Debug)]
pub struct Probe {
    /// A value for every placeholder, by name.
    pub feeds: Vec<(String, Tensor)>,
    /// The nodes a training loop runs: sinks that are neither pure nor initializers.
    pub targets: Vec<String>,
    /// The variables, by name, read after the runs.
    pub variables: Vec<String>,
    /// Every output of every pure node, by tensor name, read one at a time in this order (a pure
    /// node may have control inputs on updates, which its read runs).
    pub outputs: Vec<String>,
}

impl Probe {
    /// The probe of `g`. Placeholders get deterministic values: unknown dimensions are 4,
    /// integers cycle 0, 1, 2 (valid class labels), floats are `sin(0.731·i)`.
    pub fn new(g: &Graph) -> Probe {
        let inits: Vec<_> = g.variables().iter().filter_map(|v| v.initializer).collect();
        let mut p = Probe { feeds: Vec::new(), targets: Vec::new(), variables: Vec::new(), outputs: Vec::new() };
        for id in g.node_ids() {
            let n = g.node(id);
            if n.op().op_type() == "Placeholder" {
                p.feeds.push((n.name().to_string(), fixed_value(n.outputs()[0].dtype, &n.outputs()[0].shape)));
            }
            if n.op().state().is_pure() {
                p.outputs
                    .extend((0..n.outputs().len()).map(|slot| g.output_name(Output { node: id, slot: slot as u32 })));
            } else if g.consumers(id).next().is_none() && !inits.contains(&id) && n.name() != "init" {
                p.targets.push(n.name().to_string());
            }
        }
        p.variables = g.variables().iter().map(|v| g.node(v.node).name().to_string()).collect();
        p
    }

    /// Runs the probe on `g` (which must hold the probed names): each run's outcome, then each
    /// variable and output with its value or error.
    pub fn run(&self, g: Graph) -> Result<Vec<(String, std::result::Result<Tensor, String>)>> {
        let feeds: Vec<(&str, Tensor)> = self.feeds.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        let targets: Vec<&str> = self.targets.iter().map(String::as_str).collect();
        let variables = self.variables.iter().map(|v| g.output(v)).collect::<Result<Vec<_>>>()?;
        let s = Session::new(g);
        s.initialize()?;
        let mut seen = Vec::new();
        for step in 0..STEPS {
            let r = s.run_by_name(&feeds, &[], &targets);
            seen.push((format!("run {step}"), r.map(|_| Tensor::from(true)).map_err(|e| e.to_string())));
        }
        for (name, &v) in self.variables.iter().zip(&variables) {
            seen.push((name.clone(), s.variable_value(v).map_err(|e| e.to_string())));
        }
        for name in &self.outputs {
            let r = s.run_by_name(&feeds, &[name], &[]).map(|mut t| t.remove(0));
            seen.push((name.clone(), r.map_err(|e| e.to_string())));
        }
        Ok(seen)
    }
}

fn fixed_value(dtype: DType, shape: &crate::shape::Shape) -> Tensor {
    let dims: Vec<usize> = match shape.dims() {
        Some(d) => d.iter().map(|d| d.unwrap_or(4)).collect(),
        None => vec![4],
    };
    let n: usize = dims.iter().product();
    let floats = || (0..n).map(|i| ((i as f64) * 0.731).sin());
    let t = match dtype {
        DType::Float32 => Tensor::from_vec(&dims, floats().map(|v| v as f32).collect()),
        DType::Float64 => Tensor::from_vec(&dims, floats().collect()),
        DType::Int32 => Tensor::from_vec(&dims, (0..n).map(|i| (i % 3) as i32).collect()),
        DType::Int64 => Tensor::from_vec(&dims, (0..n).map(|i| (i % 3) as i64).collect()),
        DType::Bool => Tensor::from_vec(&dims, (0..n).map(|i| i % 2 == 0).collect()),
        DType::String => Tensor::strings(&dims, (0..n).map(|i| format!("s{}", i % 3))),
    };
    t.unwrap_or_else(|_| Tensor::zeros(dtype, &dims))
}
