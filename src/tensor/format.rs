//! Printing tensors as nested lists, as a user reads them on the command line.

use super::{Element, Tensor};
use crate::with_array;
use std::fmt;

/// More elements than this are summarized with `...` per dimension, as NumPy does.
const SUMMARIZE_OVER: usize = 1000;
/// How many leading and trailing entries per dimension a summary keeps.
const EDGE_ITEMS: usize = 3;

impl fmt::Display for Tensor {
    /// Scalars print as numbers (`0.096`), arrays as nested lists (`[[1, 2], [3, 4]]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_array!(self, a => write_nested(f, a.shape(), &a.iter().copied().collect::<Vec<_>>(), a.len() > SUMMARIZE_OVER))
    }
}

fn write_nested<T: Element>(f: &mut fmt::Formatter<'_>, shape: &[usize], data: &[T], summarize: bool) -> fmt::Result {
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
    }
}
