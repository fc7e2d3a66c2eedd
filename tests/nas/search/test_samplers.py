"""The samplers: by name, seeded, and TPE blind to candidates stopped at a rung."""

import random

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from dsdnas.errors import DsdnasError
from dsdnas.nas.search.mutation import mutate, propose
from dsdnas.nas.search.samplers import (
    MUTATE_SHARE,
    TPE_OPTIONS,
    TPEWithMutations,
    TPEWithoutStopped,
    WithoutStopped,
    make_sampler,
    sampler_seed,
)

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
    for name in ("tpe", "tpe+mutate"):  # the options dsdnas uses: multivariate, 10 start-up trials, constant liar
        made = make_sampler(name, 4, 0)
        assert (made._multivariate, made._n_startup_trials, made._constant_liar) == (True, 10, True)


def test_every_sampler_draws_the_same_from_the_same_seed_and_the_seed_wraps_at_32_bits():
    for name in ("tpe", "tpe+mutate", "nsga2", "random"):
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
    assert str(refused.value) == "--sampler 'grid' is not one of tpe, tpe+mutate, tpe+mutate+synflow, nsga2, random"


CHOICES = {  # a space of blocks: kernel, dilation, and a depth that decides whether a second block exists
    "depth": CategoricalDistribution([1, 2]),
    "kernel_0": CategoricalDistribution([3, 5, 7]),
    "dilation_0": CategoricalDistribution([1, 2]),
    "kernel_1": CategoricalDistribution([3, 5, 7]),
}


def _draw(trial) -> dict:
    params = {name: trial.suggest_categorical(name, CHOICES[name].choices) for name in ("depth", "kernel_0")}
    params["dilation_0"] = trial.suggest_categorical("dilation_0", CHOICES["dilation_0"].choices)
    if params["depth"] == 2:
        params["kernel_1"] = trial.suggest_categorical("kernel_1", CHOICES["kernel_1"].choices)
    return params


def test_a_mutation_changes_one_choice_of_a_front_member_and_is_never_one_evaluated():
    parent = {"depth": 1, "kernel_0": 3, "dilation_0": 1}
    distributions = {name: CHOICES[name] for name in parent}
    rng = np.random.RandomState(0)
    seen = []
    for _ in range(4):  # the parent's 4 neighbours: kernel 5 or 7, dilation 2, depth 2
        number, changed, child = propose([(7, parent, distributions)], [parent, *seen], rng)
        assert number == 7 and [k for k in parent if child[k] != parent[k]] == [changed]
        assert child not in seen
        seen.append(child)
    assert propose([(7, parent, distributions)], [parent, *seen], rng) is None  # every neighbour evaluated
    assert propose([], [], rng) is None
    # A trial that made fewer choices is the same candidate when those agree: a block past its depth is unused.
    deeper = {"depth": 2, "kernel_0": 5, "dilation_0": 1, "kernel_1": 3}
    shallow = {"depth": 1, "kernel_0": 5, "dilation_0": 1}  # deeper with depth 1
    for seed in range(20):
        _, changed, child = propose([(1, deeper, CHOICES)], [deeper, shallow], np.random.RandomState(seed))
        assert child["depth"] == 2 and changed != "depth"


def test_a_mutation_changes_only_a_choice_with_another_value():
    # A one-value choice has nothing to change to, and a numeric one is no choice of a space's.
    parent = {"depth": 1, "kernel_0": 3, "lr": 0.01}
    distributions = {
        "depth": CategoricalDistribution([1]),
        "kernel_0": CHOICES["kernel_0"],
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
    }
    for seed in range(20):
        changed, child = mutate(parent, distributions, np.random.RandomState(seed))
        assert changed == "kernel_0" and child["kernel_0"] in (5, 7) and child["depth"] == 1 and child["lr"] == 0.01
    assert mutate(parent, {"depth": CategoricalDistribution([1])}, np.random.RandomState(0)) is None


def _mutating_search(seed: int, enqueued: dict | None = None) -> list:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=make_sampler("tpe+mutate", seed, 0))
    assert isinstance(study.sampler, TPEWithMutations)
    study.tell(study.ask(), state=TrialState.FAIL)  # died before it drew a candidate: it must block nothing
    for number in range(1, 41):
        if number == 20 and enqueued:
            study.enqueue_trial(enqueued)  # as a retry's or the user's: its choices are made already
        trial = study.ask()
        for key in ("mutation_of", "mutated"):  # as the objective stores them, with its first record
            if key in trial.user_attrs:
                trial.set_user_attr(key, trial.user_attrs[key])
        params = _draw(trial)
        trial.set_user_attr("status", "trained")
        study.tell(trial, [params["kernel_0"] * params["dilation_0"], params["depth"] + params["kernel_0"]])
    return study.trials


def test_tpe_with_mutations_hands_a_falling_share_of_its_trials_after_start_up_a_changed_front_member():
    trials = _mutating_search(5)
    again = _mutating_search(5)  # seeded: the same mutations of the same members
    assert [(t.params, t.user_attrs) for t in trials] == [(t.params, t.user_attrs) for t in again]
    mutated = [t for t in trials if "mutation_of" in t.user_attrs]
    assert not [t for t in mutated if t.number <= TPE_OPTIONS["n_startup_trials"]]  # TPE's start-up is random
    # Of the 30 after it, 5/10 + 5/11 + ... + 5/39 = 7.1 expected; a constant half would give 15.
    assert 3 <= len(mutated) <= 12
    assert sum(t.number <= 25 for t in mutated) > sum(t.number > 25 for t in mutated)  # expected 4.5 against 2.6
    for trial in mutated:
        parent_number, changed = trial.user_attrs["mutation_of"], trial.user_attrs["mutated"]
        parent = trials[parent_number].params
        differing = [k for k in parent.keys() & trial.params.keys() if parent[k] != trial.params[k]]
        assert differing == [changed]
        if trial.params.keys() <= parent.keys():  # no choice the parent never made (drawn by TPE, see mutation.py)
            assert trial.params not in [t.params for t in trials[: trial.number]]  # never a candidate evaluated


def test_an_enqueued_or_retried_candidate_is_never_labelled_a_mutation():
    fixed = {"depth": 2, "kernel_0": 7, "dilation_0": 2, "kernel_1": 7}
    trials = _mutating_search(5, enqueued=fixed)
    handed = trials[20]
    assert handed.params == fixed and "mutation_of" not in handed.user_attrs and "mutated" not in handed.user_attrs


PARENT = {"depth": 1, "kernel_0": 3, "dilation_0": 1}  # neighbours: kernel_0 5 or 7, dilation_0 2, depth 2


def _study_after_start_up(seed: int, *, failed: dict | None = None) -> optuna.Study:
    """Exactly TPE's start-up of trained trials, PARENT alone on the front, and every neighbour of
    PARENT but kernel_0 = 7 evaluated; `failed`: a trial that failed with these choices made."""
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=TPEWithMutations(seed=seed, **TPE_OPTIONS))
    blocked = [{**PARENT, "kernel_0": 5}, {**PARENT, "dilation_0": 2}, {**PARENT, "depth": 2}]
    others = [{"depth": 1, "kernel_0": k, "dilation_0": 2} for k in (5, 7)] + [
        {"depth": 2, "kernel_0": k, "dilation_0": d, "kernel_1": 3} for k in (5, 7) for d in (1, 2)
    ]
    for number, params in enumerate([PARENT, *blocked, *others]):
        values = [0.0, 0.0] if number == 0 else [1.0, 1.0]  # PARENT dominates every other
        study.add_trial(_made(params, values=values, user_attrs={"status": "trained"}))
    assert len(study.trials) == TPE_OPTIONS["n_startup_trials"]
    if failed:
        study.add_trial(_made(failed, state=TrialState.FAIL))
    return study


def _made(params: dict, **outcome) -> optuna.trial.FrozenTrial:
    """A finished trial that made these choices of CHOICES."""
    return optuna.trial.create_trial(params=params, distributions={name: CHOICES[name] for name in params}, **outcome)


def _next(study: optuna.Study) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    _draw(trial)
    study.tell(trial, [1.0, 1.0])
    return study.trials[-1]


def test_the_share_of_mutations_is_a_half_after_start_up_and_falls_as_the_trials_complete():
    sampler = make_sampler("tpe+mutate", 0, 0)
    assert [sampler.share(n) for n in (10, 20, 40)] == [0.5, 0.25, 0.125]


# The seed's first draw decides whether the first trial after start-up is a mutation (a half: MUTATE_SHARE).
MUTATING_SEED = next(seed for seed in range(100) if np.random.RandomState(seed).rand() < MUTATE_SHARE)


def test_the_first_trial_after_start_up_may_be_a_mutation_to_the_one_neighbour_not_evaluated():
    trial = _next(_study_after_start_up(MUTATING_SEED))
    assert trial.user_attrs.get("mutation_of") == 0 and trial.user_attrs.get("mutated") == "kernel_0"
    assert trial.params == {**PARENT, "kernel_0": 7}


def test_a_candidate_that_failed_is_not_evaluated_so_a_mutation_may_propose_it_again():
    # A failed trial says nothing of its candidate (killed, out of memory): it blocks no mutation.
    trial = _next(_study_after_start_up(MUTATING_SEED, failed={**PARENT, "kernel_0": 7}))
    assert trial.user_attrs.get("mutation_of") == 0 and trial.params == {**PARENT, "kernel_0": 7}


def test_a_choice_the_parent_never_made_is_drawn_from_tpes_model_of_that_choice():
    # Deepening PARENT needs kernel_1, which it never chose: TPE draws it as it would for any trial,
    # from what the study's trials with a second block say of it, not from its prior.
    study = optuna.create_study(directions=["minimize", "minimize"])
    for number in range(16):
        kernel_1 = (3, 5, 7, 5)[number % 4]  # the best (lowest) trials have kernel 3 as their second block
        params = {"depth": 2, "kernel_0": 5, "dilation_0": 1 + number % 2, "kernel_1": kernel_1}
        study.add_trial(_made(params, values=[kernel_1 + number / 100, kernel_1 - number / 100]))
    trial = study._storage.get_trial(study.ask()._trial_id)
    mutating, plain = TPEWithMutations(seed=3, **TPE_OPTIONS), TPEWithoutStopped(seed=3, **TPE_OPTIONS)
    mutating._proposals[trial.number] = {**PARENT, "depth": 2}  # a deepening mutation: kernel_1 is not in it
    draws = [
        [sampler.sample_independent(study, trial, "kernel_1", CHOICES["kernel_1"]) for _ in range(40)]
        for sampler in (mutating, plain)
    ]
    assert draws[0] == draws[1]
    assert draws[0] == [3] * 40  # TPE's model of kernel_1, not its uniform prior over 3, 5 and 7


def _picked_search(seed: int) -> tuple[list, list]:
    """16 trials of tpe+mutate+synflow with a pick that records what it handed; (handed, the trials)."""
    handed = []

    def pick(rng: np.random.RandomState, evaluated: list) -> dict:
        assert len(evaluated) == len(handed)  # every trial before it, complete
        handed.append({"depth": 2, "kernel_0": int(rng.choice([3, 5, 7])), "dilation_0": 1, "kernel_1": 3})
        return handed[-1]

    sampler = make_sampler("tpe+mutate+synflow", seed, 0, startup_pick=pick)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    for _ in range(16):
        trial = study.ask()
        params = _draw(trial)
        study.tell(trial, [params["kernel_0"] * params["dilation_0"], params["depth"] + params["kernel_0"]])
    return handed, study.trials


def test_a_start_up_pick_chooses_every_start_up_candidate_and_none_after():
    handed, trials = _picked_search(0)
    start_up = TPE_OPTIONS["n_startup_trials"]
    assert len(handed) == start_up  # asked once for each start-up trial, never after
    assert [t.params for t in trials[:start_up]] == handed
    assert any(t.params["depth"] == 1 for t in trials[start_up:])  # TPE's own after: a depth never picked
    assert _picked_search(0)[0] == handed and _picked_search(1)[0] != handed  # its stream is the sampler's seed's
    with pytest.raises(ValueError, match="start-up pick"):  # a sampler that picks needs what picks, and only it
        make_sampler("tpe+mutate+synflow", 0, 0)
    with pytest.raises(ValueError, match="start-up pick"):
        make_sampler("tpe+mutate", 0, 0, startup_pick=lambda rng, evaluated: {})
