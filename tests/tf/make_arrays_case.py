"""Writes arrays_slices_splits_sgd_ref.{json,pbtxt,pb,meta}: a TF1 training graph whose forward
pass cuts and joins tensors of unknown batch size, so that TF's own gradients emit the array ops'
gradient graphs: StridedSlice (new axis, shrink, negative stride) -> StridedSliceGrad, Split and
SplitV -> ConcatV2, Unpack -> Pack, ConcatV2 of unknown shapes -> ShapeN + ConcatOffset + Slice,
Transpose -> InvertPermutation, DynamicStitch -> GatherV2; Range makes constant weights.

The run spec holds TF's loss at every step of plain SGD and the final variables (see README.md).

usage: python make_arrays_case.py   (tensorflow-cpu 2.21; run in this directory)
"""
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

tf.disable_eager_execution()
NAME = "arrays_slices_splits_sgd_ref"
STEPS = 15
rng = np.random.RandomState(20241205)
x_value = rng.uniform(-1, 1, size=(8, 6)).astype(np.float32)
y_value = rng.uniform(-1, 1, size=(8, 1)).astype(np.float32)

graph = tf.Graph()
with graph.as_default():
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(rng.uniform(-0.8, 0.8, size=(6, 4)).astype(np.float32), name="w", use_resource=False)
    b = tf.Variable(np.zeros(4, np.float32), name="b", use_resource=False)
    h = tf.tanh(tf.matmul(x, w) + b)  # [?, 4]
    left, right = tf.split(h, 2, axis=1)  # Split
    a, mid, d = tf.split(h, [1, -1, 1], axis=1)  # SplitV
    cols = tf.unstack(right, axis=1)  # Unpack
    z = tf.concat([left * cols[0][:, None], a, d, mid, cols[1][:, tf.newaxis]], axis=1)  # [?, 7]
    rev = z[:, ::-2]  # [?, 4], a negative stride
    first = z[:, 0]  # [?], a shrunk axis
    rev_t = tf.transpose(rev)  # [4, ?]
    stitched = tf.dynamic_stitch([[3, 1], [0, 2]], [rev_t[0:2], rev_t[2:4]])  # [4, ?]
    weights = tf.cast(tf.range(1, 5), tf.float32) * 0.25  # Range
    out = tf.reduce_sum(tf.transpose(stitched) * weights, axis=1, keepdims=True) + 0.5 * first[:, None]
    loss = tf.reduce_mean(tf.square(out - y), name="loss")
    train = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
    init = tf.global_variables_initializer()
    assert train.name == "GradientDescent" and init.name == "init", (train.name, init.name)
    tf.add_to_collection("train_op", train)
    types = {n.op for n in graph.as_graph_def().node}
    for op in ["StridedSliceGrad", "ShapeN", "ConcatOffset", "InvertPermutation", "DynamicStitch", "Unpack",
               "Split", "SplitV", "Range"]:
        assert op in types, op
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    losses = []
    with tf.Session(config=config) as s:
        s.run(init)
        for _ in range(STEPS):
            _, l = s.run([train, loss], {x: x_value, y: y_value})
            losses.append(float(l))
        finals = {"w": s.run(w).tolist(), "b": s.run(b).tolist()}
    graph_def = graph.as_graph_def()
    tf.io.write_graph(graph_def, ".", NAME + ".pbtxt", as_text=True)
    tf.io.write_graph(graph_def, ".", NAME + ".pb", as_text=False)
    tf.train.export_meta_graph(NAME + ".meta", graph=graph)

spec = {
    "graph_def": json.loads(json_format.MessageToJson(graph_def)),
    "init": "init",
    "train": "GradientDescent",
    "fetches": {"loss": "loss:0"},
    "feeds": {"x:0": x_value.tolist(), "y:0": y_value.tolist()},
    "steps": STEPS,
    "expected": {"loss": losses, "final_variables": finals},
    "source": "tensorflow %s tf.compat.v1 graph mode; reference variables" % tf.__version__,
    "files": {"pbtxt": NAME + ".pbtxt", "pb": NAME + ".pb", "meta": NAME + ".meta"},
}
with open(NAME + ".json", "w") as f:
    json.dump(spec, f)
    f.write("\n")
print(NAME, "losses", losses[0], "->", losses[-1])
