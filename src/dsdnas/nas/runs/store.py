"""Trial files every worker can read: an Optuna artifact store (`optuna.artifacts`).

Workers on several machines each write their trials' files under their own --out. With
`--artifacts`, each trained trial also uploads arch.json, weights.safetensors and
metrics.json to one shared store and records the artifact ids on the trial; export,
finetune and baseline on any machine then fetch the files, check the weights against
the SHA-256 the study recorded, and keep them in their own run folder.

    --artifacts /shared/dsdnas-artifacts    a folder every worker mounts (FileSystemArtifactStore)
    --artifacts s3://BUCKET                 S3 or any S3-compatible service (Boto3ArtifactStore; pip install boto3)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.files import file_sha256
from dsdnas.nas.runs.rundir import ARCH_FILE, METRICS_FILE, WEIGHTS_FILE

TRIAL_FILES = (ARCH_FILE, WEIGHTS_FILE, METRICS_FILE)


def open_store(location: str):  # -> optuna.artifacts ArtifactStore
    """The artifact store at a folder path or an s3://BUCKET URL."""
    if location.startswith("s3://"):
        bucket = location[len("s3://") :].strip("/")
        if not bucket or "/" in bucket:
            raise DsdnasError(f"--artifacts {location}: give s3://BUCKET (artifacts are stored at the bucket's top)")
        try:
            from optuna.artifacts import Boto3ArtifactStore

            return Boto3ArtifactStore(bucket)
        except ImportError:
            raise DsdnasError(f"--artifacts {location} needs boto3: pip install boto3") from None
    folder = Path(location).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DsdnasError(f"--artifacts {location}: cannot create the folder ({error.strerror})") from None
    return FileSystemArtifactStore(folder)


def upload_trial_files(store, trial: optuna.Trial, folder: Path) -> dict[str, str]:
    """Upload a trained trial's files; returns file name -> artifact id."""
    return {
        name: upload_artifact(artifact_store=store, file_path=str(folder / name), study_or_trial=trial)
        for name in TRIAL_FILES
    }


def fetch_trial_files(store, artifacts: dict[str, str], folder: Path, *, sha256: str | None, location: str) -> None:
    """Download a trial's files into `folder` (kept there), checking the weights against `sha256`."""
    missing = [name for name in TRIAL_FILES if name not in artifacts]
    if missing:
        raise RunError(f"the study records no artifact for {', '.join(missing)} of {folder.name}")
    folder.mkdir(parents=True, exist_ok=True)
    for name in TRIAL_FILES:
        partial = folder / f".{name}.{uuid.uuid4().hex}.download"
        try:
            download_artifact(artifact_store=store, artifact_id=artifacts[name], file_path=str(partial))
            if name == WEIGHTS_FILE and sha256 is not None and file_sha256(partial) != sha256:
                raise RunError(f"{name} of {folder} fetched from {location} does not match the recorded SHA-256")
            os.replace(partial, folder / name)
        except RunError:
            raise
        except Exception as error:  # noqa: BLE001 - each store raises its own types for a missing object
            raise RunError(f"cannot fetch {name} of {folder} from {location}: {error}") from None
        finally:
            partial.unlink(missing_ok=True)
