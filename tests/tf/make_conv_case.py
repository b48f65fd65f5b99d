"""Writes conv/conv_depthwise_momentum_ref.{json,pbtxt,pb,meta}: a TF1 training graph of
convolutions alone (no pooling or batch norm), so that TF's own gradients emit Conv2D's and
DepthwiseConv2dNative's backprops: a SAME Conv2D with a bias, a strided Conv2D with EXPLICIT
padding, a depthwise convolution with channel multiplier 2, on images of unknown batch size,
then a dense softmax layer, trained with momentum.

The run spec holds TF's loss at every step and the final variables (see README.md).

usage: python make_conv_case.py   (tensorflow-cpu 2.21; run in this directory)
"""
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

tf.disable_eager_execution()
NAME = "conv_depthwise_momentum_ref"
STEPS = 12
rng = np.random.RandomState(20241206)
x_value = rng.uniform(0, 1, size=(6, 8, 8, 2)).astype(np.float32)
labels = rng.randint(0, 3, size=6)
y_value = np.eye(3, dtype=np.float32)[labels]


def var(name, *shape, scale=0.4):
    return tf.Variable(rng.uniform(-scale, scale, size=shape).astype(np.float32), name=name, use_resource=False)


graph = tf.Graph()
with graph.as_default():
    x = tf.placeholder(tf.float32, [None, 8, 8, 2], name="images")
    y = tf.placeholder(tf.float32, [None, 3], name="labels")
    w1, b1 = var("w1", 3, 3, 2, 4), var("b1", 4, scale=0.1)
    w2 = var("w2", 2, 3, 4, 4)
    dw = var("dw", 3, 3, 4, 2)
    wd, bd = var("wd", 4 * 4 * 8, 3, scale=0.1), var("bd", 3, scale=0.1)
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding="SAME"), b1))  # [?, 8, 8, 4]
    h = tf.nn.conv2d(h, w2, strides=[1, 2, 2, 1], padding=[[0, 0], [1, 0], [0, 1], [0, 0]])  # [?, 4, 4, 4]
    h = tf.nn.relu(tf.nn.depthwise_conv2d(h, dw, strides=[1, 1, 1, 1], padding="SAME"))  # [?, 4, 4, 8]
    logits = tf.matmul(tf.reshape(h, [-1, 4 * 4 * 8]), wd) + bd
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, name="Momentum")
    init = tf.global_variables_initializer()
    assert init.name == "init", init.name
    tf.add_to_collection("train_op", train)
    types = {n.op for n in graph.as_graph_def().node}
    for op in ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative",
               "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter"]:
        assert op in types, op
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    losses = []
    with tf.Session(config=config) as s:
        s.run(init)
        for _ in range(STEPS):
            _, l = s.run([train, loss], {x: x_value, y: y_value})
            losses.append(float(l))
        finals = {v.op.name: s.run(v).tolist() for v in tf.global_variables()}
    graph_def = graph.as_graph_def()
    tf.io.write_graph(graph_def, "conv", NAME + ".pbtxt", as_text=True)
    tf.io.write_graph(graph_def, "conv", NAME + ".pb", as_text=False)
    tf.train.export_meta_graph(os.path.join("conv", NAME + ".meta"), graph=graph)

spec = {
    "graph_def": json.loads(json_format.MessageToJson(graph_def)),
    "init": "init",
    "train": train.name,
    "fetches": {"loss": "loss:0"},
    "feeds": {"images:0": x_value.tolist(), "labels:0": y_value.tolist()},
    "steps": STEPS,
    "expected": {"loss": losses, "final_variables": finals},
    "source": "tensorflow %s tf.compat.v1 graph mode; reference variables" % tf.__version__,
    "files": {"pbtxt": NAME + ".pbtxt", "pb": NAME + ".pb", "meta": NAME + ".meta"},
}
with open(os.path.join("conv", NAME + ".json"), "w") as f:
    json.dump(spec, f)
    f.write("\n")
print(NAME, "losses", losses[0], "->", losses[-1])
