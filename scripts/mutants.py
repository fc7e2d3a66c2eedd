"""Mutation testing of the modules that carry the README's promises, each with the tests chosen for it.

mutmut changes one thing at a time in a module (a < for a <=, a True for a False, a
constant, a dropped call) and runs the tests that reach the changed function; a mutant
that no test notices "survives". The score is killed / (killed + survived + timeouts
aside): how much of the module's behaviour its tests would catch breaking.

mutmut reads one configuration, so each module runs in its own copy of the repository
under --work (src/, tests/, pyproject.toml with a [tool.mutmut] section naming the module
and its tests). The tests are in-process ones: a test that starts `python -m dsdnas`
imports the unmutated package and could not notice a mutant.

    python scripts/mutants.py                  # every module below; the first run: about an hour on 2 cores
    python scripts/mutants.py budget stats     # some of them
    python scripts/mutants.py --fresh          # every mutant checked again, earlier verdicts dropped
    python scripts/mutants.py --list           # the table: module, file, tests

A module's folder keeps its verdicts between runs. While nothing else its verdicts rest on
has changed (the rest of src/, its selected tests and tests/' helpers, pyproject.toml, the
mutmut version), a run checks only the mutants of the functions whose text changed, and the
ones a time limit left unchecked; anything else changed, and every mutant is checked again.

Prints a line per module (mutants, killed, survived, timeouts, score) and writes each
module's survivors to WORK/<module>/survivors.txt (`mutmut show NAME` there shows one).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module: (the file mutated, the tests run against it). One entry per promise-carrying module.
MODULES: dict[str, tuple[str, list[str]]] = {
    "budget": ("src/dsdnas/nas/search/budget.py", ["tests/nas/search/test_budget.py"]),
    # What --budget N counts (TrialRecord.counted, finished_count) and the one-commit record.
    "budget counting": ("src/dsdnas/nas/search/records.py", ["tests/nas/search/test_records.py"]),
    "stats": ("src/dsdnas/nas/stats.py", ["tests/nas/test_stats.py"]),
    "costs": (
        "src/dsdnas/nas/model/costs.py",
        [
            "tests/nas/model/test_costs.py::test_block_macs_and_params_equal_the_analytic_count",
            "tests/nas/model/test_costs.py::test_whole_model_macs_equal_the_analytic_count",
            "tests/nas/model/test_costs.py::test_sampled_candidates_of_every_space_cost_what_the_formula_says[dsd-tiny]",
            "tests/nas/model/test_costs.py::test_a_candidate_timed_only_if_it_trains_is_counted_now_and_left_untimed",
            "tests/nas/model/test_costs.py::test_a_candidate_is_timed_in_the_runtime_asked_for",
            "tests/nas/model/test_costs.py::test_a_predicted_latency_is_recorded_as_predicted_and_nothing_is_timed",
            "tests/nas/model/test_costs.py::test_unsupported_ops_are_collected_not_printed",
            "tests/nas/model/test_costs.py::test_a_candidates_latency_is_measured_alone_on_every_cpu_thread_and_reported_whole",
            "tests/nas/model/test_cost_reports.py",  # dsdnas blocks, profile and the reference models
            "tests/cli/test_cli.py::test_profile_prints_table_and_json",  # in its runtime
        ],
    ),
    "rungs": ("src/dsdnas/nas/search/rungs.py", ["tests/nas/search/test_rungs.py"]),
    "samplers": (
        "src/dsdnas/nas/search/samplers.py",
        ["tests/nas/search/test_samplers.py", "tests/nas/search/test_snapshot.py"],
    ),
    # The study as one read: what it serves, that it reads once, Optuna's front over it.
    "snapshot": ("src/dsdnas/nas/search/snapshot.py", ["tests/nas/search/test_snapshot.py"]),
    # A record in one statement, a candidate's choices in one commit: whole, as Optuna checks them, from elsewhere.
    # On SQLite: the PostgreSQL cases start a cluster from .ci/, which the module's copy does not hold.
    "storage writes": (
        "src/dsdnas/nas/search/storage.py",
        [
            "tests/nas/search/test_storage.py::test_a_candidates_choices_are_one_commit_and_read_back_from_another_connection[sqlite]",
            *(
                f"tests/nas/search/test_storage.py::{name}"
                for name in (
                    "test_tpe_draws_the_same_candidates_whether_choices_are_committed_one_by_one_or_together",
                    "test_a_drawing_that_raises_stores_none_of_its_choices",
                    "test_a_choice_whose_options_changed_is_refused_as_optuna_refuses_it",
                    "test_a_finished_trials_choices_are_not_written",
                    "test_on_a_storage_that_is_no_database_the_choices_are_written_as_optuna_writes_them",
                    "test_a_name_the_study_has_stored_is_checked_without_a_query_of_its_own",
                )
            ),
            "tests/nas/search/test_records.py::test_a_record_round_trips_through_optuna_user_attributes",
            "tests/nas/search/test_records.py::test_a_whole_record_is_one_commit_in_a_database_and_reads_back_from_another_connection",
            "tests/nas/search/test_records.py::test_a_record_is_one_statement_replaces_its_keys_and_never_touches_a_finished_trial[sqlite]",
        ],
    ),
    "storage masking": (
        "src/dsdnas/nas/search/location.py",
        ["tests/nas/search/test_location.py"],
    ),
    "claims": ("src/dsdnas/nas/search/workers/_claims.py", ["tests/nas/search/test_claims.py"]),
    "twins": ("src/dsdnas/nas/search/workers/_twins.py", ["tests/nas/search/test_claims.py"]),
    "quiet lock": ("src/dsdnas/nas/quiet.py", ["tests/nas/test_quiet.py"]),
    "artifact store": ("src/dsdnas/nas/runs/store.py", ["tests/nas/runs/test_store.py"]),
    "cli errors": ("src/dsdnas/cli/_common.py", ["tests/cli/test_errors.py"]),
    "ownership": ("src/dsdnas/nas/search/workers/_ownership.py", ["tests/nas/search/test_ownership.py"]),
    # Its unit tests: each step on a study left as a kill leaves it (tests/api's: real searches, 30 s a mutant).
    "recovery": ("src/dsdnas/nas/search/workers/_recovery.py", ["tests/nas/search/test_recovery.py"]),
    "interrupts": ("src/dsdnas/interrupts.py", ["tests/test_interrupts.py"]),
    "speed probe": ("src/dsdnas/nas/model/speed.py", ["tests/nas/model/test_speed.py"]),
    # The probe's reference pooled over a machine's processes through the cache (the fastest of the latest).
    "speed store": ("src/dsdnas/nas/model/speed_store.py", ["tests/nas/model/test_speed_store.py"]),
    # The figure: each pass scaled by its probe pass, the median of them; the spread and the noise flag. Against the
    # tests of that arithmetic: the ones that time real models wait for a quiet machine, which two mutants checked
    # side by side never leave (26 of latency.py's mutants checked in 13 minutes, 6 of figure.py's in 12).
    "latency figure": (
        "src/dsdnas/nas/model/figure.py",
        [
            *(
                f"tests/nas/model/test_speed.py::{name}"
                for name in (
                    "test_each_round_is_scaled_by_the_machines_speed_in_that_round",
                    "test_a_round_timed_at_half_speed_counts_half_its_time",
                    "test_without_a_probe_nothing_is_scaled",
                    "test_the_figure_is_the_median_pass_at_full_speed_not_the_luckiest_round",
                    "test_without_a_probe_the_figure_is_the_lowest_round_median",
                )
            ),
            "tests/nas/model/test_latency.py::test_percentile_interpolates",
            "tests/nas/model/test_latency.py::test_what_makes_a_measurement_unstable",
        ],
    ),
    # Reference models beside the front: the cheapest match, its cost ratios, latency only in one runtime.
    "baselines": ("src/dsdnas/reports/_baselines.py", ["tests/reports/test_baselines.py"]),
    # Moves around the front: one choice of a front member changed, never a candidate evaluated.
    "mutation": ("src/dsdnas/nas/search/mutation.py", ["tests/nas/search/test_samplers.py"]),
    # The start-up picked by synflow: the score, the pool near the anchor's cost, nothing evaluated picked again.
    "warm start": ("src/dsdnas/nas/search/warm_start.py", ["tests/nas/search/test_warm_start.py"]),
    # A latency table's sums, its constants, its file and what it refuses (dsdnas lut, --latency-lut).
    "latency table": ("src/dsdnas/nas/lut/_table.py", ["tests/nas/lut/test_table.py"]),
    # The table's constants fitted to candidates timed whole (the element term, the guards), and its error measures.
    "latency fit": ("src/dsdnas/nas/lut/_fit.py", ["tests/nas/lut/test_table.py"]),
}

STATUSES = "killed|survived|timeout|no tests|suspicious|segfault|skipped|not checked|check was interrupted by user"
SUMMARY = re.compile(rf"^\s+(\S+): ({STATUSES})", re.M)
# A mutant under which a test ends in KeyboardInterrupt (pytest's exit code 2), which mutmut
# reads as the user's Ctrl-C: the tests noticed it, so it counts as killed.
NOTICED = ("killed", "check was interrupted by user")


def config(source: str, tests: list[str]) -> str:
    listed = ", ".join(f'"{test}"' for test in tests)
    return (
        "\n[tool.mutmut]\n"
        f'only_mutate = ["{source}"]\n'
        f"pytest_add_cli_args_test_selection = [{listed}]\n"
        # --slow: the recovery tests are real searches, which the default run leaves out.
        'pytest_add_cli_args = ["--slow", "-p", "no:cacheprovider", "-p", "no:timeout", "-o", "addopts="]\n'
        'process_isolation = "forkserver"  # torch is not fork-safe once its thread pool started\n'
    )


def fingerprint(source: str, tests: list[str]) -> str:
    """What a module's verdicts rest on besides its own file: the rest of src/, its tests, the configuration.

    Its tests: the files selected, and every file under tests/ that is not a test module
    (conftest.py, support.py), which they may import. The mutated file is left out: mutmut
    itself checks again only the functions whose text changed.
    """
    selected = {ROOT / test.split("::")[0] for test in tests}
    paths = [*(ROOT / "src").rglob("*.py"), *(ROOT / "tests").rglob("*")]
    digest = hashlib.sha256(config(source, tests).encode())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    digest.update(importlib.metadata.version("mutmut").encode())
    for path in sorted(paths):
        if not path.is_file() or "__pycache__" in path.parts or path == ROOT / source:
            continue
        helper = path.is_relative_to(ROOT / "tests") and not path.name.startswith("test_")
        if path.is_relative_to(ROOT / "src") or helper or any(path.is_relative_to(s) for s in selected):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare(work: Path, source: str, tests: list[str], fresh: bool) -> tuple[Path, bool]:
    """The module's copy of the repository, and whether it kept an earlier run's verdicts."""
    stamp = fingerprint(source, tests)
    if not fresh and (work / "fingerprint").is_file() and (work / "fingerprint").read_text() == stamp:
        copy = work / source
        if copy.read_bytes() != (ROOT / source).read_bytes():
            # copyfile, not copy2: a new mtime is how mutmut sees the file changed.
            shutil.copyfile(ROOT / source, copy)
        return work, True
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config(source, tests))
    (work / "fingerprint").write_text(stamp)
    return work, False


def run_module(name: str, work: Path, *, max_children: int, time_limit_s: float | None, fresh: bool) -> dict[str, int]:
    source, tests = MODULES[name]
    folder, kept = prepare(work / name.replace(" ", "-"), source, tests, fresh)
    env = {**os.environ, "DSDNAS_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    with (folder / "run.log").open("w") as log:
        running = subprocess.Popen(
            command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            running.wait(timeout=time_limit_s)
        except subprocess.TimeoutExpired:  # the mutants checked so far keep their results; the rest are "not checked"
            os.killpg(running.pid, signal.SIGTERM)
            running.wait()
    results = [sys.executable, "-m", "mutmut", "results", "--all", "true"]
    listed = subprocess.run(results, cwd=folder, env=env, capture_output=True, text=True).stdout
    found = SUMMARY.findall(listed)
    others = ("survived", "timeout", "no tests", "not checked")
    counts = {status: sum(s == status for _, s in found) for status in others}
    counts["killed"] = sum(s in NOTICED for _, s in found)
    counts["mutants"], counts["seconds"] = len(found), round(time.monotonic() - started)
    counts["kept"] = kept
    survivors = [mutant for mutant, status in found if status in ("survived", "no tests")]
    (folder / "survivors.txt").write_text("".join(f"{mutant}\n" for mutant in survivors))
    log = (folder / "run.log").read_text(errors="replace")
    if "failed to collect stats" in log or "Failed to run clean test" in log:
        # A selected test fails on the unmutated code: mutmut checked nothing.
        print(f"{name}: a selected test fails without any mutant; see {folder / 'run.log'}", file=sys.stderr)
    elif not found:
        print(f"{name}: mutmut reported nothing; see {folder / 'run.log'}", file=sys.stderr)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dsdnas-mutants"))
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per module; the rest: not checked")
    parser.add_argument("--fresh", action="store_true", help="check every mutant again, as a first run does")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, (source, tests) in MODULES.items():
            print(f"{name:16} {source:48} {' '.join(tests)}")
        return
    unknown = [name for name in args.modules if name not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; see --list")
    print(f"{'module':16} {'mutants':>7} {'killed':>6} {'survived':>8} {'timeout':>7} {'no tests':>8} {'score':>6}")
    # score: killed / (killed + survived + no tests); timeouts count as neither, unchecked ones are said
    for name in args.modules or MODULES:
        counts = run_module(
            name, args.work, max_children=args.max_children, time_limit_s=args.time_limit, fresh=args.fresh
        )
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        score = f"{100 * counts['killed'] / judged:.0f}%" if judged else "-"
        print(
            f"{name:16} {counts['mutants']:7} {counts['killed']:6} {counts['survived']:8} {counts['timeout']:7} "
            f"{counts['no tests']:8} {score:>6}  ({counts['seconds']} s"
            + ("; only changed functions checked again" if counts["kept"] else "")
            + (f"; {counts['not checked']} not checked in the time limit)" if counts["not checked"] else ")"),
            flush=True,
        )


if __name__ == "__main__":
    main()
