#!/usr/bin/env bash
# Submits a sharded hashcycle sweep to Slurm: a job array of N shards, then a merge job that starts only when
# every shard has succeeded (--dependency=afterok). Prints the two job ids.
#
#   deploy/slurm/submit.sh SWEEP_FILE OUT_DIR N_SHARDS [hashcycle sweep options...]
#
# HASHCYCLE_SBATCH_OPTIONS adds sbatch options to both jobs (e.g. "--partition=batch --time=02:00:00").
# HASHCYCLE names the binary the jobs run (default: `hashcycle` on PATH).
# Logs go to the directory you submit from.
set -euo pipefail

usage="usage: submit.sh SWEEP_FILE OUT_DIR N_SHARDS [hashcycle sweep options...]"
sweep_file=${1:?$usage}
out_dir=${2:?$usage}
n_shards=${3:?$usage}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
case $n_shards in
    '' | *[!0-9]* | 0) echo "submit.sh: N_SHARDS must be a whole number of at least 1, not '$n_shards'" >&2; exit 1 ;;
esac

# The merge job needs DIR/<sweep name>: read `name` from the sweep file's [sweep] table.
sweep_name=$(awk '
    /^[[:space:]]*\[/ { in_sweep = ($0 ~ /^[[:space:]]*\[sweep\][[:space:]]*(#.*)?$/) }
    in_sweep && match($0, /^[[:space:]]*name[[:space:]]*=[[:space:]]*"[^"]*"/) {
        value = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", value); sub(/"$/, "", value); print value; exit
    }' "$sweep_file")
if [ -z "$sweep_name" ]; then
    echo "submit.sh: cannot find name = \"...\" in the [sweep] table of $sweep_file" >&2
    exit 1
fi

# Absolute paths, so the jobs do not depend on where they start.
sweep_file=$(cd "$(dirname "$sweep_file")" && pwd)/$(basename "$sweep_file")
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# shellcheck disable=SC2086 # HASHCYCLE_SBATCH_OPTIONS is a list of options.
array_job=$(sbatch --parsable ${HASHCYCLE_SBATCH_OPTIONS:-} --array="0-$((n_shards - 1))" \
    "$here/sweep.sbatch" "$sweep_file" "$out_dir" "$@")
array_job=${array_job%%;*} # --parsable prints "id" or "id;cluster"
# shellcheck disable=SC2086
merge_job=$(sbatch --parsable ${HASHCYCLE_SBATCH_OPTIONS:-} --dependency="afterok:$array_job" \
    "$here/merge.sbatch" "$out_dir/$sweep_name")
merge_job=${merge_job%%;*}
echo "array job $array_job ($n_shards shards of sweep $sweep_name), merge job $merge_job"
echo "results: $out_dir/$sweep_name/ once job $merge_job completes"
