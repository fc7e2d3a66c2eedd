"""What the blocks bought, and what each front model is made of: tables by block kind, kernel, dilation."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import optuna
import pandas as pd
from optuna.trial import FrozenTrial

from dsdnas.nas.model.arch import Arch
from dsdnas.nas.model.kinds import STEM_KIND
from dsdnas.nas.search.records import Status, TrialRecord

MIN_TRIALS_FOR_IMPORTANCE = 10  # PED-ANOVA on fewer trials says little


def block_stats(finished: list[TrialRecord]) -> dict[str, pd.DataFrame]:
    """Accuracy and latency of trials by the kind, kernel and dilation of their blocks.

    Each block of each trained trial is one row, so a trial counts once per block it has.
    A latency flagged noisy is left out of the latency columns (and box plots), so one
    figure measured on a busy machine cannot hide the rest; `noisy` counts them.
    """
    rows = []
    for record in finished:
        if record.status is not Status.TRAINED:
            continue  # a reused trial would count its architecture twice
        latency = None if record.latency_noisy else record.latency_ms
        for block in Arch.from_dict(record.arch).blocks:
            rows.append(
                {
                    "kind": block.kind,
                    "kernel": block.kernel,
                    "dilation": block.dilation,
                    "accuracy": record.val_accuracy,
                    "latency_ms": latency,
                    "noisy": bool(record.latency_noisy),
                    "trial": record.number,
                }
            )
    blocks = pd.DataFrame(rows, columns=["kind", "kernel", "dilation", "accuracy", "latency_ms", "noisy", "trial"])
    blocks["latency_ms"] = blocks["latency_ms"].astype(float)
    stats = {}
    for key in ("kind", "kernel", "dilation"):
        grouped = blocks.groupby(key).agg(
            blocks=("trial", "size"),
            trials=("trial", "nunique"),
            accuracy_median=("accuracy", "median"),
            accuracy_max=("accuracy", "max"),
            latency_median_ms=("latency_ms", "median"),
            noisy=("noisy", "sum"),
        )
        stats[key] = grouped.reset_index()
    stats["raw"] = blocks
    return stats


def importances(study: optuna.Study, finished: list[TrialRecord]) -> tuple[dict[str, dict[str, float]], str]:
    """PED-ANOVA importances for accuracy and latency; `finished` shows the latency each model shows
    (`end_latency.with_end_latency`)."""
    trained = [record for record in finished if record.status is Status.TRAINED]
    if len(trained) < MIN_TRIALS_FOR_IMPORTANCE:
        return (
            {},
            f"parameter importance needs at least {MIN_TRIALS_FOR_IMPORTANCE} trained trials; "
            f"this run has {len(trained)}",
        )
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # PED-ANOVA weighs what sets the lowest targets apart: accuracy goes in negated.
        for name, field, sign in (("accuracy", "val_accuracy", -1.0), ("latency", "latency_ms", 1.0)):
            try:
                result[name] = optuna.importance.get_param_importances(
                    study,
                    evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                    target=_trained(field, sign, {record.number: record for record in finished}),
                )
            except (RuntimeError, ValueError) as error:
                return {}, f"parameter importance could not be computed: {error}"
    return result, (
        "PED-ANOVA importances of the trained trials, computed by Optuna (optuna.importance): how much each "
        "choice sets the 10% most accurate (and the 10% fastest) apart from the rest"
    )


def _trained(field: str, sign: float, finished: dict[int, TrialRecord]) -> Callable[[FrozenTrial], float]:
    """A trial's `field` times `sign` when it was trained, else nan, which Optuna's importance leaves out.

    A skipped trial's accuracy of 0 says it was over a limit, a stopped one's is a rung's,
    and a reused one repeats its twin: none says what its choices bought. A latency flagged
    noisy is left out too, as in the block tables.
    """

    def target(trial: FrozenTrial) -> float:
        record = finished.get(trial.number)
        if record is None or record.status is not Status.TRAINED:
            return math.nan
        value = getattr(record, field)
        if value is None or (field == "latency_ms" and record.latency_noisy):
            return math.nan
        return sign * float(value)

    return target


def layer_table(arch: Arch) -> pd.DataFrame:
    rows = [
        {
            "layer": "stem",
            "block": STEM_KIND,
            "kernel": arch.stem.kernel,
            "dilation": 1,
            "stride": arch.stem.stride,
            "residual": False,
            "activation": arch.stem.activation,
        }
    ]
    rows += [
        {
            "layer": f"block {i}",
            "block": b.kind,
            "kernel": b.kernel,
            "dilation": b.dilation,
            "stride": b.stride,
            "residual": b.residual,
            "activation": b.activation,
        }
        for i, b in enumerate(arch.blocks)
    ]
    shapes = arch.layer_shapes()
    inputs = [f"{s.in_size[0]}x{s.in_size[1]}" for s in shapes]
    outputs = ["x".join(map(str, s.out_shape)) for s in shapes]
    head = arch.head
    widths = [arch.head_features(), *([head.hidden] if head.hidden else []), arch.num_classes]
    blank = dict.fromkeys(("kernel", "dilation", "stride", "residual", "activation"), "")
    rows = [{**row, "dropout": ""} for row in rows]
    rows.append({"layer": "head", "block": f"{head.kind} head ({head.notation})", **blank, "dropout": head.dropout})
    inputs.append("x".join(map(str, shapes[-1].out_shape)))
    outputs.append(" -> ".join(f"{width:,}" for width in widths))  # features -> hidden -> classes
    frame = pd.DataFrame(rows)
    frame["input map"] = inputs
    frame["output"] = outputs
    return frame
