//! String tensors: byte strings (TF's `DT_STRING`), the values of summary ops and their tags.

use super::{Bytes, Tensor};
use crate::error::OpResult;

impl Tensor {
    /// A tensor of byte strings of the given shape from row-major data; the lengths must agree.
    ///
    /// ```
    /// use stepflow::{DType, Tensor};
    /// let t = Tensor::strings(&[2], ["loss", "accuracy"])?;
    /// assert_eq!(t.dtype(), DType::String);
    /// assert_eq!(t.to_bytes_vec()?[1].as_ref(), b"accuracy");
    /// assert_eq!(t.to_string(), r#"["loss", "accuracy"]"#);
    /// # Ok::<(), stepflow::error::OpError>(())
    /// ```
    pub fn strings<S: Into<Bytes>>(shape: &[usize], data: impl IntoIterator<Item = S>) -> OpResult<Tensor> {
        Tensor::from_vec(shape, data.into_iter().map(Into::into).collect::<Vec<Bytes>>())
    }

    /// The elements of a string tensor in row-major order (cheap: each shares its bytes).
    pub fn to_bytes_vec(&self) -> OpResult<Vec<Bytes>> {
        Ok(self.array::<Bytes>()?.iter().cloned().collect())
    }

    /// The bytes of a one-element string tensor: what a summary op gives to
    /// [`FileWriter::add_summary`](crate::summary::FileWriter::add_summary).
    pub fn scalar_bytes(&self) -> OpResult<Bytes> {
        match self.array::<Bytes>()?.iter().next() {
            Some(b) if self.len() == 1 => Ok(b.clone()),
            _ => Err(crate::invalid!("expected one string, got shape {:?}", self.shape())),
        }
    }
}

impl From<&str> for Tensor {
    fn from(v: &str) -> Self {
        Tensor::scalar(Bytes::copy_from_slice(v.as_bytes()))
    }
}
