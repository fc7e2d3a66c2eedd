"""A trial's choices written in one commit: the same choices, stored whole or not at all, checked as Optuna checks."""

import uuid

import optuna
import pytest
import sqlalchemy
from optuna.storages import RDBStorage

from dsdnas.nas.search.samplers import make_sampler
from dsdnas.nas.search.storage import choices_in_one_commit
from dsdnas.search_spaces import get_space

INPUT, CLASSES = (1, 28, 28), 10


def _study(url: str, sampler: str = "tpe+mutate", seed: int = 4) -> optuna.Study:
    return optuna.create_study(
        storage=RDBStorage(url),
        directions=["maximize", "minimize"],
        sampler=make_sampler(sampler, seed, 0),
        study_name=uuid.uuid4().hex,
    )


def _draw(study: optuna.Study, kept: bool) -> optuna.Trial:
    """One candidate of the default space, its choices kept for one commit or committed one by one."""
    trial = study.ask()
    if kept:
        with choices_in_one_commit(trial):
            arch = get_space("dsd-range").sample(trial, INPUT, CLASSES)
    else:
        arch = get_space("dsd-range").sample(trial, INPUT, CLASSES)
    # A made-up but deterministic score, so that TPE (after its 10 start-up trials) models something.
    study.tell(trial, [len(arch.blocks) / 10 + arch.stem.channels / 100, float(arch.stem.kernel)])
    return trial


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_candidates_choices_are_one_commit_and_read_back_from_another_connection(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    study = _study(url)
    engine, commits = study._storage._backend.engine, []
    sqlalchemy.event.listen(engine, "commit", lambda connection: commits.append(1))
    for _ in range(2):  # the second candidate's choices are known to the cache; the first's are looked up
        trial = study.ask()
        commits.clear()
        with choices_in_one_commit(trial):
            get_space("dsd-range").sample(trial, INPUT, CLASSES)
        assert len(trial.params) >= 8 and len(commits) == 1
        study.tell(trial, [0.5, 1.0])
    read = optuna.load_study(study_name=study.study_name, storage=url).trials
    assert [t.params for t in read] == [t.params for t in study.trials]
    assert [t.distributions for t in read] == [t.distributions for t in study.trials]


def test_tpe_draws_the_same_candidates_whether_choices_are_committed_one_by_one_or_together(tmp_path):
    # 14 candidates: past TPE's 10 start-up ones and into its mutations of the front.
    one_by_one = _study(f"sqlite:///{tmp_path / 'a.db'}")
    together = _study(f"sqlite:///{tmp_path / 'b.db'}")
    drawn = [(_draw(one_by_one, kept=False).params, _draw(together, kept=True).params) for _ in range(14)]
    assert all(a == b for a, b in drawn)
    assert len({str(sorted(a.items())) for a, _ in drawn}) > 10  # real draws, not one candidate repeated


def test_a_drawing_that_raises_stores_none_of_its_choices(tmp_path):
    study = _study(f"sqlite:///{tmp_path / 'study.db'}")
    trial = study.ask()
    with pytest.raises(KeyboardInterrupt), choices_in_one_commit(trial):
        trial.suggest_categorical("kernel", [3, 5])
        raise KeyboardInterrupt
    assert study._storage.get_trial(trial._trial_id).params == {}


@pytest.mark.parametrize("known", [True, False], ids=["known to the cache", "looked up"])
def test_a_choice_whose_options_changed_is_refused_as_optuna_refuses_it(known, tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = _study(url, sampler="random")
    first = study.ask()
    first.suggest_categorical("kernel", [3, 5])
    if not known:  # another process: its storage has seen no choice of this study
        study = optuna.load_study(study_name=study.study_name, storage=RDBStorage(url))
    trial = study.ask()
    with pytest.raises(ValueError, match="dynamic value space"), choices_in_one_commit(trial):
        trial.suggest_categorical("kernel", [3, 5, 7])
    assert study._storage.get_trial(trial._trial_id).params == {}


def test_a_finished_trials_choices_are_not_written(tmp_path):
    study = _study(f"sqlite:///{tmp_path / 'study.db'}", sampler="random")
    trial = study.ask()
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError), choices_in_one_commit(trial):
        trial.suggest_categorical("kernel", [3, 5])
        study.tell(trial, [0.5, 1.0])  # finished before its choices are written: as Optuna refuses a late one
    assert study._storage.get_trial(trial._trial_id).params == {}


def test_on_a_storage_that_is_no_database_the_choices_are_written_as_optuna_writes_them():
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler("random", 4, 0))
    trial = study.ask()
    with choices_in_one_commit(trial):
        get_space("dsd-range").sample(trial, INPUT, CLASSES)
        trial.set_user_attr("drawn", True)  # any other call goes to the storage itself, at once
        assert study._storage.get_trial(trial._trial_id).user_attrs == {"drawn": True}
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.params == trial.params and len(stored.params) >= 8
    assert stored.distributions == trial.distributions


def test_a_name_the_study_has_stored_is_checked_without_a_query_of_its_own(tmp_path):
    study = _study(f"sqlite:///{tmp_path / 'study.db'}", sampler="random")
    _draw(study, kept=True)  # the first candidate: Optuna looks each name up
    engine, statements = study._storage._backend.engine, []
    sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    trial = study.ask()
    statements.clear()
    with choices_in_one_commit(trial):
        get_space("dsd-range").sample(trial, INPUT, CLASSES)
    selects = sum(statement.lstrip().upper().startswith("SELECT") for statement in statements)
    known = set(study.trials[0].params)
    assert len(known & set(trial.params)) >= 6
    # The trial looked up once; only a name the first candidate never made costs Optuna's two look-ups again.
    assert selects <= 1 + 2 * len(set(trial.params) - known)
