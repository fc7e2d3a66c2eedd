"""The shipped front on full Fashion-MNIST: search, fine-tune the front, score it once on the test split.

One run on Fashion-MNIST from Debian's dataset-fashion-mnist (60k train, 10k test): a
search with the default space for a wall-time budget (on the first --train-limit training
images, so the search sees many candidates in its time; at most --max-macs, so that every
member's fine-tune fits in the hour), then `dsdnas finetune --top K`
with --epochs epochs on all 60,000 training images, each member scored once on the
10,000 test images. It prints:

- the search: trials, time, its front at validation accuracy;
- the shipped front: every fine-tuned member's test accuracy with its 95% interval, its
  validation accuracy in the search, MACs, params and fine-tune time, and which members
  the others dominate (Optuna's non-dominated sort, as the report does);
- the targets: 89% at 15k params or fewer, 92.5% at 100k or fewer, 93.2% at 1.8M or fewer
  (the Fashion-MNIST benchmark table's small CNNs): met, or the best member within that
  size and how many points it falls short;
- each row of docs/references/fashion-mnist.csv: dominated by a member, or not.

    python benchmarks/bench_shipped.py                       # 15 min search, 6 members x 12 epochs
    python benchmarks/bench_shipped.py --keep runs/shipped   # keep the run (its report, its models)
    python benchmarks/bench_shipped.py --front --epochs 20   # every front member, longer
    python benchmarks/bench_shipped.py --quick               # 20 s search, 2 members x 1 epoch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dsdnas.nas.runs.rundir import RunDir  # noqa: E402 - after the path is set
from dsdnas.nas.search.shipped import read_shipped  # noqa: E402
from dsdnas.reports import read_references  # noqa: E402
from dsdnas.reports._references import verdicts  # noqa: E402

TARGETS = ((0.89, 15_000), (0.925, 100_000), (0.932, 1_800_000))  # (test accuracy, at most this many params)
REFERENCES = ROOT / "docs" / "references" / "fashion-mnist.csv"


def dsdnas(*args: str) -> float:
    """Run this checkout's dsdnas as a fresh process; returns its wall time in seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DSDNAS_OFFLINE": "1"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dsdnas", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"dsdnas {' '.join(args[:2])} failed: {done.stderr.strip()[-600:]}")
    return time.monotonic() - started


def run(args: argparse.Namespace, out: Path) -> None:
    search_s = dsdnas("search", "--dataset", "fashion-mnist", "--train-limit", str(args.train_limit),
                      "--budget", args.budget, "--seed", str(args.seed), "--device", "cpu", "--out", str(out),
                      "--max-macs", str(args.max_macs), "--quiet")  # fmt: skip
    front = json.loads((out / "pareto.json").read_text())["trials"]
    trials = len((out / "trials.csv").read_text().splitlines()) - 1
    settings = f"--budget {args.budget}, --train-limit {args.train_limit}, --max-macs {args.max_macs:g}"
    settings += f", seed {args.seed}"
    print(f"search: {trials} trials in {search_s:.0f} s ({settings}); front of {len(front)} at validation accuracy:")
    for row in sorted(front, key=lambda r: r["macs"]):
        print(f"  trial {row['trial']:>3}  {100 * row['accuracy']:6.2f}%  {row['macs']:>11,} MACs  "
              f"{row['params']:>9,} params  {row['notation']}")  # fmt: skip
    members = ["--front"] if args.front else ["--top", str(args.top)]
    tune_s = dsdnas("finetune", str(out), *members, "--epochs", str(args.epochs), "--device", "cpu")
    dsdnas("report", str(out), "--reference", str(REFERENCES))
    shipped = read_shipped(RunDir(out))
    on_front = {member.number for member in shipped.front}
    print(f"\nshipped front: {len(shipped.finished)} members ({' '.join(members)}), {args.epochs} epochs each on all "
          f"60,000 training images, scored once on the 10,000 test images; {tune_s:.0f} s in all")  # fmt: skip
    for m in shipped.finished:
        low, high = m.test_interval
        search = f"{100 * m.val_accuracy:6.2f}%" if m.val_accuracy is not None else "     -"
        print(f"  trial {m.number:>3}  test {100 * m.test_accuracy:6.2f}% [{100 * low:.1f}, {100 * high:.1f}]  "
              f"search {search}  {m.macs:>11,} MACs  {m.params:>9,} params  {m.train_s:6.0f} s"
              f"{'' if m.number in on_front else '  (dominated)'}")  # fmt: skip
    print("\ntargets (test accuracy at a number of params or fewer):")
    for accuracy, params in TARGETS:
        within = [m for m in shipped.finished if m.params <= params]
        top = max(within, key=lambda m: m.test_accuracy, default=None)
        if top is None:
            print(f"  {100 * accuracy:.1f}% at <= {params:,} params: no member that small")
        elif top.test_accuracy >= accuracy:
            print(f"  {100 * accuracy:.1f}% at <= {params:,} params: met by trial {top.number} "
                  f"({100 * top.test_accuracy:.2f}% at {top.params:,} params)")  # fmt: skip
        else:
            print(f"  {100 * accuracy:.1f}% at <= {params:,} params: MISSED by "
                  f"{100 * (accuracy - top.test_accuracy):.2f} points (trial {top.number}: "
                  f"{100 * top.test_accuracy:.2f}% at {top.params:,} params)")  # fmt: skip
    print(f"\nreference points ({REFERENCES.relative_to(ROOT)}):")
    for verdict in verdicts(read_references(REFERENCES), shipped.finished):
        print(f"  {verdict['sentence']}")
    print(f"\nreport: {out / 'report.html'}" if args.keep else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="15m", help="the search's wall-time budget")
    parser.add_argument("--train-limit", type=int, default=12_000, help="training images the search sees")
    parser.add_argument("--max-macs", type=float, default=4e6, help="the search's MACs limit, so fine-tunes fit")
    parser.add_argument("--top", type=int, default=6, help="front members to fine-tune, spread over the MACs")
    parser.add_argument("--front", action="store_true", help="fine-tune every front member instead of --top")
    parser.add_argument("--epochs", type=int, default=12, help="fine-tune epochs per member")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the run here and keep it")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.train_limit, args.top, args.epochs = "20s", 1024, 2, 1
    started = time.monotonic()
    if args.keep:
        run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-shipped-") as folder:
            run(args, Path(folder) / "run")
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
