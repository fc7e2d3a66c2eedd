"""Seeded stratified splits of a label vector."""

from __future__ import annotations

import torch


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into (rest, taken), taking round(fraction * n_c) of each class c.

    Each class keeps at least one image on each side when it has two or more. Both index
    tensors are sorted, and the same labels, fraction and seed always give the same split.
    """
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    rest, taken = [], []
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        count = int(round(fraction * len(members)))
        if len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        taken.append(members[:count])
        rest.append(members[count:])
    return torch.sort(torch.cat(rest)).values, torch.sort(torch.cat(taken)).values
