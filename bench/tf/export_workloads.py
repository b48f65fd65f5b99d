"""Exports two benchmark workloads as TensorFlow builds them, so that stepflow can time the
imported graphs against its own (`cargo run --release --example workloads -- linreg_train
linreg_train_tf mlp_digits_train mlp_digits_train_tf`): the graphs of `linreg_train` and
`mlp_digits_train` exactly as the TF side of the benchmark builds them (TF's own gradient graph,
with its extra nodes), with placeholders `x`, `y` and the train op `train`.

usage: python export_workloads.py   (with tensorflow-cpu==2.21.0; writes beside this file)
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_eager_execution()
here = os.path.dirname(os.path.abspath(__file__))


def linreg_train():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    gs = tf.Variable(0, trainable=False, dtype=tf.int64)
    lr = tf.train.exponential_decay(0.1, gs, 100000, 0.96, staircase=True)
    tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=gs, name="train")


def mlp_digits_train():
    sizes = [64, 128, 10]
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    h = x
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = tf.Variable(tf.random.normal([a, b], stddev=(2.0 / a) ** 0.5, seed=i))
        bb = tf.Variable(tf.zeros([b]))
        h = tf.matmul(h, w) + bb
        if i < len(sizes) - 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
    gs = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.01, gs, 1000, 0.96, staircase=True)
    tf.train.AdamOptimizer(lr).minimize(loss, global_step=gs, name="train")


for build in [linreg_train, mlp_digits_train]:
    g = tf.Graph()
    with g.as_default():
        build()
        tf.global_variables_initializer()
    tf.io.write_graph(g.as_graph_def(), here, build.__name__ + ".pbtxt", as_text=True)
