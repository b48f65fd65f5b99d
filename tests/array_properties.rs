//! Properties of the cutting and joining ops on random shapes and specs, beyond the hand-worked
//! and TF values of `tests/ops`: a strided slice and its gradient agree on which elements a spec
//! takes (folded at build time and run on fed values alike), splits concatenate back to their
//! input, and a stitch of a partitioned permutation puts every row back.

use proptest::prelude::*;
use stepflow::ops::array::{StridedSlice, StridedSliceGrad};
use stepflow::{DType, Graph, Output, Result, Session, Shape, Tensor};

/// A random strided slice: input dims, then per spec entry begin, end and stride, and the masks.
#[derive(Clone, Debug)]
struct Spec {
    dims: Vec<usize>,
    begin: Vec<i32>,
    end: Vec<i32>,
    strides: Vec<i32>,
    masks: StridedSlice,
}

fn spec() -> impl Strategy<Value = Spec> {
    let dims = prop::collection::vec(0usize..5, 1..=3);
    let entries =
        prop::collection::vec((-7i32..8, -7i32..8, prop::sample::select(vec![-3, -2, -1, 1, 1, 2, 3, 0])), 1..=4);
    let masks = (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 0u8..8);
    (dims, entries, masks).prop_map(|(dims, entries, (b, e, n, s, ell))| {
        let k = entries.len() as u32;
        let keep = |m: u8| i64::from(m) & ((1 << k) - 1);
        let masks = StridedSlice {
            begin_mask: keep(b),
            end_mask: keep(e),
            new_axis_mask: keep(n & s.rotate_left(3)),
            shrink_axis_mask: keep(s & b.rotate_left(1)),
            ellipsis_mask: if u32::from(ell) < k { 1 << ell } else { 0 },
        };
        Spec {
            dims,
            begin: entries.iter().map(|e| e.0).collect(),
            end: entries.iter().map(|e| e.1).collect(),
            strides: entries.iter().map(|e| e.2).collect(),
            masks,
        }
    })
}

fn grad_op(m: &StridedSlice) -> StridedSliceGrad {
    StridedSliceGrad {
        begin_mask: m.begin_mask,
        end_mask: m.end_mask,
        ellipsis_mask: m.ellipsis_mask,
        new_axis_mask: m.new_axis_mask,
        shrink_axis_mask: m.shrink_axis_mask,
    }
}

/// `x = 1, 2, ...` of the spec's dims.
fn distinct(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::from_vec(dims, (1..=n).map(|v| v as f32).collect()).unwrap()
}

/// `y = x[spec]` and `r = StridedSliceGrad(shape(x), spec, y)`, with x and the spec constants
/// (`fed`: false, so both fold when the graph is built) or fed placeholders of unknown dims.
fn slice_and_scatter(s: &Spec, fed: bool) -> Result<Vec<Tensor>> {
    let mut g = Graph::new();
    let x = distinct(&s.dims);
    let mut feeds: Vec<(Output, Tensor)> = Vec::new();
    let mut input = |g: &mut Graph, t: Tensor| -> Result<Output> {
        if !fed {
            return g.constant(t);
        }
        let p = g.placeholder(t.dtype(), Shape::unknown_dims(t.rank()))?;
        feeds.push((p, t));
        Ok(p)
    };
    let xs = input(&mut g, x)?;
    let n = s.begin.len();
    let vector = |v: &[i32]| Tensor::from_vec(&[n], v.to_vec()).unwrap();
    let (b, e, st) =
        (input(&mut g, vector(&s.begin))?, input(&mut g, vector(&s.end))?, input(&mut g, vector(&s.strides))?);
    let y = g.op("StridedSlice", s.masks, &[xs, b, e, st])?;
    let shape = g.shape_of(xs)?;
    let r = g.op("StridedSliceGrad", grad_op(&s.masks), &[shape, b, e, st, y])?;
    Session::new(g).run(&feeds, &[y, r], &[])
}

fn one_line(e: &stepflow::Error) -> bool {
    let m = e.to_string();
    !m.contains('\n') && m.contains("node '")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_strided_slice_and_its_gradient_take_the_same_elements(s in spec()) {
        let folded = slice_and_scatter(&s, false);
        let fed = slice_and_scatter(&s, true);
        match (&folded, &fed) {
            (Ok(a), Ok(b)) => {
                prop_assert!(a[0].bit_eq(&b[0]) && a[1].bit_eq(&b[1]), "folded {:?} fed {:?}", a, b);
                let (y, r) = (a[0].to_f64_vec(), a[1].to_f64_vec());
                let x = distinct(&s.dims).to_f64_vec();
                prop_assert_eq!(r.len(), x.len());
                // x's elements are distinct and non-zero: r holds each taken element once, in place.
                prop_assert!(r.iter().zip(&x).all(|(r, x)| *r == 0.0 || r == x), "r {:?}", r);
                let mut taken: Vec<f64> = r.iter().copied().filter(|&v| v != 0.0).collect();
                let mut sliced = y.clone();
                taken.sort_by(f64::total_cmp);
                sliced.sort_by(f64::total_cmp);
                prop_assert_eq!(taken, sliced);
            }
            (Err(a), Err(b)) => prop_assert!(one_line(a) && one_line(b), "{a} / {b}"),
            (a, b) => prop_assert!(false, "folded {:?} but fed {:?}", a.as_ref().map(|_| ()), b.as_ref().map(|_| ())),
        }
    }

    #[test]
    fn split_v_pieces_concatenate_back(
        dims in prop::collection::vec(0usize..5, 1..=3),
        axis_pick in 0usize..3,
        cuts in prop::collection::vec(0usize..6, 0..4),
        rest in any::<Option<prop::sample::Index>>(),
    ) {
        let axis = axis_pick % dims.len();
        let d = dims[axis];
        // sizes: the gaps between sorted cut points in [0, d]
        let mut points: Vec<usize> = cuts.iter().map(|c| c.min(&d).to_owned()).collect();
        points.push(0);
        points.push(d);
        points.sort();
        let mut sizes: Vec<i64> = points.windows(2).map(|w| (w[1] - w[0]) as i64).collect();
        // One piece must take the whole axis by its size: TF's kernel refuses a lone -1.
        if let (Some(i), true) = (rest, sizes.len() > 1) {
            let i = i.index(sizes.len());
            sizes[i] = -1;
        }
        let mut g = Graph::new();
        let x = g.placeholder(DType::Float32, Shape::unknown_dims(dims.len())).unwrap();
        let pieces = g.split_v(x, &sizes, axis as i64).unwrap();
        let back = g.concat(&pieces, axis as i64).unwrap();
        let xv = distinct(&dims);
        let out = Session::new(g).run(&[(x, xv.clone())], &[back], &[]).unwrap();
        prop_assert!(out[0].bit_eq(&xv));
    }

    #[test]
    fn a_stitch_of_a_partitioned_permutation_puts_every_row_back(
        perm in Just((0..9i32).collect::<Vec<_>>()).prop_shuffle(),
        parts in 1usize..4,
        width in 0usize..3,
    ) {
        let mut g = Graph::new();
        let x = distinct(&[9, width]);
        let xs = g.constant(x.clone()).unwrap();
        let mut indices = Vec::new();
        let mut data = Vec::new();
        for chunk in perm.chunks(perm.len().div_ceil(parts)) {
            let i = g.constant(Tensor::from_vec(&[chunk.len()], chunk.to_vec()).unwrap()).unwrap();
            data.push(g.gather(xs, i, 0).unwrap());
            indices.push(i);
        }
        let y = g.dynamic_stitch(&indices, &data).unwrap();
        let out = Session::new(g).run(&[], &[y], &[]).unwrap();
        prop_assert!(out[0].bit_eq(&x));
    }
}
