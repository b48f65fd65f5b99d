//! Parallel runs are bit-identical to serial ones, for 1 to 4 threads, on sizes that take the
//! split paths (several slots, several reduction groups).

use crate::values;
use stepflow::ops::conv::*;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `f(parallel)` serially, then in parallel on pools of 1..=4 threads: all bit-identical.
fn same_bits(what: &str, f: impl Fn(bool) -> Vec<f32> + Sync) {
    let serial = bits(&f(false));
    for threads in 1..=4 {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let parallel = pool.install(|| bits(&f(true)));
        assert!(serial == parallel, "{what}: {threads} threads differ from serial");
    }
}

fn f32v(seed: u64, n: usize) -> Vec<f32> {
    values(seed, n).iter().map(|&v| v as f32).collect()
}

#[test]
fn conv2d_kernels_split_without_changing_bits() {
    for (xs, fs, s, p) in [
        // several chunks of whole images
        ([32, 16, 16, 32], [3, 3, 32, 32], [1, 1], Padding::Same),
        // images cut into pieces
        ([3, 84, 80, 8], [3, 3, 8, 8], [1, 1], Padding::Explicit { top: 1, bottom: 2, left: 2, right: 0 }),
        // 1x1: the input is the patch matrix
        ([64, 16, 16, 32], [1, 1, 32, 24], [1, 1], Padding::Valid),
    ] {
        let g = Conv2dGeometry::new(xs, fs, s, [1, 1], p).unwrap();
        let (x, f, dy) = (f32v(1, g.input_len), f32v(2, g.filter_len), f32v(3, g.output_len));
        for w in 0..3 {
            same_bits(&format!("conv pass {w} {xs:?}"), |par| {
                let mut s = Vec::new();
                match w {
                    0 => {
                        let mut y = vec![0f32; g.output_len];
                        conv2d(&g, &x, &f, &mut y, &mut s, par).unwrap();
                        y
                    }
                    1 => {
                        let mut dx = vec![0f32; g.input_len];
                        conv2d_backprop_input(&g, &f, &dy, &mut dx, &mut s, par).unwrap();
                        dx
                    }
                    _ => {
                        let mut df = vec![0f32; g.filter_len];
                        conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut s, par).unwrap();
                        df
                    }
                }
            });
        }
    }
}

#[test]
fn depthwise_pool_batch_norm_and_bias_split_without_changing_bits() {
    let dg = DepthwiseGeometry::new([8, 32, 32, 16], [3, 3, 16, 2], [1, 1], [1, 1], Padding::Same).unwrap();
    let (x, f, dy) = (f32v(1, dg.input_len), f32v(2, dg.filter_len), f32v(3, dg.output_len));
    same_bits("depthwise", |p| {
        let mut y = vec![0f32; dg.output_len];
        depthwise_conv2d(&dg, &x, &f, &mut y, p).unwrap();
        y
    });
    same_bits("depthwise dx", |p| {
        let mut dx = vec![0f32; dg.input_len];
        depthwise_conv2d_backprop_input(&dg, &f, &dy, &mut dx, p).unwrap();
        dx
    });
    same_bits("depthwise df", |p| {
        let mut df = vec![0f32; dg.filter_len];
        depthwise_conv2d_backprop_filter(&dg, &x, &dy, &mut df, &mut Vec::new(), p).unwrap();
        df
    });
    let pg = PoolGeometry::new([32, 32, 32, 64], [3, 3], [2, 2], Padding::Same).unwrap();
    let (x, dy) = (f32v(4, pg.input_len), f32v(5, pg.output_len));
    same_bits("max_pool_grad", |p| {
        let mut dx = vec![0f32; pg.input_len];
        max_pool_grad(&pg, &x, &dy, &mut dx, p).unwrap();
        dx
    });
    same_bits("avg_pool_grad", |p| {
        let mut dx = vec![0f32; pg.input_len];
        avg_pool_grad(&pg, &dy, &mut dx, p).unwrap();
        dx
    });
    let shape = [64, 16, 16, 64];
    let bg = BatchNormGeometry::new(shape).unwrap();
    let n = shape.iter().product();
    let (x, dy) = (f32v(6, n), f32v(7, n));
    let (scale, offset, mean, var) = (f32v(8, 64), f32v(9, 64), f32v(10, 64), vec![1.0f32; 64]);
    same_bits("batch norm", |p| {
        let inputs = BatchNormInputs {
            x: &x,
            scale: &scale,
            offset: &offset,
            mean: &mean,
            variance: &var,
            epsilon: 1e-3,
            exponential_avg_factor: 0.5,
        };
        let mut y = vec![0f32; n];
        let mut st = vec![0f32; 4 * 64];
        let (a, rest) = st.split_at_mut(64);
        let (b, rest) = rest.split_at_mut(64);
        let (c, d) = rest.split_at_mut(64);
        let out = BatchNormOutputs { y: &mut y, batch_mean: a, batch_variance: b, saved_mean: c, saved_variance: d };
        fused_batch_norm_training(&bg, &inputs, out, &mut Vec::new(), p).unwrap();
        let (sm, sv) = (st[128..192].to_vec(), st[192..].to_vec());
        let gp = BatchNormGradInputs {
            y_backprop: &dy,
            x: &x,
            scale: &scale,
            mean: &sm,
            variance: &sv,
            epsilon: 1e-3,
            is_training: true,
        };
        let (mut dx, mut ds, mut doff) = (vec![0f32; n], vec![0f32; 64], vec![0f32; 64]);
        let grads = BatchNormGrads { x_backprop: &mut dx, scale_backprop: &mut ds, offset_backprop: &mut doff };
        fused_batch_norm_grad(&bg, &gp, grads, &mut Vec::new(), p).unwrap();
        [y, st, dx, ds, doff].concat()
    });
    for format in [DataFormat::Nhwc, DataFormat::Nchw] {
        let g = BiasGeometry::new(&shape, format).unwrap();
        same_bits("bias_add_grad", |p| {
            let mut db = vec![0f32; g.channels];
            bias_add_grad(&g, &x, &mut db, &mut Vec::new(), p).unwrap();
            db
        });
    }
}
