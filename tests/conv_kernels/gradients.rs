//! The gradient kernels against central differences of the forward kernels (f64): for a loss
//! `L = Σ forward(..) · r` with random `r`, each backprop must give `∂L/∂input`.

use crate::values;
use stepflow::ops::conv::*;

/// `(L(v + h·e_i) - L(v - h·e_i)) / 2h` for every element `i` of `v`.
fn numeric(v: &[f64], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    (0..v.len())
        .map(|i| {
            let (mut a, mut b) = (v.to_vec(), v.to_vec());
            a[i] += h;
            b[i] -= h;
            (loss(&a) - loss(&b)) / (2.0 * h)
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn assert_grad(what: &str, analytic: &[f64], numeric: &[f64]) {
    crate::assert_close(what, analytic, numeric, 1e-6);
}

/// Input, filter, strides, dilations, padding.
type ConvCase = ([usize; 4], [usize; 4], [usize; 2], [usize; 2], Padding);

const CONV_CASES: [ConvCase; 4] = [
    ([2, 5, 4, 2], [3, 2, 2, 3], [1, 1], [1, 1], Padding::Same),
    ([1, 6, 7, 2], [2, 3, 2, 2], [2, 3], [1, 1], Padding::Valid),
    ([1, 7, 6, 1], [2, 2, 1, 2], [1, 2], [2, 2], Padding::Explicit { top: 1, bottom: 2, left: 0, right: 1 }),
    ([2, 3, 3, 3], [1, 1, 3, 2], [1, 1], [1, 1], Padding::Valid),
];

#[test]
fn conv2d_backprops_are_the_derivatives_of_conv2d() {
    for (i, (xs, fs, s, d, p)) in CONV_CASES.into_iter().enumerate() {
        let g = Conv2dGeometry::new(xs, fs, s, d, p).unwrap();
        let (x, f, r) = (values(i as u64, g.input_len), values(9 + i as u64, g.filter_len), values(99, g.output_len));
        let run = |x: &[f64], f: &[f64]| {
            let mut y = vec![0.0; g.output_len];
            conv2d(&g, x, f, &mut y, &mut Vec::new(), false).unwrap();
            dot(&y, &r)
        };
        let (mut dx, mut df) = (vec![0.0; g.input_len], vec![0.0; g.filter_len]);
        conv2d_backprop_input(&g, &f, &r, &mut dx, &mut Vec::new(), false).unwrap();
        conv2d_backprop_filter(&g, &x, &r, &mut df, &mut Vec::new(), false).unwrap();
        assert_grad("conv dx", &dx, &numeric(&x, |x| run(x, &f)));
        assert_grad("conv df", &df, &numeric(&f, |f| run(&x, f)));
    }
}

#[test]
fn depthwise_backprops_are_the_derivatives_of_depthwise() {
    for (i, (xs, fs, s, d, p)) in CONV_CASES.into_iter().enumerate() {
        let fs = [fs[0], fs[1], xs[3], 2];
        let g = DepthwiseGeometry::new(xs, fs, s, d, p).unwrap();
        let (x, f, r) = (values(i as u64, g.input_len), values(9 + i as u64, g.filter_len), values(99, g.output_len));
        let run = |x: &[f64], f: &[f64]| {
            let mut y = vec![0.0; g.output_len];
            depthwise_conv2d(&g, x, f, &mut y, false).unwrap();
            dot(&y, &r)
        };
        let (mut dx, mut df) = (vec![0.0; g.input_len], vec![0.0; g.filter_len]);
        depthwise_conv2d_backprop_input(&g, &f, &r, &mut dx, false).unwrap();
        depthwise_conv2d_backprop_filter(&g, &x, &r, &mut df, &mut Vec::new(), false).unwrap();
        assert_grad("depthwise dx", &dx, &numeric(&x, |x| run(x, &f)));
        assert_grad("depthwise df", &df, &numeric(&f, |f| run(&x, f)));
    }
}

#[test]
fn pool_grads_are_the_derivatives_of_the_pools() {
    for (i, (xs, k, s, p)) in [
        ([2, 5, 6, 2], [2, 2], [2, 2], Padding::Valid),
        ([1, 7, 5, 3], [3, 3], [2, 1], Padding::Same),
        ([1, 4, 4, 1], [3, 2], [1, 1], Padding::Explicit { top: 2, bottom: 1, left: 1, right: 0 }),
    ]
    .into_iter()
    .enumerate()
    {
        let g = PoolGeometry::new(xs, k, s, p).unwrap();
        // Distinct values: the max is differentiable away from ties.
        let x = values(i as u64, g.input_len);
        let r = values(77, g.output_len);
        let max = |x: &[f64]| {
            let mut y = vec![0.0; g.output_len];
            max_pool(&g, x, &mut y, false).unwrap();
            dot(&y, &r)
        };
        let avg = |x: &[f64]| {
            let mut y = vec![0.0; g.output_len];
            avg_pool(&g, x, &mut y, false).unwrap();
            dot(&y, &r)
        };
        let mut dx = vec![0.0; g.input_len];
        max_pool_grad(&g, &x, &r, &mut dx, false).unwrap();
        assert_grad("max_pool dx", &dx, &numeric(&x, max));
        avg_pool_grad(&g, &r, &mut dx, false).unwrap();
        assert_grad("avg_pool dx", &dx, &numeric(&x, avg));
    }
}

#[test]
fn batch_norm_grad_is_the_derivative_of_batch_norm() {
    let (shape, c) = ([2, 3, 2, 3], 3);
    let g = BatchNormGeometry::new(shape).unwrap();
    let n = shape.iter().product();
    let x: Vec<f64> = values(1, n).iter().map(|v| v * 2.0 + 0.3).collect();
    let (scale, offset, r) = (values(2, c), values(3, c), values(4, n));
    let (pop_mean, pop_var): (Vec<f64>, Vec<f64>) = (values(5, c), values(6, c).iter().map(|v| v + 1.5).collect());
    let eps = 1e-3;
    // (loss, saved mean, saved variance) of one forward pass
    let forward = |x: &[f64], scale: &[f64], offset: &[f64], training: bool| {
        let p = BatchNormInputs {
            x,
            scale,
            offset,
            mean: &pop_mean,
            variance: &pop_var,
            epsilon: eps,
            exponential_avg_factor: 1.0,
        };
        let mut y = vec![0.0; n];
        let (mut m, mut v, mut sm, mut sv) = (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
        if training {
            let out = BatchNormOutputs {
                y: &mut y,
                batch_mean: &mut m,
                batch_variance: &mut v,
                saved_mean: &mut sm,
                saved_variance: &mut sv,
            };
            fused_batch_norm_training(&g, &p, out, &mut Vec::new(), false).unwrap();
        } else {
            fused_batch_norm_inference(&g, &p, &mut y, false).unwrap();
            (sm, sv) = (pop_mean.clone(), pop_var.clone());
        }
        (dot(&y, &r), sm, sv)
    };
    for training in [true, false] {
        let (_, mean, var) = forward(&x, &scale, &offset, training);
        let p = BatchNormGradInputs {
            y_backprop: &r,
            x: &x,
            scale: &scale,
            mean: &mean,
            variance: &var,
            epsilon: eps,
            is_training: training,
        };
        let (mut dx, mut ds, mut doff) = (vec![0.0; n], vec![0.0; c], vec![0.0; c]);
        let out = BatchNormGrads { x_backprop: &mut dx, scale_backprop: &mut ds, offset_backprop: &mut doff };
        fused_batch_norm_grad(&g, &p, out, &mut Vec::new(), false).unwrap();
        assert_grad("bn dx", &dx, &numeric(&x, |x| forward(x, &scale, &offset, training).0));
        assert_grad("bn dscale", &ds, &numeric(&scale, |s| forward(&x, s, &offset, training).0));
        assert_grad("bn doffset", &doff, &numeric(&offset, |o| forward(&x, &scale, o, training).0));
    }
}

#[test]
fn bias_add_grad_is_the_derivative_of_bias_add() {
    for (shape, format) in [(vec![2, 3, 4], DataFormat::Nhwc), (vec![2, 3, 2, 2], DataFormat::Nchw)] {
        let g = BiasGeometry::new(&shape, format).unwrap();
        let v = values(1, g.len);
        let b = values(2, g.channels);
        let r = values(3, g.len);
        let loss = |b: &[f64]| {
            let mut y = vec![0.0; g.len];
            bias_add(&g, &v, b, &mut y, false).unwrap();
            dot(&y, &r)
        };
        let mut db = vec![0.0; g.channels];
        bias_add_grad(&g, &r, &mut db, &mut Vec::new(), false).unwrap();
        assert_grad("bias db", &db, &numeric(&b, loss));
    }
}
