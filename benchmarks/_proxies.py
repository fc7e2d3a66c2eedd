"""For bench_rank.py: zero-cost scores of an untrained candidate, what it may reach guessed from one batch.

A search's random start-up trains candidates nobody has ranked. Zero-cost proxies score a
candidate at initialisation in one forward (or forward and backward) pass; Abdelfattah
et al. (ICLR 2021, "Zero-Cost Proxies for Lightweight NAS") warm up a search's start with
the best-scored of many random candidates. Two are here, each one table entry:

- `naswot` (Mellor et al., ICML 2021): how differently the activations split a batch's
  images. Each image's code is which inputs of every activation are positive; the score
  is log |det K|, K[i, j] the number of units on which images i and j agree. A network
  that tells the images apart at initialisation trains to higher accuracy.
- `synflow` (Tanaka et al., NeurIPS 2020), the search's own (`nas/search/warm_start.py`):
  the sum over parameters of |theta * dR/dtheta|, R the output summed for an input of
  ones, every weight made positive. It needs no data and grows with width and depth.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dsdnas.nas.search.warm_start import synflow

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU, nn.GELU)


def naswot(model: nn.Module, images: torch.Tensor) -> float:
    """log |det K| of the activation codes of `images` (normalized, one batch), in train mode as initialised."""
    codes: list[torch.Tensor] = []

    def keep_code(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        codes.append((inputs[0].detach().flatten(1) > 0).to(torch.float64))

    handles = [m.register_forward_pre_hook(keep_code) for m in model.modules() if isinstance(m, ACTIVATIONS)]
    try:
        with torch.no_grad():
            model.train()
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    if not codes:
        return 0.0
    code = torch.cat(codes, dim=1)
    agree = code @ code.T + (1 - code) @ (1 - code).T
    return float(torch.linalg.slogdet(agree)[1])


PROXIES: dict[str, Callable[[nn.Module, torch.Tensor], float]] = {
    "naswot": naswot,
    "synflow": lambda model, images: synflow(model, tuple(images.shape[1:])),  # the search's own, data-free
}
