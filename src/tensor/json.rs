//! The JSON form of a tensor: `{"dtype": "float32", "shape": [2], "data": [1.5, 2]}`.
//!
//! `data` may also be a bare scalar or nested lists (then `shape` may be left out and is read off
//! the nesting). Non-finite floats are written as the strings `"nan"`, `"inf"` and `"-inf"`,
//! which JSON numbers cannot express. A string element is a JSON string when it is UTF-8, else
//! `{"hex": "0a1f"}` (a serialized `Summary`, say).

use super::{Bytes, DType, Element, Tensor};
use crate::with_elements;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The largest tensor a file may describe (2^28 elements): a bound on what a malformed or hostile
/// file can make stepflow allocate.
pub const MAX_FILE_ELEMENTS: usize = 1 << 28;

impl Serialize for Tensor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let data: Vec<Value> = with_elements!(self,
            a => a.iter().map(|v| element_to_json(*v)).collect(),
            s => s.iter().map(string_to_json).collect());
        serde_json::json!({"dtype": self.dtype(), "shape": self.shape(), "data": data}).serialize(s)
    }
}

fn string_to_json(b: &Bytes) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::from(s),
        Err(_) => serde_json::json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    }
}

fn string_from_json(v: &Value) -> Option<Bytes> {
    match v {
        Value::String(s) => Some(Bytes::copy_from_slice(s.as_bytes())),
        Value::Object(o) if o.len() == 1 => {
            let hex = o.get("hex")?.as_str()?;
            let digits = hex.as_bytes();
            if digits.len() % 2 != 0 {
                return None;
            }
            let byte = |p: &[u8]| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok();
            digits.chunks(2).map(byte).collect::<Option<Vec<u8>>>().map(Bytes::from)
        }
        _ => None,
    }
}

fn element_to_json<T: Element>(v: T) -> Value {
    match T::DTYPE {
        DType::Bool => Value::Bool(v.to_f64() != 0.0),
        DType::String => Value::Null,
        DType::Int32 | DType::Int64 => Value::from(v.to_f64() as i64),
        DType::Float32 | DType::Float64 => {
            let x = v.to_f64();
            if x.is_nan() {
                Value::from("nan")
            } else if x.is_infinite() {
                Value::from(if x > 0.0 { "inf" } else { "-inf" })
            } else if T::DTYPE == DType::Float32 {
                // The shortest decimal that reads back as the same f32 (0.1, not 0.10000000149).
                serde_json::from_str(&(x as f32).to_string()).unwrap_or(Value::Null)
            } else {
                Value::from(x)
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorForm {
    dtype: DType,
    #[serde(default)]
    shape: Option<Vec<usize>>,
    data: Value,
}

impl<'de> Deserialize<'de> for Tensor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let form = TensorForm::deserialize(d)?;
        tensor_from_form(form).map_err(D::Error::custom)
    }
}

fn tensor_from_form(form: TensorForm) -> Result<Tensor, String> {
    let mut flat = Vec::new();
    let nested = flatten(&form.data, &mut flat, 0)?;
    let shape = match form.shape {
        Some(s) => s,
        None => nested,
    };
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_FILE_ELEMENTS)
        .ok_or_else(|| format!("shape {shape:?} is too large (at most {MAX_FILE_ELEMENTS} elements)"))?;
    if flat.len() != n {
        return Err(format!("shape {shape:?} needs {n} values, data has {}", flat.len()));
    }
    let t = match form.dtype {
        DType::Float32 => Tensor::from_vec(&shape, parse_all(&flat, |v| as_float(v).map(|x| x as f32))?),
        DType::Float64 => Tensor::from_vec(&shape, parse_all(&flat, as_float)?),
        DType::Int32 => Tensor::from_vec(&shape, parse_all(&flat, |v| as_int(v).and_then(|x| i32::try_from(x).ok()))?),
        DType::Int64 => Tensor::from_vec(&shape, parse_all(&flat, as_int)?),
        DType::Bool => Tensor::from_vec(&shape, parse_all(&flat, Value::as_bool)?),
        DType::String => Tensor::from_vec(&shape, parse_all(&flat, string_from_json)?),
    };
    t.map_err(|e| e.to_string())
}

/// Flattens nested lists row-major and returns the shape the nesting implies.
fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>, depth: usize) -> Result<Vec<usize>, String> {
    if depth > 32 {
        return Err("data is nested more than 32 levels deep".into());
    }
    match v {
        Value::Array(items) => {
            let mut inner: Option<Vec<usize>> = None;
            for item in items {
                let s = flatten(item, out, depth + 1)?;
                if inner.as_ref().is_some_and(|i| *i != s) {
                    return Err("data is a ragged nested list".into());
                }
                inner = Some(s);
            }
            let mut shape = vec![items.len()];
            shape.extend(inner.unwrap_or_default());
            Ok(shape)
        }
        other => {
            out.push(other);
            Ok(vec![])
        }
    }
}

fn parse_all<T: super::Item>(flat: &[&Value], f: impl Fn(&Value) -> Option<T>) -> Result<Vec<T>, String> {
    flat.iter()
        .enumerate()
        .map(|(i, v)| f(v).ok_or_else(|| format!("data[{i}] = {v} is not a valid {}", T::DTYPE)))
        .collect()
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "nan" | "NaN" => Some(f64::NAN),
            "inf" | "Infinity" => Some(f64::INFINITY),
            "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64()
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor};

    #[test]
    fn round_trips_every_dtype() {
        let ts = [
            Tensor::from_vec(&[3], vec![0.1f32, f32::NAN, f32::NEG_INFINITY]).unwrap(),
            Tensor::scalar(1e-300f64),
            Tensor::from_vec(&[2, 1], vec![i32::MIN, 7]).unwrap(),
            Tensor::scalar(i64::MAX),
            Tensor::from_vec(&[2], vec![true, false]).unwrap(),
            Tensor::strings(&[2], [&b"loss"[..], &[0x0a, 0xff, 0x22]]).unwrap(),
        ];
        for t in ts {
            let s = serde_json::to_string(&t).unwrap();
            let back: Tensor = serde_json::from_str(&s).unwrap();
            assert!(t.bit_eq(&back), "{s}");
        }
        let s = serde_json::to_string(&Tensor::scalar(0.1f32)).unwrap();
        assert_eq!(s, r#"{"data":[0.1],"dtype":"float32","shape":[]}"#);
        let s = serde_json::to_string(&Tensor::strings(&[2], [&b"a"[..], &[0xff, 0x01]]).unwrap()).unwrap();
        assert_eq!(s, r#"{"data":["a",{"hex":"ff01"}],"dtype":"string","shape":[2]}"#);
    }

    #[test]
    fn reads_nested_and_scalar_data() {
        let t: Tensor = serde_json::from_str(r#"{"dtype": "int64", "data": [[1, 2], [3, 4]]}"#).unwrap();
        assert_eq!(t.shape(), &[2, 2]);
        let s: Tensor = serde_json::from_str(r#"{"dtype": "float32", "data": 0.5}"#).unwrap();
        assert_eq!(s.shape(), &[] as &[usize]);
        assert_eq!(s.dtype(), DType::Float32);
    }

    #[test]
    fn rejects_bad_data_without_allocating() {
        for bad in [
            r#"{"dtype": "float32", "shape": [1000000000, 1000000000], "data": [1]}"#,
            r#"{"dtype": "float32", "shape": [3], "data": [1, 2]}"#,
            r#"{"dtype": "int32", "data": [1.5]}"#,
            r#"{"dtype": "int32", "data": [4294967296]}"#,
            r#"{"dtype": "bool", "data": [[1], [2, 3]]}"#,
            r#"{"dtype": "float16", "data": 1}"#,
            r#"{"dtype": "float32", "data": 1, "extra": 2}"#,
            r#"{"dtype": "string", "data": [{"hex": "abc"}]}"#,
            r#"{"dtype": "string", "data": [1]}"#,
        ] {
            assert!(serde_json::from_str::<Tensor>(bad).is_err(), "{bad}");
        }
    }
}
