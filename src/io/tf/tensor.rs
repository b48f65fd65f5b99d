//! TensorProto and TensorShapeProto to and from stepflow's tensors and shapes, with
//! TensorFlow's rules: `tensor_content` holds exactly the elements as little-endian bytes;
//! otherwise the dtype's typed field is read, and when it holds fewer values than the shape, the
//! last one repeats (none at all means zeros; extra values are ignored, as TF's runtime does).
//! Strings are always in `string_val`.

use super::proto as pb;
use super::types::{OtherTensor, TfTensor, TfType};
use crate::shape::{MAX_ELEMENTS, Shape};
use crate::tensor::{Bytes, DType, Element, Tensor};
use prost::Message;

/// The most dimensions a TensorFlow shape may have.
pub const MAX_RANK: usize = 254;

/// What a problem inside one attribute says; the caller adds the node and attribute names.
pub(super) type Problem = String;

/// A tensor from its proto; no tensor larger than `max_elements` is ever allocated.
pub(super) fn from_proto(mut p: pb::TensorProto, max_elements: usize) -> Result<TfTensor, Problem> {
    let shape = tensor_dims(p.tensor_shape.as_ref())?;
    let n = element_count(&shape, max_elements)?;
    let dtype = tf_type(p.dtype);
    let Some(d) = dtype.dtype() else {
        let encoded = p.encode_to_vec();
        return Ok(TfTensor::Other(OtherTensor { dtype, shape, encoded }));
    };
    let content = std::mem::take(&mut p.tensor_content);
    let tensor = match d {
        DType::Float32 => build(&shape, n, &content, std::mem::take(&mut p.float_val)),
        DType::Float64 => build(&shape, n, &content, std::mem::take(&mut p.double_val)),
        DType::Int32 => build(&shape, n, &content, std::mem::take(&mut p.int_val)),
        DType::Int64 => build(&shape, n, &content, std::mem::take(&mut p.int64_val)),
        DType::Bool => build(&shape, n, &content, std::mem::take(&mut p.bool_val)),
        DType::String => {
            let strings = std::mem::take(&mut p.string_val).into_iter().take(n).map(Bytes::from).collect();
            let values = if n == 0 { Vec::new() } else { fill_with(strings, n, Bytes::new()) };
            Tensor::from_vec(&shape, values).map_err(|e| e.to_string())
        }
    }?;
    Ok(TfTensor::Value(tensor))
}

/// The proto of a tensor: one typed value when every element is the same (TF fills the shape
/// with it), otherwise `tensor_content`, as `tf.make_tensor_proto` writes arrays.
pub(super) fn to_proto(t: &TfTensor) -> Result<pb::TensorProto, Problem> {
    let t = match t {
        TfTensor::Other(o) => return pb::TensorProto::decode(o.encoded.as_slice()).map_err(|e| e.to_string()),
        TfTensor::Value(t) => t,
    };
    let mut p = pb::TensorProto {
        dtype: type_code(&TfType::Known(t.dtype()))?,
        tensor_shape: Some(dims_to_proto(t.shape())),
        ..Default::default()
    };
    match t {
        Tensor::F32(a) => p.float_val = put(a.iter().copied(), &mut p.tensor_content),
        Tensor::F64(a) => p.double_val = put(a.iter().copied(), &mut p.tensor_content),
        Tensor::I32(a) => p.int_val = put(a.iter().copied(), &mut p.tensor_content),
        Tensor::I64(a) => p.int64_val = put(a.iter().copied(), &mut p.tensor_content),
        Tensor::Bool(a) => p.bool_val = put(a.iter().copied(), &mut p.tensor_content),
        Tensor::String(a) => p.string_val = a.iter().map(|b| b.to_vec()).collect(),
    }
    Ok(p)
}

/// A shape attribute: unknown rank, or dimensions where -1 is unknown.
pub(super) fn shape_from_proto(p: &pb::TensorShapeProto) -> Result<Shape, Problem> {
    if p.unknown_rank {
        if !p.dim.is_empty() {
            return Err("a shape of unknown rank lists dimensions".into());
        }
        return Ok(Shape::unknown());
    }
    check_rank(p.dim.len())?;
    let dims = p.dim.iter().map(|d| match d.size {
        -1 => Ok(None),
        s => usize::try_from(s).map(Some).map_err(|_| format!("dimension {s} is neither a size nor -1 (unknown)")),
    });
    Ok(Shape::partial(&dims.collect::<Result<Vec<_>, _>>()?))
}

/// The proto of a shape attribute.
pub(super) fn shape_to_proto(s: &Shape) -> pb::TensorShapeProto {
    match s.dims() {
        None => pb::TensorShapeProto { unknown_rank: true, ..Default::default() },
        Some(dims) => pb::TensorShapeProto {
            dim: dims.iter().map(|d| dim(d.map_or(-1, |d| d as i64))).collect(),
            unknown_rank: false,
        },
    }
}

/// TensorFlow's type code to a [`TfType`].
pub(super) fn tf_type(code: i32) -> TfType {
    match pb::DataType::try_from(code) {
        Ok(pb::DataType::DtFloat) => TfType::Known(DType::Float32),
        Ok(pb::DataType::DtDouble) => TfType::Known(DType::Float64),
        Ok(pb::DataType::DtInt32) => TfType::Known(DType::Int32),
        Ok(pb::DataType::DtInt64) => TfType::Known(DType::Int64),
        Ok(pb::DataType::DtBool) => TfType::Known(DType::Bool),
        Ok(pb::DataType::DtString) => TfType::Known(DType::String),
        Ok(other) => TfType::Other(other.as_str_name().to_string()),
        Err(_) => TfType::Other(code.to_string()),
    }
}

/// A [`TfType`] to TensorFlow's type code.
pub(super) fn type_code(t: &TfType) -> Result<i32, Problem> {
    let name = t.name();
    pb::DataType::from_str_name(name)
        .map(|d| d as i32)
        .or_else(|| name.parse().ok())
        .ok_or_else(|| format!("'{name}' is not a TensorFlow dtype"))
}

fn tensor_dims(p: Option<&pb::TensorShapeProto>) -> Result<Vec<usize>, Problem> {
    let Some(p) = p else { return Ok(Vec::new()) };
    if p.unknown_rank {
        return Err("a tensor's shape must be fully known, got unknown rank".into());
    }
    check_rank(p.dim.len())?;
    p.dim
        .iter()
        .map(|d| usize::try_from(d.size).map_err(|_| format!("a tensor's dimension must be a size, got {}", d.size)))
        .collect()
}

fn element_count(dims: &[usize], max_elements: usize) -> Result<usize, Problem> {
    let limit = max_elements.min(MAX_ELEMENTS);
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= limit)
        .ok_or_else(|| format!("a tensor of shape {dims:?} is too large (at most {limit} elements)"))
}

fn check_rank(rank: usize) -> Result<(), Problem> {
    if rank > MAX_RANK {
        return Err(format!("rank {rank} is more than the {MAX_RANK} TensorFlow allows"));
    }
    Ok(())
}

fn dim(size: i64) -> pb::tensor_shape_proto::Dim {
    pb::tensor_shape_proto::Dim { size, name: String::new() }
}

fn dims_to_proto(dims: &[usize]) -> pb::TensorShapeProto {
    pb::TensorShapeProto { dim: dims.iter().map(|&d| dim(d as i64)).collect(), unknown_rank: false }
}

fn build<T: Wire>(shape: &[usize], n: usize, content: &[u8], typed: Vec<T>) -> Result<Tensor, Problem> {
    let values = if n == 0 {
        Vec::new() // TF reads no values at all for an empty tensor
    } else if !content.is_empty() {
        if content.len() != n * T::SIZE {
            let (got, need) = (content.len(), n * T::SIZE);
            return Err(format!("tensor_content holds {got} bytes; {n} {} elements need {need}", T::DTYPE));
        }
        content.chunks_exact(T::SIZE).map(T::from_le).collect()
    } else {
        fill(typed, n)
    };
    Tensor::from_vec(shape, values).map_err(|e| e.to_string())
}

/// TF's fill rule: the last value repeats to `n` values; none at all gives zeros.
fn fill<T: Copy + Default>(values: Vec<T>, n: usize) -> Vec<T> {
    fill_with(values, n, T::default())
}

/// The fill rule with `empty` standing for "no values at all".
fn fill_with<T: Clone>(mut values: Vec<T>, n: usize, empty: T) -> Vec<T> {
    let last = values.last().cloned().unwrap_or(empty);
    values.truncate(n);
    values.resize(n, last);
    values
}

/// Writes the elements as one typed value when they are all the same, else as raw bytes.
fn put<T: Wire>(mut elements: impl ExactSizeIterator<Item = T> + Clone, content: &mut Vec<u8>) -> Vec<T> {
    let Some(first) = elements.clone().next() else { return Vec::new() };
    if elements.clone().all(|e| e.same_bits(first)) {
        return vec![first];
    }
    content.reserve(elements.len() * T::SIZE);
    elements.by_ref().for_each(|e| e.put_le(content));
    Vec::new()
}

/// An element type with TensorFlow's little-endian encoding.
trait Wire: Element {
    const SIZE: usize;
    fn from_le(bytes: &[u8]) -> Self;
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! wire {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(bytes: &[u8]) -> Self {
                bytes.try_into().map(<$t>::from_le_bytes).unwrap_or_default()
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
wire!(f32, f64, i32, i64);

impl Wire for bool {
    const SIZE: usize = 1;
    fn from_le(bytes: &[u8]) -> Self {
        bytes.first().is_some_and(|&b| b != 0)
    }
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(dtype: pb::DataType, dims: &[i64]) -> pb::TensorProto {
        pb::TensorProto {
            dtype: dtype as i32,
            tensor_shape: Some(pb::TensorShapeProto {
                dim: dims.iter().map(|&d| dim(d)).collect(),
                unknown_rank: false,
            }),
            ..Default::default()
        }
    }

    fn value(p: pb::TensorProto) -> Tensor {
        match from_proto(p, MAX_ELEMENTS) {
            Ok(TfTensor::Value(t)) => t,
            other => panic!("expected a stepflow tensor, got {other:?}"),
        }
    }

    #[test]
    fn typed_values_fill_the_shape_with_the_last() {
        let mut p = proto(pb::DataType::DtFloat, &[2, 3]);
        p.float_val = vec![1.0, 2.0];
        assert_eq!(value(p).to_f64_vec(), vec![1.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        let p = proto(pb::DataType::DtInt64, &[3]);
        assert_eq!(value(p).to_f64_vec(), vec![0.0; 3]);
        let mut p = proto(pb::DataType::DtInt32, &[2]);
        p.int_val = vec![7, 8, 9];
        assert_eq!(value(p).to_i64_vec().unwrap(), vec![7, 8]);
    }

    #[test]
    fn content_is_little_endian_and_exact() {
        let mut p = proto(pb::DataType::DtInt32, &[2]);
        p.tensor_content = vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(value(p.clone()).to_i64_vec().unwrap(), vec![1, -1]);
        p.tensor_content.pop();
        let e = from_proto(p, MAX_ELEMENTS).unwrap_err();
        assert_eq!(e, "tensor_content holds 7 bytes; 2 int32 elements need 8");
    }

    #[test]
    fn huge_shapes_fail_before_allocating() {
        let mut p = proto(pb::DataType::DtDouble, &[1 << 20, 1 << 20]);
        p.double_val = vec![1.0];
        assert!(from_proto(p.clone(), usize::MAX).unwrap_err().contains("too large"));
        p.tensor_shape = Some(pb::TensorShapeProto { dim: vec![dim(-1)], unknown_rank: false });
        assert!(from_proto(p, usize::MAX).unwrap_err().contains("must be a size"));
    }

    #[test]
    fn encoding_writes_one_value_for_a_uniform_tensor() {
        let t = TfTensor::Value(Tensor::from_vec(&[2, 2], vec![3.0f32; 4]).unwrap());
        let p = to_proto(&t).unwrap();
        assert_eq!((p.float_val.as_slice(), p.tensor_content.len()), (&[3.0f32][..], 0));
        let t = TfTensor::Value(Tensor::from_vec(&[3], vec![true, false, true]).unwrap());
        let p = to_proto(&t).unwrap();
        assert_eq!(p.tensor_content, vec![1, 0, 1]);
        assert_eq!(from_proto(p, 10).unwrap(), t);
    }

    #[test]
    fn types_keep_tensorflow_names() {
        assert_eq!(tf_type(20), TfType::Other("DT_RESOURCE".into()));
        assert_eq!(tf_type(1), TfType::Known(DType::Float32));
        assert_eq!(tf_type(999), TfType::Other("999".into()));
        for code in [1, 7, 19, 101, 999] {
            assert_eq!(type_code(&tf_type(code)), Ok(code));
        }
        assert!(type_code(&TfType::Other("DT_NOPE".into())).is_err());
    }
}
