//! The kernels (f32) on TensorFlow's inputs against TensorFlow's outputs, from
//! tests/golden/conv.json (written by tests/golden/make_conv_goldens.py with TF's raw ops).

use crate::assert_close;
use serde_json::Value;
use stepflow::ops::conv::*;

const TOL: f64 = 1e-5;

fn cases() -> Vec<Value> {
    let text = include_str!("../golden/conv.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    assert!(doc["source"].as_str().unwrap().starts_with("tensorflow"));
    doc["cases"].as_array().unwrap().clone()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn dims<const N: usize>(v: &Value) -> [usize; N] {
    let d: Vec<usize> = v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    d.try_into().unwrap()
}

fn padding(v: &Value) -> Padding {
    match v.as_str() {
        Some("SAME") => Padding::Same,
        Some("VALID") => Padding::Valid,
        _ => {
            let [top, bottom, left, right] = dims::<4>(v);
            Padding::Explicit { top, bottom, left, right }
        }
    }
}

fn of(op: &str) -> Vec<Value> {
    let found: Vec<Value> = cases().into_iter().filter(|c| c["op"] == op).collect();
    assert!(!found.is_empty(), "no {op} cases");
    found
}

#[test]
fn conv2d_and_its_backprops_match_tensorflow() {
    for c in of("Conv2D") {
        let g = Conv2dGeometry::new(
            dims(&c["input_shape"]),
            dims(&c["filter_shape"]),
            dims(&c["strides"]),
            dims(&c["dilations"]),
            padding(&c["padding"]),
        )
        .unwrap();
        assert_eq!(g.output_shape(), dims::<4>(&c["output_shape"]), "{}", c["padding"]);
        let (x, f, dy) = (f32s(&c["input"]), f32s(&c["filter"]), f32s(&c["out_backprop"]));
        let mut scratch = Vec::new();
        let mut y = vec![0f32; g.output_len];
        conv2d(&g, &x, &f, &mut y, &mut scratch, true).unwrap();
        assert_close("Conv2D", &y, &f64s(&c["output"]), TOL);
        let mut dx = vec![0f32; g.input_len];
        conv2d_backprop_input(&g, &f, &dy, &mut dx, &mut scratch, true).unwrap();
        assert_close("Conv2DBackpropInput", &dx, &f64s(&c["backprop_input"]), TOL);
        let mut df = vec![0f32; g.filter_len];
        conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut scratch, true).unwrap();
        assert_close("Conv2DBackpropFilter", &df, &f64s(&c["backprop_filter"]), TOL);
    }
}

#[test]
fn depthwise_and_its_backprops_match_tensorflow() {
    for c in of("DepthwiseConv2dNative") {
        let g = DepthwiseGeometry::new(
            dims(&c["input_shape"]),
            dims(&c["filter_shape"]),
            dims(&c["strides"]),
            dims(&c["dilations"]),
            padding(&c["padding"]),
        )
        .unwrap();
        assert_eq!(g.output_shape(), dims::<4>(&c["output_shape"]));
        let (x, f, dy) = (f32s(&c["input"]), f32s(&c["filter"]), f32s(&c["out_backprop"]));
        let mut y = vec![0f32; g.output_len];
        depthwise_conv2d(&g, &x, &f, &mut y, true).unwrap();
        assert_close("DepthwiseConv2dNative", &y, &f64s(&c["output"]), TOL);
        let mut dx = vec![0f32; g.input_len];
        depthwise_conv2d_backprop_input(&g, &f, &dy, &mut dx, true).unwrap();
        assert_close("DepthwiseConv2dNativeBackpropInput", &dx, &f64s(&c["backprop_input"]), TOL);
        let mut df = vec![0f32; g.filter_len];
        depthwise_conv2d_backprop_filter(&g, &x, &dy, &mut df, &mut Vec::new(), true).unwrap();
        assert_close("DepthwiseConv2dNativeBackpropFilter", &df, &f64s(&c["backprop_filter"]), TOL);
    }
}

#[test]
fn pools_and_their_grads_match_tensorflow() {
    let mut seen = 0;
    for op in ["MaxPool", "AvgPool"] {
        for c in of(op) {
            let g = PoolGeometry::new(
                dims(&c["input_shape"]),
                dims(&c["ksize"]),
                dims(&c["strides"]),
                padding(&c["padding"]),
            )
            .unwrap();
            assert_eq!(g.output_shape(), dims::<4>(&c["output_shape"]));
            let (x, dy) = (f32s(&c["input"]), f32s(&c["out_backprop"]));
            let (mut y, mut dx) = (vec![0f32; g.output_len], vec![0f32; g.input_len]);
            if op == "MaxPool" {
                max_pool(&g, &x, &mut y, true).unwrap();
                max_pool_grad(&g, &x, &dy, &mut dx, true).unwrap();
            } else {
                avg_pool(&g, &x, &mut y, true).unwrap();
                avg_pool_grad(&g, &dy, &mut dx, true).unwrap();
            }
            // A pool picks or averages the same f32 values as TF: exact, or nearly.
            assert_close(op, &y, &f64s(&c["output"]), 1e-7);
            assert_close(&format!("{op}Grad"), &dx, &f64s(&c["backprop_input"]), 1e-7);
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}

#[test]
fn fused_batch_norm_and_its_grad_match_tensorflow() {
    for c in of("FusedBatchNormV3") {
        let g = BatchNormGeometry::new(dims(&c["input_shape"])).unwrap();
        let training = c["is_training"].as_bool().unwrap();
        let (x, scale, offset, mean, var) =
            (f32s(&c["x"]), f32s(&c["scale"]), f32s(&c["offset"]), f32s(&c["mean"]), f32s(&c["variance"]));
        let eps = c["epsilon"].as_f64().unwrap() as f32;
        let factor = c["exponential_avg_factor"].as_f64().unwrap() as f32;
        let p = BatchNormInputs {
            x: &x,
            scale: &scale,
            offset: &offset,
            mean: &mean,
            variance: &var,
            epsilon: eps,
            exponential_avg_factor: factor,
        };
        let ch = scale.len();
        let mut y = vec![0f32; x.len()];
        let (mut bm, mut bv, mut sm, mut sv) = (vec![0f32; ch], vec![0f32; ch], vec![0f32; ch], vec![0f32; ch]);
        if training {
            let out = BatchNormOutputs {
                y: &mut y,
                batch_mean: &mut bm,
                batch_variance: &mut bv,
                saved_mean: &mut sm,
                saved_variance: &mut sv,
            };
            fused_batch_norm_training(&g, &p, out, &mut Vec::new(), true).unwrap();
            assert_close("batch_mean", &bm, &f64s(&c["batch_mean"]), TOL);
            assert_close("batch_variance", &bv, &f64s(&c["batch_variance"]), TOL);
            assert_close("reserve_space_1", &sm, &f64s(&c["reserve_space_1"]), TOL);
            assert_close("reserve_space_2", &sv, &f64s(&c["reserve_space_2"]), TOL);
        } else {
            fused_batch_norm_inference(&g, &p, &mut y, true).unwrap();
            (sm, sv) = (mean.clone(), var.clone());
            assert_close("reserve_space_1", &sm, &f64s(&c["reserve_space_1"]), 0.0);
        }
        assert_close("FusedBatchNormV3 y", &y, &f64s(&c["y"]), TOL);
        let dy = f32s(&c["y_backprop"]);
        let gp = BatchNormGradInputs {
            y_backprop: &dy,
            x: &x,
            scale: &scale,
            mean: &sm,
            variance: &sv,
            epsilon: eps,
            is_training: training,
        };
        let (mut dx, mut ds, mut doff) = (vec![0f32; x.len()], vec![0f32; ch], vec![0f32; ch]);
        let out = BatchNormGrads { x_backprop: &mut dx, scale_backprop: &mut ds, offset_backprop: &mut doff };
        fused_batch_norm_grad(&g, &gp, out, &mut Vec::new(), true).unwrap();
        assert_close("x_backprop", &dx, &f64s(&c["x_backprop"]), TOL);
        assert_close("scale_backprop", &ds, &f64s(&c["scale_backprop"]), TOL);
        assert_close("offset_backprop", &doff, &f64s(&c["offset_backprop"]), TOL);
    }
}

#[test]
fn bias_add_and_grad_match_tensorflow() {
    for c in of("BiasAdd") {
        let shape: Vec<usize> = c["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        let format = if c["data_format"] == "NCHW" { DataFormat::Nchw } else { DataFormat::Nhwc };
        let g = BiasGeometry::new(&shape, format).unwrap();
        let (v, b) = (f32s(&c["value"]), f32s(&c["bias"]));
        let mut y = vec![0f32; v.len()];
        bias_add(&g, &v, &b, &mut y, true).unwrap();
        assert_close("BiasAdd", &y, &f64s(&c["output"]), 0.0);
        let mut db = vec![0f32; b.len()];
        bias_add_grad(&g, &v, &mut db, &mut Vec::new(), true).unwrap();
        assert_close("BiasAddGrad", &db, &f64s(&c["bias_backprop"]), TOL);
    }
}
