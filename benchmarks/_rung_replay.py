"""Rung rules replayed on candidates already trained to the end: what each would have stopped, and wrongly.

bench_rank.py records every candidate's signals at both rungs of `--early-stop on` and its
final validation accuracy. Here each rule judges the same candidates, in the same orders,
as a search judges them (`rungs.survivors`: a signal, the mean training loss so far unless
another is named, and the MACs, against every candidate that reached that rung before),
so every rule sees equal work. Per rule it gives the share of the training steps spent
(all candidates trained to the end = 1), the candidates stopped, and the wrong stops:
stopped candidates that no trained one beats on both final accuracy and MACs, the
definition bench_search.py's retraining uses.

Random candidates in a random order, not a search's. A sampler such as TPE proposes
candidates near the front, among which a rung's choices are closer: `near_front` keeps the
candidates a good sampler would have proposed (the better half by final Pareto rank), and
the same rules replayed on them show what that does to the wrong stops.

`oracle` is the ceiling: the rules judging, at the first rung, by the final accuracy
itself as another validation split of the same size would score it (a binomial redraw),
the best any signal could do while the wrong stops are counted on a split that size.
"""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
from optuna.study._multi_objective import _fast_non_domination_rank  # Optuna's own non-dominated sort

from dsdnas.nas.search.rungs import survivors
from dsdnas.nas.stats import wilson_interval

# name -> (rung positions as fractions of the steps, eta: a rung keeps the first ceil(n / eta))
RULES = {
    "once (default): 1/9, keep 1/2": ((1 / 9,), 2.0),
    "1/9, keep 2/3": ((1 / 9,), 1.5),
    "1/9, keep 3/4": ((1 / 9,), 4 / 3),
    "1/3, keep 1/2": ((1 / 3,), 2.0),
    "1/3, keep 2/3": ((1 / 3,), 1.5),
    "on: 1/9 and 1/3, keep 1/3 at each": ((1 / 9, 1 / 3), 3.0),
}
ORDERS = 200  # random orders of the candidates each rule replays


def _dominated(accuracy: float, macs: float, others: np.ndarray) -> bool:
    """Whether a row of `others` (final accuracy, MACs) is at least as good on both and better on one."""
    if not len(others):
        return False
    better_or_equal = (others[:, 0] >= accuracy) & (others[:, 1] <= macs)
    strictly = (others[:, 0] > accuracy) | (others[:, 1] < macs)
    return bool(np.any(better_or_equal & strictly))


def replay_once(candidates: pd.DataFrame, rungs: list[str], eta: float, order: np.ndarray) -> tuple[float, int, int]:
    """(share of steps spent, stopped, wrong stops) of one rule over `candidates` in `order`.

    `candidates` has one row per candidate: `macs`, `final`, `epochs` and a `loss@RUNG` column per rung key.
    """
    reached: dict[str, list[list[float]]] = {rung: [] for rung in rungs}
    spent, stopped = 0.0, []
    epochs = float(candidates["epochs"].iloc[0])
    for index in order:
        row = candidates.iloc[index]
        used = epochs
        for rung in rungs:
            vector = [float(row[f"loss@{rung}"]), float(row["macs"])]
            population = np.array([vector, *reached[rung]], dtype=float)
            reached[rung].append(vector)
            if 0 not in survivors(population, eta):
                used = float(rung)
                stopped.append(index)
                break
        spent += used
    trained = candidates.drop(index=candidates.index[stopped])[["final", "macs"]].to_numpy(dtype=float)
    wrong = sum(not _dominated(candidates.iloc[i]["final"], candidates.iloc[i]["macs"], trained) for i in stopped)
    return spent / (epochs * len(candidates)), len(stopped), wrong


def replay(
    candidates: pd.DataFrame, rung_keys: list[str], rng: np.random.Generator, rules: tuple[str, ...] = tuple(RULES)
) -> pd.DataFrame:
    """The `rules` (names in RULES; all by default) over the same ORDERS random orders; one row per rule.

    `rung_keys` are the rungs bench_rank.py recorded, ascending: 1/9 and 1/3 of the steps.
    """
    at = dict(zip((1 / 9, 1 / 3), rung_keys, strict=True))
    orders = [rng.permutation(len(candidates)) for _ in range(ORDERS)]
    rows = []
    for name in rules:
        fractions, eta = RULES[name]
        results = [replay_once(candidates, [at[f] for f in fractions], eta, order) for order in orders]
        spent = [r[0] for r in results]
        stopped, wrong = sum(r[1] for r in results), sum(r[2] for r in results)
        rate = wrong / stopped if stopped else 0.0
        low, high = wilson_interval(rate, round(stopped / ORDERS))  # the interval of one order's count
        rows.append(
            {
                "rule": name,
                "steps spent": statistics.median(spent),
                "stopped": stopped / ORDERS,
                "wrong stops": wrong / ORDERS,
                "wrong rate": rate,
                "one run's 95% interval": f"{low:.0%}-{high:.0%}",
            }
        )
    return pd.DataFrame(rows)


def candidates_table(
    frame: pd.DataFrame, epochs: int, signal: str = "train_loss", higher_is_better: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """bench_rank.py's rows (one per candidate and rung) as one row per candidate, and the rung keys ascending.

    The `loss@RUNG` columns hold `signal` there, negated when higher is better: lower is better in them."""
    keys = sorted(frame["rung"].unique(), key=float)
    values = frame.assign(judged=-frame[signal] if higher_is_better else frame[signal])
    wide = values.pivot_table(index="candidate", columns="rung", values="judged")
    wide.columns = [f"loss@{key}" for key in wide.columns]
    fixed = frame.groupby("candidate")[["final", "macs"]].first()
    table = fixed.join(wide).dropna().reset_index(drop=True)
    table["epochs"] = epochs
    return table, keys


def near_front(table: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """The candidates whose final Pareto rank (accuracy against MACs) is in the best `share` of the ranks held."""
    ranks = _fast_non_domination_rank(np.column_stack([-table["final"].to_numpy(), table["macs"].to_numpy()]))
    return table[ranks <= np.quantile(ranks, share)].reset_index(drop=True)


ORACLE_DRAWS = 10  # redraws of the second split's scores


def oracle(table: pd.DataFrame, rung_keys: list[str], val_images: int, rng: np.random.Generator) -> pd.DataFrame:
    """The rules at the first rung alone, judging by the final accuracy scored on another split of `val_images`:
    the mean wrong rate over ORACLE_DRAWS redraws, on all the candidates and on those near the front."""
    rules = {name: rule for name, rule in RULES.items() if len(rule[0]) == 1 and rule[0][0] == 1 / 9}
    rows = []
    for name, (_, eta) in rules.items():
        rates: dict[str, list[float]] = {"all": [], "near the front": []}
        for _ in range(ORACLE_DRAWS):
            redrawn = table.copy()
            redrawn[f"loss@{rung_keys[0]}"] = -rng.binomial(val_images, table["final"].to_numpy()) / val_images
            for group, candidates in (("all", redrawn), ("near the front", near_front(redrawn))):
                results = [
                    replay_once(candidates, [rung_keys[0]], eta, rng.permutation(len(candidates)))
                    for _ in range(ORDERS // ORACLE_DRAWS)
                ]
                stopped = sum(r[1] for r in results)
                rates[group].append(sum(r[2] for r in results) / stopped if stopped else 0.0)
        rows.append({"rule": name, **{f"wrong rate, {g}": statistics.mean(v) for g, v in rates.items()}})
    return pd.DataFrame(rows)
