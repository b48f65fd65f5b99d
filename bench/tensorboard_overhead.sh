#!/usr/bin/env bash
# The cost of --tensorboard at its default settings (scalars every step, the graph once,
# histograms once per epoch): RUNS alternating runs of `stepflow train CONFIG` without and with
# it, and the median of each one's whole-process wall time and of its training loop's time (the
# "trained N steps in X s" line), with their ratios.
#
# usage: bash bench/tensorboard_overhead.sh [CONFIG] [RUNS]   (after cargo build --release)
set -euo pipefail
config=${1:-graphs/digits_mlp.json}
runs=${2:-21}
bin=target/release/stepflow
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

one() { # label, extra args...
  local label=$1; shift
  local start end text
  start=$(date +%s.%N)
  text=$("$bin" train "$config" --out "$scratch/out" "$@")
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l >> "$scratch/$label.wall"
  sed -n 's/^trained [0-9]* steps in \([0-9.]*\) s.*/\1/p' <<< "$text" >> "$scratch/$label.loop"
}

for i in $(seq "$runs"); do
  one plain
  rm -rf "$scratch/tb"
  one tensorboard --tensorboard "$scratch/tb"
done
for kind in wall loop; do
  p=$(median < "$scratch/plain.$kind")
  t=$(median < "$scratch/tensorboard.$kind")
  printf '%s time, median of %d: without %.4f s, with --tensorboard %.4f s, ratio %.3f\n' \
    "$kind" "$runs" "$p" "$t" "$(echo "$t / $p" | bc -l)"
done
