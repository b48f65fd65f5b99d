//! How the kernels split work so that the result never depends on the number of threads:
//! chunk boundaries come from the geometry alone, every chunk is computed by the same serial
//! code whichever thread runs it, and reductions add per-group partial results in group order.

use super::ConvReal;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Kernels with at least this many multiply-adds may use more than one thread (about 20 µs
/// on one core); below it, waking another thread costs more than it saves.
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 21;

/// Reductions never use more than this many groups, so partial results stay small.
pub(crate) const MAX_GROUPS: usize = 8;

/// How many threads (slots) a kernel uses for `units` independent pieces of `work` multiply-adds.
pub(crate) fn slots(parallel: bool, units: usize, work: usize) -> usize {
    if parallel && work >= PARALLEL_MIN_WORK { rayon::current_num_threads().min(units).max(1) } else { 1 }
}

/// The first unit of slot `s` when `units` are dealt out in contiguous runs to `slots` slots.
pub(crate) fn slot_start(s: usize, slots: usize, units: usize) -> usize {
    // s <= slots and units * slots fit: both are bounded by buffer lengths.
    s * units / slots
}

/// Splits `data` into consecutive pieces ending at the increasing offsets `ends`.
pub(crate) fn split_at_offsets<'a, T>(mut data: &'a mut [T], ends: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(ends.len());
    let mut at = 0;
    for &end in ends {
        let (head, tail) = data.split_at_mut(end - at);
        pieces.push(head);
        data = tail;
        at = end;
    }
    pieces
}

/// Runs `f(slot, piece, work)` for every slot: `data` is cut at `ends` (one end per slot) and
/// `work` gives each slot its own `work_len` elements, in parallel when there are several slots.
pub(crate) fn for_each_slot<T: Send, W: Send>(
    data: &mut [T],
    ends: &[usize],
    work: &mut [W],
    work_len: usize,
    f: impl Fn(usize, &mut [T], &mut [W]) + Sync,
) {
    let pieces = split_at_offsets(data, ends);
    if pieces.len() == 1 {
        if let Some(piece) = pieces.into_iter().next() {
            f(0, piece, &mut work[..work_len]);
        }
        return;
    }
    let works = work_slices(work, pieces.len(), work_len);
    pieces.into_par_iter().zip(works).enumerate().for_each(|(s, (piece, w))| f(s, piece, w));
}

/// `n` disjoint slices of `len` elements from the front of `work` (empty ones when `len` is 0).
fn work_slices<W>(work: &mut [W], n: usize, len: usize) -> Vec<&mut [W]> {
    if len == 0 {
        return (0..n).map(|_| <&mut [W]>::default()).collect();
    }
    work.chunks_mut(len).take(n).collect()
}

/// Grows `scratch` to at least `len` elements and returns them (never shrinks, so a buffer kept
/// by the caller is allocated once).
pub(crate) fn scratch_of<T: ConvReal>(scratch: &mut Vec<T>, len: usize) -> &mut [T] {
    if scratch.len() < len {
        scratch.resize(len, T::zero());
    }
    &mut scratch[..len]
}

/// `dst = a · b` (or `dst += a · b`), `dst` row-major `m × n`, on the calling thread. faer sums
/// each element over the inner dimension in an order fixed by the shapes alone.
pub(crate) fn gemm<T: ConvReal>(
    dst: &mut [T],
    m: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if a.ncols() == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    let accum = if accumulate { Accum::Add } else { Accum::Replace };
    faer::linalg::matmul::matmul(
        MatMut::from_row_major_slice_mut(dst, m, n),
        accum,
        a,
        b,
        <T as num_traits::One>::one(),
        Par::Seq,
    );
}

/// A row-major `rows × cols` view of `data`.
pub(crate) fn rows_of<T: ConvReal>(data: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_row_major_slice(data, rows, cols)
}

/// `dst += src` element-wise, vectorized.
#[inline(always)]
pub(crate) fn add_into<T: ConvReal>(dst: &mut [T], src: &[T]) {
    crate::ops::elementwise::vectorized(
        #[inline(always)]
        || dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s),
    )
}

/// The sum over `groups` of per-group partial results of `out.len()` elements, added in group
/// order: `out = ((p0 + p1) + p2) + ...` element by element, whether the groups run on one
/// thread or many. `fill(group, partial, work)` overwrites `partial` with one group's result,
/// using `work` (`work_len` elements of its own) as it likes.
pub(crate) fn ordered_sum<T: ConvReal>(
    out: &mut [T],
    groups: usize,
    work_len: usize,
    parallel_slots: usize,
    scratch: &mut Vec<T>,
    fill: impl Fn(usize, &mut [T], &mut [T]) + Sync,
) {
    let len = out.len();
    if groups == 0 {
        out.fill(T::zero());
        return;
    }
    let slots = parallel_slots.min(groups).max(1);
    if slots == 1 {
        let extra = if groups > 1 { len } else { 0 };
        let (partial, work) = scratch_of(scratch, extra + work_len).split_at_mut(extra);
        fill(0, out, work);
        for g in 1..groups {
            fill(g, partial, work);
            add_into(out, partial);
        }
        return;
    }
    let (partials, works) = scratch_of(scratch, (groups - 1) * len + slots * work_len).split_at_mut((groups - 1) * len);
    {
        let mut bufs: Vec<&mut [T]> = Vec::with_capacity(groups);
        bufs.push(&mut *out);
        bufs.extend(partials.chunks_mut(len.max(1)).take(groups - 1));
        let mut per_slot: Vec<Vec<(usize, &mut [T])>> = (0..slots).map(|_| Vec::new()).collect();
        for (g, buf) in bufs.into_iter().enumerate() {
            let s = (0..slots).rev().find(|&s| slot_start(s, slots, groups) <= g).unwrap_or(0);
            per_slot[s].push((g, buf));
        }
        per_slot.into_par_iter().zip(work_slices(works, slots, work_len)).for_each(|(jobs, work)| {
            for (g, buf) in jobs {
                fill(g, buf, work);
            }
        });
    }
    // Element blocks are independent; within one, partials are added in group order.
    let block = len.div_ceil(slots * 4).max(1024);
    let partials = &*partials;
    out.par_chunks_mut(block).enumerate().for_each(|(i, dst)| {
        for g in 1..groups {
            let start = (g - 1) * len + i * block;
            add_into(dst, &partials[start..start + dst.len()]);
        }
    });
}
