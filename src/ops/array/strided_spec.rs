//! What a strided slice spec (`x[1:-1:2, ..., tf.newaxis, 3]`) denotes, by TF's rules: the
//! sparse spec (one entry per `begin`/`end`/`strides` element, with the five masks) expanded to
//! one range per input axis, each range made canonical (negative indices counted from the end,
//! clamped to the axis), the shape those ranges cut (the *processing* shape) and the final shape
//! (shrunk axes dropped, new axes inserted). Shape inference runs it on what is known at build
//! time; the kernels of StridedSlice and StridedSliceGrad on values.

use crate::error::OpResult;
use ndarray::SliceInfoElem;

/// The five masks of a strided slice, as TF's 32-bit attributes: bit `i` refers to entry `i` of
/// the sparse spec.
#[derive(Clone, Copy, Debug, Default)]
pub struct Masks {
    pub begin: i64,
    pub end: i64,
    pub ellipsis: i64,
    pub new_axis: i64,
    pub shrink_axis: i64,
}

/// One input axis of a strided slice: the canonical first index and stride, and the number of
/// elements taken (`None` when the build-time facts do not say).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxisCut {
    pub begin: i64,
    pub stride: i64,
    pub size: Option<usize>,
}

/// A strided slice spec resolved against an input shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    /// One range per input axis.
    pub axes: Vec<AxisCut>,
    /// The output's dims: the processing dims with shrunk axes dropped and new axes of size 1.
    pub final_dims: Vec<Option<usize>>,
}

/// Where an output axis comes from.
#[derive(Clone, Copy)]
enum Gather {
    Axis(usize),
    NewAxis,
    Shrink,
}

/// The begin, end and stride of every input axis after the ellipsis and new axes are expanded,
/// with the masks renumbered by input axis.
struct Dense {
    begin: Vec<i64>,
    end: Vec<i64>,
    strides: Vec<i64>,
    begin_mask: u64,
    end_mask: u64,
    shrink: u64,
    gather: Vec<Gather>,
}

fn bit(mask: u64, i: usize) -> bool {
    i < 64 && mask & (1 << i) != 0
}

/// A mask attribute as TF's int32 bits; a value outside int32 is refused as TF refuses it.
fn bits(name: &str, v: i64) -> OpResult<u64> {
    let v = i32::try_from(v).map_err(|_| crate::invalid!("{name} = {v} is out of range for an int32"))?;
    Ok(v as u32 as u64)
}

/// Resolves the spec against input dims `dims` (`None` for an unknown one). `begin` and `end` may
/// be unknown at build time; `strides` must be known.
pub fn cut(
    dims: &[Option<usize>],
    begin: Option<&[i64]>,
    end: Option<&[i64]>,
    strides: &[i64],
    masks: &Masks,
) -> OpResult<Cut> {
    let n = strides.len();
    if begin.is_some_and(|b| b.len() != n || n >= 32) || end.is_some_and(|e| e.len() != n) {
        return Err(crate::invalid!(
            "expected begin, end, and strides to be 1-D tensors of one size under 32, got {}, {} and {} entries",
            begin.map_or("?".into(), |b| b.len().to_string()),
            end.map_or("?".into(), |e| e.len().to_string()),
            n
        ));
    }
    let dense = dense(dims.len(), begin, end, strides, masks)?;
    let mut axes = Vec::with_capacity(dims.len());
    for (i, &dim) in dims.iter().enumerate() {
        axes.push(axis(i, dim, &dense, begin.is_some() && end.is_some())?);
    }
    let final_dims = dense
        .gather
        .iter()
        .filter_map(|g| match *g {
            Gather::Axis(i) => Some(axes[i].size),
            Gather::NewAxis => Some(Some(1)),
            Gather::Shrink => None,
        })
        .collect();
    Ok(Cut { axes, final_dims })
}

/// TF's `BuildDenseSpec`: the sparse spec expanded to one entry per input axis.
fn dense(rank: usize, begin: Option<&[i64]>, end: Option<&[i64]>, strides: &[i64], m: &Masks) -> OpResult<Dense> {
    let ellipsis = bits("ellipsis_mask", m.ellipsis)?;
    let new_axis = bits("new_axis_mask", m.new_axis)?;
    let (begin_bits, end_bits, shrink_bits) =
        (bits("begin_mask", m.begin)?, bits("end_mask", m.end)?, bits("shrink_axis_mask", m.shrink_axis)?);
    if ellipsis & ellipsis.wrapping_sub(1) != 0 {
        return Err(crate::invalid!("multiple ellipses in slice spec not allowed"));
    }
    let mut sparse_dims = strides.len();
    let first_ellipsis = (0..sparse_dims).find(|&i| bit(ellipsis, i));
    let new_after_ellipsis =
        first_ellipsis.map_or(0, |e| (e + 1..sparse_dims).filter(|&i| bit(new_axis, i)).count()) as i64;
    let mut ellipsis = ellipsis;
    if first_ellipsis.is_none() {
        // An implicit ellipsis at the end takes the axes the spec does not name.
        ellipsis |= 1 << sparse_dims;
        sparse_dims += 1;
    }
    let mut d = Dense {
        begin: vec![0; rank],
        end: vec![0; rank],
        strides: vec![0; rank],
        begin_mask: 0,
        end_mask: 0,
        shrink: 0,
        gather: Vec::new(),
    };
    let mut full = 0usize;
    for i in 0..sparse_dims {
        if bit(ellipsis, i) {
            let next = (rank as i64 - (sparse_dims - i) as i64 + 1 + new_after_ellipsis).min(rank as i64);
            while (full as i64) < next {
                d.strides[full] = 1;
                d.begin_mask |= 1 << full;
                d.end_mask |= 1 << full;
                d.gather.push(Gather::Axis(full));
                full += 1;
            }
        } else if bit(new_axis, i) {
            d.gather.push(Gather::NewAxis);
        } else {
            if full == rank {
                return Err(crate::invalid!("index out of range using input dim {full}; input has only {rank} dims"));
            }
            d.begin[full] = begin.map_or(0, |b| b[i]);
            d.end[full] = end.map_or(0, |e| e[i]);
            d.strides[full] = strides[i];
            if bit(begin_bits, i) {
                d.begin_mask |= 1 << full;
            }
            if bit(end_bits, i) {
                d.end_mask |= 1 << full;
            }
            if bit(shrink_bits, i) {
                d.gather.push(Gather::Shrink);
                d.shrink |= 1 << full;
            } else {
                d.gather.push(Gather::Axis(full));
            }
            full += 1;
        }
    }
    Ok(d)
}

/// TF's canonical range of one input axis and the number of elements it takes.
fn axis(i: usize, dim: Option<usize>, d: &Dense, values_known: bool) -> OpResult<AxisCut> {
    let stride = d.strides[i];
    if stride == 0 {
        return Err(crate::invalid!("strides[{i}] must be non-zero"));
    }
    let shrink = bit(d.shrink, i);
    let Some(dim) = dim else {
        return Ok(AxisCut { begin: 0, stride, size: shrink.then_some(1) });
    };
    let dim = dim as i64;
    let masked = [bit(d.begin_mask, i), bit(d.end_mask, i)];
    let range = if stride > 0 { [0, dim] } else { [-1, dim - 1] };
    let canonical = |x: i64, c: usize| {
        if masked[c] {
            if stride > 0 { range[c] } else { range[(c + 1) & 1] }
        } else {
            let fwd = if x < 0 { dim.saturating_add(x) } else { x };
            fwd.clamp(range[0], range[1])
        }
    };
    if shrink && stride <= 0 {
        return Err(crate::invalid!("only stride 1 allowed on non-range indexing"));
    }
    let (mut begin, mut end) = (d.begin[i], d.end[i]);
    if values_known {
        if shrink {
            // x[-1] is begin -1, end 0: the end is begin + 1 once begin is canonical.
            let fwd = if begin < 0 { dim.saturating_add(begin) } else { begin };
            if fwd < 0 || fwd >= dim {
                return Err(crate::invalid!("slice index {fwd} of dimension {i} out of bounds"));
            }
            (begin, end) = (fwd, fwd + 1);
        } else {
            (begin, end) = (canonical(begin, 0), canonical(end, 1));
        }
    }
    let interval = if values_known {
        Some(end - begin)
    } else if shrink {
        Some(1)
    } else if masked[0] && masked[1] && dim > 0 {
        Some(if stride < 0 { -dim } else { dim })
    } else {
        None
    };
    let size = interval.map(|len| {
        if len == 0 || (len < 0) != (stride < 0) { 0 } else { (len / stride + i64::from(len % stride != 0)) as usize }
    });
    Ok(AxisCut { begin, stride, size })
}

impl Cut {
    /// The processing shape (one entry per input axis), when every size is known.
    pub fn processing(&self) -> Option<Vec<usize>> {
        self.axes.iter().map(|a| a.size).collect()
    }

    /// The final shape, when every dim is known.
    pub fn final_shape(&self) -> Option<Vec<usize>> {
        self.final_dims.iter().copied().collect()
    }

    /// The ndarray slice of the input that the cut takes (processing shape), for a cut whose
    /// sizes are all known.
    pub fn slice_info(&self) -> OpResult<Vec<SliceInfoElem>> {
        self.axes
            .iter()
            .map(|a| {
                let size = a.size.ok_or_else(|| crate::invalid!("strided slice of unknown size"))? as i64;
                let step = if size <= 1 { 1 } else { a.stride };
                Ok(match size {
                    0 => SliceInfoElem::Slice { start: 0, end: Some(0), step: 1 },
                    _ if step > 0 => SliceInfoElem::Slice {
                        start: a.begin as isize,
                        end: Some((a.begin + (size - 1) * step + 1) as isize),
                        step: step as isize,
                    },
                    // ndarray walks a negative step from the end of [start, end): from begin down.
                    _ => SliceInfoElem::Slice {
                        start: (a.begin + (size - 1) * step) as isize,
                        end: Some((a.begin + 1) as isize),
                        step: step as isize,
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(dims: &[usize], b: &[i64], e: &[i64], s: &[i64], m: Masks) -> OpResult<Cut> {
        let dims: Vec<Option<usize>> = dims.iter().map(|&d| Some(d)).collect();
        cut(&dims, Some(b), Some(e), s, &m)
    }

    #[test]
    fn negative_strides_walk_back_from_begin() {
        // x[::-2] of 5 elements: 4, 2, 0
        let c = known(&[5], &[0], &[0], &[-2], Masks { begin: 1, end: 1, ..Masks::default() }).unwrap();
        assert_eq!(c.axes, vec![AxisCut { begin: 4, stride: -2, size: Some(3) }]);
        // x[3:0:-1]: 3, 2, 1
        let c = known(&[5], &[3], &[0], &[-1], Masks::default()).unwrap();
        assert_eq!(c.final_dims, vec![Some(3)]);
    }

    #[test]
    fn ellipsis_new_axis_and_shrink_give_tf_shapes() {
        // x[..., tf.newaxis, 1] on [2, 3, 4]: [2, 3, 1]
        let m = Masks { ellipsis: 1, new_axis: 2, shrink_axis: 4, ..Masks::default() };
        let c = known(&[2, 3, 4], &[0, 0, 1], &[0, 0, 2], &[1, 1, 1], m).unwrap();
        assert_eq!(c.final_dims, vec![Some(2), Some(3), Some(1)]);
        // x[-1] on [3, 2]: [2]
        let c = known(&[3, 2], &[-1], &[0], &[1], Masks { shrink_axis: 1, ..Masks::default() }).unwrap();
        assert_eq!((c.axes[0].begin, c.final_dims.clone()), (2, vec![Some(2)]));
    }

    #[test]
    fn bad_specs_are_errors() {
        let m = Masks { shrink_axis: 1, ..Masks::default() };
        assert!(known(&[3], &[3], &[4], &[1], m).is_err());
        assert!(known(&[3], &[0], &[1], &[0], Masks::default()).is_err());
        assert!(known(&[3], &[0, 0], &[1, 1], &[1, 1], Masks::default()).is_err());
        assert!(known(&[3], &[0], &[1], &[1], Masks { ellipsis: 3, ..Masks::default() }).is_err());
    }
}
