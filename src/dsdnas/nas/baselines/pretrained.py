"""Pretrained weights for a reference model: a file, or torchvision's own (`DEFAULT`).

A file is a state dict, read from safetensors or with torch.load(weights_only=True), so
a pickle cannot run code. A pretrained 3-channel first conv is adapted to a 1-channel
input by summing its weights over the input channels, as timm's `adapt_input_conv`
does: a grey image then produces what the colour image of the same intensities would.
Tensors whose shape no longer fits (the new classifier; a 7x7 stem that became 3x3 for
small images) keep their fresh initialization, and the result says which.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import torch
from torch import nn

from dsdnas.errors import DsdnasError
from dsdnas.nas.baselines.zoo import Reference, torchvision_name
from dsdnas.nas.files import load_weights

MIN_MATCHED = 0.8  # of the model's tensors; fewer means the file holds another architecture


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A state dict from safetensors or a torch file (weights only, never unpickled code)."""
    file = Path(path).expanduser()
    if not file.exists():
        raise DsdnasError(f"--weights {path}: no such file")
    if file.suffix == ".safetensors":
        return load_weights(file)
    try:
        with warnings.catch_warnings():  # torch warns of pickle protocols before refusing a foreign file
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch.load fails in many ways on a bad or pickled file
        first = (str(error).splitlines() or [type(error).__name__])[0][:160]
        raise DsdnasError(f"--weights {path} is not a weights-only state dict ({first})") from None
    for key in ("state_dict", "model"):  # common wrappers of a checkpoint
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DsdnasError(f"--weights {path} does not hold a state dict of tensors")
    return state


def default_state_dict(name: str) -> dict[str, torch.Tensor]:
    """torchvision's DEFAULT weights for `name`: from the torch hub cache, or downloaded into it."""
    base = torchvision_name(name)
    if base is None:
        raise DsdnasError("--weights DEFAULT: seed-cnn has no published weights; train it from scratch")
    from torchvision.models import get_model_weights

    weights = get_model_weights(base).DEFAULT
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # torch.hub announces the download there
            return weights.get_state_dict(progress=False, check_hash=True)
    except Exception as error:  # noqa: BLE001 - urllib, ssl and hash errors alike mean "not available"
        cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        raise DsdnasError(
            f"--weights DEFAULT needs torchvision's {weights} from {weights.url}, which is not in the torch hub "
            f"cache ({cache}) and could not be downloaded ({type(error).__name__}); put the file there or pass "
            f"--weights PATH"
        ) from None


def adapt_input_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A first conv's weights for `in_channels` inputs: summed over RGB for one channel (timm's rule)."""
    if weight.shape[1] == in_channels:
        return weight
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    raise DsdnasError(f"cannot adapt a {weight.shape[1]}-channel first conv to {in_channels} channels")


def load_pretrained(reference: Reference, state: dict[str, torch.Tensor], source: str) -> list[str]:
    """Copy what fits of `state` into the reference model; returns what was adapted or left fresh."""
    model_state = reference.model.state_dict()
    first_conv = next(path for path, m in reference.model.named_modules() if isinstance(m, nn.Conv2d))
    notes, usable = [], {}
    for key, tensor in state.items():
        if key not in model_state:
            continue
        if key == f"{first_conv}.weight" and tensor.dim() == 4 and tensor.shape[1] != model_state[key].shape[1]:
            tensor = adapt_input_conv(tensor, model_state[key].shape[1])
            notes.append(f"{key}: summed over input channels")
        if tensor.shape == model_state[key].shape:
            usable[key] = tensor
        else:
            notes.append(f"{key}: {tuple(tensor.shape)} does not fit {tuple(model_state[key].shape)}, left fresh")
    if len(usable) < MIN_MATCHED * len(model_state):
        raise DsdnasError(
            f"{source} does not hold {reference.name} weights: only {len(usable)} of {len(model_state)} tensors fit"
        )
    reference.model.load_state_dict(usable, strict=False)
    return notes
