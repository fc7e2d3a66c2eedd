"""The samplers: by name, seeded, and TPE blind to candidates stopped at a rung."""

import random

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.samplers import TPE_OPTIONS, TPEWithoutStopped, WithoutStopped, make_sampler, sampler_seed

SPACE = {
    "kernel": CategoricalDistribution([1, 3, 5, 7]),
    "width": IntDistribution(4, 64, log=True),
    "lr": FloatDistribution(1e-4, 1e-1, log=True),
}


def test_samplers_by_name_are_seeded_and_move_on_with_the_study():
    assert isinstance(make_sampler("tpe", 0, 0), TPEWithoutStopped)
    assert type(make_sampler("nsga2", 0, 0)).__name__ == "NSGAIISampler"
    assert type(make_sampler("random", 0, 0)).__name__ == "RandomSampler"
    with pytest.raises(DsdnasError, match="--sampler 'grid'"):
        make_sampler("grid", 0, 0)


def test_workers_with_neighbouring_pids_draw_their_own_streams():
    # Worker 28652 opened the study at 1 trial, worker 28651 a trial later: a sum would give both 28653.
    assert sampler_seed(0, 1, 28652) != sampler_seed(0, 2, 28651)
    seeds = {sampler_seed(seed, trials, pid) for seed in range(3) for trials in range(20) for pid in range(1000, 1050)}
    assert len(seeds) == 3 * 20 * 50
    assert sampler_seed(7, 3) == 10  # one process: the seed moves on with the study, as before


def _study(with_stopped: bool) -> optuna.Study:
    """14 complete trials on two objectives; with `with_stopped`, a stopped one after each of them."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    rng = random.Random(3)
    for number in range(14):
        params = {"kernel": rng.choice([1, 3, 5, 7]), "width": rng.randint(4, 64), "lr": 10 ** rng.uniform(-4, -1)}
        values = [params["lr"] * number % 1, params["width"]]
        study.add_trial(optuna.trial.create_trial(params=params, distributions=SPACE, values=values))
        if with_stopped:
            stopped = {"kernel": 7, "width": rng.randint(4, 64), "lr": 1e-4}  # drawn either way: the same stream
            study.add_trial(optuna.trial.create_trial(params=stopped, distributions=SPACE, state=TrialState.PRUNED))
        else:
            rng.randint(4, 64)
    return study


def _next_params(study: optuna.Study) -> dict:
    study.sampler = make_sampler("tpe", 0, 0)
    return study.ask(SPACE).params


def test_tpe_samples_as_if_the_stopped_candidates_were_not_there():
    with_stopped, without = _study(with_stopped=True), _study(with_stopped=False)
    assert len(with_stopped.trials) == 28 and len(without.trials) == 14
    # Past its 10 start-up trials on the complete ones alone; the same draws, stopped trials or not.
    assert _next_params(with_stopped) == _next_params(without)
    shown_them = optuna.samplers.TPESampler(seed=0, **TPE_OPTIONS)
    with_stopped.sampler = shown_them
    assert with_stopped.ask(SPACE).params != _next_params(_study(with_stopped=False))  # they would change it


def test_the_view_hides_only_stopped_trials():
    study = _study(with_stopped=True)
    study.ask(SPACE)  # running
    view = WithoutStopped(study)
    states = {trial.state for trial in view.get_trials(deepcopy=False)}
    assert states == {TrialState.COMPLETE, TrialState.RUNNING}
    assert len(view.trials) == 15 and view.directions == study.directions
    assert view.get_trials(deepcopy=False, states=(TrialState.PRUNED,)) == []


EXTRA = CategoricalDistribution(["a", "b", "c", "d"])  # in some trials only: sampled independently


def _study_with_extra(with_stopped: bool) -> optuna.Study:
    study = _study(with_stopped=False)
    rng = random.Random(5)
    for number in range(12):
        params = {"extra": rng.choice("abcd")}
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions={"extra": EXTRA}, values=[0.1 * number, number])
        )
        stopped = optuna.trial.create_trial(
            params={"extra": "d"}, distributions={"extra": EXTRA}, state=TrialState.PRUNED
        )
        if with_stopped:
            study.add_trial(stopped)
    return study


def test_tpe_samples_a_choice_outside_the_joint_space_as_if_the_stopped_were_not_there():
    """The independent path: 'extra' is not in every trial, so multivariate TPE samples it alone."""
    plain = optuna.samplers.TPESampler(seed=4, **TPE_OPTIONS)
    expected = []
    for _ in range(5):
        study = _study_with_extra(with_stopped=False)
        study.sampler = plain
        expected.append(study.ask({**SPACE, "extra": EXTRA}).params)
    ours = TPEWithoutStopped(seed=4, **TPE_OPTIONS)
    got = []
    for _ in range(5):
        study = _study_with_extra(with_stopped=True)
        study.sampler = ours
        got.append(study.ask({**SPACE, "extra": EXTRA}).params)
    assert got == expected
    made = make_sampler("tpe", 4, 0)  # the options dsdnas uses: multivariate, 10 start-up trials, constant liar
    assert (made._multivariate, made._n_startup_trials, made._constant_liar) == (True, 10, True)


def test_every_sampler_draws_the_same_from_the_same_seed_and_the_seed_wraps_at_32_bits():
    for name in ("tpe", "nsga2", "random"):
        draws = []
        for _ in range(2):
            study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler(name, 3, 5))
            draws.append([study.ask(SPACE).params for _ in range(3)])
        assert draws[0] == draws[1], name
    random_draw = optuna.create_study(sampler=make_sampler("random", 3, 5)).ask(SPACE).params
    assert random_draw == optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=8)).ask(SPACE).params
    assert make_sampler("nsga2", 0, 0)._population_size == 20  # a generation fills quickly on a small budget
    assert sampler_seed(2**32 - 1, 2) == 1 and sampler_seed(2**32, 0) == 0
    assert sampler_seed(1, 2, 3) == sampler_seed(1, 2, 3) != sampler_seed(1, 2, 4)
    salted = optuna.create_study(sampler=make_sampler("random", 3, 5, salt=7)).ask(SPACE).params
    assert salted != random_draw  # a worker's salt gives it its own stream


def test_an_unknown_sampler_names_the_choices():
    with pytest.raises(DsdnasError) as refused:
        make_sampler("grid", 0, 0)
    assert str(refused.value) == "--sampler 'grid' is not one of tpe, nsga2, random"
