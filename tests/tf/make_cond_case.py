"""Writes cond_v1_momentum_ref.{json,pbtxt,pb,meta}: a TF1 training graph built with v1 control
flow (`tf.compat.v1.disable_control_flow_v2()`), so every `tf.cond` becomes Switch and Merge
nodes rather than an `If`:
- a training flag (`placeholder_with_default(True)`) picks a masked, scaled hidden layer or the
  plain one, so TF's gradients hold the cond's gradient (Switch <-> Merge, zeros on the dead side);
- `piecewise_constant` on `global_step` is `tf.case`: nested conds, an Assert in a branch;
- a cond on `global_step < 4` picks between two branch constants, which run after the branch's
  pivot (control edges), and scales the rate.

The run spec holds TF's loss and learning rate at every step of Momentum and the final variables
(see README.md).

usage: python make_cond_case.py   (tensorflow-cpu 2.21; run in this directory)
"""
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

tf.disable_eager_execution()
tf.disable_control_flow_v2()
NAME = "cond_v1_momentum_ref"
STEPS = 12
rng = np.random.RandomState(20261205)
x_value = rng.uniform(-1, 1, size=(8, 5)).astype(np.float32)
y_value = rng.uniform(-1, 1, size=(8, 1)).astype(np.float32)
mask = (rng.uniform(size=(1, 6)) > 0.3).astype(np.float32)

graph = tf.Graph()
with graph.as_default():
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    training = tf.placeholder_with_default(True, [], name="training")
    gs = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step", use_resource=False,
                     collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP])
    w1 = tf.Variable(rng.uniform(-0.7, 0.7, size=(5, 6)).astype(np.float32), name="w1", use_resource=False)
    b1 = tf.Variable(np.zeros(6, np.float32), name="b1", use_resource=False)
    w2 = tf.Variable(rng.uniform(-0.7, 0.7, size=(6, 1)).astype(np.float32), name="w2", use_resource=False)
    h = tf.tanh(tf.matmul(x, w1) + b1)
    h = tf.cond(training, lambda: h * tf.constant(mask) * (1.0 / 0.7), lambda: tf.identity(h), name="dropout")
    out = tf.matmul(h, w2)
    loss = tf.reduce_mean(tf.square(out - y), name="loss")
    base = tf.train.piecewise_constant(gs, [4, 8], [0.2, 0.1, 0.05])
    boost = tf.cond(gs < 4, lambda: tf.constant(1.5), lambda: tf.constant(1.0), name="boost")
    lr = tf.identity(base * boost, name="learning_rate")
    train = tf.train.MomentumOptimizer(lr, 0.9).minimize(loss, global_step=gs)
    init = tf.global_variables_initializer()
    assert train.name == "Momentum" and init.name == "init", (train.name, init.name)
    tf.add_to_collection("train_op", train)
    types = {n.op for n in graph.as_graph_def().node}
    for op in ["Switch", "Merge", "Assert"]:
        assert op in types, op
    assert "If" not in types and "StatelessIf" not in types
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    losses, rates = [], []
    with tf.Session(config=config) as s:
        s.run(init)
        for _ in range(STEPS):
            _, l, r = s.run([train, loss, lr], {x: x_value, y: y_value})
            losses.append(float(l))
            rates.append(float(r))
        finals = {v.op.name: s.run(v).tolist() for v in tf.global_variables()}
    graph_def = graph.as_graph_def()
    tf.io.write_graph(graph_def, ".", NAME + ".pbtxt", as_text=True)
    tf.io.write_graph(graph_def, ".", NAME + ".pb", as_text=False)
    tf.train.export_meta_graph(NAME + ".meta", graph=graph)

spec = {
    "graph_def": json.loads(json_format.MessageToJson(graph_def)),
    "init": "init",
    "train": "Momentum",
    "fetches": {"loss": "loss:0", "learning_rate": "learning_rate:0"},
    "feeds": {"x:0": x_value.tolist(), "y:0": y_value.tolist()},
    "steps": STEPS,
    "expected": {"loss": losses, "learning_rate": rates, "final_variables": finals},
    "source": "tensorflow %s tf.compat.v1 graph mode, v1 control flow; reference variables" % tf.__version__,
    "files": {"pbtxt": NAME + ".pbtxt", "pb": NAME + ".pb", "meta": NAME + ".meta"},
}
with open(NAME + ".json", "w") as f:
    json.dump(spec, f)
    f.write("\n")
print(NAME, "losses", losses[0], "->", losses[-1], "rates", rates)
