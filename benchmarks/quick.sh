#!/usr/bin/env bash
# Every benchmark's --quick mode, one after another, each under a minute: CI runs this so that
# no benchmark rots (they import private APIs). The figures they print are not results.
# At the end (also after a failure) it prints each quick mode's seconds, and a line
# `OVER A MINUTE: ...` naming those that took longer; that line does not fail the run, since
# CI machines differ in speed.
#   benchmarks/quick.sh [PYTHON]      (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
storage=()
if [[ -n "${DSDNAS_POSTGRES_URL:-}" ]]; then storage=(--storage "$DSDNAS_POSTGRES_URL"); fi
names=()
seconds=()
current=
log=$(mktemp)
summary() {
    local code=$? over=() i
    rm -f "$log"
    echo "== seconds per quick mode"
    for i in "${!names[@]}"; do
        printf '%-24s %4d s\n' "${names[i]}" "${seconds[i]}"
        if ((seconds[i] > 60)); then over+=("${names[i]}"); fi
    done
    if ((${#over[@]})); then echo "OVER A MINUTE: ${over[*]}"; fi
    if ((code)) && [[ -n $current ]]; then echo "FAILED: $current (exit $code)"; fi
}
trap summary EXIT
run() {
    local started=$SECONDS
    current=${1#benchmarks/}
    echo "== $*"
    "$python" "$@"
    names+=("$current")
    seconds+=($((SECONDS - started)))
    current=
    echo "== $1: $((SECONDS - started)) s"
}
# bench_trainer's and bench_jobs' quick modes, through the GPU script with its --device plumbing;
# their seconds are read from the lines it prints after each part.
echo "== benchmarks/gpu_check.sh --device cpu --quick"
current=gpu_check.sh
benchmarks/gpu_check.sh --device cpu --quick "$python" | tee "$log"
current=
while read -r name spent; do
    names+=("$name")
    seconds+=("$spent")
done < <(sed -nE 's|^== benchmarks/([^ ]+\.py): ([0-9]+) s$|\1 \2|p' "$log")
run benchmarks/bench_latency.py --quick
run benchmarks/bench_report.py --quick
run benchmarks/bench_twins.py --quick
run benchmarks/bench_workers.py --quick "${storage[@]}"
run benchmarks/bench_rank.py --quick
run benchmarks/bench_search.py --quick
run benchmarks/bench_front.py --quick
run benchmarks/bench_shipped.py --quick
run benchmarks/bench_lut.py --quick
run benchmarks/bench_lut_fit.py --quick
run benchmarks/bench_agreement.py --quick
run benchmarks/bench_scaling.py --quick
run benchmarks/bench_reference.py --quick
run benchmarks/bench_fixed.py --quick
