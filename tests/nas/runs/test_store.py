"""The shared artifact store: a trial's files go up once and come down whole, checked, or not at all."""

import importlib.util

import optuna
import pytest

from dsdnas.errors import DsdnasError, RunError
from dsdnas.nas.files import file_sha256
from dsdnas.nas.runs.store import TRIAL_FILES, fetch_trial_files, open_store, upload_trial_files


def _trial_files(folder):
    folder.mkdir(parents=True)
    contents = {"arch.json": b'{"stem": 8}', "weights.safetensors": b"\x00\x01weights", "metrics.json": b'{"a": 1}'}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return contents


@pytest.fixture
def uploaded(tmp_path):
    store = open_store(str(tmp_path / "shared" / "store"))  # created, parents too
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    contents = _trial_files(tmp_path / "worker1" / "trials" / "0")
    artifacts = upload_trial_files(store, trial, tmp_path / "worker1" / "trials" / "0")
    return store, artifacts, contents, tmp_path


def test_a_trials_files_come_down_whole_into_the_readers_own_folder(uploaded):
    store, artifacts, contents, tmp_path = uploaded
    assert sorted(artifacts) == sorted(TRIAL_FILES) and len(set(artifacts.values())) == 3
    folder = tmp_path / "worker2" / "trials" / "0"
    sha256 = file_sha256(tmp_path / "worker1" / "trials" / "0" / "weights.safetensors")
    fetch_trial_files(store, artifacts, folder, sha256=sha256, location="/shared/store")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == contents  # no partial file left


def test_weights_that_do_not_match_the_recorded_hash_are_refused_and_not_kept(uploaded):
    store, artifacts, _, tmp_path = uploaded
    folder = tmp_path / "worker2" / "trials" / "0"
    with pytest.raises(RunError) as refused:
        fetch_trial_files(store, artifacts, folder, sha256="0" * 64, location="/shared/store")
    assert str(refused.value) == (
        f"weights.safetensors of {folder} fetched from /shared/store does not match the recorded SHA-256"
    )
    assert sorted(path.name for path in folder.iterdir()) == ["arch.json"]  # fetched before; no weights, no partial


def test_a_missing_record_or_object_names_the_file_and_the_store(uploaded):
    store, artifacts, _, tmp_path = uploaded
    folder = tmp_path / "worker2" / "trials" / "7"
    partial = {name: artifacts[name] for name in ("arch.json",)}
    with pytest.raises(RunError, match=r"^the study records no artifact for weights.safetensors, metrics.json of 7$"):
        fetch_trial_files(store, partial, folder, sha256=None, location="/s")
    with pytest.raises(RunError, match=r"^cannot fetch arch.json of .*/7 from /s: "):
        fetch_trial_files(store, {**artifacts, "arch.json": "no-such-id"}, folder, sha256=None, location="/s")
    assert list(folder.iterdir()) == []  # the partial download was removed


def test_open_store_refuses_what_it_cannot_use(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("a file")
    with pytest.raises(DsdnasError, match=r"^--artifacts .*plain/store: cannot create the folder \(Not a directory\)$"):
        open_store(str(plain / "store"))
    for url in ("s3://", "s3://bucket/prefix"):
        with pytest.raises(DsdnasError, match=r"give s3://BUCKET \(artifacts are stored at the bucket's top\)"):
            open_store(url)
    if importlib.util.find_spec("boto3") is None:
        with pytest.raises(DsdnasError, match=r"^--artifacts s3://bucket/ needs boto3: pip install boto3$"):
            open_store("s3://bucket/")


class _S3Store:
    """Optuna's Boto3ArtifactStore as far as open_store uses it: the bucket it is given (no S3 here)."""

    def __init__(self, bucket_name: str) -> None:
        self.bucket_name = bucket_name


def test_an_s3_url_opens_optunas_s3_store_on_the_bucket_it_names(monkeypatch):
    monkeypatch.setattr(optuna.artifacts, "Boto3ArtifactStore", _S3Store)
    for url in ("s3://dsdnas-runs", "s3://dsdnas-runs/", "s3://dsdnas-runs//"):
        store = open_store(url)
        assert isinstance(store, _S3Store) and store.bucket_name == "dsdnas-runs"


def test_a_second_worker_opens_the_same_store_and_fetches_into_a_folder_that_exists(uploaded):
    store, artifacts, contents, tmp_path = uploaded
    again = open_store(str(tmp_path / "shared" / "store"))  # the folder exists: another worker made it
    folder = tmp_path / "worker2" / "trials" / "0"
    folder.mkdir(parents=True)
    (folder / "arch.json").write_bytes(b"{}")  # written by the sampling step before the fetch
    fetch_trial_files(again, artifacts, folder, sha256=None, location="/shared/store")
    assert (folder / "arch.json").read_bytes() == contents["arch.json"]
