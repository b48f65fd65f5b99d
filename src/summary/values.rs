//! The `Summary` protos of TF1's summary ops: a scalar (`tf.summary.scalar`) and a histogram
//! (`tf.summary.histogram`).

use super::histogram::Histogram;
use super::proto::Summary;
use super::proto::summary::{Value, value};
use crate::error::{Error, Result};

/// A summary of one scalar, stored as a 32-bit float as TF stores it (`simple_value`).
///
/// ```
/// use stepflow::summary::{proto::summary::value::Value, scalar};
/// let s = scalar("loss", 0.25);
/// assert_eq!(s.value[0].tag, "loss");
/// assert_eq!(s.value[0].value, Some(Value::SimpleValue(0.25)));
/// ```
pub fn scalar(tag: &str, value: f64) -> Summary {
    let v = Value { tag: tag.to_string(), value: Some(value::Value::SimpleValue(value as f32)), ..Value::default() };
    Summary { value: vec![v] }
}

/// A summary of the histogram of `values` with TF's default buckets. A NaN or infinite value is
/// an error naming the tag, as in TF's `HistogramSummary` ("Nan in summary histogram for: ...").
///
/// ```
/// use stepflow::summary::{histogram, proto::summary::value::Value};
/// let s = histogram("w", [1.0, 2.0, 3.0])?;
/// let Some(Value::Histo(h)) = &s.value[0].value else { unreachable!() };
/// assert_eq!((h.num, h.sum, h.min, h.max), (3.0, 6.0, 1.0, 3.0));
/// let e = histogram("w", [1.0, f64::NAN]).unwrap_err();
/// assert!(e.to_string().contains("Nan in summary histogram for: w"));
/// # Ok::<(), stepflow::Error>(())
/// ```
pub fn histogram(tag: &str, values: impl IntoIterator<Item = f64>) -> Result<Summary> {
    let mut h = Histogram::new();
    for v in values {
        if !v.is_finite() {
            let message = format!("holds {v}: Nan in summary histogram for: {tag}");
            return Err(Error::argument("histogram", "values", message));
        }
        h.add(v);
    }
    let v = Value { tag: tag.to_string(), value: Some(value::Value::Histo(h.to_proto())), ..Value::default() };
    Ok(Summary { value: vec![v] })
}
