"""The typed trial record: written once, read back the same, and old runs' attributes still load."""

import uuid

import optuna
import pytest
import sqlalchemy
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from dsdnas.nas.search.records import Status, TrialRecord, finished_count, objective_names, records


def test_a_record_round_trips_through_optuna_user_attributes():
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    written = TrialRecord(
        number=trial.number,
        status=Status.TRAINED,
        worker="host:1",
        notation="stem_k3_c8_s1",
        arch_hash="abc",
        macs=1234,
        latency_ms=0.5,
        val_accuracy=0.9,
        val_accuracy_history=[0.8, 0.9],
        unsupported_ops={"aten::cumsum": 1},
    )
    written.save_to(trial)
    study.tell(trial, written.objective_values(["accuracy", "macs"]))
    (read,) = records(study)
    assert read.status is Status.TRAINED and read.state == "COMPLETE" and read.values == (0.9, 1234.0)
    assert read.val_accuracy_history == [0.8, 0.9] and read.unsupported_ops == {"aten::cumsum": 1}
    assert read.finished and read.trained
    assert type(trial.study.trials[0].user_attrs["status"]) is str  # plain strings in the storage, not our enum


def test_a_whole_record_is_one_commit_in_a_database_and_reads_back_from_another_connection(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = RDBStorage(url)
    study = optuna.create_study(storage=storage, directions=["maximize", "minimize"])
    trial = study.ask()
    commits = []
    sqlalchemy.event.listen(storage.engine, "commit", lambda connection: commits.append(1))
    written = TrialRecord(worker="host:1", notation="n", macs=10, val_accuracy=0.5, rung_accuracies={"1": 0.4})
    written.save_to(trial)
    assert len(commits) == 1
    assert trial.user_attrs["rung_accuracies"] == {"1": 0.4}  # the trial's own view, as Optuna keeps it
    replace_status = TrialRecord(status=Status.STOPPED, reason="stopped")
    replace_status.save_to(trial, "status", "reason")
    assert len(commits) == 2
    (read,) = records(optuna.load_study(study_name=study.study_name, storage=url))
    assert (read.worker, read.macs, read.val_accuracy, read.status, read.reason) == (
        "host:1", 10, 0.5, Status.STOPPED, "stopped"
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_record_is_one_statement_replaces_its_keys_and_never_touches_a_finished_trial(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    storage = RDBStorage(url)
    study = optuna.create_study(storage=storage, directions=["maximize", "minimize"], study_name=uuid.uuid4().hex)
    trial, other = study.ask(), study.ask()
    statements = []
    sqlalchemy.event.listen(storage.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    TrialRecord(worker="host:1", notation="n", macs=10, val_accuracy=0.5, val_loss_history=[0.7]).save_to(trial)
    # The trial looked up once, then every key in one upsert, where Optuna spends two statements a key.
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in statements) == 1
    assert len(statements) <= 3
    TrialRecord(notation="m", val_accuracy=0.25).save_to(trial, "notation", "val_accuracy")
    TrialRecord(notation="other").save_to(other, "notation")
    study.tell(other, [0.1, 1.0])
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        TrialRecord(notation="late").save_to(other, "notation")
    read, read_other = records(optuna.load_study(study_name=study.study_name, storage=url))
    assert (read.notation, read.val_accuracy, read.macs, read.val_loss_history) == ("m", 0.25, 10, [0.7])
    assert read_other.notation == "other"


def test_an_old_runs_attributes_load_and_unknown_keys_are_ignored():
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    # user_attrs as dsdnas 0.1 wrote them, plus a key from some future version and a bad status
    for key, value in {"status": "reused", "val_accuracy": 0.5, "macs": 10, "reused_from": 0, "future": 1}.items():
        trial.set_user_attr(key, value)
    study.tell(trial, [0.5, 10])
    other = study.ask()
    other.set_user_attr("status", "teleported")
    study.tell(other, state=TrialState.FAIL)
    reused, failed = records(study)
    assert reused.status is Status.REUSED and reused.reused_from == 0 and reused.finished and not reused.trained
    assert reused.params is None and reused.val_loss_history == []
    assert failed.status is None and not failed.finished


def test_the_budget_counts_trained_reused_and_stopped_trials_not_skipped_failed_or_twins():
    """The README: --budget N counts evaluated candidates, stopped ones included; the rest do not count."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    cases = [  # (status, Optuna state, counted?)
        ("trained", TrialState.COMPLETE, True),
        ("reused", TrialState.COMPLETE, True),
        ("stopped", TrialState.PRUNED, True),
        ("skipped", TrialState.COMPLETE, False),
        ("twin", TrialState.PRUNED, False),
        ("failed", TrialState.FAIL, False),
        ("trained", TrialState.FAIL, False),  # trained, but the study never heard its result
    ]
    for status, state, _ in cases:
        trial = study.ask()
        TrialRecord(status=Status(status)).save_to(trial, "status")
        study.tell(trial, [0.5, 1.0] if state == TrialState.COMPLETE else None, state=state)
    assert [record.counted for record in records(study)] == [counted for *_, counted in cases]
    assert [record.number for record in records(study)] == list(range(len(cases)))
    assert [record.status.value for record in records(study, (TrialState.PRUNED,))] == ["stopped", "twin"]
    assert finished_count(study) == 3


def test_a_studys_objectives_are_its_settings_else_accuracy_and_macs():
    study = optuna.create_study(directions=["maximize", "minimize"])
    assert objective_names(study) == ["accuracy", "macs"]  # a study made before settings were recorded
    study.set_user_attr("settings", {"budget": "20"})
    assert objective_names(study) == ["accuracy", "macs"]
    study.set_user_attr("settings", {"objectives": ("accuracy", "latency", "params")})
    assert objective_names(study) == ["accuracy", "latency", "params"]
