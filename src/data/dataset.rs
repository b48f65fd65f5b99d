//! A data set for training: CSV columns mapped to placeholders, a seeded train/validation split,
//! a shuffled order per epoch, and batches as feed values.

use super::Table;
use crate::error::{Error, Result};
use crate::graph::{Graph, Output};
use crate::tensor::{DType, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a placeholder's values are read from the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Several columns (a list of names, or `"first:last"` by header order) as features.
    #[serde(default)]
    pub columns: Option<Columns>,
    /// One column (a label or a single feature).
    #[serde(default)]
    pub column: Option<String>,
    /// How the values are encoded: numbers as they are, integer class labels, or one-hot rows.
    #[serde(default)]
    pub encoding: Encoding,
    /// The number of classes, for `one_hot`.
    #[serde(default)]
    pub classes: Option<usize>,
    /// Multiply every value by this (e.g. 1/16 for pixel counts).
    #[serde(default = "one")]
    pub scale: f64,
    /// Then add this.
    #[serde(default)]
    pub offset: f64,
    /// Standardize each column to mean 0 and standard deviation 1, with the training part's
    /// statistics (applied instead of `scale` and `offset`).
    #[serde(default)]
    pub standardize: bool,
}

fn one() -> f64 {
    1.0
}

/// Columns named one by one or as an inclusive range of the header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    List(Vec<String>),
    Range(String),
}

/// The encoding of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Numbers as they are.
    #[default]
    Number,
    /// Integer class labels (`[batch]`).
    Integer,
    /// One-hot rows (`[batch, classes]`).
    OneHot,
}

/// Where the data comes from and how it is split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// The CSV file (a path relative to the config file).
    pub csv: String,
    /// Placeholder name → how to fill it.
    pub inputs: BTreeMap<String, InputSpec>,
    /// The fraction of rows held out for validation.
    #[serde(default = "fifth")]
    pub validation_fraction: f64,
    /// The seed of the split.
    #[serde(default)]
    pub seed: u64,
}

fn fifth() -> f64 {
    0.2
}

/// One placeholder's values for every row, as row-major f64 with `width` values per row.
struct Column {
    target: Output,
    dtype: DType,
    width: usize,
    /// Whether the placeholder wants `[batch, width]` (else `[batch]`, for width 1).
    matrix: bool,
    values: Vec<f64>,
}

/// A prepared data set: every input's values, and the rows of each part.
pub struct Dataset {
    columns: Vec<Column>,
    /// Rows used for training.
    pub train: Vec<usize>,
    /// Rows held out for validation.
    pub validation: Vec<usize>,
}

impl Dataset {
    /// Reads the inputs of `spec` from `table` for the placeholders of `graph`, and splits the
    /// rows. Errors name the input, the column or the placeholder.
    pub fn new(table: &Table, spec: &DataSpec, graph: &Graph) -> Result<Dataset> {
        let f = &spec.validation_fraction;
        if !(0.0..1.0).contains(f) {
            return Err(Error::argument("data", "validation_fraction", format!("must be in [0, 1), got {f}")));
        }
        let (train, validation) = split(table.rows.len(), *f, spec.seed);
        if train.is_empty() {
            return Err(Error::argument("data", "csv", "has no rows left for training"));
        }
        let columns =
            spec.inputs.iter().map(|(name, input)| column(table, name, input, graph, &train)).collect::<Result<_>>()?;
        Ok(Dataset { columns, train, validation })
    }

    /// The feed values of the given rows.
    pub fn batch(&self, rows: &[usize]) -> Result<Vec<(Output, Tensor)>> {
        self.columns.iter().map(|c| Ok((c.target, c.batch(rows)?))).collect()
    }

    /// The training rows of epoch `epoch` (0-based), shuffled with a seed of their own.
    pub fn epoch_order(&self, epoch: u64, seed: u64, shuffle: bool) -> Vec<usize> {
        let mut order = self.train.clone();
        if shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ epoch));
        }
        order
    }
}

/// A seeded split of `n` rows into training and validation parts.
fn split(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held = ((n as f64) * fraction).round() as usize;
    let validation = order[..held].to_vec();
    (order[held..].to_vec(), validation)
}

fn column_indices(table: &Table, name: &str, input: &InputSpec) -> Result<Vec<usize>> {
    match (&input.columns, &input.column) {
        (Some(Columns::List(names)), None) => names.iter().map(|c| table.column(c)).collect(),
        (Some(Columns::Range(r)), None) => {
            let (a, b) = r
                .split_once(':')
                .ok_or_else(|| Error::argument(name, "columns", format!("'{r}' is not a range 'first:last'")))?;
            let (i, j) = (table.column(a.trim())?, table.column(b.trim())?);
            if i > j {
                return Err(Error::argument(name, "columns", format!("range '{r}' runs backwards")));
            }
            Ok((i..=j).collect())
        }
        (None, Some(c)) => Ok(vec![table.column(c)?]),
        _ => Err(Error::argument(name, "columns", "give either 'columns' or 'column'")),
    }
}

fn column(table: &Table, name: &str, input: &InputSpec, graph: &Graph, train: &[usize]) -> Result<Column> {
    let target = graph.output(name).map_err(|_| Error::argument("data", name, "is not a tensor of the graph"))?;
    let spec = graph.spec(target).clone();
    let idx = column_indices(table, name, input)?;
    let raw: Vec<f64> = table.rows.iter().flat_map(|r| idx.iter().map(move |&i| r[i])).collect();
    let (width, values) = match input.encoding {
        Encoding::Number => (idx.len(), scaled(&raw, idx.len(), input, train)),
        Encoding::Integer | Encoding::OneHot => {
            if idx.len() != 1 {
                return Err(Error::argument(name, "column", "labels come from one column"));
            }
            labels(name, &raw, input)?
        }
    };
    let matrix = spec.shape.rank() != Some(1);
    if !matrix && width != 1 {
        return Err(Error::argument(
            "data",
            name,
            format!("has {width} values per row, but the placeholder is {}", spec.shape),
        ));
    }
    if let Some(dims) = spec.shape.dims()
        && dims.len() == 2
        && dims[1].is_some_and(|d| d != width)
    {
        return Err(Error::argument(
            "data",
            name,
            format!("has {width} values per row, but the placeholder is {}", spec.shape),
        ));
    }
    Ok(Column { target, dtype: spec.dtype, width, matrix, values })
}

fn scaled(raw: &[f64], width: usize, input: &InputSpec, train: &[usize]) -> Vec<f64> {
    if !input.standardize {
        return raw.iter().map(|v| v * input.scale + input.offset).collect();
    }
    let n = train.len().max(1) as f64;
    let stat = |j: usize| {
        let mean = train.iter().map(|&r| raw[r * width + j]).sum::<f64>() / n;
        let var = train.iter().map(|&r| (raw[r * width + j] - mean).powi(2)).sum::<f64>() / n;
        (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
    };
    let stats: Vec<(f64, f64)> = (0..width).map(stat).collect();
    raw.iter().enumerate().map(|(i, v)| (v - stats[i % width].0) / stats[i % width].1).collect()
}

fn labels(name: &str, raw: &[f64], input: &InputSpec) -> Result<(usize, Vec<f64>)> {
    if let Some(v) = raw.iter().find(|v| v.fract() != 0.0 || **v < 0.0) {
        return Err(Error::argument(name, "column", format!("has the label {v}, which is not a class number")));
    }
    if input.encoding == Encoding::Integer {
        return Ok((1, raw.to_vec()));
    }
    let k = input.classes.ok_or_else(|| Error::argument(name, "classes", "one_hot needs the number of classes"))?;
    if let Some(v) = raw.iter().find(|v| **v as usize >= k) {
        return Err(Error::argument(name, "classes", format!("is {k}, but a label is {v}")));
    }
    Ok((k, raw.iter().flat_map(|&v| (0..k).map(move |c| if c == v as usize { 1.0 } else { 0.0 })).collect()))
}

impl Column {
    fn batch(&self, rows: &[usize]) -> Result<Tensor> {
        let w = self.width;
        let picked: Vec<f64> = rows.iter().flat_map(|&r| self.values[r * w..(r + 1) * w].iter().copied()).collect();
        let shape: Vec<usize> = if self.matrix { vec![rows.len(), w] } else { vec![rows.len()] };
        Ok(Tensor::from_vec(&shape, picked)?.cast(self.dtype))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    fn table() -> Table {
        let mut text = String::from("a,b,label\n");
        for i in 0..10 {
            text.push_str(&format!("{i},{},{}\n", 2 * i, i % 3));
        }
        Table::from_csv_text(&text, "t.csv").unwrap()
    }

    fn spec(inputs: &[(&str, InputSpec)]) -> DataSpec {
        let inputs = inputs.iter().map(|(n, s)| (n.to_string(), s.clone())).collect();
        DataSpec { csv: "t.csv".into(), inputs, validation_fraction: 0.2, seed: 5 }
    }

    fn input(json: &str) -> InputSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn splits_are_seeded_disjoint_and_complete() {
        let mut g = Graph::new();
        g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)])).unwrap();
        let s = spec(&[("Placeholder", input(r#"{"columns": "a:b"}"#))]);
        let d = Dataset::new(&table(), &s, &g).unwrap();
        assert_eq!((d.train.len(), d.validation.len()), (8, 2));
        let mut all: Vec<usize> = d.train.iter().chain(&d.validation).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        let again = Dataset::new(&table(), &s, &g).unwrap();
        assert_eq!((&d.train, &d.validation), (&again.train, &again.validation));
        // Each epoch has its own order, the same in every process; without shuffle, the split's.
        let (e0, e1) = (d.epoch_order(0, 5, true), d.epoch_order(1, 5, true));
        assert!(e0 != e1 && e0 == d.epoch_order(0, 5, true));
        assert_eq!(d.epoch_order(3, 5, false), d.train);
    }

    #[test]
    fn batches_encode_and_scale_as_asked() {
        let mut g = Graph::new();
        let x = g.placeholder(DType::Float32, Shape::partial(&[None, Some(2)])).unwrap();
        let y = g.placeholder(DType::Float32, Shape::partial(&[None, Some(3)])).unwrap();
        let k = g.placeholder(DType::Int64, Shape::partial(&[None])).unwrap();
        let names = [g.node(x.node).name(), g.node(y.node).name(), g.node(k.node).name()].map(String::from);
        let s = spec(&[
            (&names[0], input(r#"{"columns": ["a", "b"], "scale": 0.5, "offset": 1}"#)),
            (&names[1], input(r#"{"column": "label", "encoding": "one_hot", "classes": 3}"#)),
            (&names[2], input(r#"{"column": "label", "encoding": "integer"}"#)),
        ]);
        let d = Dataset::new(&table(), &s, &g).unwrap();
        let feeds = d.batch(&[4, 2]).unwrap();
        let get = |o: Output| feeds.iter().find(|(f, _)| *f == o).unwrap().1.clone();
        assert_eq!(get(x).shape(), &[2, 2]);
        assert_eq!(get(x).to_f64_vec(), vec![3.0, 5.0, 2.0, 3.0]);
        assert_eq!(get(y).to_f64_vec(), vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!((get(k).dtype(), get(k).to_f64_vec()), (DType::Int64, vec![1.0, 2.0]));
    }

    #[test]
    fn standardize_uses_the_training_rows_statistics() {
        let mut g = Graph::new();
        g.placeholder(DType::Float64, Shape::partial(&[None, Some(2)])).unwrap();
        let s = spec(&[("Placeholder", input(r#"{"columns": "a:b", "standardize": true}"#))]);
        let d = Dataset::new(&table(), &s, &g).unwrap();
        let v = d.batch(&d.train).unwrap()[0].1.to_f64_vec();
        for j in 0..2 {
            let col: Vec<f64> = v.iter().skip(j).step_by(2).copied().collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12, "column {j}: {mean} {var}");
        }
    }
}
