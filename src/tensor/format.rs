//! Printing tensors as nested lists, as a user reads them on the command line.

use super::{Bytes, Tensor};
use crate::with_elements;
use std::fmt;

/// More elements than this are summarized with `...` per dimension, as NumPy does.
const SUMMARIZE_OVER: usize = 1000;
/// How many leading and trailing entries per dimension a summary keeps.
const EDGE_ITEMS: usize = 3;

impl fmt::Display for Tensor {
    /// Scalars print as numbers (`0.096`), arrays as nested lists (`[[1, 2], [3, 4]]`), strings
    /// quoted with their non-printable bytes escaped (`"a\n\xff"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summarize = self.len() > SUMMARIZE_OVER;
        with_elements!(self,
            a => write_nested(f, a.shape(), &a.iter().copied().collect::<Vec<_>>(), summarize),
            s => write_nested(f, s.shape(), &s.iter().map(Quoted).collect::<Vec<_>>(), summarize))
    }
}

/// A byte string as printed: in double quotes, escaped as Rust escapes ASCII.
struct Quoted<'a>(&'a Bytes);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

fn write_nested<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    shape: &[usize],
    data: &[T],
    summarize: bool,
) -> fmt::Result {
    let Some((&n, rest)) = shape.split_first() else {
        return write!(f, "{}", data[0]);
    };
    let stride: usize = rest.iter().product();
    write!(f, "[")?;
    let mut first = true;
    for i in 0..n {
        if summarize && n > 2 * EDGE_ITEMS && i >= EDGE_ITEMS && i < n - EDGE_ITEMS {
            if i == EDGE_ITEMS {
                write!(f, ", ...")?;
            }
            continue;
        }
        if !first {
            write!(f, ", ")?;
        }
        first = false;
        write_nested(f, rest, &data[i * stride..(i + 1) * stride], summarize)?;
    }
    write!(f, "]")
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_nested_lists_and_summaries() {
        assert_eq!(Tensor::scalar(0.096f32).to_string(), "0.096");
        assert_eq!(Tensor::from_vec(&[3], vec![true, false, true]).unwrap().to_string(), "[true, false, true]");
        assert_eq!(Tensor::from_vec::<i64>(&[2, 0], vec![]).unwrap().to_string(), "[[], []]");
        let big = Tensor::from_vec(&[2000], (0..2000).collect::<Vec<i32>>()).unwrap();
        assert_eq!(big.to_string(), "[0, 1, 2, ..., 1997, 1998, 1999]");
        let s = Tensor::strings(&[2], [&b"a\"b"[..], &[b'\n', 0xff]]).unwrap();
        assert_eq!(s.to_string(), r#"["a\"b", "\n\xff"]"#);
    }
}
