"""Does a latency measured during a search repeat at its end? The same front models, timed both ways.

A search whose latency is no objective or limit (the default, and the user's report) times
no candidate while it runs: its end times every trained model once, back to back, and that
is each model's one figure. Part 1 checks it on a real search (mnist-sample, 3 epochs, seed
3, as the user's report did): no latency in the study, one per trained model at the end.

Part 1 then runs the same search with `--max-latency-ms` set far above any candidate: the
limit makes the search time every candidate before training it (as latency as an objective
does) and changes nothing else, so the front is the same kind of front. For every front
member it prints the latency timed when it was sampled, the one timed again when the
search ended (RUN/front_latency.json), and their ratio. The target: every ratio within 5%
on a quiet machine.

Part 2 looks for the cause: the front models timed in turns under each condition a search
measures in, the conditions' order reversed every round:

    end            back to back with the others, as at the end of a search (each freshly built)
    trained        the same, with the weights the search trained (both the search and the end time a
                   freshly built model; this shows the weights change nothing)
    after-train    right after this process trained another candidate for one epoch
    after-fvcore   as a search does: train another, count this model's MACs (fvcore traces it), time it
    after-pause    train another, sleep 2 s, time it

Part 3 measures the figure's own repeatability: the same front models timed `--repeats` times in
one process, another candidate trained for an epoch (on every core) before each, timed on every
core and on one thread in turns, in rounds of 5 ms as `measure_latency` times. From the same
passes it reads each rule: the lowest round median scaled round by round (before) and the
median pass scaled by the probe pass after it (now). It prints the share of pairs of one
model's figures within 5% of each other (what the target asks of a search and its end) and
the p90 of each figure's distance from its model's median. (Before 2026-12-07, evening, it compared
rounds of 5 and 20 ms, on every core.)

    python benchmarks/bench_agreement.py [--budget 20] [--rounds 3] [--repeats 12] [--skip-part-two]
    python benchmarks/bench_agreement.py --skip-part-two --latency-threads 1   # part 1 timed on one thread
    python benchmarks/bench_agreement.py --quick     # budget 4, 1 epoch, 1 round; part 3 one model, 2 repeats (CI)

Run it while nothing else runs: the figures are ratios of a few percent.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import optuna
import torch
from safetensors.torch import load_file

from dsdnas.api import search
from dsdnas.api._prepare import prepare
from dsdnas.api.config import SearchConfig
from dsdnas.nas.files import read_json
from dsdnas.nas.hardware import cpu_count, machine_info
from dsdnas.nas.model.arch import Arch, Block, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import LATENCY_REPEATS, count_macs, quiet_latency
from dsdnas.nas.model.figure import at_full_speed, figure_ms, round_speeds
from dsdnas.nas.model.latency import ROUND_MIN_S, timed_rounds, warm_up
from dsdnas.nas.model.speed import SpeedProbe
from dsdnas.nas.runs.rundir import WEIGHTS_FILE, RunDir
from dsdnas.nas.search.records import records
from dsdnas.nas.search.results import pareto_trials
from dsdnas.nas.training.trainer import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import in_turns  # noqa: E402

OTHER = Arch((1, 28, 28), 10, Stem(16), (Block("standard", 3, 1, 32, 2), Block("separable", 3, 2, 64, 2)))


def part_one(args: argparse.Namespace, out: Path) -> list[tuple[Arch, dict[str, torch.Tensor]]]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    settings = {"dataset": "mnist-sample", "budget": args.budget, "epochs": args.epochs, "seed": 3, "device": "cpu"}
    settings["latency_threads"] = args.latency_threads
    result = search(**settings, out=out / "default", early_stop="off")
    untimed = all(record.latency_ms is None for record in records(result.study))
    timed = read_json(out / "default" / "front_latency.json")["trials"]
    trained = [record.number for record in records(result.study) if record.trained]
    on = f", timed on {args.latency_threads or 'every'} thread(s)"
    print(f"\n== part 1: a search (budget {args.budget}, {args.epochs} epochs{on}) with latency no objective or limit")
    print(f"   timed during the search: {'none' if untimed else 'SOME'}; timed at the end: {len(timed)} models, of")
    print(f"   {len(trained)} trained to the end ({'each once' if sorted(map(int, timed)) == trained else 'NOT ALL'})")
    result = search(**settings, out=out / "timed", early_stop="off", max_latency_ms=1e6)
    again = read_json(out / "timed" / "front_latency.json")["trials"]
    print("   the same search timing every candidate before training it (--max-latency-ms 1e6):")
    print(f"   {'trial':>5} {'during':>8} {'at end':>8} {'ratio':>6}  candidate")
    ratios = []
    front = pareto_trials(result.study)
    for record in front:
        end = again[str(record.number)]["latency_ms"]
        ratios.append(record.latency_ms / end)
        print(f"   {record.number:5d} {record.latency_ms:8.3f} {end:8.3f} {ratios[-1]:6.2f}  {record.notation}")
    worst = max(abs(ratio - 1) for ratio in ratios)
    print(f"   median ratio {statistics.median(ratios):.3f}, worst |ratio - 1| {worst:.1%} ({len(ratios)} members)")
    weights = [load_file(RunDir(out / "timed").trial_dir(record.number) / WEIGHTS_FILE) for record in front]
    return [(Arch.from_dict(record.arch), state) for record, state in zip(front, weights, strict=True)]


def _time(arch: Arch, state: dict[str, torch.Tensor] | None = None) -> float:
    model = build_model(arch)
    if state is not None:
        model.load_state_dict(state)
    return quiet_latency(model, arch.input_shape, torch.device("cpu"), repeats=LATENCY_REPEATS).p50_ms


def part_two(args: argparse.Namespace, members: list[tuple[Arch, dict[str, torch.Tensor]]]) -> None:
    prepared = prepare(SearchConfig(dataset="mnist-sample", device="cpu").validate())
    train = replace(prepared.train, epochs=1)

    def train_other() -> None:
        torch.set_num_threads(cpu_count())
        Trainer(build_model(OTHER), prepared.data, train).run()

    def after_fvcore(arch: Arch) -> float:
        train_other()
        count_macs(build_model(arch), arch.input_shape)
        return _time(arch)

    def after_pause(arch: Arch) -> float:
        train_other()
        time.sleep(2.0)
        return _time(arch)

    conditions = {  # each times one member: its architecture and the weights the search trained
        "end": lambda arch, _: _time(arch),
        "trained": _time,
        "after-train": lambda arch, _: (train_other(), _time(arch))[1],
        "after-fvcore": lambda arch, _: after_fvcore(arch),
        "after-pause": lambda arch, _: after_pause(arch),
    }
    found: dict[str, list[list[float]]] = {name: [[] for _ in members] for name in conditions}
    for round_number in range(args.rounds):
        for name in in_turns(list(conditions), round_number):
            for index, (arch, state) in enumerate(members):
                found[name][index].append(conditions[name](arch, state))
    print(f"\n== part 2: the same {len(members)} models in each condition, {args.rounds} round(s), median ms")
    columns = " ".join(f"{i:>7}" for i in range(len(members)))
    print(f"   {'condition':14} {columns}   ratio to end (median, range)")
    end = [statistics.median(values) for values in found["end"]]
    for name, values in found.items():
        medians = [statistics.median(v) for v in values]
        ratios = [m / e for m, e in zip(medians, end, strict=True)]
        cells = " ".join(f"{m:7.3f}" for m in medians)
        print(f"   {name:14} {cells}   {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")


THREADS = {"all": cpu_count(), "1": 1}  # CPU threads a model is timed on; it trains on every core
RULES = {
    "lowest round median (before)": lambda times, probes, reference: min(
        statistics.median(round_ms) for round_ms in at_full_speed(times, round_speeds(probes, reference, len(times)))
    ),
    "median pass (now)": figure_ms,
}


def _passes(arch: Arch, threads: int) -> tuple[list[list[float]], list[list[float]], float]:
    """One measurement's raw passes, as `measure_latency` takes them: warm-up, 5 rounds of at least 5 ms, a probe
    pass after each model pass; with the probe's reference (one for each thread count)."""
    torch.set_num_threads(threads)
    model, sample = build_model(arch).eval(), torch.rand((1, *arch.input_shape))
    probe = SpeedProbe(torch.device("cpu"))
    reference = probe.reference_ms()
    with torch.inference_mode():
        pass_s = warm_up(lambda: model(sample), torch.device("cpu"), warmup=10)
        per_round = max(10, math.ceil(ROUND_MIN_S / pass_s))
        times, probes = timed_rounds(
            lambda: model(sample), torch.device("cpu"), rounds=5, per_round=per_round, probe=probe
        )
    return times, probes, reference


def part_three(args: argparse.Namespace, members: list[tuple[Arch, dict[str, torch.Tensor]]]) -> None:
    prepared = prepare(SearchConfig(dataset="mnist-sample", device="cpu").validate())
    train = replace(prepared.train, epochs=1)
    figures = {(threads, rule): [[] for _ in members] for threads in THREADS for rule in RULES}
    seconds: dict[str, list[float]] = {threads: [] for threads in THREADS}
    medians: dict[str, list[list[float]]] = {threads: [[] for _ in members] for threads in THREADS}
    for repeat in range(args.repeats):
        for threads in in_turns(list(THREADS), repeat):
            for index, (arch, _) in enumerate(members):
                torch.set_num_threads(cpu_count())
                Trainer(build_model(OTHER), prepared.data, train).run()
                started = time.perf_counter()
                times, probes, reference = _passes(arch, THREADS[threads])
                seconds[threads].append(time.perf_counter() - started)
                medians[threads][index].append(statistics.median(itertools.chain(*times)))
                for rule, read in RULES.items():
                    figures[(threads, rule)][index].append(read(times, probes, reference))
    print(f"\n== part 3: each of {len(members)} models timed {args.repeats} times, an epoch of training before each")
    for threads, per_model in medians.items():
        cells = " ".join(f"{statistics.median(values):.3f}" for values in per_model)
        print(f"   raw median pass on {threads} thread(s), ms: {cells}")
    print(f"   {'threads':7} {'rule':30} {'pairs within 5%':>16} {'p90 distance':>13} {'s a measurement':>16}")
    for (threads, rule), per_model in figures.items():
        pairs = [max(a, b) / min(a, b) <= 1.05 for values in per_model for a, b in itertools.combinations(values, 2)]
        distances = [abs(v / statistics.median(values) - 1) for values in per_model for v in values]
        share = f"{sum(pairs)}/{len(pairs)} {sum(pairs) / max(1, len(pairs)):.0%}"
        p90 = sorted(distances)[int(0.9 * (len(distances) - 1))]
        print(f"   {threads:7} {rule:30} {share:>16} {p90:13.1%} {statistics.median(seconds[threads]):16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=12, help="part 3: measurements of each model per round length")
    parser.add_argument("--latency-threads", type=int, help="part 1: the searches' --latency-threads (default: all)")
    parser.add_argument("--skip-part-two", action="store_true", help="part 2 (the conditions) takes half the time")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.epochs, args.rounds, args.repeats = 4, 1, 1, 2
    machine = machine_info(torch.device("cpu"))
    print(f"# bench_agreement {time.strftime('%Y-%m-%d %H:%M')} on {machine['cpu']} ({machine['cpus']} CPUs)")
    with tempfile.TemporaryDirectory() as scratch:
        members = part_one(args, Path(scratch) / "run")
    if not args.skip_part_two:
        part_two(args, members[:6])
    part_three(args, members[: 1 if args.quick else 6])


if __name__ == "__main__":
    main()
