//! [`Tensor`]: a typed n-dimensional value (f32, f64, i32, i64, bool or byte strings), and its
//! [`DType`].
//!
//! A tensor is a value, never a handle into a graph (that is [`Output`](crate::Output)). Its data
//! is reference counted, so cloning one is cheap and a kernel that holds the only reference may
//! write in place.

pub(crate) mod buffers;
mod element;
mod format;
mod json;
mod strings;

pub use bytes::Bytes;
pub use element::{ArcArrayD, Element, Item, Number, Real};

use crate::error::OpResult;
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The element type of a tensor, named as in TensorFlow's Python API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum DType {
    /// 32-bit float (TF `DT_FLOAT`).
    #[serde(rename = "float32")]
    Float32,
    /// 64-bit float (TF `DT_DOUBLE`).
    #[serde(rename = "float64")]
    Float64,
    /// 32-bit signed integer (TF `DT_INT32`).
    #[serde(rename = "int32")]
    Int32,
    /// 64-bit signed integer (TF `DT_INT64`).
    #[serde(rename = "int64")]
    Int64,
    /// Boolean (TF `DT_BOOL`).
    #[serde(rename = "bool")]
    Bool,
    /// Byte string (TF `DT_STRING`): what summary ops output.
    #[serde(rename = "string")]
    String,
}

impl DType {
    /// Every dtype, in a fixed order.
    pub const ALL: [DType; 6] =
        [DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool, DType::String];

    /// Whether this is f32 or f64.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// Whether this is i32 or i64.
    pub fn is_int(self) -> bool {
        matches!(self, DType::Int32 | DType::Int64)
    }

    /// Whether this dtype supports arithmetic (every dtype but bool and string).
    pub fn is_number(self) -> bool {
        !matches!(self, DType::Bool | DType::String)
    }

    /// The name used in graph files and messages (`float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Bool => "bool",
            DType::String => "string",
        }
    }

    /// Size in bytes of one element (of a string: its handle, without the bytes it holds).
    pub fn size_of(self) -> usize {
        match self {
            DType::Float32 | DType::Int32 => 4,
            DType::Float64 | DType::Int64 => 8,
            DType::Bool => 1,
            DType::String => std::mem::size_of::<Bytes>(),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown dtype '{s}' (expected float32, float64, int32, int64, bool or string)"))
    }
}

/// A typed n-dimensional value.
///
/// ```
/// use stepflow::{DType, Tensor};
/// let t = Tensor::from_vec(&[2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(t.dtype(), DType::Float32);
/// assert_eq!(t.shape(), &[2, 2]);
/// assert_eq!(t.to_string(), "[[1, 2], [3, 4]]");
/// assert_eq!(Tensor::scalar(0.5f64).to_f64_vec(), vec![0.5]);
/// ```
#[derive(Clone, Debug)]
pub enum Tensor {
    F32(ArcArrayD<f32>),
    F64(ArcArrayD<f64>),
    I32(ArcArrayD<i32>),
    I64(ArcArrayD<i64>),
    Bool(ArcArrayD<bool>),
    String(ArcArrayD<Bytes>),
}

/// Applies an expression to the array inside a tensor, whatever its element type (the expression
/// sees an [`Item`] array: strings included).
#[macro_export]
macro_rules! with_array {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::Tensor::F32($a) => $body,
            $crate::Tensor::F64($a) => $body,
            $crate::Tensor::I32($a) => $body,
            $crate::Tensor::I64($a) => $body,
            $crate::Tensor::Bool($a) => $body,
            $crate::Tensor::String($a) => $body,
        }
    };
}

/// Applies an expression to the array inside a number or bool tensor (an [`Element`] array), and
/// `$strings` to that of a string tensor.
#[macro_export]
macro_rules! with_elements {
    ($t:expr, $a:ident => $body:expr, $s:ident => $strings:expr) => {
        match $t {
            $crate::Tensor::F32($a) => $body,
            $crate::Tensor::F64($a) => $body,
            $crate::Tensor::I32($a) => $body,
            $crate::Tensor::I64($a) => $body,
            $crate::Tensor::Bool($a) => $body,
            $crate::Tensor::String($s) => $strings,
        }
    };
}

/// Runs a generic expression with `$T` bound to the element type of a [`DType`].
#[macro_export]
macro_rules! with_dtype {
    ($d:expr, $T:ident => $body:expr) => {
        match $d {
            $crate::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::DType::Float64 => {
                type $T = f64;
                $body
            }
            $crate::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::DType::String => {
                type $T = $crate::tensor::Bytes;
                $body
            }
        }
    };
}

impl Tensor {
    /// A scalar (rank-0) tensor.
    pub fn scalar<T: Item>(v: T) -> Tensor {
        T::wrap(ArrayD::from_elem(IxDyn(&[]), v).into_shared())
    }

    /// A tensor of the given shape from row-major data; the lengths must agree.
    pub fn from_vec<T: Item>(shape: &[usize], data: Vec<T>) -> OpResult<Tensor> {
        let n = data.len();
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(|a| T::wrap(a.into_shared()))
            .map_err(|_| crate::invalid!("{n} values cannot fill a tensor of shape {shape:?}"))
    }

    /// Wraps an owned ndarray.
    pub fn from_array<T: Item>(a: ArrayD<T>) -> Tensor {
        T::wrap(a.into_shared())
    }

    /// A tensor of zeros (false for bool, empty for strings).
    pub fn zeros(dtype: DType, shape: &[usize]) -> Tensor {
        Self::filled(dtype, shape, 0.0)
    }

    /// A tensor whose every element is `value` converted to `dtype` (for strings: the empty string).
    pub fn filled(dtype: DType, shape: &[usize], value: f64) -> Tensor {
        let d = IxDyn(shape);
        match dtype {
            DType::Float32 => Tensor::F32(ArrayD::from_elem(d, value as f32).into_shared()),
            DType::Float64 => Tensor::F64(ArrayD::from_elem(d, value).into_shared()),
            DType::Int32 => Tensor::I32(ArrayD::from_elem(d, value as i32).into_shared()),
            DType::Int64 => Tensor::I64(ArrayD::from_elem(d, value as i64).into_shared()),
            DType::Bool => Tensor::Bool(ArrayD::from_elem(d, value != 0.0).into_shared()),
            DType::String => Tensor::String(ArrayD::from_elem(d, Bytes::new()).into_shared()),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Tensor::F32(_) => DType::Float32,
            Tensor::F64(_) => DType::Float64,
            Tensor::I32(_) => DType::Int32,
            Tensor::I64(_) => DType::Int64,
            Tensor::Bool(_) => DType::Bool,
            Tensor::String(_) => DType::String,
        }
    }

    /// The concrete shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// The rank (number of dimensions).
    pub fn rank(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Borrows the array of element type `T`, or says which dtype it has.
    pub fn array<T: Item>(&self) -> OpResult<&ArcArrayD<T>> {
        T::unwrap_ref(self).ok_or_else(|| crate::invalid!("expected a {} tensor, got {}", T::DTYPE, self.dtype()))
    }

    /// Takes the array of element type `T`, or says which dtype it has.
    pub fn into_array<T: Item>(self) -> OpResult<ArcArrayD<T>> {
        T::unwrap(self).map_err(|t| crate::invalid!("expected a {} tensor, got {}", T::DTYPE, t.dtype()))
    }

    /// The elements in row-major order, converted to f64 (bool: 0 or 1; a string, which has no
    /// number: NaN).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_elements!(self, a => a.iter().map(|v| v.to_f64()).collect(), s => vec![f64::NAN; s.len()])
    }

    /// The only element of a one-element number or bool tensor, as f64.
    pub fn scalar_f64(&self) -> Option<f64> {
        if self.len() != 1 {
            return None;
        }
        with_elements!(self, a => a.iter().next().map(|v| v.to_f64()), _s => None)
    }

    /// The elements of a small integer tensor as i64, without allocating for up to 8 values (axes
    /// and shapes, read by kernels on every run).
    pub(crate) fn ints(&self) -> OpResult<smallvec::SmallVec<[i64; 8]>> {
        match self {
            Tensor::I32(a) => Ok(a.iter().map(|&v| v as i64).collect()),
            Tensor::I64(a) => Ok(a.iter().copied().collect()),
            other => Err(crate::invalid!("expected an int32 or int64 tensor, got {}", other.dtype())),
        }
    }

    /// The elements of an integer tensor as i64 (for axes, shapes and indices).
    pub fn to_i64_vec(&self) -> OpResult<Vec<i64>> {
        match self {
            Tensor::I32(a) => Ok(a.iter().map(|&v| v as i64).collect()),
            Tensor::I64(a) => Ok(a.iter().copied().collect()),
            other => Err(crate::invalid!("expected an int32 or int64 tensor, got {}", other.dtype())),
        }
    }

    /// The tensor converted to another dtype with TensorFlow's Cast rules: floats to integers
    /// truncate toward zero (saturating), anything to bool is `!= 0`, bool to numbers is 0 or 1.
    /// Strings do not cast (TF has no such Cast): to or from string, the result is empty strings
    /// or zeros of the shape, and Cast's shape inference rejects the pair first.
    pub fn cast(&self, to: DType) -> Tensor {
        if self.dtype() == to {
            return self.clone();
        }
        if self.dtype() == DType::String || to == DType::String {
            return Tensor::zeros(to, self.shape());
        }
        macro_rules! to_all {
            ($a:expr, |$v:ident| $f32:expr, $f64:expr, $i32:expr, $i64:expr, $b:expr) => {
                match to {
                    DType::Float32 => Tensor::F32($a.mapv(|$v| $f32).into_shared()),
                    DType::Float64 => Tensor::F64($a.mapv(|$v| $f64).into_shared()),
                    DType::Int32 => Tensor::I32($a.mapv(|$v| $i32).into_shared()),
                    DType::Int64 => Tensor::I64($a.mapv(|$v| $i64).into_shared()),
                    DType::Bool => Tensor::Bool($a.mapv(|$v| $b).into_shared()),
                    DType::String => Tensor::zeros(to, $a.shape()),
                }
            };
        }
        match self {
            Tensor::F32(a) => to_all!(a, |v| v, v as f64, v as i32, v as i64, v != 0.0),
            Tensor::F64(a) => to_all!(a, |v| v as f32, v, v as i32, v as i64, v != 0.0),
            Tensor::I32(a) => to_all!(a, |v| v as f32, v as f64, v, v as i64, v != 0),
            Tensor::I64(a) => to_all!(a, |v| v as f32, v as f64, v as i32, v, v != 0),
            Tensor::Bool(a) => {
                to_all!(a, |v| v as u8 as f32, v as u8 as f64, v as i32, v as i64, v)
            }
            Tensor::String(_) => Tensor::zeros(to, self.shape()),
        }
    }

    /// Whether two tensors have the same dtype, shape and bits (NaN equals the same NaN).
    pub fn bit_eq(&self, other: &Tensor) -> bool {
        fn eq<T: Element>(a: &ArcArrayD<T>, b: &Tensor) -> bool {
            T::unwrap_ref(b)
                .is_some_and(|b| a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| x.same_bits(*y)))
        }
        with_elements!(self, a => eq(a, other), s => other.array::<Bytes>().is_ok_and(|o| s == o))
    }

    /// Bytes held by the elements (for memory accounting; a string counts its bytes too).
    pub fn nbytes(&self) -> usize {
        let held = match self {
            Tensor::String(s) => s.iter().map(Bytes::len).sum(),
            _ => 0,
        };
        self.len() * self.dtype().size_of() + held
    }
}

impl From<f32> for Tensor {
    fn from(v: f32) -> Self {
        Tensor::scalar(v)
    }
}
impl From<f64> for Tensor {
    fn from(v: f64) -> Self {
        Tensor::scalar(v)
    }
}
impl From<i32> for Tensor {
    fn from(v: i32) -> Self {
        Tensor::scalar(v)
    }
}
impl From<i64> for Tensor {
    fn from(v: i64) -> Self {
        Tensor::scalar(v)
    }
}
impl From<bool> for Tensor {
    fn from(v: bool) -> Self {
        Tensor::scalar(v)
    }
}
impl<T: Item> From<ArrayD<T>> for Tensor {
    fn from(a: ArrayD<T>) -> Self {
        Tensor::from_array(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_tensorflow() {
        let t = Tensor::from_vec(&[4], vec![-1.7f32, 0.0, 2.9, 3e10]).unwrap();
        assert_eq!(t.cast(DType::Int32).to_i64_vec().unwrap(), vec![-1, 0, 2, i32::MAX as i64]);
        assert_eq!(t.cast(DType::Bool).to_f64_vec(), vec![1.0, 0.0, 1.0, 1.0]);
        let b = Tensor::from_vec(&[2], vec![true, false]).unwrap();
        assert_eq!(b.cast(DType::Float64).to_f64_vec(), vec![1.0, 0.0]);
        // int64 -> float32 rounds as TF does: 2^25 + 3 is not representable.
        let big = Tensor::scalar((1i64 << 25) + 3).cast(DType::Float32);
        assert_eq!(big.to_f64_vec(), vec![33554436.0]);
    }

    #[test]
    fn bit_equality_sees_nan_and_dtype() {
        let a = Tensor::from_vec(&[2], vec![f32::NAN, 1.0]).unwrap();
        assert!(a.bit_eq(&a.clone()));
        assert!(!a.bit_eq(&a.cast(DType::Float64)));
        assert!(!Tensor::scalar(0.0f32).bit_eq(&Tensor::scalar(-0.0f32)));
    }

    #[test]
    fn from_vec_checks_length() {
        assert!(Tensor::from_vec(&[2, 3], vec![1i32; 5]).is_err());
        assert_eq!(Tensor::from_vec::<i64>(&[0, 3], vec![]).unwrap().len(), 0);
    }
}
