//! Summary ops: the serialized `Summary` each outputs, decoded with TF's proto and checked
//! against values worked out by hand (TF's own bytes for the same cases are checked in
//! `tests/summary_ops.rs`).

use super::util::*;
use prost::Message;
use stepflow::summary::proto::summary::value::Value as Kind;
use stepflow::summary::proto::{HistogramProto, Summary};
use stepflow::{DType, Graph, Result, Shape, Tensor};

/// A string tensor.
fn strs(shape: &[usize], v: &[&str]) -> Tensor {
    Tensor::strings(shape, v.iter().map(|s| s.as_bytes().to_vec())).unwrap()
}

/// The `Summary` a string scalar holds.
#[track_caller]
fn decode(t: &Tensor) -> Summary {
    assert_eq!((t.dtype(), t.shape()), (DType::String, &[][..]), "{t}");
    Summary::decode(t.scalar_bytes().unwrap().as_ref()).unwrap()
}

/// Each value's tag and simple value.
fn scalars(s: &Summary) -> Vec<(String, f32)> {
    s.value
        .iter()
        .map(|v| match v.value {
            Some(Kind::SimpleValue(x)) => (v.tag.clone(), x),
            ref other => panic!("not a scalar: {other:?}"),
        })
        .collect()
}

fn histo(s: &Summary) -> &HistogramProto {
    match &s.value[0].value {
        Some(Kind::Histo(h)) => h,
        other => panic!("not a histogram: {other:?}"),
    }
}

fn scalar_summary(tags: Tensor, values: Tensor) -> Result<Tensor> {
    eval1(|g| {
        let (t, v) = (feed(g, tags.clone())?, feed(g, values.clone())?);
        g.op("ScalarSummary", stepflow::ops::summary::ScalarSummary {}, &[t, v])
    })
}

fn histogram_summary(tag: &str, values: Tensor) -> Result<Tensor> {
    eval1(|g| {
        let (t, v) = (feed(g, Tensor::from(tag))?, feed(g, values.clone())?);
        g.op("HistogramSummary", stepflow::ops::summary::HistogramSummary {}, &[t, v])
    })
}

/// One value per element, tag beside value in row-major order, each a 32-bit float: 2^40 + 1
/// rounds to 2^40, 0.1 (f64) to the f32 nearest it.
pub fn scalar() {
    let s =
        decode(&scalar_summary(strs(&[2, 2], &["a", "b", "c", "d"]), f32s(&[2, 2], &[1.5, -2.0, 0.0, 3.25])).unwrap());
    let want = [("a", 1.5), ("b", -2.0), ("c", 0.0), ("d", 3.25)].map(|(t, v)| (t.to_string(), v));
    assert_eq!(scalars(&s), want);
    let s = decode(&scalar_summary(Tensor::from("loss"), Tensor::scalar((1i64 << 40) + 1)).unwrap());
    assert_eq!(scalars(&s), [("loss".to_string(), 1099511627776.0)]);
    let s = decode(&scalar_summary(Tensor::from("x"), Tensor::scalar(0.1f64)).unwrap());
    assert_eq!(scalars(&s)[0].1.to_bits(), 0.1f32.to_bits());
    let e = scalar_summary(strs(&[2], &["a", "b"]), f32s(&[3], &[1.0, 2.0, 3.0])).unwrap_err().to_string();
    assert!(e.contains("tags and values are not the same shape"), "{e}");
    let e = scalar_summary(strs(&[1], &["a"]), Tensor::scalar(true)).unwrap_err().to_string();
    assert!(e.contains("input 1 must be"), "{e}");
}

/// Count, sum, sum of squares, extremes and the buckets of 1, 2, 2 and 3: each value lies in the
/// first bucket whose limit is above it, so 2 counts twice and three buckets are kept.
pub fn histogram() {
    let s = decode(&histogram_summary("w", i32s(&[2, 2], &[2, 1, 3, 2])).unwrap());
    assert_eq!(s.value[0].tag, "w");
    let h = histo(&s);
    assert_eq!((h.num, h.sum, h.sum_squares, h.min, h.max), (4.0, 8.0, 18.0, 1.0, 3.0));
    let kept: Vec<(f64, f64)> =
        h.bucket_limit.iter().zip(&h.bucket).map(|(&l, &c)| (l, c)).filter(|b| b.1 > 0.0).collect();
    assert_eq!(kept.iter().map(|b| b.1).collect::<Vec<_>>(), [1.0, 2.0, 1.0]);
    for ((limit, _), v) in kept.iter().zip([1.0, 2.0, 3.0]) {
        // 1.1 apart: the bucket just past v.
        assert!(*limit > v && *limit <= v * 1.1, "{limit} for {v}");
    }
    // No values: TF's empty histogram (extremes at the ends of the doubles, one bucket).
    let h = histo(&decode(&histogram_summary("e", f32s(&[0], &[])).unwrap())).clone();
    assert_eq!((h.num, h.min, h.max, h.bucket_limit, h.bucket), (0.0, f64::MAX, -f64::MAX, vec![f64::MAX], vec![0.0]));
    let e = histogram_summary("w", f64s(&[2], &[1.0, f64::NAN])).unwrap_err().to_string();
    assert!(e.contains("Nan in summary histogram for: w"), "{e}");
    let e = histogram_summary("w", f32s(&[2], &[f32::NEG_INFINITY, 1.0])).unwrap_err().to_string();
    assert!(e.contains("Infinity in Histogram for: w"), "{e}");
    let e = eval1(|g| {
        let (t, v) = (feed(g, strs(&[2], &["a", "b"]))?, feed(g, f32s(&[1], &[1.0]))?);
        g.op("HistogramSummary", stepflow::ops::summary::HistogramSummary {}, &[t, v])
    });
    assert!(e.unwrap_err().to_string().contains("tags must be scalar"));
}

/// The summaries' values in input order (inputs of any shape), a repeated tag an error, an empty
/// tag never one, bytes that are no `Summary` an error.
pub fn merge() {
    let merge = |inputs: Vec<Tensor>| {
        eval1(|g| {
            let fed = inputs.iter().map(|t| feed(g, t.clone())).collect::<Result<Vec<_>>>()?;
            g.op("MergeSummary", stepflow::ops::summary::MergeSummary {}, &fed)
        })
    };
    let one = |tag: &str, v: f32| stepflow::summary::scalar(tag, v as f64).encode_to_vec();
    let pair = Tensor::strings(&[2], [one("a", 1.0), one("b", 2.0)]).unwrap();
    let c = Tensor::scalar(stepflow::tensor::Bytes::from(one("c", -1.0)));
    let s = decode(&merge(vec![c.clone(), pair.clone()]).unwrap());
    let want = [("c", -1.0), ("a", 1.0), ("b", 2.0)].map(|(t, v)| (t.to_string(), v));
    assert_eq!(scalars(&s), want);
    let e = merge(vec![pair.clone(), pair]).unwrap_err().to_string();
    assert!(e.contains("Duplicate tag a found in summary inputs"), "{e}");
    let untagged = Tensor::scalar(stepflow::tensor::Bytes::from(one("", 1.0)));
    assert_eq!(decode(&merge(vec![untagged.clone(), untagged]).unwrap()).value.len(), 2);
    assert_eq!(decode(&merge(vec![strs(&[2], &["", ""])]).unwrap()).value.len(), 0);
    let e = merge(vec![c, strs(&[], &["\u{8}garbage"])]).unwrap_err().to_string();
    assert!(e.contains("Could not parse one of the summary inputs"), "{e}");
}

/// The TF1 builders: the summary op takes the unique scope name, which is also its tag, and goes
/// into the `summaries` collection that `merge_all_summaries` merges.
pub fn builders() {
    let mut g = Graph::new();
    assert!(g.merge_all_summaries().unwrap().is_none());
    let x = g.placeholder(DType::Float32, Shape::partial(&[None])).unwrap();
    let loss = g.reduce_mean(x, None, false).unwrap();
    let loss = g.named("loss", |g| g.identity(loss)).unwrap();
    let s = g.scalar_summary("loss", loss).unwrap();
    let h = g.histogram_summary("x", x).unwrap();
    assert_eq!([g.node(s.node).name(), g.node(h.node).name()], ["loss_1", "x"]);
    assert_eq!(g.node(g.node(s.node).inputs()[0].node).name(), "loss_1/tags");
    assert_eq!(g.collection(stepflow::graph::SUMMARIES), &[s.node, h.node]);
    let merged = g.merge_all_summaries().unwrap().unwrap();
    assert_eq!(g.node(merged.node).name(), "Merge/MergeSummary");
    let out = session(g).run(&[(x, f32s(&[2], &[1.0, 2.0]))], &[merged], &[]).unwrap();
    let s = decode(&out[0]);
    assert_eq!(scalars(&Summary { value: s.value[..1].to_vec() }), [("loss_1".to_string(), 1.5)]);
    let h = Summary { value: s.value[1..].to_vec() };
    assert_eq!((h.value[0].tag.as_str(), histo(&h).num), ("x", 2.0));
}
