#!/usr/bin/env bash
# The GPU figures: run once wherever a CUDA GPU is at hand (at most 8 minutes on one GPU), and
# put what it prints in docs/benchmarks.md with the machine and the date.
#   1. the trainer against the textbook DataLoader loop, one epoch of MNIST's size (60,000
#      images: the bundled sample repeated), two models, 3 rounds in turns;
#   2. 32 candidates of the default space (dsd-range), 3 epochs each, with --jobs 1 and with
#      --jobs 4 on the same GPU, 3 rounds in turns: the same enqueued candidates for both in
#      every round (96 each, 192 trained in all: about the 200 of one 100-candidate round,
#      less 8 for the four more process starts that three rounds cost).
#
#   benchmarks/gpu_check.sh [--device cuda] [--quick] [PYTHON]
# --quick runs each part's quick mode (CI runs it on the CPU, so the script cannot rot);
# PYTHON defaults to .venv/bin/python, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
device=cuda
quick=()
python=
while (($#)); do
    case $1 in
        --device) device=$2; shift 2 ;;
        --quick) quick=(--quick); shift ;;
        *) python=$1; shift ;;
    esac
done
if [[ -z $python ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
if ! "$python" -c "import dsdnas" 2>/dev/null; then
    echo "== installing dsdnas into $python"
    "$python" -m pip install -q -e .
fi
# Each part has its own limit (s), so that one slow or failing part still leaves the others'
# figures; the script exits 1 if any part failed. Unbuffered, a part stopped at its limit
# still shows the rounds it finished.
failed=0
part() {
    local limit=$1 started=$SECONDS code=0
    shift
    echo "== $*"
    PYTHONUNBUFFERED=1 timeout "$limit" "$python" "$@" || code=$?
    if ((code)); then echo "== $1 failed: exit $code (124: over its $limit s)"; failed=1; fi
    echo "== $1: $((SECONDS - started)) s"
}
date -u +"%Y-%m-%d %H:%M UTC"
"$python" - "$device" <<'EOF'
import sys, torch
device = torch.device(sys.argv[1])
name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {name}, {torch.get_num_threads()} CPU threads")
EOF
if ((${#quick[@]})); then
    part 120 benchmarks/bench_trainer.py --device "$device" --quick
    part 120 benchmarks/bench_jobs.py --device "$device" --quick --jobs 1,2
else
    part 210 benchmarks/bench_trainer.py --device "$device" --images 60000 --rounds 3
    part 270 benchmarks/bench_jobs.py --device "$device" --space dsd-range --budget 32 --epochs 3 \
        --jobs 1,4 --rounds 3
fi
exit $failed
