"""Exports graphs/tf/digits_softmax.pbtxt and .meta: the source document's TF1 snippet, whole, as
TensorFlow writes it. A linear (softmax-regression) model of the bundled digits,

    global_step = tf.train.get_or_create_global_step()
    learning_rate = tf.train.exponential_decay(0.1, global_step, 100000, 0.96, staircase=True)
    train = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)

with placeholders `pixels` (64 features scaled to [0, 1]) and `labels` (int64 classes), and the
`loss`, `accuracy` and `init` nodes that `digits_softmax.train.json` names.

usage: python export_digits_softmax.py   (with tensorflow installed; writes beside this file)
"""
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow.compat.v1 as tf
tf.disable_eager_execution()

here = os.path.dirname(os.path.abspath(__file__))
g = tf.Graph()
with g.as_default():
    pixels = tf.placeholder(tf.float32, [None, 64], name="pixels")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    w = tf.Variable(tf.random.normal([64, 10], stddev=0.1, seed=1), name="w")
    b = tf.Variable(tf.zeros([10]), name="b")
    logits = tf.add(tf.matmul(pixels, w), b, name="logits")
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = tf.reduce_mean(xent, name="loss")
    correct = tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32)
    accuracy = tf.reduce_mean(correct, name="accuracy")
    global_step = tf.train.get_or_create_global_step()
    learning_rate = tf.identity(
        tf.train.exponential_decay(0.1, global_step, 100000, 0.96, staircase=True), name="learning_rate")
    train = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step, name="train")
    init = tf.global_variables_initializer()
    tf.io.write_graph(g.as_graph_def(), here, "digits_softmax.pbtxt", as_text=True)
    tf.train.export_meta_graph(os.path.join(here, "digits_softmax.meta"))
print("wrote digits_softmax.pbtxt, digits_softmax.meta")
