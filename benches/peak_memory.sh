#!/usr/bin/env bash
# Peak memory (maximum resident set size, from GNU time) of every command at growing sizes, for the memory table
# in docs/performance.md. A measurement, not a test: it asserts nothing and is not part of CI.
#
#   cargo build --release && benches/peak_memory.sh                 # about 20 minutes on two cores
#   SIZES=full benches/peak_memory.sh                                # adds 100,000 paths of base (about 1 hour, 15 GB of tables)
#   SIZES=quick benches/peak_memory.sh                               # small sizes only: that the script works
#   benches/peak_memory.sh path/to/other/hashcycle                   # another build, e.g. an older commit's
#
# Prints one Markdown row per measurement: what, command, peak RSS, wall time. Output goes to a temporary
# directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/hashcycle}")
work=$(mktemp -d /tmp/hashcycle-peak-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2; exit 1; }

# peak WHAT ARGS...: runs the binary with ARGS in $work and prints a row.
peak() {
  local what=$1
  shift
  (cd "$work" && /usr/bin/time -f "%M %e" -o "$work/time" "$bin" "$@" >/dev/null 2>"$work/stderr") || {
    echo "failed: $what ($*)" >&2
    tail -5 "$work/stderr" >&2
    exit 1
  }
  local kb seconds
  read -r kb seconds <"$work/time"
  local shown="$*"
  shown=${shown//$PWD\//}
  shown=${shown//$work\//}
  printf '| %s | `hashcycle %s` | %d MB | %s s |\n' "$what" "$shown" $((kb / 1024)) "$seconds"
}

base=$PWD/scenarios/base.toml
# A sweep of many one-path cells: a 100 × 100 grid of the focus manufacturer's strategy, one scenario.
cat >"$work/many_cells.toml" <<EOF
[sweep]
name = "many_cells"
scenarios = ["$base"]
paths = 1
focus_manufacturer = "bitmain"

[[grid]]
parameter = "manufacturers.bitmain.strategy.futures_share"
from = 0.0
to = 0.99
step = 0.01

[[grid]]
parameter = "manufacturers.bitmain.strategy.prepay_share"
from = 0.0
to = 0.99
step = 0.01
EOF
one_cell=$PWD/benches/one_cell.toml

case "${SIZES:-default}" in
  quick) run_h1="1000" run_full="100" sweep_paths="100" monthly_paths="10" ;; # a check that the script works
  full) run_h1="10000 100000 400000" run_full="1000 10000 100000" sweep_paths="100 1000 10000" monthly_paths="100 1000" ;;
  *) run_h1="10000 100000 400000" run_full="1000 10000" sweep_paths="100 1000 10000" monthly_paths="100 1000" ;;
esac

echo "| what | command | peak RSS | wall |"
echo "|---|---|---|---|"
# The base scenario's roadmaps need years; the small test scenario runs a one-month horizon.
small=$PWD/tests/data/small.toml
for n in $run_h1; do
  peak "run, small scenario, one month, $n paths" run "$small" --set simulation.horizon_months=1 --paths "$n" --out out
done
for n in $run_full; do
  peak "run, base, $n paths" run "$base" --paths "$n" --out out
  peak "plot of that run" plot out/base
done
rm -rf "$work/out"
for n in $sweep_paths; do
  peak "sweep, one cell, $n paths" sweep "$one_cell" --paths "$n" --out out
done
for n in $monthly_paths; do
  peak "sweep --monthly, one cell, $n paths" sweep "$one_cell" --monthly --paths "$n" --out out
  rm -rf "$work/out"
done
if [ "${SIZES:-default}" = quick ]; then
  sed -i 's/step = 0.01/step = 0.1/' "$work/many_cells.toml"
  peak "sweep, 100 cells × 1 path" sweep "$work/many_cells.toml" --out out
else
  peak "sweep, 10,000 cells × 1 path" sweep "$work/many_cells.toml" --out out
fi
