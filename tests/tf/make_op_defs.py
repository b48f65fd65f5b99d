"""Writes src/io/tf/op_defs.json: TensorFlow's own definition (OpDef) of every op stepflow
registers, cut to what writing a GraphDef needs: each input and output argument's name and how its
type is given (a fixed type, a type attribute, a list-of-types attribute, a count attribute), and
each attribute's name, kind and whether TF has a default for it. stepflow's exporter derives TF's
type and count attributes (`T`, `N`, `Tidx`, ...) from these, as TensorFlow's own graph builder does.

usage (from the crate's root, in a Python venv with tensorflow-cpu==2.21.0):
  python tests/tf/make_op_defs.py > src/io/tf/op_defs.json
"""

import json
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tensorflow.python.framework import op_def_registry  # noqa: E402
from tensorflow.core.framework import types_pb2  # noqa: E402


def registered_ops():
    with open("src/ops/registry.rs") as f:
        return re.findall(r'^\s*"(\w+)" =>', f.read(), re.M)


def arg(a):
    out = {"name": a.name}
    if a.type:
        out["type"] = types_pb2.DataType.Name(a.type)
    for field in ("type_attr", "number_attr", "type_list_attr"):
        if getattr(a, field):
            out[field] = getattr(a, field)
    if a.is_ref:
        out["is_ref"] = True
    return out


def main():
    defs = {}
    missing = []
    for name in registered_ops():
        op = op_def_registry.get(name)
        if op is None:
            missing.append(name)
            continue
        defs[name] = {
            "inputs": [arg(a) for a in op.input_arg],
            "outputs": [arg(a) for a in op.output_arg],
            "attrs": [{"name": a.name, "type": a.type, "default": a.HasField("default_value")} for a in op.attr],
        }
    if missing:
        print("no TensorFlow op:", ", ".join(missing), file=sys.stderr)
    json.dump(defs, sys.stdout, indent=1, sort_keys=True)
    print()


main()
