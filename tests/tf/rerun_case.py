"""Reruns a run spec's graph in TensorFlow on this machine and prints, for each final variable,
the largest difference from the values the spec holds: how far TF reproduces its own export.

usage: python tests/tf/rerun_case.py tests/tf/conv/cnn_avgpool_batchnorm_adam_resource.json
"""
import json
import sys

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

tf.compat.v1.disable_eager_execution()
spec = json.load(open(sys.argv[1]))
graph_def = json_format.ParseDict(spec["graph_def"], tf.compat.v1.GraphDef())
graph = tf.Graph()
with graph.as_default():
    tf.import_graph_def(graph_def, name="")
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
with tf.compat.v1.Session(graph=graph) as s:
    s.run(spec["init"])
    for k in range(spec["steps"]):
        feeds = {name: np.array(v) for name, v in spec["feeds"].items()}
        feeds.update({name: np.array(v[k]) for name, v in spec.get("feed_per_step", {}).items()})
        s.run(spec["train"], feeds)
    for name, want in spec["expected"]["final_variables"].items():
        op = graph.get_operation_by_name(name)
        value = s.run(op.outputs[0] if op.type != "VarHandleOp" else
                      tf.raw_ops.ReadVariableOp(resource=op.outputs[0], dtype=op.get_attr("dtype")))
        print(f"{name:32s} max |TF here - export| = {np.max(np.abs(np.asarray(value) - np.asarray(want))):.3e}")
