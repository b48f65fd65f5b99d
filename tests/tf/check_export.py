"""Checks that TensorFlow reads back the graph files stepflow writes.

usage (from the crate's root, in a Python venv with tensorflow-cpu==2.21.0):
  cargo run --release --example tf_export -- OUT tests/tf/*.pb tests/tf/*.meta tests/tf/conv/*.pb tests/tf/conv/*.meta
  python tests/tf/check_export.py OUT tests/tf tests/tf/conv

For every case it parses stepflow's binary, text and JSON files with TensorFlow's own parsers
(ParseFromString, text_format.Parse, json_format.Parse), compares each with TensorFlow's reading of
the original file, imports the graph with tf.compat.v1.import_graph_def (and the meta graph with
tf.compat.v1.train.import_meta_graph), and prints one line per file: `OK name form` or `FAIL ...`.
What stepflow does not keep is cleared on both sides first: node devices, TF's full-type
annotations, the debug info, and of a MetaGraphDef's header all but tags and version. Tensors are
compared as values (stepflow may choose tensor_content where TF wrote typed values, or the reverse).
"""

import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
from google.protobuf import json_format, text_format  # noqa: E402
from tensorflow.core.framework import graph_pb2  # noqa: E402
from tensorflow.core.protobuf import meta_graph_pb2  # noqa: E402


def canonical_tensor(t):
    return tf.make_tensor_proto(tf.make_ndarray(t))


def normalize_attr(value):
    kind = value.WhichOneof("value")
    if kind == "tensor":
        value.tensor.CopyFrom(canonical_tensor(value.tensor))
    elif kind == "list":
        tensors = [canonical_tensor(t) for t in value.list.tensor]
        del value.list.tensor[:]
        value.list.tensor.extend(tensors)
        for f in value.list.func:
            normalize_attrs(f.attr)
    elif kind == "func":
        normalize_attrs(value.func.attr)


def normalize_attrs(attrs):
    for key in attrs:
        normalize_attr(attrs[key])


def normalize_nodes(nodes):
    for n in nodes:
        n.ClearField("device")
        n.ClearField("experimental_type")
        n.ClearField("experimental_debug_info")
        normalize_attrs(n.attr)


def normalize_graph(g):
    g.ClearField("debug_info")
    normalize_nodes(g.node)
    for f in g.library.function:
        normalize_nodes(f.node_def)
        normalize_attrs(f.attr)
        for a in f.arg_attr.values():
            normalize_attrs(a.attr)
    return g


def normalize_meta(m):
    info = m.meta_info_def
    tags, version = list(info.tags), info.tensorflow_version
    m.ClearField("meta_info_def")
    m.meta_info_def.tags.extend(tags)
    m.meta_info_def.tensorflow_version = version
    normalize_graph(m.graph_def)
    return m


def parse(path, message):
    if path.endswith(".json"):
        return json_format.Parse(open(path).read(), message)
    if path.endswith(".pbtxt"):
        return text_format.Parse(open(path).read(), message)
    message.ParseFromString(open(path, "rb").read())
    return message


def imports(message, is_meta):
    with tf.Graph().as_default():
        if is_meta:
            tf.compat.v1.train.import_meta_graph(message)
        else:
            tf.compat.v1.import_graph_def(message, name="")


def check(out_dir, original, is_meta):
    name = os.path.basename(original).rsplit(".", 1)[0]
    make = meta_graph_pb2.MetaGraphDef if is_meta else graph_pb2.GraphDef
    normalize = normalize_meta if is_meta else normalize_graph
    want = normalize(parse(original, make()))
    failures = 0
    for form in ("pb", "pbtxt", "json"):
        path = os.path.join(out_dir, f"{name}.meta.{form}" if is_meta else f"{name}.{form}")
        label = f"{name}{'.meta' if is_meta else ''} {form}"
        try:
            got = parse(path, make())
            imports(got, is_meta)
            same = normalize(got) == want
        except Exception as e:  # report and go on to the next file
            print(f"FAIL {label} {type(e).__name__}: {str(e).splitlines()[0][:200]}")
            failures += 1
            continue
        print(f"{'OK' if same else 'FAIL'} {label}{'' if same else ' differs from TF reading the original'}")
        failures += not same
    return failures


def main():
    out_dir, case_dirs = sys.argv[1], sys.argv[2:]
    failures = checked = 0
    for d in case_dirs:
        for original in sorted(glob.glob(os.path.join(d, "*.pb")) + glob.glob(os.path.join(d, "*.meta"))):
            failures += check(out_dir, original, original.endswith(".meta"))
            checked += 3
    print(f"{checked - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
