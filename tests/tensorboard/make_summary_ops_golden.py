"""Writes summary_ops_golden.json and summary_graph.{pbtxt,meta}: what TF1's summary ops (ScalarSummary,
HistogramSummary, MergeSummary) output for a few fed inputs, and a linear regression graph with
`tf.compat.v1.summary.scalar`, `histogram` and `merge_all` trained for a few steps, with the merged
summary TF's session gives at each step (the GraphDef, and the MetaGraphDef whose `summaries`
collection lists the summary ops). stepflow's tests compare their own with these.

    python tests/tensorboard/make_summary_ops_golden.py   (tensorflow-cpu 2.21, from the crate root)

Every case runs the raw op on placeholders in graph mode. A case records its inputs (a string
element as text, or `{"hex": ...}` when it is not UTF-8) and either TF's output, the serialized
`Summary` in hex, or the message of TF's error.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import summary_pb2  # noqa: E402

tf.compat.v1.disable_eager_execution()
HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"float32": tf.float32, "float64": tf.float64, "int32": tf.int32, "int64": tf.int64, "string": tf.string}


def scalar_bytes(tag, value):
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]).SerializeToString()


def element(v):
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return {"hex": v.hex()}
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")  # as stepflow's tensor JSON writes them
    return v


def inp(dtype, values):
    a = np.array(values, dtype=object if dtype == "string" else dtype)
    return {"dtype": dtype, "shape": list(a.shape), "data": [element(v) for v in a.reshape(-1).tolist()]}


NORMAL = np.random.default_rng(11).normal(0.0, 0.3, size=50).astype(np.float32).tolist()
CASES = [
    ("scalar_vector", "ScalarSummary", [inp("string", [b"a", b"b"]), inp("float32", [1.5, -2.0])]),
    ("scalar_matrix_int32", "ScalarSummary", [inp("string", [[b"a", b"b"], [b"c", b"d"]]), inp("int32", [[1, -2], [3, 7]])]),
    ("scalar_int64_rounds", "ScalarSummary", [inp("string", b"big"), inp("int64", 2**40 + 1)]),
    ("scalar_float64", "ScalarSummary", [inp("string", b"x"), inp("float64", 0.1)]),
    ("scalar_shapes_differ", "ScalarSummary", [inp("string", [b"a", b"b"]), inp("float32", [1.0, 2.0, 3.0])]),
    ("histogram_normal", "HistogramSummary", [inp("string", b"w"), inp("float32", NORMAL)]),
    ("histogram_int32", "HistogramSummary", [inp("string", b"ints"), inp("int32", [[3, -1], [0, 3]])]),
    ("histogram_empty", "HistogramSummary", [inp("string", b"none"), inp("float64", np.zeros([0]))]),
    ("histogram_nan", "HistogramSummary", [inp("string", b"w"), inp("float32", [1.0, float("nan")])]),
    ("histogram_inf", "HistogramSummary", [inp("string", b"w"), inp("float64", [float("-inf")])]),
    ("merge_two", "MergeSummary", [inp("string", scalar_bytes("a", 1.0)), inp("string", [scalar_bytes("b", 2.0), scalar_bytes("c", 3.0)])]),
    ("merge_duplicate", "MergeSummary", [inp("string", scalar_bytes("a", 1.0)), inp("string", scalar_bytes("a", 2.0))]),
    ("merge_untagged", "MergeSummary", [inp("string", [scalar_bytes("", 1.0), scalar_bytes("", 2.0), b""])]),
    ("merge_garbage", "MergeSummary", [inp("string", b"\x08garbage")]),
]


def run_case(sess, name, op, inputs):
    places, feeds = [], {}
    for i in inputs:
        p = tf.compat.v1.placeholder(DTYPES[i["dtype"]], i["shape"])
        data = [bytes.fromhex(d["hex"]) if isinstance(d, dict) else d for d in i["data"]]
        data = [float(d) if i["dtype"].startswith("float") else d for d in data]
        feeds[p] = np.array(data, dtype=object if i["dtype"] == "string" else i["dtype"]).reshape(i["shape"])
        places.append(p)
    raw = getattr(tf.raw_ops, op)
    if op == "ScalarSummary":
        out = raw(tags=places[0], values=places[1])
    elif op == "HistogramSummary":
        out = raw(tag=places[0], values=places[1])
    else:
        out = raw(inputs=places)
    case = {"name": name, "op": op, "inputs": inputs}
    try:
        case["summary_hex"] = sess.run(out, feeds).hex()
    except tf.errors.InvalidArgumentError as e:
        # The message TF's kernel gave, which follows the line naming the node.
        lines = [line.strip() for line in e.message.split("\n")]
        case["error"] = lines[lines.index(next(li for li in lines if li.startswith("Node:"))) + 1]
    return case


def op_cases():
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        return [run_case(sess, *c) for c in CASES]


def regression():
    """A linear regression with TF1's summaries; the merged summary before each training step."""
    rng = np.random.RandomState(20261207)
    x_value = rng.uniform(-1, 1, size=(6, 3)).astype(np.float32)
    y_value = (x_value @ np.array([[0.5], [-1.0], [2.0]], np.float32) + 0.25).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        y = tf.compat.v1.placeholder(tf.float32, [None, 1], name="y")
        w = tf.compat.v1.Variable(rng.uniform(-0.5, 0.5, size=(3, 1)).astype(np.float32), name="w", use_resource=False)
        b = tf.compat.v1.Variable(np.zeros(1, np.float32), name="b", use_resource=False)
        pred = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.square(pred - y), name="loss")
        tf.compat.v1.summary.scalar("loss", loss)
        tf.compat.v1.summary.histogram("weights", w)
        tf.compat.v1.summary.histogram("predictions", pred)
        merged = tf.compat.v1.summary.merge_all()
        train = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        init = tf.compat.v1.global_variables_initializer()
        tf.io.write_graph(g.as_graph_def(), HERE, "summary_graph.pbtxt", as_text=True)
        tf.compat.v1.train.export_meta_graph(filename=os.path.join(HERE, "summary_graph.meta"))
        steps = []
        with tf.compat.v1.Session() as sess:
            sess.run(init)
            feeds = {x: x_value, y: y_value}
            for step in range(4):
                steps.append({"step": step, "summary_hex": sess.run(merged, feeds).hex()})
                sess.run(train, feeds)
    return {
        "graph": "summary_graph.pbtxt",
        "init": init.name,
        "merged": merged.name,
        "train": train.name,
        "x": x_value.tolist(),
        "y": y_value.tolist(),
        "steps": steps,
    }


def main():
    out = {"source": f"tensorflow {tf.__version__}", "cases": op_cases(), "regression": regression()}
    with open(os.path.join(HERE, "summary_ops_golden.json"), "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
