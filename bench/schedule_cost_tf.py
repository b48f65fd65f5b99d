"""TensorFlow 1 graph-mode cost of fetching a learning-rate schedule, for comparison with
`cargo run --release --example schedule_cost` (same protocol: global_step = 5000, 2000 runs per
round, median of 5 rounds after a warm-up, 2 inter-op and 2 intra-op threads).

usage: python schedule_cost_tf.py   (with tensorflow installed)
"""
import os, statistics, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow.compat.v1 as tf
tf.disable_eager_execution()

SCHEDULES = {
    "exponential_decay": lambda gs: tf.train.exponential_decay(0.1, gs, 100000, 0.96, staircase=True),
    "piecewise_constant": lambda gs: tf.train.piecewise_constant(gs, [1000, 3000, 6000, 9000], [0.1, 0.05, 0.01, 0.005, 0.001]),
    "polynomial_decay": lambda gs: tf.train.polynomial_decay(0.1, gs, 3000, power=2.0, cycle=True),
    "cosine_decay": lambda gs: tf.train.cosine_decay(0.1, gs, 10000, alpha=0.01),
    "cosine_decay_restarts": lambda gs: tf.train.cosine_decay_restarts(0.1, gs, 1000, t_mul=2.0, m_mul=0.9),
    "linear_cosine_decay": lambda gs: tf.train.linear_cosine_decay(0.1, gs, 10000),
    "noisy_linear_cosine_decay": lambda gs: tf.train.noisy_linear_cosine_decay(0.1, gs, 10000),
}

def timeit(fn, n=2000, rounds=5):
    fn()
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        ts.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(ts)

for name, build in SCHEDULES.items():
    g = tf.Graph()
    with g.as_default():
        gs = tf.Variable(5000, trainable=False, dtype=tf.int64, name="global_step")
        lr = build(gs)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(inter_op_parallelism_threads=2, intra_op_parallelism_threads=2)
    s = tf.Session(graph=g, config=config)
    s.run(init)
    print(f"{name} {timeit(lambda: s.run(lr)):.2f} us/run", flush=True)
