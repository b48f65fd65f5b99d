"""Writes tf_schema.json: every message and enum of the TensorFlow protos stepflow's schema
(proto/tensorflow.proto) draws on, as TensorFlow itself compiled them, so that a unit test can
check each of stepflow's messages, fields and enum values against TensorFlow's names and numbers.

usage (in a Python venv with tensorflow-cpu==2.21.0): python tests/tf/tf_schema.py > tests/tf/tf_schema.json
"""

import importlib
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODULES = [
    "tensorflow.core.framework.types_pb2",
    "tensorflow.core.framework.tensor_shape_pb2",
    "tensorflow.core.framework.resource_handle_pb2",
    "tensorflow.core.framework.tensor_pb2",
    "tensorflow.core.framework.attr_value_pb2",
    "tensorflow.core.framework.full_type_pb2",
    "tensorflow.core.framework.node_def_pb2",
    "tensorflow.core.framework.op_def_pb2",
    "tensorflow.core.framework.function_pb2",
    "tensorflow.core.framework.versions_pb2",
    "tensorflow.core.framework.graph_debug_info_pb2",
    "tensorflow.core.framework.graph_pb2",
    "tensorflow.core.framework.variable_pb2",
    "tensorflow.core.protobuf.saver_pb2",
    "tensorflow.core.protobuf.meta_graph_pb2",
    "tensorflow.core.framework.summary_pb2",
    "tensorflow.core.util.event_pb2",
    "tensorflow.compiler.xla.tsl.protobuf.histogram_pb2",
]


def message(d, out):
    fields = {}
    for f in d.fields:
        target = f.message_type or f.enum_type
        fields[f.name] = {
            "number": f.number,
            "type": f.type,
            "repeated": f.is_repeated,
            "type_name": target.full_name if target else "",
        }
    out["messages"][d.full_name] = fields
    for n in d.nested_types:
        message(n, out)
    for e in d.enum_types:
        enum(e, out)


def enum(e, out):
    out["enums"][e.full_name] = {v.name: v.number for v in e.values}


def main():
    out = {"messages": {}, "enums": {}}
    for name in MODULES:
        fd = importlib.import_module(name).DESCRIPTOR
        for d in fd.message_types_by_name.values():
            message(d, out)
        for e in fd.enum_types_by_name.values():
            enum(e, out)
    import tensorflow as tf

    out["tensorflow_version"] = tf.__version__
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
