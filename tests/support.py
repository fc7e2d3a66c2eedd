"""Synthetic trials with real architectures and made-up scores, for report tests and benchmarks."""

from __future__ import annotations

import random

import optuna

from dsdnas.nas.arch import Arch, conv_output_size
from dsdnas.search_spaces import get_space


def analytic_macs(arch: Arch) -> int:
    """Conv and linear multiply-adds, by the textbook formula."""
    macs = 0
    channels, size = arch.input_shape[0], arch.input_shape[1]
    size = conv_output_size(size, arch.stem.stride)
    macs += size * size * arch.stem.channels * channels * arch.stem.kernel**2
    channels = arch.stem.channels
    for block in arch.blocks:
        size = conv_output_size(size, block.stride)
        if block.kind == "standard":
            macs += size * size * block.channels * channels * block.kernel**2
        else:
            macs += size * size * channels * block.kernel**2 + size * size * channels * block.channels
        channels = block.channels
    return macs + channels * arch.num_classes


def add_synthetic_trials(study: optuna.Study, count: int, seed: int = 0, space: str = "dsd-mnist") -> None:
    """Sample `count` architectures through the study and tell it plausible scores."""
    rng = random.Random(seed)
    search_space = get_space(space)
    study.set_user_attr("settings", {"objectives": ["accuracy", "macs"], "dataset": "synthetic", "space": space})
    for _ in range(count):
        trial = study.ask()
        arch = search_space.sample(trial, (1, 28, 28), 10)
        macs = analytic_macs(arch)
        accuracy = min(0.995, 0.85 + 0.02 * (macs / 1e6) ** 0.3 + rng.gauss(0, 0.01))
        latency = 0.3 + macs / 5e6 + 0.1 * len(arch.blocks) + rng.random() * 0.05
        attrs = {
            "arch": arch.to_dict(),
            "notation": arch.notation,
            "arch_hash": arch.hash,
            "status": "trained",
            "val_accuracy": accuracy,
            "macs": macs,
            "params": macs // 50,
            "latency_ms": latency,
            "val_accuracy_history": [accuracy - 0.05, accuracy - 0.01, accuracy],
        }
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [accuracy, macs])
