//! Element-wise arithmetic, comparisons, selection, MatMul and reductions.

use super::tiles::{eval_broadcast, eval_tiled};
use super::util::*;
use stepflow::{DType, Graph, Output, Result, Tensor};

/// Applies a binary builder method to two fed tensors (and to them repeated past the split
/// threshold).
fn bin(a: Tensor, b: Tensor, f: fn(&mut Graph, Output, Output) -> Result<Output>) -> Result<Tensor> {
    eval_broadcast(&[a, b], |g, x| f(g, x[0], x[1]))
}

/// Applies a unary builder method to a fed tensor (and to it repeated past the split threshold).
pub fn un(a: Tensor, f: fn(&mut Graph, Output) -> Result<Output>) -> Tensor {
    eval_tiled(&[a], |g, x| f(g, x[0])).unwrap()
}

pub fn add() {
    let t = bin(f32s(&[2, 2], &[1., 2., 3., 4.]), f32s(&[2], &[10., 20.]), Graph::add).unwrap();
    assert_close(&t, &[2, 2], &[11., 22., 13., 24.]);
    let t = bin(i32s(&[], &[i32::MAX]), i32s(&[], &[1]), Graph::add).unwrap();
    assert_exact(&t, &[], &[i32::MIN as f64]);
    assert!(bin(f32s(&[2], &[1., 2.]), f32s(&[3], &[1., 2., 3.]), Graph::add).is_err(), "[2] + [3] does not broadcast");
}

pub fn add_n() {
    let xs = [f32s(&[2], &[1., 2.]), f32s(&[2], &[3., 4.]), f32s(&[2], &[5., 6.])];
    assert_close(&eval_tiled(&xs, |g, x| g.add_n(x)).unwrap(), &[2], &[9., 12.]);
}

pub fn sub() {
    assert_close(&bin(f32s(&[2], &[5., 7.]), f32s(&[], &[2.]), Graph::sub).unwrap(), &[2], &[3., 5.]);
}

pub fn mul() {
    let t = bin(f32s(&[2, 1], &[1., 2.]), f32s(&[2], &[3., 4.]), Graph::mul).unwrap();
    assert_close(&t, &[2, 2], &[3., 4., 6., 8.]);
}

pub fn real_div() {
    assert_close(&bin(f64s(&[2], &[1., 3.]), f64s(&[2], &[2., 4.]), Graph::div).unwrap(), &[2], &[0.5, 0.75]);
    let inf = bin(f32s(&[], &[1.]), f32s(&[], &[0.]), Graph::div).unwrap();
    assert_eq!(inf.to_f64_vec(), vec![f64::INFINITY]);
}

pub fn floor_div() {
    let t = bin(i32s(&[2], &[-7, 7]), i32s(&[2], &[2, -2]), Graph::floor_div).unwrap();
    assert_exact(&t, &[2], &[-4., -4.]);
    assert_close(&bin(f32s(&[1], &[-7.]), f32s(&[1], &[2.]), Graph::floor_div).unwrap(), &[1], &[-4.]);
    let e = bin(i32s(&[1], &[1]), i32s(&[1], &[0]), Graph::floor_div).unwrap_err();
    assert!(e.to_string().contains("division by zero"), "{e}");
}

pub fn floor_mod() {
    let t = bin(i32s(&[2], &[-7, 7]), i32s(&[2], &[2, -2]), Graph::floor_mod).unwrap();
    assert_exact(&t, &[2], &[1., -1.]);
    assert_close(&bin(f64s(&[1], &[7.5]), f64s(&[1], &[-2.]), Graph::floor_mod).unwrap(), &[1], &[-0.5]);
}

pub fn pow() {
    assert_close(&bin(f32s(&[2], &[2., 3.]), f32s(&[2], &[3., 2.]), Graph::pow).unwrap(), &[2], &[8., 9.]);
    assert_exact(&bin(i32s(&[1], &[3]), i32s(&[1], &[4]), Graph::pow).unwrap(), &[1], &[81.]);
    assert!(bin(i32s(&[1], &[2]), i32s(&[1], &[-1]), Graph::pow).is_err());
}

pub fn maximum() {
    let t = bin(f32s(&[3], &[1., 5., f32::NAN]), f32s(&[3], &[3., 2., 0.]), Graph::maximum).unwrap();
    assert_close(&t, &[3], &[3., 5., f64::NAN]);
}

pub fn minimum() {
    assert_close(&bin(f32s(&[2], &[1., 5.]), f32s(&[2], &[3., 2.]), Graph::minimum).unwrap(), &[2], &[1., 2.]);
}

pub fn neg() {
    assert_exact(&un(i32s(&[3], &[-2, 0, 3]), Graph::neg), &[3], &[2., 0., -3.]);
}

pub fn abs() {
    assert_close(&un(f32s(&[3], &[-2.5, 0., 3.]), Graph::abs), &[3], &[2.5, 0., 3.]);
}

pub fn sign() {
    assert_close(&un(f32s(&[3], &[-2.5, 0., 3.]), Graph::sign), &[3], &[-1., 0., 1.]);
}

pub fn square() {
    assert_close(&un(f32s(&[2], &[-3., 0.5]), Graph::square), &[2], &[9., 0.25]);
}

pub fn sqrt() {
    assert_close(&un(f32s(&[2], &[4., 9.]), Graph::sqrt), &[2], &[2., 3.]);
}

pub fn rsqrt() {
    assert_close(&un(f32s(&[2], &[4., 0.25]), Graph::rsqrt), &[2], &[0.5, 2.]);
}

pub fn exp() {
    assert_close(&un(f64s(&[2], &[0., 1.]), Graph::exp), &[2], &[1., std::f64::consts::E]);
}

pub fn log() {
    assert_close(&un(f64s(&[2], &[1., std::f64::consts::E]), Graph::log), &[2], &[0., 1.]);
}

pub fn log1p() {
    // log(1 + 1e-10) computed naively in f64 would lose about 8 digits.
    assert_close(&un(f64s(&[2], &[0., 1e-10]), Graph::log1p), &[2], &[0., 9.9999999995e-11]);
}

pub fn floor() {
    assert_close(&un(f32s(&[2], &[-1.5, 1.5]), Graph::floor), &[2], &[-2., 1.]);
}

pub fn ceil() {
    assert_close(&un(f32s(&[2], &[-1.5, 1.5]), Graph::ceil), &[2], &[-1., 2.]);
}

pub fn round() {
    // Half to even, as TF.
    let t = un(f32s(&[6], &[0.5, 1.5, 2.5, -0.5, -1.7, 2.4]), Graph::round);
    assert_close(&t, &[6], &[0., 2., 2., 0., -2., 2.]);
}

pub fn sin() {
    assert_close(&un(f64s(&[2], &[0., std::f64::consts::FRAC_PI_2]), Graph::sin), &[2], &[0., 1.]);
}

pub fn cos() {
    assert_close(&un(f64s(&[2], &[0., std::f64::consts::PI]), Graph::cos), &[2], &[1., -1.]);
}

pub fn cast() {
    let x = f32s(&[3], &[1.7, -1.7, 0.0]);
    let t = eval_tiled(std::slice::from_ref(&x), |g, x| g.cast(x[0], DType::Int32)).unwrap();
    assert_eq!(t.dtype(), DType::Int32);
    assert_exact(&t, &[3], &[1., -1., 0.]);
    let b = eval_tiled(&[x], |g, x| g.cast(x[0], DType::Bool)).unwrap();
    assert_exact(&b, &[3], &[1., 1., 0.]);
}

pub fn logical_not() {
    assert_exact(&un(bools(&[2], &[true, false]), Graph::logical_not), &[2], &[0., 1.]);
}

pub fn comparisons() {
    let a = || i32s(&[3], &[1, 2, 3]);
    let b = || i32s(&[], &[2]);
    type Compare = fn(&mut Graph, Output, Output) -> Result<Output>;
    let cases: [(Compare, [f64; 3]); 6] = [
        (Graph::less, [1., 0., 0.]),
        (Graph::less_equal, [1., 1., 0.]),
        (Graph::greater, [0., 0., 1.]),
        (Graph::greater_equal, [0., 1., 1.]),
        (Graph::equal, [0., 1., 0.]),
        (Graph::not_equal, [1., 0., 1.]),
    ];
    for (f, want) in cases {
        let t = bin(a(), b(), f).unwrap();
        assert_eq!(t.dtype(), DType::Bool);
        assert_exact(&t, &[3], &want);
    }
    // int64 compares exactly beyond 2^53.
    let big = bin(Tensor::scalar((1i64 << 53) + 1), Tensor::scalar(1i64 << 53), Graph::greater).unwrap();
    assert_exact(&big, &[], &[1.]);
}

pub fn logical_and_or() {
    let a = || bools(&[4], &[true, true, false, false]);
    let b = || bools(&[4], &[true, false, true, false]);
    assert_exact(&bin(a(), b(), Graph::logical_and).unwrap(), &[4], &[1., 0., 0., 0.]);
    assert_exact(&bin(a(), b(), Graph::logical_or).unwrap(), &[4], &[1., 1., 1., 0.]);
}

pub fn select() {
    // TF1 Select: a vector condition chooses whole rows.
    let t = eval1(|g| {
        let c = feed(g, bools(&[2], &[true, false]))?;
        let a = feed(g, f32s(&[2, 2], &[1., 2., 3., 4.]))?;
        let b = feed(g, f32s(&[2, 2], &[5., 6., 7., 8.]))?;
        g.op("Select", stepflow::ops::compare::Select {}, &[c, a, b])
    })
    .unwrap();
    assert_close(&t, &[2, 2], &[1., 2., 7., 8.]);
}

pub fn select_v2() {
    let inputs = [bools(&[2, 1], &[true, false]), f32s(&[2], &[1., 2.]), f32s(&[], &[9.])];
    let t = eval_broadcast(&inputs, |g, x| g.select(x[0], x[1], x[2])).unwrap();
    assert_close(&t, &[2, 2], &[1., 2., 9., 9.]);
}

pub fn matmul() {
    let a = || f32s(&[2, 2], &[1., 2., 3., 4.]);
    let b = || f32s(&[2, 2], &[5., 6., 7., 8.]);
    let mm = |ta, tb| {
        eval1(|g| {
            let (x, y) = (feed(g, a())?, feed(g, b())?);
            g.matmul_t(x, y, ta, tb)
        })
        .unwrap()
    };
    assert_close(&mm(false, false), &[2, 2], &[19., 22., 43., 50.]);
    assert_close(&mm(true, false), &[2, 2], &[26., 30., 38., 44.]);
    assert_close(&mm(false, true), &[2, 2], &[17., 23., 39., 53.]);
    assert_close(&mm(true, true), &[2, 2], &[23., 31., 34., 46.]);
    // Large enough to be split across threads: (J · I) has every row equal to the column sums.
    let n = 300;
    let big = eval1(|g| {
        let ones = feed(g, Tensor::filled(DType::Float32, &[n, n], 1.0))?;
        let eye = feed(
            g,
            Tensor::from_vec(&[n, n], (0..n * n).map(|i| if i / n == i % n { 2.0f32 } else { 0.0 }).collect())?,
        )?;
        g.matmul(ones, eye)
    })
    .unwrap();
    assert!(big.to_f64_vec().iter().all(|&v| v == 2.0));
    // Exactly at the split threshold (2^21 multiply-adds) and as costly as the scheduled way's
    // ballast, so there it runs unsplit beside it. Small integers: every sum is exact in f32.
    let n = 128;
    let value = |i: usize, m: usize| ((i * m) % 13) as f32 - 6.0;
    let a: Vec<f32> = (0..n * n).map(|i| value(i, 7)).collect();
    let b: Vec<f32> = (0..n * n).map(|i| value(i, 5)).collect();
    let ab = eval1(|g| {
        let x = feed(g, f32s(&[n, n], &a))?;
        let y = feed(g, f32s(&[n, n], &b))?;
        g.matmul(x, y)
    })
    .unwrap();
    let want: Vec<f64> =
        (0..n * n).map(|ij| (0..n).map(|k| f64::from(a[ij / n * n + k] * b[k * n + ij % n])).sum()).collect();
    assert_exact(&ab, &[n, n], &want);
    let i = eval1(|g| {
        let x = feed(g, i32s(&[1, 2], &[2, 3]))?;
        let y = feed(g, i32s(&[2, 1], &[4, 5]))?;
        g.matmul(x, y)
    })
    .unwrap();
    assert_exact(&i, &[1, 1], &[23.]);
}

fn grid() -> Tensor {
    f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.])
}

type Reduce = fn(&mut Graph, Output, Option<&[i64]>, bool) -> Result<Output>;

fn reduce(f: Reduce, axes: Option<&[i64]>, keep: bool) -> Tensor {
    eval1(|g| {
        let x = feed(g, grid())?;
        f(g, x, axes, keep)
    })
    .unwrap()
}

pub fn sum() {
    assert_close(&reduce(Graph::reduce_sum, Some(&[0]), false), &[3], &[5., 7., 9.]);
    assert_close(&reduce(Graph::reduce_sum, Some(&[-1]), true), &[2, 1], &[6., 15.]);
    assert_close(&reduce(Graph::reduce_sum, None, false), &[], &[21.]);
    assert_close(&reduce(Graph::reduce_sum, Some(&[]), false), &[2, 3], &[1., 2., 3., 4., 5., 6.]);
}

pub fn mean() {
    assert_close(&reduce(Graph::reduce_mean, Some(&[1]), false), &[2], &[2., 5.]);
    assert_close(&reduce(Graph::reduce_mean, None, true), &[1, 1], &[3.5]);
}

pub fn max() {
    assert_close(&reduce(Graph::reduce_max, Some(&[0]), false), &[3], &[4., 5., 6.]);
}

pub fn min() {
    assert_close(&reduce(Graph::reduce_min, None, false), &[], &[1.]);
}

pub fn prod() {
    assert_close(&reduce(Graph::reduce_prod, Some(&[1]), false), &[2], &[6., 120.]);
}

pub fn argmax() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[1., 9., 9., 4., 2., 6.]))?;
        g.argmax(x, 1)
    })
    .unwrap();
    assert_eq!(t.dtype(), DType::Int64);
    assert_exact(&t, &[2], &[1., 2.]);
}

pub fn argmin() {
    let t = eval1(|g| {
        let x = feed(g, f32s(&[2, 3], &[1., 9., 0., 1., 2., 6.]))?;
        g.argmin(x, 0)
    })
    .unwrap();
    assert_exact(&t, &[3], &[0., 1., 0.]);
}

/// ArgMax and ArgMin never choose NaN (TF's scan compares with `>` / `<`), and compare int64
/// values exactly beyond 2^53.
pub fn arg_extremes_skip_nan() {
    let x = f32s(&[2, 3], &[1., f32::NAN, 3., f32::NAN, 2., 0.]);
    let max = eval1(|g| {
        let x = feed(g, x.clone())?;
        g.argmax(x, 1)
    })
    .unwrap();
    assert_exact(&max, &[2], &[2., 1.]);
    let min = eval1(|g| {
        let x = feed(g, x.clone())?;
        g.argmin(x, 1)
    })
    .unwrap();
    assert_exact(&min, &[2], &[0., 2.]);
    let big = eval1(|g| {
        let x = feed(g, Tensor::from_vec(&[2], vec![1i64 << 53, (1i64 << 53) + 1])?)?;
        g.argmax(x, 0)
    })
    .unwrap();
    assert_exact(&big, &[], &[1.]);
}
