"""TensorFlow 1 graph-mode memory of the mlp_big_train workload, for comparison with
`cargo run --release --example memory -- mlp_big_train`: the same network (784→1024→1024→10,
gradient descent on exponential_decay, batches of 256 cycling through 1024 random rows), run
RUNS times (default 300) with 2 inter-op and 2 intra-op threads. Prints the resident memory every
tenth of the way and the process's peak resident memory, in MB.

usage: python memory_tf.py [RUNS]   (with tensorflow installed)
"""
import os, resource, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_eager_execution()

def rss_mb():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
sizes, batch = [784, 1024, 1024, 10], 256
rng = np.random.RandomState(0)
X = rng.rand(batch * 4, sizes[0]).astype(np.float32)
Y = np.eye(sizes[-1], dtype=np.float32)[rng.randint(0, sizes[-1], batch * 4)]
g = tf.Graph()
with g.as_default():
    x = tf.placeholder(tf.float32, [None, sizes[0]]); y = tf.placeholder(tf.float32, [None, sizes[-1]])
    h = x
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = tf.Variable(tf.random.normal([a, b], stddev=(2.0 / a) ** 0.5, seed=i)); bb = tf.Variable(tf.zeros([b]))
        h = tf.matmul(h, w) + bb
        if i < len(sizes) - 2:
            h = tf.nn.relu(h)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
    gs = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, gs, 1000, 0.96, staircase=True)
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=gs)
    init = tf.global_variables_initializer()
config = tf.ConfigProto(inter_op_parallelism_threads=2, intra_op_parallelism_threads=2)
s = tf.Session(graph=g, config=config)
s.run(init)
for i in range(runs):
    j = i % 4
    s.run(train, {x: X[j * batch:(j + 1) * batch], y: Y[j * batch:(j + 1) * batch]})
    if (i + 1) % max(1, runs // 10) == 0:
        print(f"run {i + 1:6}  resident {rss_mb()[0]:8.1f} MB")
print(f"peak resident {rss_mb()[1]:.1f} MB")
