"""Reference models by name, built for a run's images and classes.

    linear               a linear classifier on the raw pixels (logistic regression)
    mlp                  one hidden layer of `hidden` units (default 64) with ReLU, on the raw pixels
    seed-cnn             the classic two-conv MNIST CNN of PyTorch's examples
    resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, shufflenet_v2_x0_5, efficientnet_b0
    torchvision:NAME     any classification model torchvision.models.get_model knows

A torchvision model is adapted to the run's images by one rule, the way CIFAR ResNets are:

1. its first conv takes the run's channels (1 for grayscale);
2. below 64 px (the smaller side), that conv becomes 3x3 with stride 1 and padding 1, and
   the stem's max-pool (a MaxPool2d child of the model itself) is removed, so a 28x28
   digit is not shrunk to 7x7 before the first block;
3. its last Linear layer is replaced by one for the run's classes, as the tutorial this
   project grew from replaces ResNet-50's `fc`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from dsdnas.errors import DsdnasError
from dsdnas.nas.training.finetune import parse_freeze

SMALL_INPUT_PX = 64  # below this, the stem keeps full resolution (CIFAR-style)
MLP_HIDDEN = 64  # units of the mlp reference's hidden layer unless --hidden says otherwise
NAMED = (
    "linear",
    "mlp",
    "seed-cnn",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "shufflenet_v2_x0_5",
    "efficientnet_b0",
)
TORCHVISION_PREFIX = "torchvision:"


class SeedCNN(nn.Module):
    """PyTorch's examples/mnist network: conv 32, conv 64, max-pool, dropout, two linear layers."""

    def __init__(self, in_channels: int, num_classes: int, *, height: int, width: int) -> None:
        super().__init__()
        if min(height, width) < 6:
            raise DsdnasError(f"seed-cnn needs images of at least 6x6 pixels, not {height}x{width}")
        self.conv1 = nn.Conv2d(in_channels, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * ((height - 4) // 2) * ((width - 4) // 2), 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))
        return self.fc2(self.dropout2(x))


@dataclass
class Reference:
    """A built reference model and what was changed to fit the run's images."""

    name: str
    model: nn.Module
    changes: list[str] = field(default_factory=list)
    classifier: str = ""  # dotted name of the layer the run's classes go through


# The references dsdnas builds itself, by name: (input shape, classes, hidden) -> (model, classifier path).
_OWN = {
    "linear": lambda shape, classes, hidden: (nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), classes)), "1"),
    "mlp": lambda shape, classes, hidden: (
        nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), hidden), nn.ReLU(), nn.Linear(hidden, classes)),
        "3",
    ),
    "seed-cnn": lambda shape, classes, hidden: (SeedCNN(shape[0], classes, height=shape[1], width=shape[2]), "fc2"),
}


def reference_name(name: str, hidden: int | None = None) -> str:
    """How a reference is named in its folder, the report and `trials --baselines`: mlp-h64 for an mlp."""
    return f"mlp-h{hidden or MLP_HIDDEN}" if name == "mlp" else name


def torchvision_name(name: str) -> str | None:
    """The torchvision model a reference name means; None for one dsdnas builds itself."""
    if name in _OWN:
        return None
    base = name[len(TORCHVISION_PREFIX) :] if name.startswith(TORCHVISION_PREFIX) else name
    import torchvision.models
    from torchvision.models import list_models

    known = list_models(module=torchvision.models)  # classification models only
    if base not in known:
        hint = (
            f"; torchvision's classifiers are {', '.join(known[:8])}, ..."
            if name.startswith(TORCHVISION_PREFIX)
            else ""
        )
        raise DsdnasError(
            f"--model {name!r} is not a reference model: use {', '.join(NAMED)} or torchvision:NAME{hint}"
        )
    return base


def build_reference(
    name: str, input_shape: tuple[int, int, int], num_classes: int, *, seed: int = 0, hidden: int | None = None
) -> Reference:
    """The model `name`, seeded, adapted to `input_shape` (C, H, W) and `num_classes`; `hidden` sizes an mlp."""
    channels, height, width = input_shape
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if (base := torchvision_name(name)) is None:
            model, classifier = _OWN[name](input_shape, num_classes, hidden or MLP_HIDDEN)
            return Reference(reference_name(name, hidden), model, [], classifier)
        from torchvision.models import get_model

        reference = Reference(name, get_model(base, weights=None))
        _adapt_stem(reference, channels, min(height, width))
        _replace_classifier(reference, num_classes)
    _check_runs(reference, input_shape)
    return reference


def _named(model: nn.Module, kind: type) -> list[tuple[str, nn.Module]]:
    return [(path, module) for path, module in model.named_modules() if isinstance(module, kind)]


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def _adapt_stem(reference: Reference, channels: int, size: int) -> None:
    path, conv = _named(reference.model, nn.Conv2d)[0]
    small = size < SMALL_INPUT_PX
    kernel, stride, padding = ((3, 3), (1, 1), (1, 1)) if small else (conv.kernel_size, conv.stride, conv.padding)
    if channels != conv.in_channels or small:
        new = nn.Conv2d(channels, conv.out_channels, kernel, stride, padding, bias=conv.bias is not None)
        _set(reference.model, path, new)
        reference.changes.append(
            f"{path}: {conv.in_channels}->{channels} channels"
            + (
                f", {conv.kernel_size[0]}x{conv.kernel_size[1]} stride {conv.stride[0]} -> 3x3 stride 1"
                if small
                else ""
            )
        )
    if small:
        for child, module in list(reference.model.named_children()):
            if isinstance(module, nn.MaxPool2d):
                setattr(reference.model, child, nn.Identity())
                reference.changes.append(f"{child}: max-pool removed (input below {SMALL_INPUT_PX} px)")


IMAGENET_CLASSES = 1000


def _replace_classifier(reference: Reference, num_classes: int) -> None:
    """The last Linear layer, or (SqueezeNet) a last 1x1 conv giving the 1000 ImageNet classes."""
    linears = _named(reference.model, nn.Linear)
    convs = [(p, m) for p, m in _named(reference.model, nn.Conv2d) if m.out_channels == IMAGENET_CLASSES]
    if linears:
        path, head = linears[-1]
        new: nn.Module = nn.Linear(head.in_features, num_classes, bias=head.bias is not None)
        classes = head.out_features
    elif convs:
        path, head = convs[-1]
        new = nn.Conv2d(head.in_channels, num_classes, head.kernel_size, head.stride, head.padding)
        classes = head.out_channels
    else:
        raise DsdnasError(f"{reference.name} has no classifier layer (Linear) to replace")
    _set(reference.model, path, new)
    reference.classifier = path
    reference.changes.append(f"{path}: {classes} -> {num_classes} classes")


def _check_runs(reference: Reference, input_shape: tuple[int, int, int]) -> None:
    model = reference.model.eval()
    try:
        with torch.inference_mode():
            model(torch.zeros(2, *input_shape))
    except RuntimeError as error:
        first = str(error).splitlines()[0][:160]
        raise DsdnasError(
            f"{reference.name} does not run on {input_shape[1]}x{input_shape[2]} images ({first}); "
            f"pick another model, or pass --image-size for folder: data"
        ) from None
    finally:
        model.train()


def frozen_parts(reference: Reference, freeze: str) -> tuple[nn.Module, ...]:
    """The top-level parts that stay fixed: all but the classifier (head), or all but the last K parts and
    the classifier (partial:K). The parts are the model's own children that hold parameters."""
    mode, count = parse_freeze(freeze)
    if mode == "none":
        return ()
    top = reference.classifier.split(".")[0]
    parts = [m for name, m in reference.model.named_children() if name != top and any(True for _ in m.parameters())]
    if count > len(parts):
        raise DsdnasError(f"--freeze {freeze}: {reference.name} has only {len(parts)} parts before its classifier")
    return tuple(parts[: len(parts) - count] if mode == "partial" else parts)
