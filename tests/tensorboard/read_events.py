"""Loads a TensorBoard log directory with TensorBoard's own reader and prints what it found.

    python tests/tensorboard/read_events.py LOGDIR

Every run (a directory holding event files) is read with `event_multiplexer.EventMultiplexer`,
as the TensorBoard server reads it, and printed as its tags by kind, with the number of values of
each tag (all of them: no sampling) and its first and last step. Needs `pip install tensorboard` (no TensorFlow needed).
"""

import sys

from tensorboard.backend.event_processing import event_accumulator, event_multiplexer

# Keep every value (0): the accumulator's defaults sample a tag's values down, to a single one
# for histograms.
KEEP_ALL = {event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}


def main(logdir):
    mux = event_multiplexer.EventMultiplexer(size_guidance=KEEP_ALL)
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    runs = mux.Runs()
    if not runs:
        sys.exit(f"no event files under {logdir}")
    for run in sorted(runs):
        acc = mux.GetAccumulator(run)
        tags = acc.Tags()
        print(f"run {run!r}")
        graph = acc.Graph() if tags.get("graph") else None
        print(f"  graph: {len(graph.node) if graph is not None else 0} nodes")
        for kind, get in [("scalars", acc.Scalars), ("histograms", acc.Histograms)]:
            print(f"  {kind}:")
            for tag in sorted(tags.get(kind, [])):
                events = get(tag)
                steps = [e.step for e in events]
                print(f"    {tag}: {len(events)} values, steps {min(steps)}..{max(steps)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
