"""The study: objectives in order, settings compared to rounding."""

import math
import multiprocessing
import uuid
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from dsdnas.errors import DsdnasError
from dsdnas.nas.runs.rundir import RunDir
from dsdnas.nas.search.location import StorageLocation
from dsdnas.nas.search.study import SearchSettings, _same, check_objectives, open_study
from dsdnas.reports._summary import sampler_text

_SETTINGS = SearchSettings(
    dataset="mnist-sample",
    space="dsd-mnist",
    space_choices={},
    objectives=("accuracy", "macs"),
    train={"epochs": 1},
    val_fraction=0.1,
    train_limit=None,
    seed=0,
    limits={},
    input_shape=(1, 28, 28),
    class_names=["0", "1"],
    mean=(0.13,),
    std=(0.31,),
)


def test_objectives_put_accuracy_first_and_refuse_the_rest():
    assert check_objectives(("latency", "accuracy", "params")) == ("accuracy", "latency", "params")
    for bad in (("accuracy", "speed"), ("macs", "params"), ("accuracy",), ("accuracy", "macs", "macs"), ()):
        with pytest.raises(DsdnasError, match="--objectives"):
            check_objectives(bad)


def test_settings_compare_floats_to_rounding_only():
    assert _same({"mean": [0.1307]}, {"mean": [0.1307 * (1 + 1e-14)]})
    assert not _same({"mean": [0.1307]}, {"mean": [0.1307 * 1.001]})
    assert not _same({"a": 1}, {"a": 1, "b": 2})
    assert not _same(1.0, math.nan)


def test_a_continued_study_with_another_sampler_records_from_which_trial_it_ran(tmp_path):
    run_dir = RunDir(tmp_path)
    location = StorageLocation.for_run(None, run_dir)

    def open_with(sampler: str, trials: int) -> optuna.Study:
        study = open_study(location, "s", _SETTINGS, sampler=sampler, seed=0, run_dir=run_dir)
        for _ in range(trials):
            study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
        return study

    open_with("tpe", 3)
    assert "sampler_changes" not in open_with("tpe", 2).user_attrs  # the same sampler changes nothing
    open_with("tpe+mutate", 1)
    attrs = open_with("random", 0).user_attrs
    assert attrs["sampler"] == "tpe"  # the one the study was created with
    assert attrs["sampler_changes"] == [[0, "tpe"], [5, "tpe+mutate"], [6, "random"]]
    assert sampler_text(attrs) == "tpe, then tpe+mutate from trial 5, then random from trial 6"
    assert sampler_text({"sampler": "tpe+mutate"}) == "tpe+mutate"


def _open_together(url: str, folder: str, index: int, barrier) -> str:
    """One of several workers opening the same new study at the same moment."""
    run_dir = RunDir(Path(folder) / f"run{index}")
    run_dir.root.mkdir()
    barrier.wait()
    try:
        open_study(
            StorageLocation(url, run_dir.root),
            "together",
            _SETTINGS,
            sampler="tpe",
            seed=0,
            run_dir=run_dir,
            shared=True,
            first_trials=({"w": 8},),
        )
    except DsdnasError as error:
        return str(error)
    return "ok"


def _open_four_together(url: str, folder) -> list[str]:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(4) as pool:
        barrier = manager.Barrier(4)
        return pool.starmap(_open_together, [(url, str(folder), index, barrier) for index in range(4)])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_workers_starting_together_on_a_new_database_all_open_one_study(kind, tmp_path, request):
    # Without the tables lock, all but one failed here: "table studies already exists" or a
    # duplicate key on PostgreSQL's pg_type, as three workers did in CI.
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        server = request.getfixturevalue("postgres_url")
        database = f"fresh_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {database}"))
        url = str(sqlalchemy.engine.make_url(server).set(database=database).render_as_string(hide_password=False))
    assert _open_four_together(url, tmp_path) == ["ok"] * 4
    study = optuna.load_study(study_name="together", storage=url)
    assert [trial.system_attrs["fixed_params"] for trial in study.trials] == [{"w": 8}]  # enqueued once
    assert sqlalchemy.inspect(sqlalchemy.create_engine(url)).has_table("dsdnas_arch_claims")
