"""Writes summary_golden.json: what TF1's summary ops make of a few inputs, as stepflow's tests
compare with its own summaries.

    python tests/tensorboard/make_summary_golden.py > tests/tensorboard/summary_golden.json

Needs TensorFlow (`pip install tensorflow-cpu`). For each case: the values, and the fields of the
`HistogramProto` that `tf.compat.v1.summary.histogram` (the `HistogramSummary` kernel) writes,
and the bytes of the serialized `Summary` of `tf.compat.v1.summary.scalar`, in hex.
"""

import json

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

tf.compat.v1.disable_eager_execution()

CASES = {
    "mixed": [1.0, 2.0, 2.0, -3.0, 0.0, 1e-13, -1e-13, 0.5, 123456.0, -7.25],
    "normal": np.random.default_rng(1).normal(0.0, 0.05, size=200).astype(np.float32).tolist(),
    "on_limits": [1e-12, 1.1e-12, 0.0, -1e-12, 1e19, -1e21],
    "single": [42.0],
}


def main():
    out = {"histograms": {}, "scalars": {}}
    with tf.compat.v1.Session() as sess:
        for name, values in CASES.items():
            t = tf.constant(values, dtype=tf.float64)
            s = summary_pb2.Summary.FromString(sess.run(tf.compat.v1.summary.histogram(name, t)))
            h = s.value[0].histo
            out["histograms"][name] = {
                "values": values,
                "tag": s.value[0].tag,
                "min": h.min,
                "max": h.max,
                "num": h.num,
                "sum": h.sum,
                "sum_squares": h.sum_squares,
                "bucket_limit": list(h.bucket_limit),
                "bucket": list(h.bucket),
            }
        for name, value in {"loss": 0.25, "lr": 0.003, "big": 1e30}.items():
            serialized = sess.run(tf.compat.v1.summary.scalar(name, tf.constant(value, tf.float32)))
            out["scalars"][name] = {"value": value, "summary_hex": serialized.hex()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
