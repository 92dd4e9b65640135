#!/usr/bin/env bash
# The reduced configuration against the NumPy anchor, side by side in one sitting on one core each.
#
#   benches/anchor.sh [PATHS_NUMPY] [PATHS_HASHCYCLE] [ROUNDS]
#
# The anchor (`benches/numpy_anchor.py`) is the reduced mining model vectorised across paths in NumPy;
# `benches/reduced.toml` is the same model as a hashcycle scenario (docs/performance.md, "The NumPy anchor").
# Each round runs the anchor (median of 3 repeats) and then `examples/paths` on the reduced scenario as a sweep
# runs its paths, and prints both rates and their ratio; rounds alternate so the machine's drift falls on both.
# NumPy comes from the virtual environment `.ci/readers` sets up (target/readers/new), or from $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
numpy_paths=${1:-20000}
paths=${2:-2000}
rounds=${3:-3}
python=${PYTHON:-target/readers/new/bin/python}
if ! "$python" -c "import numpy" 2>/dev/null; then
    .ci/readers >/dev/null
    python=target/readers/new/bin/python
fi
cargo build --release --example paths --quiet
binary=${CARGO_TARGET_DIR:-target}/release/examples/paths
for round in $(seq "$rounds"); do
    numpy_rate=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$python" benches/numpy_anchor.py \
        --paths "$numpy_paths" --repeats 3 --json | "$python" -c "import json,sys; print(round(json.load(sys.stdin)['path_months_per_s']))")
    ours=$(taskset -c 0 "$binary" benches/reduced.toml "$paths" --sweep-checks)
    rate=$(echo "$ours" | sed -n 's/.*s: \([0-9]*\) path-months per second/\1/p')
    echo "round $round: NumPy anchor $numpy_rate path-months/s; hashcycle reduced $rate path-months/s; ratio $(awk "BEGIN{printf \"%.2f\", $rate/$numpy_rate}")"
done
