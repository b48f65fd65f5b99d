//! Element-wise kernel machinery shared by the unary, binary and comparison ops: NumPy
//! broadcasting, reuse of an input buffer the kernel holds the only reference to, and splitting
//! large arrays across the thread pool. Results never depend on how the work is split.

use crate::error::OpResult;
use crate::shape::broadcast_dims;
use crate::tensor::{ArcArrayD, Element};
use ndarray::{ArrayViewD, IxDyn, Zip};

/// Arrays with at least this many elements are split across threads (when the kernel may):
/// smaller ones finish before another thread would wake up.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 17;

/// Runs `f` compiled for the best vector instructions of this CPU (AVX2 and FMA on x86-64 when
/// present), chosen at run time, so the plain loops inside vectorize. No floating-point
/// contraction or reassociation is enabled, so results equal those of a baseline build bit for
/// bit.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

fn go_parallel(parallel: bool, len: usize) -> bool {
    parallel && len >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1
}

fn view_as<'a, T>(a: &'a ArcArrayD<T>, shape: &[usize]) -> OpResult<ArrayViewD<'a, T>> {
    a.broadcast(IxDyn(shape)).ok_or_else(|| crate::invalid!("cannot broadcast shape {:?} to {:?}", a.shape(), shape))
}

/// `f` applied element-wise to `a` and `b` broadcast together, into a new array.
pub(crate) fn zip_map<A: Element, B: Element, R: Element>(
    a: &ArcArrayD<A>,
    b: &ArcArrayD<B>,
    parallel: bool,
    f: impl Fn(A, B) -> R + Sync + Send,
) -> OpResult<ArcArrayD<R>> {
    if a.len() == 1 && b.len() == 1 && a.shape() == b.shape() {
        let (x, y) = (a.iter().next(), b.iter().next());
        if let (Some(&x), Some(&y)) = (x, y) {
            return Ok(ndarray::ArrayD::from_elem(a.raw_dim(), f(x, y)).into_shared());
        }
    }
    if a.shape() == b.shape()
        && let (Some(x), Some(y)) = (a.as_slice(), b.as_slice())
        && !go_parallel(parallel, x.len())
    {
        let out: Vec<R> = vectorized(
            #[inline(always)]
            || x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect(),
        );
        return ndarray::ArrayD::from_shape_vec(a.raw_dim(), out)
            .map(|o| o.into_shared())
            .map_err(|e| crate::invalid!("{e}"));
    }
    let shape = broadcast_dims(a.shape(), b.shape())?;
    let (av, bv) = (view_as(a, &shape)?, view_as(b, &shape)?);
    let zip = Zip::from(&av).and(&bv);
    let out = if go_parallel(parallel, av.len()) {
        zip.par_map_collect(|&x, &y| f(x, y))
    } else {
        zip.map_collect(|&x, &y| f(x, y))
    };
    Ok(out.into_shared())
}

/// Like [`zip_map`] for one element type, writing into `a` or `b` when the kernel holds the only
/// reference to one that already has the result's shape.
pub(crate) fn zip_same<T: Element>(
    mut a: ArcArrayD<T>,
    mut b: ArcArrayD<T>,
    parallel: bool,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> OpResult<ArcArrayD<T>> {
    if zip_slices(&mut a, &b, parallel, &f).is_some() {
        return Ok(a);
    }
    if zip_slices(&mut b, &a, parallel, &|y, x| f(x, y)).is_some() {
        return Ok(b);
    }
    let shape = broadcast_dims(a.shape(), b.shape())?;
    if a.is_unique() && a.shape() == shape.as_slice() {
        let bv = view_as(&b, &shape)?;
        let zip = Zip::from(&mut a).and(&bv);
        if go_parallel(parallel, bv.len()) {
            zip.par_for_each(|x, &y| *x = f(*x, y));
        } else {
            zip.for_each(|x, &y| *x = f(*x, y));
        }
        return Ok(a);
    }
    if b.is_unique() && b.shape() == shape.as_slice() {
        let av = view_as(&a, &shape)?;
        let zip = Zip::from(&mut b).and(&av);
        if go_parallel(parallel, av.len()) {
            zip.par_for_each(|y, &x| *y = f(x, *y));
        } else {
            zip.for_each(|y, &x| *y = f(x, *y));
        }
        return Ok(b);
    }
    zip_map(&a, &b, parallel, f)
}

/// The common fast cases on contiguous data, writing into `dst` (which must be unshared): `src`
/// of the same shape, or a single element. `None` when the case does not apply.
fn zip_slices<T: Element>(
    dst: &mut ArcArrayD<T>,
    src: &ArcArrayD<T>,
    parallel: bool,
    f: &(impl Fn(T, T) -> T + Sync + Send),
) -> Option<()> {
    let row_broadcast = src.ndim() <= dst.ndim()
        && src.ndim() >= 1
        && dst.shape().ends_with(&src.shape()[src.ndim() - 1..])
        && src.shape()[..src.ndim() - 1].iter().all(|&d| d == 1)
        && src.len() > 1;
    let same = src.shape() == dst.shape();
    let scalar = src.len() == 1 && src.ndim() <= dst.ndim();
    if !dst.is_unique() || !(same || scalar || row_broadcast) {
        return None;
    }
    let s = src.as_slice()?;
    let d = dst.as_slice_mut()?;
    let par = go_parallel(parallel, d.len());
    use rayon::prelude::*;
    let pair = |d: &mut [T], s: &[T]| {
        vectorized(
            #[inline(always)]
            || d.iter_mut().zip(s).for_each(|(x, &y)| *x = f(*x, y)),
        )
    };
    if same {
        if par {
            let chunk = d.len().div_ceil(rayon::current_num_threads() * 4).max(1);
            d.par_chunks_mut(chunk).zip(s.par_chunks(chunk)).for_each(|(d, s)| pair(d, s));
        } else {
            pair(d, s);
        }
    } else if scalar {
        let y = s[0];
        let each = |d: &mut [T]| {
            vectorized(
                #[inline(always)]
                || d.iter_mut().for_each(|x| *x = f(*x, y)),
            )
        };
        if par {
            d.par_chunks_mut(d.len().div_ceil(rayon::current_num_threads() * 4).max(1)).for_each(each);
        } else {
            each(d);
        }
    } else if par {
        // A row (a bias) along the last axis of every row of `dst`.
        d.par_chunks_mut(s.len()).for_each(|r| pair(r, s));
    } else {
        vectorized(
            #[inline(always)]
            || d.chunks_mut(s.len()).for_each(|r| r.iter_mut().zip(s).for_each(|(x, &y)| *x = f(*x, y))),
        );
    }
    Some(())
}

/// `f` applied to every element, in place when the kernel holds the only reference.
pub(crate) fn map_same<T: Element>(
    mut a: ArcArrayD<T>,
    parallel: bool,
    f: impl Fn(T) -> T + Sync + Send,
) -> ArcArrayD<T> {
    if a.is_unique() {
        if go_parallel(parallel, a.len()) {
            Zip::from(&mut a).par_for_each(|x| *x = f(*x));
        } else {
            a.mapv_inplace(f);
        }
        return a;
    }
    map_to(&a, parallel, f)
}

/// `f` applied to every element, into a new array (of any element type).
pub(crate) fn map_to<A: Element, R: Element>(
    a: &ArcArrayD<A>,
    parallel: bool,
    f: impl Fn(A) -> R + Sync + Send,
) -> ArcArrayD<R> {
    let zip = Zip::from(a);
    let out = if go_parallel(parallel, a.len()) { zip.par_map_collect(|&x| f(x)) } else { zip.map_collect(|&x| f(x)) };
    out.into_shared()
}

/// `f` applied to three arrays broadcast together (Select), into a new array.
pub(crate) fn zip3_map<A: Element, B: Element, C: Element, R: Element>(
    a: &ArcArrayD<A>,
    b: &ArcArrayD<B>,
    c: &ArcArrayD<C>,
    parallel: bool,
    f: impl Fn(A, B, C) -> R + Sync + Send,
) -> OpResult<ArcArrayD<R>> {
    let shape = broadcast_dims(&broadcast_dims(a.shape(), b.shape())?, c.shape())?;
    let (av, bv, cv) = (view_as(a, &shape)?, view_as(b, &shape)?, view_as(c, &shape)?);
    let zip = Zip::from(&av).and(&bv).and(&cv);
    let out = if go_parallel(parallel, av.len()) {
        zip.par_map_collect(|&x, &y, &z| f(x, y, z))
    } else {
        zip.map_collect(|&x, &y, &z| f(x, y, z))
    };
    Ok(out.into_shared())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    fn arr(shape: &[usize], v: Vec<f32>) -> ArcArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(shape), v).unwrap().into_shared()
    }

    #[test]
    fn broadcasts_and_reuses_unique_buffers() {
        let a = arr(&[2, 2], vec![1., 2., 3., 4.]);
        let b = arr(&[2], vec![10., 20.]);
        let ptr = a.as_ptr();
        let out = zip_same(a, b, false, |x, y| x + y).unwrap();
        assert_eq!(out.as_ptr(), ptr, "the unique input buffer is reused");
        assert_eq!(out.iter().copied().collect::<Vec<_>>(), vec![11., 22., 13., 24.]);
        let shared = arr(&[2], vec![1., 2.]);
        let keep = shared.clone();
        let out = zip_same(shared, arr(&[2], vec![1., 1.]), false, |x, y| x - y).unwrap();
        assert_eq!(keep.iter().copied().collect::<Vec<_>>(), vec![1., 2.], "a shared input is never written");
        assert_eq!(out.iter().copied().collect::<Vec<_>>(), vec![0., 1.]);
    }

    #[test]
    fn parallel_and_serial_agree_bitwise() {
        let n = PARALLEL_MIN_ELEMENTS * 3 + 7;
        let a = arr(&[n], (0..n).map(|i| (i as f32).sin()).collect());
        let b = arr(&[1], vec![0.3]);
        let p = zip_map(&a, &b, true, |x: f32, y: f32| (x * y).exp()).unwrap();
        let s = zip_map(&a, &b, false, |x: f32, y: f32| (x * y).exp()).unwrap();
        assert!(p.iter().zip(s.iter()).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
