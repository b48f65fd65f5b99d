//! TF1's summary ops (`tensorflow/core/kernels/summary_op.cc`): ScalarSummary, HistogramSummary
//! and MergeSummary, whose string scalar holds a serialized `Summary` proto that
//! [`FileWriter::add_summary`](crate::summary::FileWriter::add_summary) writes. Primitives: they
//! make protos, which no composite of numeric ops can.

use super::{InferCx, Kernel, NUMBERS, Op, Outputs, TensorSpec, one, op, single};
use crate::error::{OpError, OpResult, Result};
use crate::grad::GradCx;
use crate::graph::{Graph, Output, SUMMARIES};
use crate::shape::Shape;
use crate::summary::Histogram;
use crate::summary::proto::Summary;
use crate::summary::proto::summary::{Value, value};
use crate::tensor::{Bytes, DType, Tensor};
use prost::Message;
use std::collections::HashSet;

op! {
    /// `ScalarSummary(tags, values)`: a `Summary` with one `simple_value` (the value as a 32-bit
    /// float) per element, tagged by the element of `tags` at the same place; `tags` and `values`
    /// have one shape.
    ScalarSummary derive(Copy, Default) {}
}

op! {
    /// `HistogramSummary(tag, values)`: a `Summary` with the histogram of every element of
    /// `values` in TF's buckets under the scalar `tag`; a NaN or infinite value fails the run.
    HistogramSummary derive(Copy, Default) {}
}

op! {
    /// `MergeSummary(inputs...)`: the values of every `Summary` in the inputs (string tensors of
    /// any shape), in order, as one `Summary`; a tag found twice fails the run.
    MergeSummary derive(Copy, Default) {}
}

/// A string scalar of the serialized `summary`.
fn summary_tensor(summary: &Summary) -> Tensor {
    Tensor::scalar(Bytes::from(summary.encode_to_vec()))
}

/// A tag as the proto holds it: text.
fn tag_text(tag: &Bytes) -> OpResult<String> {
    String::from_utf8(tag.to_vec()).map_err(|_| crate::invalid!("tag {:?} is not UTF-8 text", tag.escape_ascii()))
}

/// The values as the 32-bit floats `simple_value` holds, each converted once from its own type.
fn as_f32(t: &Tensor) -> OpResult<Vec<f32>> {
    Ok(match t {
        Tensor::F32(a) => a.iter().copied().collect(),
        Tensor::F64(a) => a.iter().map(|&v| v as f32).collect(),
        Tensor::I32(a) => a.iter().map(|&v| v as f32).collect(),
        Tensor::I64(a) => a.iter().map(|&v| v as f32).collect(),
        other => return Err(crate::invalid!("summary values must be numbers, got {}", other.dtype())),
    })
}

impl Op for ScalarSummary {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(0, &[DType::String])?;
        cx.dtype_in(1, NUMBERS)?;
        let (tags, values) = (&cx.input(0).shape, &cx.input(1).shape);
        if let (Some(t), Some(v)) = (tags.to_known(), values.to_known())
            && t != v
        {
            return Err(crate::invalid!("tags and values are not the same shape: {tags} != {values}"));
        }
        single(DType::String, Shape::scalar())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (tags, values) = (k.array::<Bytes>(0)?, k.input(1)?);
        if tags.shape() != values.shape() {
            let (t, v) = (tags.shape(), values.shape());
            return Err(crate::invalid!("tags and values are not the same shape: {t:?} != {v:?}"));
        }
        let value = tags
            .iter()
            .zip(as_f32(values)?)
            .map(|(tag, v)| {
                let simple = Some(value::Value::SimpleValue(v));
                Ok(Value { tag: tag_text(tag)?, value: simple, ..Value::default() })
            })
            .collect::<OpResult<_>>()?;
        one(summary_tensor(&Summary { value }))
    }
    // not differentiable (TF: NotDifferentiable)
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None])
    }
}

/// The histogram of `values` as doubles, or TF's error naming `tag` at the first NaN or
/// infinity.
fn histogram_of(values: impl Iterator<Item = f64>, tag: &str) -> OpResult<Histogram> {
    let mut h = Histogram::new();
    for v in values {
        if v.is_nan() {
            return Err(crate::invalid!("Nan in summary histogram for: {tag}"));
        }
        if v.is_infinite() {
            return Err(crate::invalid!("Infinity in Histogram for: {tag}"));
        }
        h.add(v);
    }
    Ok(h)
}

impl Op for HistogramSummary {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        cx.arity(2)?;
        cx.dtype_in(0, &[DType::String])?;
        cx.dtype_in(1, NUMBERS)?;
        if cx.input(0).shape.rank().is_some_and(|r| r != 0) {
            return Err(crate::invalid!("tags must be scalar, got shape {}", cx.input(0).shape));
        }
        single(DType::String, Shape::scalar())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let (tag, values) = (k.array::<Bytes>(0)?, k.input(1)?);
        let tag = match tag.iter().next() {
            Some(t) if tag.ndim() == 0 => tag_text(t)?,
            _ => return Err(crate::invalid!("tags must be scalar, got shape {:?}", tag.shape())),
        };
        let h = match values {
            Tensor::F32(a) => histogram_of(a.iter().map(|&v| v as f64), &tag)?,
            Tensor::F64(a) => histogram_of(a.iter().copied(), &tag)?,
            Tensor::I32(a) => histogram_of(a.iter().map(|&v| v as f64), &tag)?,
            Tensor::I64(a) => histogram_of(a.iter().map(|&v| v as f64), &tag)?,
            other => return Err(crate::invalid!("summary values must be numbers, got {}", other.dtype())),
        };
        let histo = Some(value::Value::Histo(h.to_proto()));
        one(summary_tensor(&Summary { value: vec![Value { tag, value: histo, ..Value::default() }] }))
    }
    // not differentiable (TF: NotDifferentiable)
    fn grad(&self, _gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None, None])
    }
    fn cost(&self, inputs: &[TensorSpec], _: &[TensorSpec]) -> usize {
        inputs[1].shape.known_elements()
    }
}

impl Op for MergeSummary {
    fn infer(&self, cx: &InferCx) -> OpResult<Vec<TensorSpec>> {
        if cx.is_empty() {
            return Err(OpError::Arity { expected: "at least 1".into(), got: 0 });
        }
        for i in 0..cx.len() {
            cx.dtype_in(i, &[DType::String])?;
        }
        single(DType::String, Shape::scalar())
    }
    fn compute(&self, k: &mut Kernel) -> OpResult<Outputs> {
        let mut merged = Summary::default();
        let mut tags = HashSet::new();
        for i in 0..k.num_inputs() {
            for bytes in k.array::<Bytes>(i)? {
                let summary = Summary::decode(bytes.as_ref())
                    .map_err(|_| crate::invalid!("Could not parse one of the summary inputs"))?;
                for v in summary.value {
                    // Summaries of the newer, metadata-keyed kind have no tag.
                    if !v.tag.is_empty() && !tags.insert(v.tag.clone()) {
                        return Err(crate::invalid!("Duplicate tag {} found in summary inputs", v.tag));
                    }
                    merged.value.push(v);
                }
            }
        }
        one(summary_tensor(&merged))
    }
    // not differentiable (TF: NotDifferentiable)
    fn grad(&self, gx: &mut GradCx) -> Result<Vec<Option<Output>>> {
        Ok(vec![None; gx.g.node(gx.output(0).node).inputs().len()])
    }
}

impl Graph {
    /// A summary op under the unique name scope `name`, whose node takes the scope's name and
    /// whose tag is that name, as TF1's summary functions make them; added to [`SUMMARIES`].
    fn summary_op(&mut self, name: &str, tag_node: &str, op: impl Op, values: Output) -> Result<Output> {
        let out = self.named_unique(name, |g| {
            let tag = g.scopes.last().cloned().unwrap_or_default();
            let tag = g.op(tag_node, super::state::Const { value: Tensor::from(tag.as_str()) }, &[])?;
            g.op(name, op, &[tag, values])
        })?;
        self.add_to_collection(SUMMARIES, out.node)?;
        Ok(out)
    }

    /// `tf.compat.v1.summary.scalar(name, value)`: a [`ScalarSummary`] of the scalar `value`
    /// tagged with the node's name (`name`, made unique), added to the [`SUMMARIES`] collection.
    /// [`merge_all_summaries`](Graph::merge_all_summaries) shows the TF1 pattern end to end.
    pub fn scalar_summary(&mut self, name: &str, value: Output) -> Result<Output> {
        self.summary_op(name, "tags", ScalarSummary {}, value)
    }

    /// `tf.compat.v1.summary.histogram(name, values)`: a [`HistogramSummary`] of every element
    /// of `values` tagged with the node's name (`name`, made unique), added to the [`SUMMARIES`]
    /// collection.
    pub fn histogram_summary(&mut self, name: &str, values: Output) -> Result<Output> {
        self.summary_op(name, "tag", HistogramSummary {}, values)
    }

    /// `tf.compat.v1.summary.merge(inputs)`: a [`MergeSummary`] of serialized summaries.
    pub fn merge_summary(&mut self, inputs: &[Output]) -> Result<Output> {
        self.with_name_scope("Merge", |g| g.op("MergeSummary", MergeSummary {}, inputs))
    }

    /// `tf.compat.v1.summary.merge_all()`: a [`MergeSummary`] of every summary in the
    /// [`SUMMARIES`] collection, or `None` when it is empty. The TF1 pattern
    /// `writer.add_summary(sess.run(merged), step)`:
    ///
    /// ```
    /// use stepflow::summary::{FileWriter, proto::{event::What, summary::value::Value}, read_events};
    /// use stepflow::{DType, Graph, Session, Shape, Tensor};
    /// let mut g = Graph::new();
    /// let x = g.placeholder(DType::Float32, Shape::partial(&[None]))?;
    /// let loss = g.reduce_mean(x, None, false)?;
    /// g.scalar_summary("loss", loss)?;
    /// g.histogram_summary("x", x)?;
    /// let merged = g.merge_all_summaries()?.expect("two summaries");
    /// let session = Session::new(g);
    /// let dir = std::env::temp_dir().join(format!("stepflow-merge-doc-{}", std::process::id()));
    /// let mut writer = FileWriter::new(&dir)?;
    /// for step in 1..=2 {
    ///     let feed = Tensor::from_vec(&[2], vec![1.0f32, step as f32])?;
    ///     let out = session.run(&[(x, feed)], &[merged], &[])?;
    ///     writer.add_summary_tensor(&out[0], step as i64)?;
    /// }
    /// writer.flush()?;
    /// let events = read_events(writer.path())?;
    /// let Some(What::Summary(last)) = &events[2].what else { unreachable!() };
    /// assert_eq!((events[2].step, last.value[0].tag.as_str(), last.value[1].tag.as_str()), (2, "loss", "x"));
    /// assert_eq!(last.value[0].value, Some(Value::SimpleValue(1.5)));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn merge_all_summaries(&mut self) -> Result<Option<Output>> {
        let inputs: Vec<Output> = self.collection(SUMMARIES).iter().map(|&n| n.into()).collect();
        if inputs.is_empty() {
            return Ok(None);
        }
        self.merge_summary(&inputs).map(Some)
    }
}
