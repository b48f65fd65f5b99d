"""Writes training_more.json and lr_schedules_more.json: more golden values from real TensorFlow.

They cover what the public goldens do not: every optimizer and model of the training format, and
schedule parameters near their edges. Same formats as training.json and lr_schedules.json.

usage: python make_more_goldens.py   (needs tensorflow-cpu; run in this directory)
"""
import json
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
SOURCE = "tensorflow %s tf.compat.v1, graph mode, float32; loss fetched in the same run as the minimize op" % tf.__version__


def schedule(spec, step):
    args = {k: v for k, v in spec.items() if k != "fn"}
    if spec["fn"] == "constant":
        return tf.constant(args["learning_rate"], tf.float32)
    if spec["fn"] == "piecewise_constant":
        return tf.train.piecewise_constant(step, args["boundaries"], args["values"])
    return getattr(tf.train, spec["fn"])(global_step=step, **args)


def optimizer(name, lr):
    return {
        "gradient_descent": lambda: tf.train.GradientDescentOptimizer(lr),
        "momentum": lambda: tf.train.MomentumOptimizer(lr, 0.9),
        "nesterov": lambda: tf.train.MomentumOptimizer(lr, 0.9, use_nesterov=True),
        "adam": lambda: tf.train.AdamOptimizer(lr, 0.9, 0.999, 1e-8),
        "adagrad": lambda: tf.train.AdagradOptimizer(lr, initial_accumulator_value=0.1),
        "rmsprop": lambda: tf.train.RMSPropOptimizer(lr, decay=0.9, momentum=0.0, epsilon=1e-10),
        "rmsprop_centered_momentum": lambda: tf.train.RMSPropOptimizer(lr, decay=0.9, momentum=0.5, epsilon=1e-10, centered=True),
    }[name]()


def model(kind, rng, d, h, k):
    if kind == "linear_mse":
        init = {"w": rng.randn(d, 1) * 0.5, "b": 0.1}
    else:
        init = {"w1": rng.randn(d, h) * 0.5, "b1": rng.randn(h) * 0.1, "w2": rng.randn(h, k) * 0.5, "b2": rng.randn(k) * 0.1}
    return {n: np.asarray(v, np.float32) for n, v in init.items()}


def loss_of(kind, x, y, v):
    if kind == "linear_mse":
        return tf.reduce_mean(tf.square(tf.matmul(x, v["w"]) + v["b"] - y))
    pre = tf.matmul(x, v["w1"]) + v["b1"]
    if kind == "mlp_relu_softmax_xent":
        logits = tf.matmul(tf.nn.relu(pre), v["w2"]) + v["b2"]
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    out = tf.sigmoid(tf.matmul(tf.tanh(pre), v["w2"]) + v["b2"])
    return tf.reduce_mean(tf.square(out - y))


def training_case(name, kind, opt, spec, steps, seed):
    rng = np.random.RandomState(seed)
    d, h, k, rows = 4, 6, 3, 32
    x = rng.randn(rows, d).astype(np.float32)
    if kind == "linear_mse":
        y = (x @ rng.randn(d, 1) + 0.3 + 0.1 * rng.randn(rows, 1)).astype(np.float32)
    elif kind == "mlp_relu_softmax_xent":
        y = np.eye(k, dtype=np.float32)[rng.randint(0, k, rows)]
    else:
        y = rng.rand(rows, k).astype(np.float32)
    init = model(kind, rng, d, h, k)
    g = tf.Graph()
    with g.as_default():
        xp = tf.placeholder(tf.float32, [None, d])
        yp = tf.placeholder(tf.float32, [None, y.shape[1]])
        v = {n: tf.Variable(val, name=n) for n, val in init.items()}
        loss = loss_of(kind, xp, yp, v)
        step = tf.train.get_or_create_global_step()
        lr = schedule(spec, step)
        train = optimizer(opt, lr).minimize(loss, global_step=step)
        with tf.Session(graph=g) as s:
            s.run(tf.global_variables_initializer())
            feed = {xp: x, yp: y}
            losses, rates = [], []
            for _ in range(steps):
                l, r, _ = s.run([loss, lr, train], feed)
                losses.append(float(l))
                rates.append(float(r))
            final = {n: s.run(t).tolist() for n, t in v.items()}
            final_loss = float(s.run(loss, feed))
            final_step = int(s.run(step))
    return {
        "name": name, "model": kind, "optimizer": opt, "schedule": spec, "steps": steps,
        "data": {"x": x.tolist(), "y": y.tolist()},
        "initial_variables": {n: val.tolist() for n, val in init.items()},
        "losses": losses, "learning_rates": rates, "final_variables": final,
        "final_global_step": final_step, "final_loss": final_loss,
    }


TRAINING = [
    ("adagrad_cosine_linear", "linear_mse", "adagrad", {"fn": "cosine_decay", "learning_rate": 0.5, "decay_steps": 20, "alpha": 0.1}, 25, 1),
    ("rmsprop_piecewise_linear", "linear_mse", "rmsprop", {"fn": "piecewise_constant", "boundaries": [5, 12], "values": [0.05, 0.02, 0.005]}, 20, 2),
    ("nesterov_polynomial_cycle", "linear_mse", "nesterov", {"fn": "polynomial_decay", "learning_rate": 0.05, "decay_steps": 7, "end_learning_rate": 0.005, "power": 2.0, "cycle": True}, 20, 3),
    ("centered_rmsprop_restarts_tanh", "mlp_tanh_sigmoid_mse", "rmsprop_centered_momentum", {"fn": "cosine_decay_restarts", "learning_rate": 0.02, "first_decay_steps": 5, "t_mul": 2.0, "m_mul": 0.8, "alpha": 0.05}, 25, 4),
    ("adagrad_linear_cosine_tanh", "mlp_tanh_sigmoid_mse", "adagrad", {"fn": "linear_cosine_decay", "learning_rate": 0.3, "decay_steps": 20, "num_periods": 1.5, "alpha": 0.1, "beta": 0.01}, 20, 5),
    ("gd_natural_exp_tanh", "mlp_tanh_sigmoid_mse", "gradient_descent", {"fn": "natural_exp_decay", "learning_rate": 1.0, "decay_steps": 4, "decay_rate": 0.3, "staircase": True}, 20, 6),
    ("momentum_inverse_time_xent", "mlp_relu_softmax_xent", "momentum", {"fn": "inverse_time_decay", "learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}, 25, 7),
    ("rmsprop_constant_xent", "mlp_relu_softmax_xent", "rmsprop", {"fn": "constant", "learning_rate": 0.01}, 20, 8),
    ("adam_cosine_xent", "mlp_relu_softmax_xent", "adam", {"fn": "cosine_decay", "learning_rate": 0.02, "decay_steps": 15}, 20, 9),
    ("gd_exponential_tanh", "mlp_tanh_sigmoid_mse", "gradient_descent", {"fn": "exponential_decay", "learning_rate": 2.0, "decay_steps": 3, "decay_rate": 0.7, "staircase": False}, 20, 10),
]

SCHEDULES = [
    {"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5, "staircase": False}, "steps": [0, 1, 3, 7, 13, 50, 123]},
    {"fn": "polynomial_decay", "args": {"learning_rate": 0.1, "decay_steps": 100000, "end_learning_rate": 0.0, "power": 1.0, "cycle": False}, "steps": [0, 1, 50000, 99998, 99999, 100000]},
    {"fn": "polynomial_decay", "args": {"learning_rate": 1.0, "decay_steps": 13, "end_learning_rate": 0.01, "power": 0.5, "cycle": True}, "steps": [0, 1, 12, 13, 14, 26, 27, 100]},
    {"fn": "piecewise_constant", "args": {"boundaries": [3, 7, 11, 200], "values": [1.0, 0.3, 0.1, 0.03, 0.01]}, "steps": [0, 3, 4, 7, 8, 11, 12, 200, 201]},
    {"fn": "natural_exp_decay", "args": {"learning_rate": 0.5, "decay_steps": 3, "decay_rate": 0.25, "staircase": True}, "steps": [0, 2, 3, 5, 6, 30]},
    {"fn": "inverse_time_decay", "args": {"learning_rate": 0.5, "decay_steps": 3, "decay_rate": 2.0, "staircase": False}, "steps": [0, 1, 2, 3, 10, 1000]},
    {"fn": "cosine_decay", "args": {"learning_rate": 0.2, "decay_steps": 999, "alpha": 0.0}, "steps": [0, 1, 333, 500, 998, 999, 1000]},
    {"fn": "cosine_decay_restarts", "args": {"learning_rate": 0.1, "first_decay_steps": 7, "t_mul": 3.0, "m_mul": 0.9, "alpha": 0.0}, "steps": [0, 6, 7, 8, 27, 28, 90, 91, 300]},
    {"fn": "cosine_decay_restarts", "args": {"learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.0, "m_mul": 1.0, "alpha": 0.3}, "steps": [0, 5, 9, 10, 15, 100]},
    {"fn": "linear_cosine_decay", "args": {"learning_rate": 0.1, "decay_steps": 50, "num_periods": 3.0, "alpha": 0.0, "beta": 0.05}, "steps": [0, 7, 25, 49, 50, 80]},
]


def schedule_case(c):
    g = tf.Graph()
    with g.as_default():
        step = tf.placeholder(tf.int64, [])
        lr = schedule(dict(fn=c["fn"], **c["args"]), step)
        with tf.Session(graph=g) as s:
            values = [float(s.run(lr, {step: k})) for k in c["steps"]]
    return dict(c, values=values)


if __name__ == "__main__":
    with open("training_more.json", "w") as f:
        json.dump({"source": SOURCE, "cases": [training_case(*t) for t in TRAINING]}, f)
    with open("lr_schedules_more.json", "w") as f:
        json.dump({"source": SOURCE.split(";")[0], "cases": [schedule_case(c) for c in SCHEDULES]}, f, indent=1)
