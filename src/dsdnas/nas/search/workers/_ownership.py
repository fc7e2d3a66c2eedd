"""A run directory keeps the files of one study, and those files must be that study's.

Trial folders are named by trial number, and numbers restart with every study. So a
second study in the same --out, or a study.db that was emptied or replaced, would write
its trials over the first one's files. Both are refused before anything is written.
"""

from __future__ import annotations

import optuna

from dsdnas.errors import RunError
from dsdnas.nas.files import read_json
from dsdnas.nas.model.arch import load_arch
from dsdnas.nas.runs.rundir import ARCH_FILE, TRIALS_DIR, RunDir
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.records import TrialRecord


def trial_folders(run_dir: RunDir) -> list[int]:
    """Numbers of the trial folders in the run directory."""
    root = run_dir.root / TRIALS_DIR
    if not root.is_dir():
        return []
    return sorted(int(path.name) for path in root.iterdir() if path.name.isdigit() and path.is_dir())


def check_run_dir(run_dir: RunDir, study_name: str, location: StorageLocation) -> None:
    """Refuse a run directory that holds another study, or the same study in another storage."""
    if run_dir.root.exists() and not run_dir.root.is_dir():
        raise RunError(f"--out {run_dir.root} is a file, not a folder; pass a folder for the run")
    if not run_dir.run_json.exists():
        if trial_folders(run_dir):
            raise RunError(
                f"{run_dir.root} holds trial folders but no run.json: it is not a dsdnas run whose study is known; "
                f"pass --out NEW_DIR"
            )
        return
    meta = read_json(run_dir.run_json)
    if meta.get("study") != study_name:
        raise RunError(
            f"{run_dir.root} holds study {meta.get('study')!r}; a run directory keeps one study's files. "
            f"Continue it with --study {meta.get('study')}, or pass --out NEW_DIR for study {study_name!r}"
        )
    if meta.get("storage") != location.recorded:
        where = meta.get("storage") or f"{run_dir.root / 'study.db'} (no --storage)"
        raise RunError(f"{run_dir.root}'s study lives in {where}; pass the same --storage to continue it")


def check_new_study(run_dir: RunDir, study_name: str, location: StorageLocation) -> None:
    """A study about to be created must not find trial files waiting for it."""
    numbers = trial_folders(run_dir)
    if numbers:
        raise RunError(
            f"study {study_name!r} is not in {location.label}, but {run_dir.root / TRIALS_DIR} holds the files of "
            f"{len(numbers)} trial(s): the storage was emptied or replaced. Restore it, or pass --out NEW_DIR"
        )


def check_files_match(run_dir: RunDir, study: optuna.Study) -> None:
    """Every trial folder must hold the architecture the study recorded for that trial number."""
    recorded = {t.number: TrialRecord.from_trial(t).arch_hash for t in study.get_trials(deepcopy=False)}
    for number in trial_folders(run_dir):
        arch_file = run_dir.trial_dir(number) / ARCH_FILE
        if not arch_file.exists():
            continue
        found = load_arch(str(arch_file)).hash
        if recorded.get(number) not in (found, ""):
            raise RunError(
                f"{arch_file} holds architecture {found}, but trial {number} of study {study.study_name!r} is "
                f"{recorded.get(number) or 'not in the study'}: these files belong to another study. "
                f"Restore the study's storage, or pass --out NEW_DIR"
            )
