"""Writes ops.json: TensorFlow's forward values for every registered stepflow op that TF has.

Each case runs one TF raw op (tf.compat.v1 graph mode, CPU, constant folding off) on inputs fed
through placeholders, or held in reference variables for the ops that update one, and stores the
inputs and TF's outputs (for updates: every variable's value afterwards). tests/ops/golden.rs
builds the same op in stepflow from the case's `op` and `attrs` (stepflow's attribute names,
which are TF's except where noted), feeds the same inputs and compares within 1e-5 relative
(exactly for integers and booleans). A case with "refused": true holds inputs TF rejected, which
stepflow must reject too.

Not here: Const, Placeholder, PlaceholderWithDefault, VariableV2 and NoOp compute nothing, and the
random ops draw from another generator than TF's.

usage: python make_op_goldens.py   (needs tensorflow-cpu; run in this directory)
"""
import json
import math
import os

# TF's own CPU kernels, not oneDNN's (which may sum in another order).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_eager_execution()
SOURCE = "tensorflow %s tf.raw_ops, tf.compat.v1 graph mode, CPU, inputs fed" % tf.__version__
rng = np.random.RandomState(20241204)
CASES = []


def f32(*shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def f64(*shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float64)


def i32(*shape, lo=-9, hi=10):
    return rng.randint(lo, hi, size=shape).astype(np.int32)


def nonzero(a):
    """`a` with every |element| at least 0.5, keeping its sign."""
    return np.where(np.abs(a) < 0.5, np.where(a < 0, -0.5, 0.5), a).astype(a.dtype)


def to_json(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        data = [bool(v) for v in a.ravel()]
    elif a.dtype.kind in "iu":
        data = [int(v) for v in a.ravel()]
    else:
        # repr of the double holding the value: reads back as the same float32 or float64.
        data = ["nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else float(v)
                for v in a.astype(np.float64).ravel()]
    return {"dtype": a.dtype.name, "shape": list(a.shape), "data": data}


def session():
    # Grappler's constant folding would evaluate ops outside their CPU kernels.
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    config.graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
    config.graph_options.optimizer_options.do_constant_folding = False
    return tf.Session(config=config)


def run(fetches, feeds, init):
    with session() as s:
        s.run(init)
        return s.run(fetches, feeds)


def update_and_read(update, variables, feeds, init):
    """Runs an update once and reads every variable afterwards."""
    with session() as s:
        s.run(init)
        s.run(update.op, feeds)
        return s.run(variables)


def case(op, inputs, attrs=None, tf_attrs=None, refs=0, outputs=1, name=None):
    """One case: `inputs` are (TF argument, array or list of arrays) in TF's input order, the first
    `refs` of them reference variables; `attrs` are stepflow's, `tf_attrs` TF's (default: the
    same)."""
    attrs = attrs or {}
    tf_attrs = dict(attrs if tf_attrs is None else tf_attrs)
    flat, kwargs, feeds, variables = [], {}, {}, []
    with tf.Graph().as_default():
        for k, (arg, value) in enumerate(inputs):
            values = value if isinstance(value, list) else [value]
            tensors = []
            for v in values:
                v = np.asarray(v)
                flat.append(v)
                if k < refs:
                    var = tf.Variable(v, use_resource=(op == "ReadVariableOp"))
                    variables.append(var)
                    tensors.append(var.handle if op == "ReadVariableOp" else var)
                else:
                    p = tf.placeholder(tf.as_dtype(v.dtype), shape=v.shape)
                    feeds[p] = v
                    tensors.append(p)
            kwargs[arg] = tensors if isinstance(value, list) else tensors[0]
        y = getattr(tf.raw_ops, op)(**kwargs, **tf_attrs)
        init = tf.global_variables_initializer()
        if refs and op != "ReadVariableOp":
            result = {"variables": [to_json(v) for v in update_and_read(y, variables, feeds, init)]}
        else:
            ys = y if isinstance(y, (list, tuple)) else [y]
            result = {"outputs": [to_json(v) for v in run(list(ys)[:outputs], feeds, init)]}
    c = {"name": name or op, "op": op, "attrs": attrs, "refs": refs, "inputs": [to_json(v) for v in flat]}
    c.update(result)
    CASES.append(c)


def elementwise():
    x, y, row = f32(3, 4), f32(3, 4), f32(4)
    for op in ["AddV2", "Sub", "Mul", "Maximum", "Minimum"]:
        case(op, [("x", x), ("y", row)], name=op + " row broadcast")
        case(op, [("x", i32(2, 3)), ("y", i32(2, 1))], name=op + " int32")
    case("AddV2", [("x", f64(2, 1)), ("y", f64(3))], name="AddV2 float64 outer broadcast")
    case("AddV2", [("x", np.array([2147483647], np.int32)), ("y", np.array([1], np.int32))], name="AddV2 int32 wraps")
    case("Sub", [("x", np.array([-0.0, 0.0, np.inf], np.float32)), ("y", np.float32(0.0))], name="Sub signed zero")
    case("Mul", [("x", x), ("y", np.float32(-1.5))], name="Mul scalar")
    for op in ["RealDiv", "FloorDiv", "FloorMod"]:
        case(op, [("x", x), ("y", nonzero(row))], name=op + " float32")
    case("RealDiv", [("x", np.array([1, -1, 0], np.float32)), ("y", np.zeros(3, np.float32))], name="RealDiv by zero")
    case("RealDiv", [("x", f64(3)), ("y", nonzero(f64(3)))], name="RealDiv float64")
    a, b = np.array([-7, 7, -7, 7, 0, 5], np.int32), np.array([2, 2, -2, -2, 3, 5], np.int32)
    case("FloorDiv", [("x", a), ("y", b)], name="FloorDiv int32 signs")
    case("FloorMod", [("x", a), ("y", b)], name="FloorMod int32 signs")
    case("FloorMod", [("x", np.array([7.5, -7.5, 7.5, -7.5], np.float64)),
                      ("y", np.array([2, 2, -2, -2], np.float64))], name="FloorMod float64 signs")
    case("Pow", [("x", f32(3, 4, lo=0.1, hi=3.0)), ("y", row)], name="Pow float32")
    case("Pow", [("x", i32(5, lo=-3, hi=4)), ("y", np.array([0, 1, 2, 3, 4], np.int32))], name="Pow int32")
    nan = np.array([np.nan, 1.0, -np.inf, 0.0], np.float32)
    for op in ["Maximum", "Minimum"]:
        case(op, [("x", nan), ("y", np.array([0.0, np.nan, 2.0, -0.0], np.float32))], name=op + " nan")
    case("AddN", [("inputs", [x, y, f32(3, 4)])])
    case("AddN", [("inputs", [i32(3), i32(3)])], name="AddN int32")


def unary():
    x = f32(2, 5)
    pos = f32(2, 5, lo=0.01, hi=9.0)
    for op in ["Neg", "Abs", "Sign", "Square", "Exp", "Floor", "Ceil", "Sin", "Cos", "Tanh", "Sigmoid"]:
        case(op, [("x", x)])
    for op in ["Sqrt", "Rsqrt", "Log"]:
        case(op, [("x", pos)])
    case("Log1p", [("x", np.array([-0.5, -1e-7, 0.0, 1e-7, 1e-3, 2.0, 100.0], np.float32))])
    for op in ["Neg", "Abs", "Sign", "Square"]:
        case(op, [("x", i32(6))], name=op + " int32")
    case("Sign", [("x", np.array([-0.0, 0.0, -2.0, np.inf, np.nan], np.float32))], name="Sign special")
    case("Round", [("x", np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 2.4, 3.5], np.float32))])
    wide = np.array([-100.0, -30.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 30.0, 100.0], np.float32)
    for op in ["Exp", "Sigmoid", "Tanh"]:
        case(op, [("x", wide)], name=op + " wide")
        case(op, [("x", wide.astype(np.float64))], name=op + " float64")
    for op in ["Relu", "Relu6", "Elu", "Softplus"]:
        case(op, [("features", f32(2, 5, lo=-8.0, hi=8.0))])
    case("Softplus", [("features", wide)], name="Softplus wide")
    case("Softplus", [("features", wide.astype(np.float64))], name="Softplus float64")
    case("Elu", [("features", f64(6))], name="Elu float64")
    case("LeakyRelu", [("features", f32(2, 5))], {"alpha": 0.3})
    case("ReluGrad", [("gradients", f32(2, 5)), ("features", np.array([-1, 0, 1, 2, -3] * 2, np.float32).reshape(2, 5))])


def casts():
    x = np.array([1.7, -1.7, 0.0, -0.0, 2.5, -2.5, 1e6], np.float32)
    for dst in ["int32", "int64", "float64", "bool"]:
        case("Cast", [("x", x)], {"dtype": dst}, {"DstT": tf.as_dtype(dst)}, name="Cast float32 to " + dst)
    case("Cast", [("x", i32(5))], {"dtype": "float32"}, {"DstT": tf.float32}, name="Cast int32 to float32")
    case("Cast", [("x", np.array([True, False], np.bool_))], {"dtype": "float32"}, {"DstT": tf.float32},
         name="Cast bool to float32")
    big = np.array([2**40 + 1, -(2**33), 7], np.int64)
    case("Cast", [("x", big)], {"dtype": "int32"}, {"DstT": tf.int32}, name="Cast int64 to int32")
    case("Cast", [("x", big)], {"dtype": "float32"}, {"DstT": tf.float32}, name="Cast int64 to float32")
    case("Cast", [("x", f64(4) * 1e3)], {"dtype": "float32"}, {"DstT": tf.float32}, name="Cast float64 to float32")


def logic():
    x = rng.choice([-1.0, 0.0, 1.0], size=(3, 4)).astype(np.float32)
    row = np.array([0.0, 1.0, -1.0, 0.0], np.float32)
    for op in ["Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual"]:
        case(op, [("x", x), ("y", row)])
        case(op, [("x", i32(5, lo=-2, hi=3)), ("y", np.int32(0))], name=op + " int32")
    case("Greater", [("x", np.array([2**53 + 1], np.int64)), ("y", np.array([2**53], np.int64))],
         name="Greater int64 beyond 2^53")
    case("Equal", [("x", np.array([np.nan, 1.0], np.float32)), ("y", np.array([np.nan, 1.0], np.float32))],
         name="Equal nan")
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    case("LogicalAnd", [("x", p), ("y", q)])
    case("LogicalOr", [("x", p), ("y", q)])
    case("LogicalNot", [("x", p)])
    case("Select", [("condition", np.array([True, False, True])), ("x", f32(3, 2)), ("y", f32(3, 2))],
         name="Select rows")
    c = rng.rand(2, 3) > 0.5
    case("Select", [("condition", c), ("x", i32(2, 3)), ("y", i32(2, 3))], name="Select same shape")
    case("SelectV2", [("condition", np.array([[True], [False]])), ("t", f32(3)), ("e", np.float32(9.0))])


def linalg():
    for ta in [False, True]:
        for tb in [False, True]:
            a = f32(4, 3) if ta else f32(3, 4)
            b = f32(5, 4) if tb else f32(4, 5)
            attrs = {"transpose_a": ta, "transpose_b": tb}
            case("MatMul", [("a", a), ("b", b)], attrs, name="MatMul %s %s" % (ta, tb))
    case("MatMul", [("a", f32(40, 70)), ("b", f32(70, 30))], name="MatMul blocked")
    case("MatMul", [("a", f64(3, 2)), ("b", f64(2, 3))], name="MatMul float64")
    case("MatMul", [("a", i32(2, 3)), ("b", i32(3, 2))], name="MatMul int32")


def reductions():
    x = f32(3, 4, 2)
    for op in ["Sum", "Mean", "Max", "Min", "Prod"]:
        for axes, keep in [([0], False), ([1, 2], False), ([-1], True), ([], False), ([0, 1, 2], True)]:
            case(op, [("input", x), ("axis", np.array(axes, np.int32))], {"keep_dims": keep},
                 name="%s axes %s keep %s" % (op, axes, keep))
        case(op, [("input", i32(3, 4)), ("axis", np.array([1], np.int32))], {"keep_dims": False}, name=op + " int32")
    case("Mean", [("input", np.array([[1, 2], [-3, -4]], np.int32)), ("axis", np.array([1], np.int32))],
         {"keep_dims": False}, name="Mean int32 truncates")
    case("Sum", [("input", f32(1000, lo=0.0, hi=1.0)), ("axis", np.array([0], np.int32))], {"keep_dims": False},
         name="Sum long")
    ties = np.array([[1, 9, 9], [4, 2, 6], [0, 0, -1]], np.float32)
    for op in ["ArgMax", "ArgMin"]:
        for axis in [0, 1]:
            for out in ["int32", "int64"]:
                case(op, [("input", ties), ("dimension", np.int32(axis))], {"output_type": out},
                     {"output_type": tf.as_dtype(out)}, name="%s axis %d %s" % (op, axis, out))


def arrays():
    x = f32(2, 3, 4)
    case("Reshape", [("tensor", x), ("shape", np.array([4, -1], np.int32))])
    case("Transpose", [("x", x), ("perm", np.array([2, 0, 1], np.int32))])
    case("ExpandDims", [("input", x), ("axis", np.int32(-1))])
    case("ExpandDims", [("input", x), ("axis", np.int32(1))], name="ExpandDims 1")
    y = f32(1, 3, 1, 2)
    case("Squeeze", [("input", y)], {"squeeze_dims": []}, {"axis": []})
    case("Squeeze", [("input", y)], {"squeeze_dims": [-2]}, {"axis": [-2]}, name="Squeeze listed")
    case("BroadcastTo", [("input", f32(3, 1)), ("shape", np.array([2, 3, 4], np.int32))])
    case("Tile", [("input", f32(2, 3)), ("multiples", np.array([2, 1], np.int32))])
    case("Pad", [("input", f32(2, 3)), ("paddings", np.array([[1, 0], [0, 2]], np.int32))])
    case("ConcatV2", [("values", [f32(2, 3), f32(2, 1), f32(2, 2)]), ("axis", np.int32(-1))])
    case("ConcatV2", [("values", [i32(1, 3), i32(2, 3)]), ("axis", np.int32(0))], name="ConcatV2 int32 axis 0")
    case("Slice", [("input", x), ("begin", np.array([1, 0, 1], np.int32)), ("size", np.array([1, -1, 2], np.int32))])
    p = f32(5, 3)
    case("GatherV2", [("params", p), ("indices", np.array([4, 0, 2, 2], np.int32)), ("axis", np.int32(0))])
    case("GatherV2", [("params", p), ("indices", np.array([[2, 0], [1, 1]], np.int64)), ("axis", np.int32(1))],
         name="GatherV2 axis 1 int64 indices")
    case("UnsortedSegmentSum", [("data", f32(6, 2)), ("segment_ids", np.array([0, 2, -1, 0, 3, 2], np.int32)),
                                ("num_segments", np.int32(4))])
    case("OneHot", [("indices", np.array([0, 2, -1, 3], np.int32)), ("depth", np.int32(3)),
                    ("on_value", np.float32(5.0)), ("off_value", np.float32(-1.0))], {"axis": -1})
    case("OneHot", [("indices", np.array([[1, 0], [2, 5]], np.int64)), ("depth", np.int32(3)),
                    ("on_value", np.float32(1.0)), ("off_value", np.float32(0.0))], {"axis": 0}, name="OneHot axis 0")
    case("Shape", [("input", x)])
    case("Shape", [("input", x)], {"out_type": "int64"}, {"out_type": tf.int64}, name="Shape int64")
    case("Size", [("input", x)])
    case("Rank", [("input", x)], {}, {})
    case("Fill", [("dims", np.array([2, 3], np.int32)), ("value", np.float32(0.5))])
    case("ZerosLike", [("x", x)])
    case("OnesLike", [("x", i32(2, 2))])
    case("Identity", [("input", x)])
    case("StopGradient", [("input", x)])
    for a, b in [([2, 3], [3]), ([2, 1], [1, 3]), ([1], [4, 5]), ([], [2, 2]), ([5, 1, 3], [1, 4, 1])]:
        case("BroadcastGradientArgs", [("s0", np.array(a, np.int32)), ("s1", np.array(b, np.int32))], outputs=2,
             name="BroadcastGradientArgs %s %s" % (a, b))


def nn():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0], [-5.0, 0.0, 5.0]], np.float32)
    case("Softmax", [("logits", logits)])
    case("LogSoftmax", [("logits", logits)])
    case("Softmax", [("logits", f64(2, 4))], name="Softmax float64")
    labels = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], np.float32)
    case("SoftmaxCrossEntropyWithLogits", [("features", logits), ("labels", labels)], outputs=2)
    case("SparseSoftmaxCrossEntropyWithLogits", [("features", f32(4, 5)), ("labels", np.array([0, 4, 2, 2], np.int32))],
         outputs=2)
    case("SparseSoftmaxCrossEntropyWithLogits", [("features", f64(2, 3)), ("labels", np.array([1, 0], np.int64))],
         outputs=2, name="SparseSoftmaxCrossEntropyWithLogits float64 int64")


def state():
    v = f32(2, 3)
    for op in ["Assign", "AssignAdd", "AssignSub"]:
        case(op, [("ref", v), ("value", f32(2, 3))], refs=1)
        case(op, [("ref", i32(3)), ("value", i32(3))], refs=1, name=op + " int32")
    case("ReadVariableOp", [("resource", v)], {}, {"dtype": tf.float32}, refs=1)


def optimizers():
    n = 5
    var, grad = f32(n), f32(n)
    s = np.float32
    case("ApplyGradientDescent", [("var", var), ("alpha", s(0.1)), ("delta", grad)], refs=1)
    for nesterov in [False, True]:
        case("ApplyMomentum", [("var", var), ("accum", f32(n)), ("lr", s(0.1)), ("grad", grad), ("momentum", s(0.9))],
             {"use_nesterov": nesterov}, refs=2, name="ApplyMomentum nesterov %s" % nesterov)
    case("ApplyAdam", [("var", var), ("m", f32(n)), ("v", f32(n, lo=0.0, hi=1.0)), ("beta1_power", s(0.9**3)),
                       ("beta2_power", s(0.999**3)), ("lr", s(0.01)), ("beta1", s(0.9)), ("beta2", s(0.999)),
                       ("epsilon", s(1e-7)), ("grad", grad)], refs=3)
    case("ApplyAdagrad", [("var", var), ("accum", f32(n, lo=0.1, hi=1.0)), ("lr", s(0.1)), ("grad", grad)], refs=2)
    case("ApplyRMSProp", [("var", var), ("ms", f32(n, lo=0.1, hi=1.0)), ("mom", f32(n)), ("lr", s(0.01)),
                          ("rho", s(0.9)), ("momentum", s(0.5)), ("epsilon", s(1e-7)), ("grad", grad)], refs=3)
    case("ApplyCenteredRMSProp", [("var", var), ("mg", f32(n, lo=-0.1, hi=0.1)), ("ms", f32(n, lo=0.5, hi=1.0)),
                                  ("mom", f32(n)), ("lr", s(0.01)), ("rho", s(0.9)), ("momentum", s(0.5)),
                                  ("epsilon", s(1e-7)), ("grad", grad)], refs=4)


def dense_layers():
    """The forward and gradient ops of TF's dense-layer training graphs."""
    case("Pack", [("values", [f32(2, 3), f32(2, 3), f32(2, 3)])], {"axis": 1})
    case("Pack", [("values", [i32(4), i32(4)])], {"axis": -1}, name="Pack int32 last axis")
    y = np.tanh(f32(2, 5))
    case("TanhGrad", [("y", y), ("dy", f32(2, 5))])
    case("BiasAdd", [("value", f32(3, 4)), ("bias", f32(4))])
    case("BiasAdd", [("value", f32(2, 3, 2, 2)), ("bias", f32(3))], {"data_format": "NCHW"}, name="BiasAdd NCHW")
    case("BiasAddGrad", [("out_backprop", f32(5, 3, 4))])
    case("BiasAddGrad", [("out_backprop", f64(2, 3, 2))], {"data_format": "NCHW"}, name="BiasAddGrad NCHW float64")


def edges():
    """Special values and empty or degenerate shapes."""
    special = np.array([-np.inf, -2.0, -0.0, 0.0, 0.25, np.inf, np.nan], np.float32)
    for op in ["Sqrt", "Rsqrt", "Log", "Log1p", "Exp", "Floor", "Ceil", "Round", "Abs", "Neg", "Square", "Sin",
               "Cos", "Tanh", "Sigmoid"]:
        case(op, [("x", special)], name=op + " special")
    for op in ["Relu", "Relu6", "Elu", "Softplus"]:
        case(op, [("features", special)], name=op + " special")
    case("LeakyRelu", [("features", special)], {"alpha": 0.2}, name="LeakyRelu special")
    case("ReluGrad", [("gradients", np.array([np.nan, 1.0, np.nan, np.inf, 2.0], np.float32)),
                      ("features", np.array([-1.0, np.nan, 2.0, -1.0, 0.0], np.float32))], name="ReluGrad special")
    case("Pow", [("x", np.array([-2.0, -2.0, 0.0, 0.0, 4.0, -8.0], np.float32)),
                 ("y", np.array([3.0, 0.5, 0.0, -1.0, 0.5, 1.0 / 3.0], np.float32))], name="Pow special")
    case("FloorDiv", [("x", np.array([6.0, -6.0, -0.0, 1.0], np.float32)),
                      ("y", np.array([-3.0, 4.0, 3.0, 0.0], np.float32))], name="FloorDiv float32 special")
    case("FloorMod", [("x", np.array([6.0, -6.0, -0.0, 5.0], np.float32)),
                      ("y", np.array([-3.0, 4.0, 3.0, np.inf], np.float32))], name="FloorMod float32 special")
    case("Maximum", [("x", i32(5)), ("y", np.int32(0))], name="Maximum int32 scalar")
    empty = np.zeros((0, 3), np.float32)
    for op in ["Sum", "Mean", "Max", "Min", "Prod"]:
        case(op, [("input", empty), ("axis", np.array([0], np.int32))], {"keep_dims": False}, name=op + " empty")
    nanrow = np.array([[1.0, np.nan, 3.0], [np.nan, 2.0, 0.0]], np.float32)
    for op in ["Max", "Min", "Sum"]:
        case(op, [("input", nanrow), ("axis", np.array([1], np.int32))], {"keep_dims": False}, name=op + " nan")
    case("MatMul", [("a", np.zeros((2, 0), np.float32)), ("b", np.zeros((0, 3), np.float32))], name="MatMul k=0")
    case("MatMul", [("a", np.zeros((0, 3), np.float32)), ("b", f32(3, 2))], name="MatMul m=0")
    case("Softmax", [("logits", np.array([[-np.inf, 0.0, 1.0], [5.0, -np.inf, -np.inf]], np.float32))],
         name="Softmax -inf")
    case("LogSoftmax", [("logits", np.array([[-np.inf, 0.0, 1.0], [5.0, -np.inf, -np.inf]], np.float32))],
         name="LogSoftmax -inf")
    case("Transpose", [("x", f32(2, 1, 3, 2)), ("perm", np.array([3, 1, 0, 2], np.int32))], name="Transpose rank 4")
    case("ConcatV2", [("values", [f32(0, 2), f32(2, 2)]), ("axis", np.int32(0))], name="ConcatV2 with empty")
    case("Slice", [("input", f32(3, 2)), ("begin", np.array([1, 0], np.int32)), ("size", np.array([0, 2], np.int32))],
         name="Slice empty")
    case("GatherV2", [("params", f32(3, 2)), ("indices", np.zeros((0,), np.int32)), ("axis", np.int32(0))],
         name="GatherV2 no indices")
    case("Tile", [("input", f32(2, 2)), ("multiples", np.array([0, 3], np.int32))], name="Tile zero")
    case("Pad", [("input", f32(1, 2, 1)), ("paddings", np.array([[0, 1], [2, 0], [1, 1]], np.int32))],
         name="Pad rank 3")
    case("Reshape", [("tensor", f32(1, 1)), ("shape", np.zeros((0,), np.int32))], name="Reshape to scalar")
    case("ExpandDims", [("input", np.float32(2.0)), ("axis", np.int32(0))], name="ExpandDims scalar")
    case("ExpandDims", [("input", f32(2, 3)), ("axis", np.int32(2))], name="ExpandDims at rank")
    case("BroadcastTo", [("input", np.float32(1.5)), ("shape", np.array([2, 3], np.int32))], name="BroadcastTo scalar")
    case("Select", [("condition", np.array(False)), ("x", f32(2, 2)), ("y", f32(2, 2))], name="Select scalar condition")
    case("Cast", [("x", np.array([True, False], np.bool_))], {"dtype": "int32"}, {"DstT": tf.int32},
         name="Cast bool to int32")
    case("Cast", [("x", np.array([0, -3, 2], np.int32))], {"dtype": "bool"}, {"DstT": tf.bool},
         name="Cast int32 to bool")
    for a, b in [([1, 1], [1]), ([2, 1], [2, 1]), ([1], [1]), ([3, 1], [])]:
        case("BroadcastGradientArgs", [("s0", np.array(a, np.int32)), ("s1", np.array(b, np.int32))], outputs=2,
             name="BroadcastGradientArgs %s %s" % (a, b))
    case("UnsortedSegmentSum", [("data", i32(3, 2)), ("segment_ids", np.array([1, 1, -2], np.int64)),
                                ("num_segments", np.int64(3))], name="UnsortedSegmentSum int32 int64 ids")
    case("OneHot", [("indices", np.array([0, 1], np.int32)), ("depth", np.int32(0)),
                    ("on_value", np.float32(1.0)), ("off_value", np.float32(0.0))], {"axis": -1}, name="OneHot depth 0")
    case("ArgMax", [("input", nanrow), ("dimension", np.int32(1))], {"output_type": "int64"}, {"output_type": tf.int64},
         name="ArgMax nan")


def int64s():
    """int64 arithmetic, past the range of float64's exact integers."""
    big = np.array([2**53 + 1, -(2**60), 7, -7], np.int64)
    small = np.array([3, 2, -2, 2], np.int64)
    for op in ["AddV2", "Sub", "Mul", "FloorDiv", "FloorMod", "Maximum", "Minimum"]:
        case(op, [("x", big), ("y", small)], name=op + " int64")
    case("Pow", [("x", np.array([3, -2, 10], np.int64)), ("y", np.array([39, 61, 18], np.int64))], name="Pow int64")
    case("Neg", [("x", big)], name="Neg int64")
    case("Abs", [("x", big)], name="Abs int64")
    case("Sum", [("input", big.reshape(2, 2)), ("axis", np.array([0], np.int64))], {"keep_dims": False},
         name="Sum int64")
    case("Prod", [("input", np.array([[2**31, 3], [-5, 2**20]], np.int64)), ("axis", np.array([1], np.int32))],
         {"keep_dims": True}, name="Prod int64")
    case("MatMul", [("a", np.array([[2**40, 1]], np.int64)), ("b", np.array([[3], [5]], np.int64))], name="MatMul int64")
    case("Cast", [("x", i32(4))], {"dtype": "int64"}, {"DstT": tf.int64}, name="Cast int32 to int64")


def more_layouts():
    """Other axes, ranks and dtypes of the array ops."""
    case("Select", [("condition", np.array([False, True])), ("x", f32(2, 2, 2)), ("y", f32(2, 2, 2))],
         name="Select rows of rank 3")
    case("GatherV2", [("params", f32(2, 3, 2)), ("indices", np.array([1, 0, 1], np.int32)), ("axis", np.int32(-1))],
         name="GatherV2 axis -1")
    case("GatherV2", [("params", i32(4)), ("indices", np.array(2, np.int32)), ("axis", np.int32(0))],
         name="GatherV2 scalar index int32")
    case("OneHot", [("indices", np.array([2, 0], np.int32)), ("depth", np.int32(3)),
                    ("on_value", np.int32(7)), ("off_value", np.int32(-7))], {"axis": -1}, name="OneHot int32 values")
    case("OneHot", [("indices", np.array([[0, 2], [1, 1]], np.int32)), ("depth", np.int32(3)),
                    ("on_value", np.float64(1.0)), ("off_value", np.float64(0.0))], {"axis": 1}, name="OneHot axis 1")
    case("Tile", [("input", i32(1, 2, 1)), ("multiples", np.array([2, 1, 3], np.int64))], name="Tile int64 multiples")
    case("Pad", [("input", i32(2)), ("paddings", np.array([[3, 1]], np.int64))], name="Pad int32 int64 paddings")
    case("Transpose", [("x", np.array([[True, False, True]])), ("perm", np.array([1, 0], np.int64))],
         name="Transpose bool")
    case("Reshape", [("tensor", np.arange(6, dtype=np.int64)), ("shape", np.array([-1, 2, 1], np.int64))],
         name="Reshape int64 shape")
    case("Sum", [("input", f32(2, 3)), ("axis", np.array([-2, 1], np.int64))], {"keep_dims": True},
         name="Sum negative int64 axes")
    case("Mean", [("input", f64(4, 2)), ("axis", np.array(0, np.int32))], {"keep_dims": False},
         name="Mean scalar axis float64")
    case("ConcatV2", [("values", [np.array([True]), np.array([False, True])]), ("axis", np.int64(0))],
         name="ConcatV2 bool int64 axis")
    case("Slice", [("input", i32(4, 3)), ("begin", np.array([2, 1], np.int64)), ("size", np.array([-1, -1], np.int64))],
         name="Slice int64 to end")
    case("BroadcastTo", [("input", np.array([[True], [False]])), ("shape", np.array([2, 3], np.int64))],
         name="BroadcastTo bool int64 shape")
    case("ExpandDims", [("input", i32(2)), ("axis", np.int64(-2))], name="ExpandDims int64 axis -2")
    case("Fill", [("dims", np.array([3], np.int64)), ("value", np.array(True))], name="Fill bool")
    case("ZerosLike", [("x", np.array([True, False]))], name="ZerosLike bool")
    case("SelectV2", [("condition", np.array(True)), ("t", i32(2, 2)), ("e", i32(2))], name="SelectV2 scalar condition")


def training_grads():
    """The fused gradients, losses and pass-throughs of TF's training graphs, at their kinks too."""
    grads, wide = f32(2, 5), f32(2, 5, lo=-8.0, hi=8.0)
    kinks = np.array([-1.0, 0.0, 3.0, 6.0, 7.0, np.nan, 0.0, 6.0], np.float32)
    g8 = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 5.0, np.inf, -np.inf], np.float32)
    case("Relu6Grad", [("gradients", grads), ("features", wide)])
    case("Relu6Grad", [("gradients", g8), ("features", kinks)], name="Relu6Grad kinks")
    case("Relu6Grad", [("gradients", i32(6)), ("features", np.array([-1, 0, 3, 6, 7, 5], np.int32))],
         name="Relu6Grad int32")
    elu_out = np.where(wide < 0, np.expm1(wide), wide).astype(np.float32)
    case("EluGrad", [("gradients", grads), ("outputs", elu_out)])
    case("EluGrad", [("gradients", f64(4)), ("outputs", np.array([-0.5, 0.0, -0.0, 2.0]))], name="EluGrad float64 zero")
    case("SeluGrad", [("gradients", grads), ("outputs", f32(2, 5, lo=-1.7, hi=3.0))])
    case("SeluGrad", [("gradients", f64(4)), ("outputs", np.array([-1.5, 0.0, -0.0, 2.0]))], name="SeluGrad float64 zero")
    case("SoftplusGrad", [("gradients", grads), ("features", wide)])
    case("SoftplusGrad", [("gradients", np.ones(9, np.float32)), ("features", np.array(
        [-100.0, -30.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 30.0, 100.0], np.float32))], name="SoftplusGrad wide")
    case("LeakyReluGrad", [("gradients", grads), ("features", np.array([-1, 0, 1, 2, -3] * 2, np.float32).reshape(2, 5))],
         {"alpha": 0.3})
    case("LeakyReluGrad", [("gradients", f64(3)), ("features", np.array([-1.0, 0.0, 1.0]))], name="LeakyReluGrad default")
    case("SigmoidGrad", [("y", f32(2, 5, lo=0.0, hi=1.0)), ("dy", grads)])
    case("SigmoidGrad", [("y", f64(3, lo=0.0, hi=1.0)), ("dy", f64(3))], name="SigmoidGrad float64")
    pos = f32(2, 5, lo=0.01, hi=9.0)
    for op in ["SqrtGrad", "RsqrtGrad", "ReciprocalGrad"]:
        case(op, [("y", pos), ("dy", grads)])
        case(op, [("y", np.array([0.0, 0.0, np.inf, 2.0], np.float32)), ("dy", np.array([0.0, 1.0, 0.0, -0.0], np.float32))],
             name=op + " zero dy")
    case("RsqrtGrad", [("y", f64(3, lo=0.1, hi=4.0)), ("dy", f64(3))], name="RsqrtGrad float64")
    case("Selu", [("features", wide)])
    case("Selu", [("features", np.array([-100.0, -1e-7, -0.0, 0.0, 1e-7, 30.0, np.nan], np.float32))], name="Selu edges")
    case("Selu", [("features", f64(6))], name="Selu float64")
    case("Reciprocal", [("x", nonzero(f32(2, 5)))])
    case("Reciprocal", [("x", np.array([0.0, -0.0, np.inf, np.nan, 3.0], np.float64))], name="Reciprocal float64 edges")
    case("L2Loss", [("t", f32(3, 4))])
    case("L2Loss", [("t", f32(1000, lo=0.0, hi=1.0))], name="L2Loss long")
    case("L2Loss", [("t", np.zeros((0, 3), np.float64))], name="L2Loss empty float64")
    case("SquaredDifference", [("x", f32(3, 4)), ("y", f32(4))], name="SquaredDifference row broadcast")
    case("SquaredDifference", [("x", f64(2, 1)), ("y", f64(3))], name="SquaredDifference float64 outer broadcast")
    case("SquaredDifference", [("x", np.array([2**31 - 1, -7, 3], np.int32)), ("y", np.array([-(2**31), 2, 3], np.int32))],
         name="SquaredDifference int32 wraps")
    case("SquaredDifference", [("x", np.array([2**40, -5], np.int64)), ("y", np.array([3, 2**33], np.int64))],
         name="SquaredDifference int64")
    case("Snapshot", [("input", f32(2, 3))])
    case("Snapshot", [("input", np.array([True, False]))], name="Snapshot bool")
    case("PreventGradient", [("input", i32(4))], {"message": "no second derivative"})
def slicing():
    """The array ops of TF's training graphs: unstack, strided slices, ranges, splits, stitches."""
    x = f32(3, 4, 2)
    case("Unpack", [("value", x)], {"num": 4, "axis": 1}, outputs=4)
    case("Unpack", [("value", i32(2, 3))], {"num": 3, "axis": -1}, outputs=3, name="Unpack int32 axis -1")
    i32v = lambda *v: np.array(v, np.int32)  # noqa: E731
    for name, b, e, st, masks in [
        ("StridedSlice", [0, 1], [0, 0], [-1, 2], {"begin_mask": 1, "end_mask": 3}),
        ("StridedSlice shrink", [1], [2], [1], {"shrink_axis_mask": 1}),
        ("StridedSlice ellipsis new axis", [0, 0, -1], [0, 0, 0], [1, 1, 1],
         {"ellipsis_mask": 1, "new_axis_mask": 2, "shrink_axis_mask": 4}),
        ("StridedSlice clamped", [-2, 0, 5], [10, -3, 0], [1, 1, -2], {"begin_mask": 2}),
        ("StridedSlice negative stride shrink", [2, -1, 1], [0, 0, 2], [-1, -2, 1],
         {"end_mask": 3, "shrink_axis_mask": 4}),
        ("StridedSlice middle ellipsis", [1, 0, 1], [3, 0, 2], [1, 1, 1], {"ellipsis_mask": 2}),
    ]:
        case("StridedSlice", [("input", x), ("begin", i32v(*b)), ("end", i32v(*e)), ("strides", i32v(*st))],
             masks, name=name)
    case("StridedSlice", [("input", i32(5)), ("begin", np.array([-1], np.int64)), ("end", np.array([0], np.int64)),
                          ("strides", np.array([-2], np.int64))], {"end_mask": 1}, name="StridedSlice int64 spec")
    case("StridedSliceGrad", [("shape", i32v(3, 4, 2)), ("begin", i32v(0, 1)), ("end", i32v(0, 0)),
                              ("strides", i32v(-1, 2)), ("dy", f32(3, 2, 2))], {"begin_mask": 1, "end_mask": 3})
    case("StridedSliceGrad", [("shape", i32v(3, 4, 2)), ("begin", i32v(0, -1)), ("end", i32v(0, 0)),
                              ("strides", i32v(1, 1)), ("dy", f64(3, 4, 1))], {"ellipsis_mask": 1, "end_mask": 2},
         name="StridedSliceGrad ellipsis float64")
    case("Range", [("start", np.int32(5)), ("limit", np.int32(-2)), ("delta", np.int32(-3))])
    case("Range", [("start", np.float32(0.1)), ("limit", np.float32(2.0)), ("delta", np.float32(0.1))],
         name="Range float32")
    case("Range", [("start", np.float32(0.0)), ("limit", np.float32(1.0)), ("delta", np.float32(0.1))],
         name="Range float32 size rule")
    case("Range", [("start", np.float64(-1.0)), ("limit", np.float64(1.0)), ("delta", np.float64(0.3))],
         name="Range float64")
    case("Range", [("start", np.int64(-7)), ("limit", np.int64(8)), ("delta", np.int64(4))], name="Range int64")
    case("ShapeN", [("input", [x, f32(2), np.float32(1.0)])], outputs=3)
    case("ShapeN", [("input", [x, f32(0, 2)])], {"out_type": "int64"}, {"out_type": tf.int64}, outputs=2,
         name="ShapeN int64")
    case("ConcatOffset", [("concat_dim", np.int32(1)), ("shape", [i32v(2, 3, 5), i32v(2, 1, 5), i32v(2, 4, 5)])],
         outputs=3)
    case("ConcatOffset", [("concat_dim", np.int32(-3)), ("shape", [i32v(2, 3, 5), i32v(6, 3, 5)])], outputs=2,
         name="ConcatOffset negative axis")
    case("InvertPermutation", [("x", i32v(3, 0, 4, 1, 2))])
    case("InvertPermutation", [("x", np.array([1, 2, 0], np.int64))], name="InvertPermutation int64")
    case("DynamicStitch", [("indices", [i32v(0, 4), np.array([[1, 4], [2, 6]], np.int32)]),
                           ("data", [f32(2, 3), f32(2, 2, 3)])])
    case("DynamicStitch", [("indices", [np.array(2, np.int32), i32v(0, 1)]), ("data", [i32(), i32(2)])],
         name="DynamicStitch scalar index int32")
    case("Split", [("axis", np.int32(1)), ("value", x)], {"num_split": 2}, outputs=2)
    case("Split", [("axis", np.int32(-1)), ("value", i32(2, 3))], {"num_split": 3}, outputs=3,
         name="Split int32 axis -1")
    case("SplitV", [("value", x), ("size_splits", i32v(1, -1, 1)), ("axis", np.int32(1))], {"num_split": 3},
         outputs=3)
    case("SplitV", [("value", f64(5, 2)), ("size_splits", np.array([2, 0, 3], np.int64)), ("axis", np.int32(0))],
         {"num_split": 3}, outputs=3, name="SplitV int64 sizes")
    random_strided_slices()
    i64v = lambda *v: np.array(v, np.int64)  # noqa: E731
    case("ConcatOffset", [("concat_dim", np.int32(0)), ("shape", [i64v(1, 2), i64v(3, 2), i64v(0, 2)])], outputs=3,
         name="ConcatOffset int64 shapes")
    case("Range", [("start", np.float32(1.0)), ("limit", np.float32(-1.0)), ("delta", np.float32(-0.3))],
         name="Range float32 negative delta")
    random_refusals()


def try_case(op, inputs, attrs, outputs, name):
    """`case`, or, when TF refuses the inputs, a refused case holding them."""
    try:
        case(op, inputs, attrs, outputs=outputs, name=name)
    except (tf.errors.OpError, ValueError):
        flat = [np.asarray(v) for _, value in inputs for v in (value if isinstance(value, list) else [value])]
        CASES.append({"name": name + " refused", "op": op, "attrs": attrs, "refs": 0,
                      "inputs": [to_json(v) for v in flat], "refused": True})


def random_refusals(trials=12):
    """Random small inputs, valid and not, of the ops with many ways to be wrong: TF's outputs where
    it runs them, and the cases it refuses (which stepflow must refuse too)."""
    ints = lambda n, lo, hi: rng.randint(lo, hi, size=n).astype(np.int32)  # noqa: E731
    for k in range(trials):
        n = int(rng.randint(1, 4))
        try_case("SplitV", [("value", f32(int(rng.randint(1, 4)), 3)), ("size_splits", ints(n, -2, 4)),
                            ("axis", np.int32(rng.randint(-2, 2)))], {"num_split": n}, n, "SplitV random %d" % k)
        n = int(rng.randint(1, 5))
        try_case("Split", [("axis", np.int32(rng.randint(-3, 3))), ("value", f32(2, 4))], {"num_split": n}, n,
                 "Split random %d" % k)
        n = int(rng.randint(1, 4))
        try_case("Unpack", [("value", f32(2, 3))], {"num": n, "axis": int(rng.randint(-3, 3))}, n,
                 "Unpack random %d" % k)
        b = ints(3, -5, 6)
        try_case("Range", [("start", b[0]), ("limit", b[1]), ("delta", np.int32(rng.randint(-3, 4)))], {}, 1,
                 "Range random %d" % k)
        h = (rng.randint(-6, 7, size=3) / 2).astype(np.float32)
        try_case("Range", [("start", h[0]), ("limit", h[1]), ("delta", h[2])], {}, 1, "Range float32 random %d" % k)
        try_case("InvertPermutation", [("x", ints(int(rng.randint(0, 5)), -1, 5))], {}, 1,
                 "InvertPermutation random %d" % k)
        i0, i1 = ints(int(rng.randint(0, 3)), -1, 5), ints(int(rng.randint(0, 3)), -1, 5)
        try_case("DynamicStitch", [("indices", [i0, i1]), ("data", [f32(len(i0), 2), f32(len(i1), 2)])], {}, 1,
                 "DynamicStitch random %d" % k)
        try_case("ConcatOffset", [("concat_dim", np.int32(rng.randint(-3, 3))),
                                  ("shape", [ints(2, 1, 3), ints(2, 1, 3)])], {}, 2, "ConcatOffset random %d" % k)


def random_strided_slices(count=60):
    """Random slice specs (masks, negative and clamped indices, strides of both signs) on a
    [4, 3, 5] input, each with its gradient; the first 30 specs TF refuses are kept as refused
    cases, which stepflow must refuse too."""
    x = f32(4, 3, 5)
    made = refused = 0
    while made < count:
        n = rng.randint(1, 5)
        b, e = rng.randint(-6, 7, size=n).astype(np.int32), rng.randint(-6, 7, size=n).astype(np.int32)
        st = rng.choice([1, 1, 2, 3], size=n).astype(np.int32)
        # Mostly walking from begin towards end (of the same sign, so the direction holds).
        st = np.where((np.sign(b) == np.sign(e)) & (b > e) & (rng.rand(n) < 0.8), -st, st).astype(np.int32)
        st = np.where(rng.rand(n) < 0.15, -st, st).astype(np.int32)
        bits = lambda p: int(sum(1 << i for i in range(n) if rng.rand() < p))  # noqa: E731
        masks = {"begin_mask": bits(0.3), "end_mask": bits(0.3), "new_axis_mask": bits(0.15),
                 "shrink_axis_mask": bits(0.25), "ellipsis_mask": (1 << rng.randint(n)) if rng.rand() < 0.3 else 0}
        name = "StridedSlice random %d" % made
        spec = [("begin", b), ("end", e), ("strides", st)]
        try:
            case("StridedSlice", [("input", x)] + spec, masks, name=name)
        except (tf.errors.InvalidArgumentError, ValueError):
            if refused < 30:
                CASES.append({"name": "StridedSlice refused %d" % refused, "op": "StridedSlice", "attrs": masks,
                              "refs": 0, "inputs": [to_json(v) for v in [x, b, e, st]], "refused": True})
                refused += 1
            continue
        dy = rng.uniform(-3, 3, size=CASES[-1]["outputs"][0]["shape"]).astype(np.float32)
        case("StridedSliceGrad", [("shape", np.array(x.shape, np.int32))] + spec + [("dy", dy)], masks,
             name="StridedSliceGrad random %d" % made)
        made += 1


def out_size(i, k, s, d, padding, pads=(0, 0)):
    """TF's output size of a window (kernel_shape_util.cc)."""
    eff = (k - 1) * d + 1
    if padding == "SAME":
        return -(-i // s)
    return (i + pads[0] + pads[1] - eff + s) // s


def ints_f32(*shape):
    """Small integers as float32: every sum of products is exact, whatever the order."""
    return rng.randint(-3, 4, size=shape).astype(np.float32)


def convolutions():
    """Conv2D, DepthwiseConv2dNative and their backprops over SAME, VALID and EXPLICIT padding,
    strides, dilations (Conv2D's forward only: TF's CPU backprops refuse them) and channel
    multipliers; float64 values, and float32 integers (exact sums); the windows TF's CPU kernels
    refuse (batch strides, negative paddings, depthwise dilations and unequal depthwise strides) as
    refused cases."""
    conv_specs = [
        ("VALID", (2, 5, 5, 3), (3, 3, 3, 4), [1, 1, 1, 1], [1, 1, 1, 1], []),
        ("SAME stride 2", (2, 6, 7, 2), (3, 2, 2, 3), [1, 2, 2, 1], [1, 1, 1, 1], []),
        ("SAME strides 2x3", (1, 7, 5, 2), (2, 3, 2, 2), [1, 2, 3, 1], [1, 1, 1, 1], []),
        ("EXPLICIT", (1, 5, 4, 2), (3, 3, 2, 2), [1, 2, 1, 1], [1, 1, 1, 1], [0, 0, 1, 2, 0, 1, 0, 0]),
        ("VALID dilated", (1, 7, 7, 2), (3, 2, 2, 2), [1, 1, 1, 1], [1, 2, 3, 1], []),
        ("SAME dilated strided", (1, 8, 6, 2), (2, 3, 2, 3), [1, 2, 2, 1], [1, 2, 2, 1], []),
        ("VALID filter as large as the input", (1, 3, 3, 1), (3, 3, 1, 2), [1, 1, 1, 1], [1, 1, 1, 1], []),
    ]
    for label, xs, fs, strides, dilations, pads in conv_specs:
        padding = "EXPLICIT" if pads else ("SAME" if label.startswith("SAME") else "VALID")
        attrs = {"strides": strides, "padding": padding, "explicit_paddings": pads, "dilations": dilations}
        oh = out_size(xs[1], fs[0], strides[1], dilations[1], padding, pads[2:4] if pads else (0, 0))
        ow = out_size(xs[2], fs[1], strides[2], dilations[2], padding, pads[4:6] if pads else (0, 0))
        dy_shape = (xs[0], oh, ow, fs[3])
        case("Conv2D", [("input", f64(*xs)), ("filter", f64(*fs))], attrs, name="Conv2D " + label)
        if dilations != [1, 1, 1, 1]:
            continue  # TF's CPU backprops refuse dilations (stepflow computes them)
        case("Conv2DBackpropInput", [("input_sizes", np.array(xs, np.int32)), ("filter", f64(*fs)),
                                     ("out_backprop", f64(*dy_shape))], attrs, name="Conv2DBackpropInput " + label)
        case("Conv2DBackpropFilter", [("input", f64(*xs)), ("filter_sizes", np.array(fs, np.int32)),
                                      ("out_backprop", f64(*dy_shape))], attrs, name="Conv2DBackpropFilter " + label)
    same = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    case("Conv2D", [("input", ints_f32(2, 4, 4, 3)), ("filter", ints_f32(2, 2, 3, 5))], same, name="Conv2D float32")
    case("Conv2D", [("input", ints_f32(2, 3, 4, 3)), ("filter", ints_f32(1, 1, 3, 4))], same, name="Conv2D pointwise")
    case("Conv2DBackpropInput", [("input_sizes", np.array([4, 4], np.int32)), ("filter", ints_f32(2, 2, 3, 5)),
                                 ("out_backprop", ints_f32(2, 4, 4, 5))], same, name="Conv2DBackpropInput two sizes")
    case("Conv2DBackpropFilter", [("input", ints_f32(2, 4, 4, 3)), ("filter_sizes", np.array([2, 2, 3, 5], np.int32)),
                                  ("out_backprop", ints_f32(2, 4, 4, 5))], same, name="Conv2DBackpropFilter float32")
    x, f = f64(1, 5, 5, 2), f64(3, 3, 2, 2)
    for label, attrs in [("batch stride", {"strides": [2, 1, 1, 1], "padding": "VALID"}),
                         ("negative padding", {"strides": [1, 1, 1, 1], "padding": "EXPLICIT",
                                               "explicit_paddings": [0, 0, -1, 0, 0, 0, 0, 0]}),
                         ("paddings for SAME", {"strides": [1, 1, 1, 1], "padding": "SAME",
                                                "explicit_paddings": [0] * 8})]:
        try_case("Conv2D", [("input", x), ("filter", f)], attrs, 1, "Conv2D " + label)
    depthwise_specs = [
        ("VALID", (2, 5, 5, 3), (3, 3, 3, 1), [1, 1, 1, 1], []),
        ("SAME stride 2 multiplier 2", (1, 6, 7, 2), (3, 2, 2, 2), [1, 2, 2, 1], []),
        ("EXPLICIT multiplier 3", (1, 5, 4, 2), (2, 3, 2, 3), [1, 1, 1, 1], [0, 0, 1, 2, 0, 1, 0, 0]),
    ]
    for label, xs, fs, strides, pads in depthwise_specs:
        padding = "EXPLICIT" if pads else ("SAME" if label.startswith("SAME") else "VALID")
        attrs = {"strides": strides, "padding": padding, "explicit_paddings": pads}
        oh = out_size(xs[1], fs[0], strides[1], 1, padding, pads[2:4] if pads else (0, 0))
        ow = out_size(xs[2], fs[1], strides[2], 1, padding, pads[4:6] if pads else (0, 0))
        dy_shape = (xs[0], oh, ow, fs[2] * fs[3])
        case("DepthwiseConv2dNative", [("input", f64(*xs)), ("filter", f64(*fs))], attrs,
             name="DepthwiseConv2dNative " + label)
        case("DepthwiseConv2dNativeBackpropInput", [("input_sizes", np.array(xs, np.int32)), ("filter", f64(*fs)),
                                                    ("out_backprop", f64(*dy_shape))], attrs,
             name="DepthwiseConv2dNativeBackpropInput " + label)
        case("DepthwiseConv2dNativeBackpropFilter", [("input", f64(*xs)), ("filter_sizes", np.array(fs, np.int32)),
                                                     ("out_backprop", f64(*dy_shape))], attrs,
             name="DepthwiseConv2dNativeBackpropFilter " + label)
    case("DepthwiseConv2dNative", [("input", ints_f32(2, 4, 4, 3)), ("filter", ints_f32(2, 2, 3, 2))], same,
         name="DepthwiseConv2dNative float32")
    x, f = f32(1, 5, 5, 2), f32(2, 2, 2, 1)
    for label, attrs in [("dilated", {"strides": [1, 1, 1, 1], "padding": "VALID", "dilations": [1, 2, 2, 1]}),
                         ("unequal strides", {"strides": [1, 2, 1, 1], "padding": "VALID"})]:
        try_case("DepthwiseConv2dNative", [("input", x), ("filter", f)], attrs, 1, "DepthwiseConv2dNative " + label)
def from_json(t):
    """A case's stored tensor back as an array."""
    return np.array([float(v) for v in t["data"]], np.dtype(t["dtype"])).reshape(t["shape"])


def ties(x):
    """`x` rounded to halves, so windows hold equal maxima (the first one takes the gradient)."""
    return (np.round(x * 2) / 2).astype(x.dtype)


def pooling():
    """MaxPool and AvgPool with SAME, VALID and (MaxPool) EXPLICIT padding, odd windows and
    strides, windows larger than the image, ties; each followed by its gradients on TF's own
    forward output."""
    windows = [
        ("SAME 2x2/2", [1, 2, 2, 1], [1, 2, 2, 1], "SAME", [], (2, 5, 5, 3)),
        ("VALID 3x3/2", [1, 3, 3, 1], [1, 2, 2, 1], "VALID", [], (1, 7, 6, 2)),
        ("SAME 3x2/1x2", [1, 3, 2, 1], [1, 1, 2, 1], "SAME", [], (1, 4, 5, 1)),
        ("VALID 1x3/3x1", [1, 1, 3, 1], [1, 3, 1, 1], "VALID", [], (2, 5, 4, 2)),
        ("SAME 7x7 over 3x3", [1, 7, 7, 1], [1, 1, 1, 1], "SAME", [], (1, 3, 3, 2)),
        ("EXPLICIT 3x3/2", [1, 3, 3, 1], [1, 2, 2, 1], "EXPLICIT", [0, 0, 1, 2, 2, 0, 0, 0], (1, 5, 6, 2)),
    ]
    for name, k, st, pad, explicit, shape in windows:
        attrs = {"ksize": k, "strides": st, "padding": pad}
        max_attrs = dict(attrs, explicit_paddings=explicit)
        for tie in [False, True]:
            x = ties(f32(*shape)) if tie else f32(*shape)
            label = name + (" ties" if tie else "")
            case("MaxPool", [("input", x)], max_attrs, name="MaxPool " + label)
            y = from_json(CASES[-1]["outputs"][0])
            grad = [("orig_input", x), ("orig_output", y)]
            case("MaxPoolGrad", grad + [("grad", f32(*y.shape))], max_attrs, name="MaxPoolGrad " + label)
            if pad != "EXPLICIT":  # TF's MaxPoolGradGrad has no explicit padding
                case("MaxPoolGradGrad", grad + [("grad", f32(*x.shape))], attrs, name="MaxPoolGradGrad " + label)
        if pad == "EXPLICIT":
            continue
        x = f32(*shape)
        case("AvgPool", [("value", x)], attrs, name="AvgPool " + name)
        y = from_json(CASES[-1]["outputs"][0])
        case("AvgPoolGrad", [("orig_input_shape", np.array(shape, np.int32)), ("grad", f32(*y.shape))], attrs,
             name="AvgPoolGrad " + name)
    same = {"ksize": [1, 2, 3, 1], "strides": [1, 2, 1, 1], "padding": "SAME"}
    case("MaxPool", [("input", f64(2, 3, 4, 2))], dict(same, explicit_paddings=[]), name="MaxPool float64")
    case("AvgPool", [("value", f64(2, 3, 4, 2))], same, name="AvgPool float64")
    case("AvgPoolGrad", [("orig_input_shape", np.array([2, 3, 4, 2], np.int32)), ("grad", f64(2, 2, 4, 2))], same,
         name="AvgPoolGrad float64")
    case("MaxPool", [("input", f32(0, 3, 3, 2))], dict(same, explicit_paddings=[]), name="MaxPool empty batch")
    for name, op, arg, attrs in [
        ("MaxPool VALID window past the image", "MaxPool", "input", {"ksize": [1, 5, 1, 1], "strides": [1, 1, 1, 1],
                                                                    "padding": "VALID", "explicit_paddings": []}),
        ("MaxPool NCHW", "MaxPool", "input", {"ksize": [1, 1, 2, 2], "strides": [1, 1, 1, 1], "padding": "VALID",
                                               "explicit_paddings": [], "data_format": "NCHW"}),
        ("MaxPool EXPLICIT padding as large as the window", "MaxPool", "input",
         {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "EXPLICIT",
          "explicit_paddings": [0, 0, 2, 0, 0, 0, 0, 0]}),
        ("AvgPool EXPLICIT", "AvgPool", "value", {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "EXPLICIT"}),
        ("AvgPool stride 0", "AvgPool", "value", {"ksize": [1, 2, 2, 1], "strides": [1, 0, 1, 1], "padding": "SAME"}),
    ]:
        try_case(op, [(arg, f32(1, 3, 3, 2))], attrs, 1, name)


def batch_norm():
    """FusedBatchNormV3 (and its first versions) in training, with and without averaging into
    running statistics, and in inference; their gradients in both modes. TF's CPU kernel leaves
    the reserve spaces uninitialized in inference and for an empty batch, and reserve_space_3
    always: those outputs are left out."""
    pos = lambda *s: f32(*s, lo=0.2, hi=2.0)  # noqa: E731
    c = 3
    stats = lambda: [("scale", f32(c)), ("offset", f32(c)), ("mean", f32(c)), ("variance", pos(c))]  # noqa: E731
    for name, attrs in [
        ("training", {"epsilon": 0.001, "is_training": True}),
        ("training averaged", {"epsilon": 0.0001, "exponential_avg_factor": 0.3, "is_training": True}),
        ("inference", {"epsilon": 0.01, "is_training": False}),
        ("inference averaged", {"epsilon": 0.001, "exponential_avg_factor": 0.3, "is_training": False}),
    ]:
        case("FusedBatchNormV3", [("x", f32(2, 3, 4, c))] + stats(), attrs, outputs=5 if attrs["is_training"] else 3,
             name="FusedBatchNormV3 " + name)
    empty = np.zeros(0, np.float32)
    case("FusedBatchNormV3", [("x", f32(4, 1, 3, c)), ("scale", f32(c)), ("offset", f32(c)), ("mean", empty),
                              ("variance", empty)], {"epsilon": 0.001}, outputs=5,
         name="FusedBatchNormV3 training without running statistics")
    case("FusedBatchNormV3", [("x", f32(0, 2, 2, c))] + stats(), {"epsilon": 0.001}, outputs=3,
         name="FusedBatchNormV3 empty batch")
    case("FusedBatchNormV3", [("x", f32(1, 1, 1, c))] + stats(), {"epsilon": 0.001}, outputs=5,
         name="FusedBatchNormV3 one element per channel")
    for op in ["FusedBatchNorm", "FusedBatchNormV2"]:
        case(op, [("x", f32(3, 2, 2, c))] + stats(), {"epsilon": 0.001, "exponential_avg_factor": 0.5}, outputs=5,
             name=op + " training averaged")
        case(op, [("x", f32(3, 2, 2, c))] + stats(), {"epsilon": 0.001, "is_training": False}, outputs=3,
             name=op + " inference")
    for training in [True, False]:
        mode = "training" if training else "inference"
        attrs = {"epsilon": 0.001, "is_training": training}
        grad = lambda: [("y_backprop", f32(2, 3, 2, c)), ("x", f32(2, 3, 2, c)), ("scale", f32(c)),  # noqa: E731
                        ("reserve_space_1", f32(c)), ("reserve_space_2", pos(c))]
        case("FusedBatchNormGradV3", grad() + [("reserve_space_3", np.float32(0.0))], attrs, outputs=5,
             name="FusedBatchNormGradV3 " + mode)
        for op in ["FusedBatchNormGrad", "FusedBatchNormGradV2"]:
            case(op, grad(), attrs, outputs=5, name=op + " " + mode)
    for name, inputs, attrs in [
        ("scale of the wrong length", [("x", f32(2, 1, 1, c)), ("scale", f32(c + 1)), ("offset", f32(c)),
                                       ("mean", f32(c)), ("variance", pos(c))], {"is_training": True}),
        ("inference without statistics", [("x", f32(2, 1, 1, c)), ("scale", f32(c)), ("offset", f32(c)),
                                          ("mean", empty), ("variance", empty)], {"is_training": False}),
        ("x of rank 3", [("x", f32(2, 1, c)), ("scale", f32(c)), ("offset", f32(c)), ("mean", f32(c)),
                         ("variance", pos(c))], {"is_training": True}),
    ]:
        try_case("FusedBatchNormV3", inputs, attrs, 6, "FusedBatchNormV3 " + name)


if __name__ == "__main__":
    for make in [elementwise, unary, casts, logic, linalg, reductions, arrays, nn, state, optimizers, dense_layers, edges,
                 int64s, more_layouts, training_grads, slicing, convolutions, pooling, batch_norm]:
        make()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    with open("ops.json", "w") as f:
        json.dump({"source": SOURCE, "cases": CASES}, f)
        f.write("\n")
    print("%d cases, %d op types" % (len(CASES), len({c["op"] for c in CASES})))
