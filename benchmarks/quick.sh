#!/usr/bin/env bash
# Every benchmark's --quick mode, one after another, each under a minute: CI runs this so that
# no benchmark rots (they import private APIs). The figures they print are not results.
#   benchmarks/quick.sh [PYTHON]      (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
storage=()
if [[ -n "${DSDNAS_POSTGRES_URL:-}" ]]; then storage=(--storage "$DSDNAS_POSTGRES_URL"); fi
run() {
    local started=$SECONDS
    echo "== $*"
    "$python" "$@"
    echo "== $1: $((SECONDS - started)) s"
}
# bench_trainer's and bench_jobs' quick modes, through the GPU script with its --device plumbing.
echo "== benchmarks/gpu_check.sh --device cpu --quick"
benchmarks/gpu_check.sh --device cpu --quick "$python"
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
run benchmarks/bench_fixed.py --quick
