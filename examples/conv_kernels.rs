//! Times the convolution kernels at the shapes of the cnn_big_train and cnn_digits_train
//! workloads: Conv2D forward and both backprops, max-pool forward and gradient, bias gradient;
//! prints the median microseconds of one call and the convolutions' GFLOP/s, then each
//! workload's total for these kernels.
//!
//! usage: cargo run --release --example conv_kernels [-- serial]
//! (compare the GFLOP/s with the machine's sgemm ceiling, as measured by an optimized BLAS)

#[path = "common/timing.rs"]
mod timing;

use stepflow::Result;
use stepflow::ops::conv::*;

struct Layer {
    name: &'static str,
    input: [usize; 4],
    filter: [usize; 4],
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 1000.0 - 0.5).collect()
}

/// Times one layer's kernels; returns their summed median microseconds.
fn layer(l: &Layer, parallel: bool) -> Result<f64> {
    let g = Conv2dGeometry::new(l.input, l.filter, [1, 1], [1, 1], Padding::Same)?;
    let (x, f, dy) = (values(g.input_len, 1), values(g.filter_len, 2), values(g.output_len, 3));
    let mut scratch = Vec::with_capacity(conv2d_scratch_len(&g, parallel));
    let (mut y, mut dx, mut df) = (vec![0f32; g.output_len], vec![0f32; g.input_len], vec![0f32; g.filter_len]);
    let flops = 2.0 * (g.output_len * g.patch_len()) as f64;
    let runs = (2e9 / flops).clamp(3.0, 2000.0) as usize;
    let mut total = 0.0;
    let mut report = |what: &str, us: f64, flops: f64| {
        total += us;
        let rate = if flops > 0.0 { format!("{:8.1} GFLOP/s", flops / us / 1e3) } else { String::new() };
        println!("{:<26} {:<16} {us:10.1} us {rate}", l.name, what);
    };
    report("Conv2D", timing::time(runs, || Ok(conv2d(&g, &x, &f, &mut y, &mut scratch, parallel)?))?, flops);
    let us = timing::time(runs, || Ok(conv2d_backprop_input(&g, &f, &dy, &mut dx, &mut scratch, parallel)?))?;
    report("BackpropInput", us, flops);
    let us = timing::time(runs, || Ok(conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut scratch, parallel)?))?;
    report("BackpropFilter", us, flops);
    let bg = BiasGeometry::new(&g.output_shape(), DataFormat::Nhwc)?;
    let mut db = vec![0f32; g.out_channels];
    report("BiasAddGrad", timing::time(runs, || Ok(bias_add_grad(&bg, &dy, &mut db, &mut scratch, parallel)?))?, 0.0);
    let pg = PoolGeometry::new(g.output_shape(), [2, 2], [2, 2], Padding::Valid)?;
    let (mut p, pdy) = (vec![0f32; pg.output_len], values(pg.output_len, 4));
    report("MaxPool", timing::time(runs, || Ok(max_pool(&pg, &dy, &mut p, parallel)?))?, 0.0);
    report("MaxPoolGrad", timing::time(runs, || Ok(max_pool_grad(&pg, &dy, &pdy, &mut y, parallel)?))?, 0.0);
    Ok(total)
}

fn main() -> Result<()> {
    let parallel = std::env::args().nth(1).as_deref() != Some("serial");
    println!("threads: {}, parallel: {parallel}", if parallel { rayon::current_num_threads() } else { 1 });
    let workloads = [
        (
            "cnn_big_train",
            10.7e9,
            [
                Layer { name: "big conv1 32x32x3->64", input: [32, 32, 32, 3], filter: [5, 5, 3, 64] },
                Layer { name: "big conv2 16x16x64->128", input: [32, 16, 16, 64], filter: [5, 5, 64, 128] },
            ],
        ),
        (
            "cnn_digits_train",
            0.0,
            [
                Layer { name: "digits conv1 8x8x1->32", input: [128, 8, 8, 1], filter: [3, 3, 1, 32] },
                Layer { name: "digits conv2 4x4x32->64", input: [128, 4, 4, 32], filter: [3, 3, 32, 64] },
            ],
        ),
    ];
    for (name, step_flops, layers) in workloads {
        let mut total = 0.0;
        let mut conv_flops = 0.0;
        for l in &layers {
            total += layer(l, parallel)?;
            let g = Conv2dGeometry::new(l.input, l.filter, [1, 1], [1, 1], Padding::Same)?;
            conv_flops += 3.0 * 2.0 * (g.output_len * g.patch_len()) as f64;
        }
        let rate = conv_flops / total / 1e3;
        print!(
            "{name}: these kernels {total:.1} us per step ({:.2} GFLOP in convolutions, {rate:.1} GFLOP/s overall)",
            conv_flops / 1e9
        );
        if step_flops > 0.0 {
            print!("; a whole step is {:.1} GFLOP", step_flops / 1e9);
        }
        println!();
    }
    Ok(())
}
