"""Runs stepflow's exported graphs in TensorFlow and compares TensorFlow's numbers with stepflow's.

usage (from the crate's root, in a Python venv with tensorflow-cpu==2.21.0):
  cargo run --release --example export_probe -- OUT graphs/*.json graphs/tf/*.pbtxt graphs/tf/*.meta \
      tests/tf/{seed,mlp,arrays}_*.pbtxt
  python tests/tf/run_exports.py OUT

For each OUT/NAME.pb it imports the GraphDef with tf.compat.v1.import_graph_def, runs its `init`
op, loads stepflow's initial variable values (TF's random initializers draw other numbers), runs the
probe's targets with the probe's feeds as many times as stepflow did, then reads every variable and
every output stepflow read. A value passes within 1e-4 relative or 1e-6 absolute (TF's kernels
round differently); an output on which stepflow failed must fail in TF too. It prints
`OK NAME max_rel_err values` or `FAIL NAME tensor ours theirs`, then `N passed, M failed`, and exits
non-zero on any failure.
"""

import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.ops import gen_resource_variable_ops  # noqa: E402

v1 = tf.compat.v1
DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


def array(t):
    values = [np.nan if v is None else v for v in t["values"]]
    return np.array(values, dtype=np.float64).astype(DTYPES[t["dtype"]]).reshape(t["shape"])


def check(pb, probe):
    graph_def = tf.compat.v1.GraphDef.FromString(open(pb, "rb").read())
    g = tf.Graph()
    with g.as_default():
        v1.import_graph_def(graph_def, name="")
        loads = []
        for name, value in probe["initial"].items():
            op = g.get_operation_by_name(name)
            x = array(value)
            ph = v1.placeholder(x.dtype, x.shape)
            if op.type == "VarHandleOp":
                loads.append((gen_resource_variable_ops.assign_variable_op(op.outputs[0], ph), ph, x))
            else:
                loads.append((v1.assign(op.outputs[0], ph), ph, x))
        reads = {}
        for name in probe["variables"]:
            op = g.get_operation_by_name(name)
            if op.type == "VarHandleOp":
                reads[name] = gen_resource_variable_ops.read_variable_op(op.outputs[0], op.get_attr("dtype"))
            else:
                reads[name] = v1.identity(op.outputs[0])
    feeds = {g.get_tensor_by_name(n + ":0"): array(t) for n, t in probe["feeds"].items()}
    worst = 0.0
    with v1.Session(graph=g) as s:
        if "init" in [op.name for op in g.get_operations()]:
            s.run(g.get_operation_by_name("init"))
        for assign, ph, x in loads:
            s.run(assign, {ph: x})
        targets = [g.get_operation_by_name(t) for t in probe["targets"]]
        for _ in range(probe["steps"]):
            if targets:
                s.run(targets, feeds)
        # In stepflow's order: a fetch may run updates (a node with control inputs on them), so
        # the order of reads matters.
        names = probe["variables"] + probe["outputs"]
        for name in names:
            want = probe["values"][name]
            tensor = reads.get(name)
            if tensor is None:
                tensor = g.get_tensor_by_name(name if ":" in name else name + ":0")
            try:
                theirs = np.asarray(s.run(tensor, feeds), dtype=np.float64)
            except tf.errors.OpError as e:
                if "error" in want:
                    continue
                return f"FAIL {name} ours={want} theirs=error {e.message.splitlines()[0]}"
            if "error" in want:
                return f"FAIL {name} ours=error {want['error']} theirs={theirs.ravel()[:4]}"
            ours = array(want).astype(np.float64)
            if ours.shape != theirs.shape:
                return f"FAIL {name} shape ours={ours.shape} theirs={theirs.shape}"
            diff = np.abs(ours - theirs)
            bad = ~((diff <= 1e-4 * np.abs(theirs) + 1e-6) | (np.isnan(ours) & np.isnan(theirs)))
            if bad.any():
                i = int(np.argmax(bad.ravel()))
                return f"FAIL {name} ours={ours.ravel()[i]} theirs={theirs.ravel()[i]}"
            rel = diff / np.maximum(np.abs(theirs), 1e-12)
            rel = rel[np.isfinite(rel) & (diff > 1e-6)]
            worst = max(worst, float(rel.max()) if rel.size else 0.0)
    return f"OK {worst:.1e} {len(probe['values'])}"


def main():
    out = sys.argv[1]
    passed = failed = 0
    for pb in sorted(glob.glob(os.path.join(out, "*.pb"))):
        name = os.path.basename(pb)[:-3]
        probe = json.load(open(os.path.join(out, name + ".probe.json")))
        try:
            line = check(pb, probe)
        except Exception as e:  # a graph TF cannot load or run is a failure, shown on one line
            line = f"FAIL {type(e).__name__}: {' '.join(str(e).split())[:300]}"
        word, rest = line.split(" ", 1)
        print(f"{word} {name} {rest}")
        passed += word == "OK"
        failed += word != "OK"
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
