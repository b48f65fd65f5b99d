//! Static shapes with unknown dimensions (`[None, 3]`) and NumPy broadcasting.

use crate::error::{OpError, OpResult};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A shape known at graph-building time: an unknown rank, or a list of dimensions each of which
/// may be unknown. Printed as TensorFlow prints it: `[?,3]`, `<unknown>`.
///
/// ```
/// use stepflow::Shape;
/// let s = Shape::partial(&[None, Some(3)]);
/// assert_eq!(s.to_string(), "[?,3]");
/// assert!(s.is_compatible_with(&[32, 3]));
/// assert!(!s.is_compatible_with(&[32, 4]));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Shape(Option<Vec<Option<usize>>>);

impl Shape {
    /// A shape of unknown rank.
    pub fn unknown() -> Self {
        Shape(None)
    }

    /// A scalar shape `[]`.
    pub fn scalar() -> Self {
        Shape(Some(Vec::new()))
    }

    /// A fully known shape.
    pub fn known(dims: &[usize]) -> Self {
        Shape(Some(dims.iter().map(|&d| Some(d)).collect()))
    }

    /// A shape of known rank with some dimensions unknown (`None`).
    pub fn partial(dims: &[Option<usize>]) -> Self {
        Shape(Some(dims.to_vec()))
    }

    /// A shape of known rank whose dimensions are all unknown.
    pub fn unknown_dims(rank: usize) -> Self {
        Shape(Some(vec![None; rank]))
    }

    /// The dimensions, or `None` when the rank is unknown.
    pub fn dims(&self) -> Option<&[Option<usize>]> {
        self.0.as_deref()
    }

    /// The rank, if known.
    pub fn rank(&self) -> Option<usize> {
        self.0.as_ref().map(Vec::len)
    }

    /// The dimensions as numbers when every one is known.
    pub fn to_known(&self) -> Option<Vec<usize>> {
        self.0.as_ref()?.iter().copied().collect()
    }

    /// The number of elements when the shape is fully known (saturating at `usize::MAX`).
    pub fn num_elements(&self) -> Option<usize> {
        self.to_known().map(|d| d.iter().fold(1usize, |a, &x| a.saturating_mul(x)))
    }

    /// The product of the known dimensions (unknown dimensions count as 1): a lower bound used to
    /// estimate the cost of work on a partially known shape.
    pub fn known_elements(&self) -> usize {
        self.0.as_ref().map_or(1, |d| d.iter().fold(1usize, |a, x| a.saturating_mul(x.unwrap_or(1))))
    }

    /// Whether a concrete shape matches this one (same rank, equal where known).
    pub fn is_compatible_with(&self, dims: &[usize]) -> bool {
        match &self.0 {
            None => true,
            Some(s) => s.len() == dims.len() && s.iter().zip(dims).all(|(a, b)| a.is_none_or(|a| a == *b)),
        }
    }

    /// Whether two static shapes can describe the same tensor.
    pub fn is_compatible(&self, other: &Shape) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.is_none() || y.is_none() || x == y)
            }
            _ => true,
        }
    }

    /// The most specific shape compatible with both, or an error when they conflict.
    pub fn merge(&self, other: &Shape) -> OpResult<Shape> {
        match (&self.0, &other.0) {
            (None, _) => Ok(other.clone()),
            (_, None) => Ok(self.clone()),
            (Some(a), Some(b)) => {
                if !self.is_compatible(other) {
                    return Err(mismatch(self, other));
                }
                Ok(Shape(Some(a.iter().zip(b).map(|(x, y)| x.or(*y)).collect())))
            }
        }
    }

    /// NumPy broadcasting of two static shapes; unknown dimensions stay unknown unless the other
    /// side decides them.
    pub fn broadcast(&self, other: &Shape) -> OpResult<Shape> {
        let (Some(a), Some(b)) = (&self.0, &other.0) else {
            return Ok(Shape::unknown());
        };
        let rank = a.len().max(b.len());
        let mut out = vec![None; rank];
        for (i, o) in out.iter_mut().enumerate() {
            let x = dim_from_right(a, rank - 1 - i);
            let y = dim_from_right(b, rank - 1 - i);
            *o = match (x, y) {
                (Some(1), d) | (d, Some(1)) => d,
                (Some(p), Some(q)) if p == q => Some(p),
                (Some(_), Some(_)) => return Err(mismatch(self, other)),
                (Some(p), None) | (None, Some(p)) => Some(p),
                (None, None) => None,
            };
        }
        Ok(Shape(Some(out)))
    }
}

fn dim_from_right(dims: &[Option<usize>], from_right: usize) -> Option<usize> {
    if from_right < dims.len() { dims[dims.len() - 1 - from_right] } else { Some(1) }
}

fn mismatch(a: &Shape, b: &Shape) -> OpError {
    OpError::ShapeMismatch { lhs: a.clone(), rhs: b.clone() }
}

/// The most elements one tensor may have (2^30): every shape that comes from a graph file, a feed
/// or a run-time value is checked against it before anything is allocated.
pub const MAX_ELEMENTS: usize = 1 << 30;

/// The element count of `dims`, or an error when it overflows or exceeds [`MAX_ELEMENTS`]. The
/// non-zero dimensions of an empty shape are bounded the same way (`[0, 2^40]` is refused), since
/// ndarray refuses to lay out such arrays.
pub fn checked_elements(dims: &[usize]) -> OpResult<usize> {
    dims.iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .map(|n| if dims.contains(&0) { 0 } else { n })
        .ok_or_else(|| crate::invalid!("shape {dims:?} is too large (at most {MAX_ELEMENTS} elements)"))
}

/// NumPy broadcasting of two concrete shapes.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> OpResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |d: &[usize], i: usize| {
        if i < rank - d.len() { 1 } else { d[i - (rank - d.len())] }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) if x == y => Ok(x),
            _ => Err(mismatch(&Shape::known(a), &Shape::known(b))),
        })
        .collect()
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape::known(d)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => write!(f, "<unknown>"),
            Some(d) => {
                write!(f, "[")?;
                for (i, x) in d.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    match x {
                        Some(n) => write!(f, "{n}")?,
                        None => write!(f, "?")?,
                    }
                }
                write!(f, "]")
            }
        }
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let a = Shape::partial(&[None, Some(3)]);
        let b = Shape::known(&[1]);
        assert_eq!(a.broadcast(&b).unwrap(), a);
        assert_eq!(Shape::known(&[4, 1]).broadcast(&Shape::known(&[3])).unwrap(), Shape::known(&[4, 3]));
        assert!(Shape::known(&[2]).broadcast(&Shape::known(&[3])).is_err());
        assert_eq!(Shape::scalar().broadcast(&Shape::known(&[2, 2])).unwrap(), Shape::known(&[2, 2]));
        assert_eq!(broadcast_dims(&[5, 1, 3], &[4, 1]).unwrap(), vec![5, 4, 3]);
        assert!(broadcast_dims(&[2, 3], &[4]).is_err());
    }

    #[test]
    fn unknown_dims_stay_unknown_unless_decided() {
        let a = Shape::partial(&[None]);
        assert_eq!(a.broadcast(&Shape::known(&[1])).unwrap(), a);
        assert_eq!(a.broadcast(&Shape::known(&[5])).unwrap(), Shape::known(&[5]));
        assert_eq!(Shape::unknown().broadcast(&a).unwrap(), Shape::unknown());
    }

    #[test]
    fn merge_and_compatibility() {
        let a = Shape::partial(&[None, Some(3)]);
        assert_eq!(a.merge(&Shape::partial(&[Some(2), None])).unwrap(), Shape::known(&[2, 3]));
        assert!(a.merge(&Shape::known(&[2, 4])).is_err());
        assert!(!a.is_compatible_with(&[3]));
        assert_eq!(Shape::unknown().to_string(), "<unknown>");
        assert_eq!(Shape::scalar().to_string(), "[]");
    }
}
