//! Every kernel against the naive references on random geometries: batch, sizes, channels,
//! windows, strides, dilations and padding kinds, including empty dimensions and windows
//! larger than the input.

use crate::reference::{self, Depthwise, Pool};
use crate::{assert_close, pads, reference_conv, to_f32, values};
use proptest::prelude::*;
use stepflow::ops::conv::*;

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Same),
        Just(Padding::Valid),
        (0..3usize, 0..3usize, 0..3usize, 0..3usize).prop_map(|(top, bottom, left, right)| Padding::Explicit {
            top,
            bottom,
            left,
            right
        }),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    x: [usize; 4],
    f: [usize; 4],
    s: [usize; 2],
    d: [usize; 2],
    p: Padding,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..3usize,
        0..8usize,
        0..8usize,
        0..4usize,
        1..4usize,
        1..5usize,
        0..4usize,
        1..4usize,
        1..4usize,
        1..3usize,
        1..3usize,
    )
        .prop_flat_map(|(n, h, w, c, fh, fw, o, sh, sw, dh, dw)| {
            (padding(), any::<u64>()).prop_map(move |(p, seed)| Case {
                x: [n, h, w, c],
                f: [fh, fw, c, o],
                s: [sh, sw],
                d: [dh, dw],
                p,
                seed,
            })
        })
}

fn len(s: &[usize]) -> usize {
    s.iter().product()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn conv2d_matches_the_direct_sum(k in case()) {
        let g = Conv2dGeometry::new(k.x, k.f, k.s, k.d, k.p);
        let Some(r) = reference_conv(k.x, k.f, k.s, k.d, k.p) else {
            prop_assert!(g.is_err(), "TF reports a negative size: {k:?}");
            return Ok(());
        };
        let g = g.unwrap();
        prop_assert_eq!(g.output_shape(), r.y_shape());
        let (x, f) = (values(k.seed, len(&k.x)), values(k.seed ^ 1, len(&k.f)));
        let dy = values(k.seed ^ 2, g.output_len);
        let mut scratch = Vec::new();
        let mut y = vec![0.0; g.output_len];
        conv2d(&g, &x, &f, &mut y, &mut scratch, false).unwrap();
        assert_close("conv2d", &y, &r.forward(&x, &f), 1e-12);
        let mut dx = vec![7.0; g.input_len];
        conv2d_backprop_input(&g, &f, &dy, &mut dx, &mut scratch, false).unwrap();
        assert_close("backprop input", &dx, &r.backprop_input(&f, &dy), 1e-12);
        let mut df = vec![7.0; g.filter_len];
        conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut scratch, false).unwrap();
        assert_close("backprop filter", &df, &r.backprop_filter(&x, &dy), 1e-12);
        // f32 against the f64 reference
        let mut y32 = vec![0f32; g.output_len];
        conv2d(&g, &to_f32(&x), &to_f32(&f), &mut y32, &mut Vec::new(), true).unwrap();
        assert_close("conv2d f32", &y32, &r.forward(&x, &f), 1e-5);
    }

    #[test]
    fn depthwise_matches_the_direct_sum(k in case(), m in 0..3usize) {
        let fshape = [k.f[0], k.f[1], k.x[3], m];
        let g = DepthwiseGeometry::new(k.x, fshape, k.s, k.d, k.p);
        let Some(r) = reference_conv(k.x, fshape, k.s, k.d, k.p) else {
            prop_assert!(g.is_err());
            return Ok(());
        };
        let (g, r) = (g.unwrap(), Depthwise(r));
        prop_assert_eq!(g.output_shape(), r.y_shape());
        let (x, f) = (values(k.seed, len(&k.x)), values(k.seed ^ 1, len(&fshape)));
        let dy = values(k.seed ^ 2, g.output_len);
        let mut y = vec![0.0; g.output_len];
        depthwise_conv2d(&g, &x, &f, &mut y, false).unwrap();
        assert_close("depthwise", &y, &r.forward(&x, &f), 1e-12);
        let mut dx = vec![7.0; g.input_len];
        depthwise_conv2d_backprop_input(&g, &f, &dy, &mut dx, false).unwrap();
        assert_close("depthwise backprop input", &dx, &r.backprop_input(&f, &dy), 1e-12);
        let mut df = vec![7.0; g.filter_len];
        depthwise_conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut Vec::new(), false).unwrap();
        assert_close("depthwise backprop filter", &df, &r.backprop_filter(&x, &dy), 1e-12);
    }

    #[test]
    fn pools_match_the_window_scan(k in case()) {
        let window = [k.f[0], k.f[1]];
        let g = PoolGeometry::new(k.x, window, k.s, k.p);
        let explicit_too_big = matches!(k.p, Padding::Explicit { top, bottom, left, right }
            if top >= window[0] || bottom >= window[0] || left >= window[1] || right >= window[1]);
        let [pr, pc] = pads(k.p);
        let sizes = reference::axis(k.x[1], window[0], k.s[0], 1, pr).zip(reference::axis(k.x[2], window[1], k.s[1], 1, pc));
        let Some(((oh, ph), (ow, pw))) = sizes.filter(|_| !explicit_too_big) else {
            prop_assert!(g.is_err());
            return Ok(());
        };
        let g = g.unwrap();
        let r = Pool { x: k.x, k: window, s: k.s, out: [oh, ow], pad: [ph, pw] };
        prop_assert_eq!(g.output_len, r.y_len());
        // Coarse values make ties, which must go to the first maximum in scan order.
        let x: Vec<f64> = values(k.seed, len(&k.x)).iter().map(|v| (v * 3.0).round()).collect();
        let dy = values(k.seed ^ 2, g.output_len);
        let mut y = vec![0.0; g.output_len];
        if g.input_len == 0 {
            // Windows over an empty image hold only padding: no values to compare, no panic.
            max_pool(&g, &x, &mut y, false).unwrap();
            avg_pool(&g, &x, &mut y, false).unwrap();
            max_pool_grad(&g, &x, &dy, &mut [], false).unwrap();
            avg_pool_grad(&g, &dy, &mut [], false).unwrap();
            return Ok(());
        }
        max_pool(&g, &x, &mut y, false).unwrap();
        assert_close("max_pool", &y, &r.max(&x), 0.0);
        let mut dx = vec![7.0; g.input_len];
        max_pool_grad(&g, &x, &dy, &mut dx, false).unwrap();
        assert_close("max_pool_grad", &dx, &r.max_grad(&x, &dy), 1e-12);
        avg_pool(&g, &x, &mut y, false).unwrap();
        assert_close("avg_pool", &y, &r.avg(&x), 1e-12);
        avg_pool_grad(&g, &dy, &mut dx, false).unwrap();
        assert_close("avg_pool_grad", &dx, &r.avg_grad(&dy), 1e-12);
    }

    #[test]
    fn batch_norm_matches_the_formulas(n in 0..4usize, h in 1..4usize, c in 0..5usize, seed in any::<u64>()) {
        let shape = [n, h, 3, c];
        let g = BatchNormGeometry::new(shape).unwrap();
        let total = len(&shape);
        let x: Vec<f64> = values(seed, total).iter().map(|v| v * 2.0 + 0.5).collect();
        let (scale, offset) = (values(seed ^ 1, c), values(seed ^ 2, c));
        let (old_mean, old_var) = (values(seed ^ 3, c), values(seed ^ 4, c).iter().map(|v| v + 2.0).collect::<Vec<_>>());
        let p = BatchNormInputs { x: &x, scale: &scale, offset: &offset, mean: &old_mean, variance: &old_var, epsilon: 1e-3, exponential_avg_factor: 0.25 };
        let mut y = vec![0.0; total];
        let mut stats = vec![vec![0.0; c]; 4];
        let [bm, bv, sm, sv] = &mut stats[..] else { unreachable!() };
        let out = BatchNormOutputs { y: &mut y, batch_mean: bm, batch_variance: bv, saved_mean: sm, saved_variance: sv };
        fused_batch_norm_training(&g, &p, out, &mut Vec::new(), false).unwrap();
        if total == 0 {
            prop_assert!(stats[..2].iter().flatten().all(|v| v.is_nan()));
            prop_assert!(stats[2..].iter().flatten().all(|&v| v == 0.0));
            return Ok(());
        }
        let (want_y, mean, var) = reference::batch_norm(&x, c, &scale, &offset, 1e-3);
        let rows = (total / c) as f64;
        let unbiased: Vec<f64> = var.iter().map(|v| v * rows / (rows - 1.0).max(1.0)).collect();
        assert_close("y", &y, &want_y, 1e-12);
        assert_close("saved mean", &stats[2], &mean, 1e-12);
        assert_close("saved variance", &stats[3], &var, 1e-12);
        let running_mean: Vec<f64> = (0..c).map(|i| 0.75 * old_mean[i] + 0.25 * mean[i]).collect();
        let running_var: Vec<f64> = (0..c).map(|i| 0.75 * old_var[i] + 0.25 * unbiased[i]).collect();
        assert_close("running mean", &stats[0], &running_mean, 1e-12);
        assert_close("running variance", &stats[1], &running_var, 1e-12);
        let inference = BatchNormInputs { mean: &mean, variance: &var, ..p };
        let mut y2 = vec![0.0; total];
        fused_batch_norm_inference(&g, &inference, &mut y2, false).unwrap();
        assert_close("inference y", &y2, &want_y, 1e-12);
    }

    #[test]
    fn bias_add_and_grad_match_the_sums(shape in proptest::collection::vec(0..5usize, 2..5), nchw in any::<bool>(), seed in any::<u64>()) {
        let format = if nchw { DataFormat::Nchw } else { DataFormat::Nhwc };
        let g = BiasGeometry::new(&shape, format);
        if nchw && shape.len() < 3 {
            prop_assert!(g.is_err());
            return Ok(());
        }
        let g = g.unwrap();
        let axis = if nchw { 1 } else { shape.len() - 1 };
        let c = shape[axis];
        let inner: usize = shape[axis + 1..].iter().product();
        let v = values(seed, len(&shape));
        let b = values(seed ^ 1, c);
        let mut out = vec![0.0; v.len()];
        bias_add(&g, &v, &b, &mut out, false).unwrap();
        let want: Vec<f64> = (0..v.len()).map(|i| v[i] + b[(i / inner.max(1)) % c.max(1)]).collect();
        assert_close("bias_add", &out, &want, 0.0);
        let mut db = vec![7.0; c];
        bias_add_grad(&g, &v, &mut db, &mut Vec::new(), false).unwrap();
        let mut want = vec![0.0; c];
        for (i, &x) in v.iter().enumerate() {
            want[(i / inner.max(1)) % c.max(1)] += x;
        }
        assert_close("bias_add_grad", &db, &want, 1e-12);
    }
}

#[test]
fn negative_sizes_huge_strides_and_overflow_are_errors_or_empty() {
    // VALID with a window wider than the input: TF truncates toward zero, so stride 2 gives an
    // empty output and stride 1 an error.
    let g = Conv2dGeometry::new([1, 2, 2, 1], [5, 1, 1, 1], [2, 1], [1, 1], Padding::Valid).unwrap();
    assert_eq!(g.output_shape(), [1, 0, 2, 1]);
    let e = Conv2dGeometry::new([1, 2, 2, 1], [5, 1, 1, 1], [1, 1], [1, 1], Padding::Valid).unwrap_err();
    assert!(e.to_string().contains("negative"), "{e}");
    assert!(Conv2dGeometry::new([1, 4, 4, 1], [1, 1, 1, 1], [0, 1], [1, 1], Padding::Same).is_err());
    assert!(Conv2dGeometry::new([1, 4, 4, 1], [1, 1, 1, 1], [1, 1], [0, 1], Padding::Same).is_err());
    assert!(Conv2dGeometry::new([1, 4, 4, 2], [1, 1, 3, 1], [1, 1], [1, 1], Padding::Same).is_err());
    let huge = usize::MAX / 2;
    let g = Conv2dGeometry::new([1, 3, 3, 1], [1, 1, 1, 1], [huge, huge], [1, 1], Padding::Same).unwrap();
    assert_eq!(g.output_shape(), [1, 1, 1, 1]);
    let mut y = [0.0f32];
    conv2d(&g, &[1.0; 9], &[2.0], &mut y, &mut Vec::new(), true).unwrap();
    assert_eq!(y, [2.0]);
    assert!(Conv2dGeometry::new([1, 3, 3, 1], [huge, 2, 1, 1], [1, 1], [huge, 1], Padding::Same).is_err());
    assert!(Conv2dGeometry::new([huge, huge, 3, 1], [1, 1, 1, 1], [1, 1], [1, 1], Padding::Same).is_err());
    assert!(
        PoolGeometry::new([1, 3, 3, 1], [2, 2], [1, 1], Padding::Explicit { top: 2, bottom: 0, left: 0, right: 0 })
            .is_err()
    );
    let pad = Padding::Explicit { top: huge, bottom: huge, left: 0, right: 0 };
    assert!(Conv2dGeometry::new([1, 3, 3, 1], [1, 1, 1, 1], [1, 1], [1, 1], pad).is_err());
    // Buffers of the wrong length are errors, not panics.
    let g = Conv2dGeometry::new([1, 3, 3, 1], [2, 2, 1, 1], [1, 1], [1, 1], Padding::Valid).unwrap();
    let e = conv2d(&g, &[0.0f32; 8], &[0.0; 4], &mut [0.0; 4], &mut Vec::new(), false).unwrap_err();
    assert!(e.to_string().contains("Conv2D input has 8 elements, expected 9"), "{e}");
    let bn = BatchNormGeometry::new([1, 1, 2, 2]).unwrap();
    let p = BatchNormInputs {
        x: &[0.0f32; 4],
        scale: &[1.0; 3],
        offset: &[0.0; 2],
        mean: &[0.0; 2],
        variance: &[1.0; 2],
        epsilon: 1e-3,
        exponential_avg_factor: 1.0,
    };
    assert!(fused_batch_norm_inference(&bn, &p, &mut [0.0; 4], false).unwrap_err().to_string().contains("scale"));
}

/// Shrunk failures the properties found, pinned: an input without channels (every patch is
/// empty), and windows over an empty image that hold only padding.
#[test]
fn empty_channels_and_images_are_handled() {
    let pad = Padding::Explicit { top: 1, bottom: 2, left: 2, right: 1 };
    let g = Conv2dGeometry::new([1, 0, 1, 0], [3, 4, 0, 2], [3, 1], [1, 1], pad).unwrap();
    assert_eq!(g.output_shape(), [1, 1, 1, 2]);
    let mut y = vec![7.0f32; 2];
    conv2d(&g, &[], &[], &mut y, &mut Vec::new(), false).unwrap();
    assert_eq!(y, [0.0; 2]);
    let g = Conv2dGeometry::new([1, 2, 2, 0], [1, 1, 0, 2], [1, 1], [1, 1], Padding::Same).unwrap();
    let mut y = vec![7.0f32; g.output_len];
    conv2d(&g, &[], &[], &mut y, &mut Vec::new(), false).unwrap();
    assert_eq!(y, vec![0.0; 8]);
    let mut df = vec![7.0f32; 0];
    conv2d_backprop_filter(&g, &[], &[1.0; 8], &mut df, &mut Vec::new(), false).unwrap();
    let pad = Padding::Explicit { top: 1, bottom: 1, left: 1, right: 2 };
    let g = PoolGeometry::new([1, 0, 0, 1], [2, 3], [1, 1], pad).unwrap();
    assert_eq!(g.output_shape(), [1, 1, 1, 1]);
    let mut y = [0.0f32];
    max_pool(&g, &[], &mut y, false).unwrap();
    assert_eq!(y, [f32::MIN], "TF's MaxPool starts from the lowest value");
    max_pool_grad(&g, &[], &[1.0], &mut [], false).unwrap();
    avg_pool_grad(&g, &[1.0], &mut [], false).unwrap();
}
