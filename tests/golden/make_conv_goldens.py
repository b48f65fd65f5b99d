"""Writes conv.json: TensorFlow's values for the convolution, pooling, batch-norm and bias kernels.

Every case runs TF's raw ops (float32, CPU, tf.compat.v1 graph mode) on seeded random inputs and
stores the inputs and TF's outputs. tests/conv_kernels/golden.rs runs stepflow's kernels on the
same inputs and compares.

usage: python make_conv_goldens.py   (needs tensorflow-cpu; run in this directory)
"""
import json
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
SOURCE = "tensorflow %s tf.raw_ops, tf.compat.v1 graph mode, float32, CPU" % tf.__version__
rng = np.random.RandomState(20240607)


def rand(*shape):
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def run(fetches):
    # Constant folding would evaluate the ops on constant inputs outside their CPU kernels.
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    config.graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
    config.graph_options.optimizer_options.do_constant_folding = False
    with tf.Session(config=config) as s:
        return s.run(fetches)


def flat(a):
    return [float(v) for v in np.asarray(a, np.float32).ravel()]


def tf_padding(p):
    """'SAME' / 'VALID', or [top, bottom, left, right] -> (padding, explicit_paddings)."""
    if isinstance(p, str):
        return p, []
    t, b, l, r = p
    return "EXPLICIT", [0, 0, t, b, l, r, 0, 0]


def conv_case(x_shape, f_shape, stride, dilation, padding):
    x, f = rand(*x_shape), rand(*f_shape)
    pad, explicit = tf_padding(padding)
    kw = dict(strides=[1, stride[0], stride[1], 1], padding=pad, explicit_paddings=explicit,
              dilations=[1, dilation[0], dilation[1], 1])
    y = tf.raw_ops.Conv2D(input=x, filter=f, **kw)
    y_val = run(y)
    dy = rand(*y_val.shape)
    dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=list(x_shape), filter=f, out_backprop=dy, **kw)
    df = tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=list(f_shape), out_backprop=dy, **kw)
    dx_val, df_val = run([dx, df])
    return {"op": "Conv2D", "input_shape": list(x_shape), "filter_shape": list(f_shape), "strides": list(stride),
            "dilations": list(dilation), "padding": padding, "input": flat(x), "filter": flat(f),
            "output_shape": list(y_val.shape), "output": flat(y_val), "out_backprop": flat(dy),
            "backprop_input": flat(dx_val), "backprop_filter": flat(df_val)}


def depthwise_case(x_shape, f_shape, stride, dilation, padding):
    x, f = rand(*x_shape), rand(*f_shape)
    pad, explicit = tf_padding(padding)
    kw = dict(strides=[1, stride[0], stride[1], 1], padding=pad, explicit_paddings=explicit,
              dilations=[1, dilation[0], dilation[1], 1])
    y_val = run(tf.raw_ops.DepthwiseConv2dNative(input=x, filter=f, **kw))
    dy = rand(*y_val.shape)
    dx = tf.raw_ops.DepthwiseConv2dNativeBackpropInput(input_sizes=list(x_shape), filter=f, out_backprop=dy, **kw)
    df = tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(input=x, filter_sizes=list(f_shape), out_backprop=dy, **kw)
    dx_val, df_val = run([dx, df])
    return {"op": "DepthwiseConv2dNative", "input_shape": list(x_shape), "filter_shape": list(f_shape),
            "strides": list(stride), "dilations": list(dilation), "padding": padding, "input": flat(x),
            "filter": flat(f), "output_shape": list(y_val.shape), "output": flat(y_val), "out_backprop": flat(dy),
            "backprop_input": flat(dx_val), "backprop_filter": flat(df_val)}


def pool_case(op, x_shape, ksize, stride, padding):
    x = rand(*x_shape)
    kw = dict(ksize=[1, ksize[0], ksize[1], 1], strides=[1, stride[0], stride[1], 1], padding=padding)
    fwd = tf.raw_ops.MaxPool(input=x, **kw) if op == "MaxPool" else tf.raw_ops.AvgPool(value=x, **kw)
    y_val = run(fwd)
    dy = rand(*y_val.shape)
    if op == "MaxPool":
        grad = tf.raw_ops.MaxPoolGrad(orig_input=x, orig_output=y_val, grad=dy, **kw)
    else:
        grad = tf.raw_ops.AvgPoolGrad(orig_input_shape=list(x_shape), grad=dy, **kw)
    g_val = run(grad)
    return {"op": op, "input_shape": list(x_shape), "ksize": list(ksize), "strides": list(stride),
            "padding": padding, "input": flat(x), "output_shape": list(y_val.shape), "output": flat(y_val),
            "out_backprop": flat(dy), "backprop_input": flat(g_val)}


def batch_norm_case(x_shape, is_training, factor):
    c = x_shape[-1]
    x = rand(*x_shape) * 2.0 + 0.5
    scale, offset = rand(c) + 1.5, rand(c)
    mean, var = rand(c) * 0.3, rand(c) * 0.2 + 0.8
    eps = 0.001
    outs = tf.raw_ops.FusedBatchNormV3(x=x, scale=scale, offset=offset, mean=mean, variance=var, epsilon=eps,
                                       exponential_avg_factor=factor, data_format="NHWC", is_training=is_training)
    y, bm, bv, r1, r2, r3 = run(list(outs))
    dy = rand(*x_shape)
    grads = tf.raw_ops.FusedBatchNormGradV3(y_backprop=dy, x=x, scale=scale, reserve_space_1=r1, reserve_space_2=r2,
                                            reserve_space_3=r3, epsilon=eps, data_format="NHWC",
                                            is_training=is_training)
    dx, dscale, doffset, _, _ = run(list(grads))
    return {"op": "FusedBatchNormV3", "input_shape": list(x_shape), "is_training": is_training,
            "epsilon": eps, "exponential_avg_factor": factor, "x": flat(x), "scale": flat(scale),
            "offset": flat(offset), "mean": flat(mean), "variance": flat(var), "y": flat(y),
            "batch_mean": flat(bm), "batch_variance": flat(bv), "reserve_space_1": flat(r1),
            "reserve_space_2": flat(r2), "y_backprop": flat(dy), "x_backprop": flat(dx),
            "scale_backprop": flat(dscale), "offset_backprop": flat(doffset)}


def bias_case(shape, data_format):
    v = rand(*shape)
    c = shape[1] if data_format == "NCHW" and len(shape) >= 3 else shape[-1]
    b = rand(c)
    y, g = run([tf.raw_ops.BiasAdd(value=v, bias=b, data_format=data_format),
                tf.raw_ops.BiasAddGrad(out_backprop=v, data_format=data_format)])
    return {"op": "BiasAdd", "shape": list(shape), "data_format": data_format, "value": flat(v), "bias": flat(b),
            "output": flat(y), "bias_backprop": flat(g)}


cases = [
    conv_case([2, 7, 6, 3], [3, 3, 3, 4], (1, 1), (1, 1), "SAME"),
    conv_case([2, 7, 6, 3], [3, 2, 3, 4], (2, 2), (1, 1), "SAME"),
    conv_case([1, 9, 8, 2], [3, 3, 2, 3], (2, 1), (1, 1), "VALID"),
    conv_case([2, 6, 7, 2], [2, 3, 2, 3], (1, 2), (1, 1), [1, 2, 0, 1]),
    conv_case([1, 9, 9, 2], [3, 3, 2, 2], (1, 1), (2, 2), "SAME"),
    conv_case([1, 10, 9, 2], [2, 3, 2, 2], (1, 1), (3, 2), "VALID"),
    conv_case([2, 5, 5, 4], [1, 1, 4, 3], (1, 1), (1, 1), "VALID"),
    conv_case([2, 8, 8, 1], [3, 3, 1, 4], (1, 1), (1, 1), "SAME"),
    depthwise_case([2, 6, 5, 3], [3, 3, 3, 2], (1, 1), (1, 1), "SAME"),
    depthwise_case([1, 7, 7, 2], [3, 2, 2, 1], (2, 2), (1, 1), "VALID"),
    pool_case("MaxPool", [2, 7, 6, 3], (3, 3), (2, 2), "SAME"),
    pool_case("MaxPool", [2, 8, 8, 2], (2, 2), (2, 2), "VALID"),
    pool_case("MaxPool", [1, 5, 6, 2], (3, 2), (1, 1), "SAME"),
    pool_case("AvgPool", [2, 7, 6, 3], (3, 3), (2, 2), "SAME"),
    pool_case("AvgPool", [1, 5, 6, 2], (2, 3), (1, 2), "SAME"),
    pool_case("AvgPool", [2, 8, 8, 2], (2, 2), (2, 2), "VALID"),
    batch_norm_case([4, 3, 3, 5], True, 1.0),
    batch_norm_case([2, 4, 3, 3], True, 0.1),
    batch_norm_case([3, 2, 2, 4], False, 1.0),
    bias_case([2, 3, 4, 5], "NHWC"),
    bias_case([2, 3, 4, 5], "NCHW"),
    bias_case([3, 4], "NHWC"),
    bias_case([2, 3, 5], "NCHW"),
]

with open("conv.json", "w") as out:
    json.dump({"source": SOURCE, "cases": cases}, out)
print(f"wrote {len(cases)} cases")
