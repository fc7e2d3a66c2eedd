"""Trainer speed: dsdnas's device-resident loop against the textbook DataLoader loop.

Same model, same data (the bundled mnist-sample written as torchvision MNIST files), same
batch size (64), same optimizer, one epoch each, on this machine's CPU (or --device).
Prints images per second of both loops and the ratio.

It also prints each model's ceiling: the ratio a data path costing nothing would give
if the model's forward, backward and step ran at the textbook loop's speed. It is the
textbook loop's time per image over that time less its data path's time per image
(Amdahl's law). A ratio above the ceiling comes from faster compute, not faster data.

    python benchmarks/bench_trainer.py [--device cpu] [--epochs 1]
    python benchmarks/bench_trainer.py --space dsd-mnist --candidates 5   # random candidates
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import torch
import torch.nn.functional as F
from torchvision import datasets, transforms

from dsdnas.nas.datasets.device_data import to_device
from dsdnas.nas.datasets.sources import load_dataset
from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.training.trainer import TrainConfig, Trainer
from dsdnas.search_spaces import get_space

# A typical dsd-tiny candidate, and a heavier dsd-mnist one (about 12x the MACs).
MODELS = {
    "tiny": Arch((1, 28, 28), 10, Stem(8), (Block("separable", 3, 2, 16, 2), Block("standard", 3, 1, 32, 2))),
    "medium": Arch(
        (1, 28, 28),
        10,
        Stem(16),
        (Block("separable", 3, 1, 32, 2), Block("standard", 3, 2, 32, 1, True), Block("separable", 5, 1, 64, 2)),
        Head(0.1),
    ),
}


def write_idx(folder: Path, dataset) -> None:
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, array, magic in (
        ("train-images-idx3-ubyte", dataset.x_train[:, 0].numpy(), 2051),
        ("train-labels-idx1-ubyte", dataset.y_train.numpy().astype(np.uint8), 2049),
        ("t10k-images-idx3-ubyte", dataset.x_test[:, 0].numpy(), 2051),
        ("t10k-labels-idx1-ubyte", dataset.y_test.numpy().astype(np.uint8), 2049),
    ):
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (raw / name).write_bytes(header + array.tobytes())
        with gzip.open(raw / f"{name}.gz", "wb") as handle:
            handle.write(header + array.tobytes())


def textbook(arch: Arch, root: Path, device: torch.device, epochs: int) -> float:
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
    model = build_model(arch).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    seen = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def data_only(root: Path, dataset, device: torch.device) -> tuple[float, float]:
    """Images/s of each loop's data path alone: batches made, no model."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = torch.utils.data.DataLoader(
        datasets.MNIST(str(root), train=True, download=False, transform=transform), batch_size=64, shuffle=True
    )
    start = time.perf_counter()
    seen = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        seen += len(y)
    textbook_rate = seen / (time.perf_counter() - start)
    data = to_device(dataset, device, val_fraction=0.0)
    start = time.perf_counter()
    order = torch.randperm(len(data.train)).to(device)
    for step in range(len(data.train) // 64):
        index = order[step * 64 : (step + 1) * 64]
        data.normalize(data.train.x[index]), data.train.y[index]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return textbook_rate, (len(data.train) // 64) * 64 / (time.perf_counter() - start)


def ours(arch: Arch, dataset, device: torch.device, epochs: int, batch_size: int) -> float:
    data = to_device(dataset, device, val_fraction=0.0)
    trainer = Trainer(build_model(arch), data, TrainConfig(epochs=epochs, batch_size=batch_size))
    start = time.perf_counter()
    trainer.run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return trainer.steps * batch_size * epochs / (time.perf_counter() - start)


def sample_candidates(space_name: str, count: int, seed: int = 1) -> dict[str, Arch]:
    """`count` random candidates of a search space, as the random sampler would draw them."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = get_space(space_name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return {f"{space_name} #{i}": space.sample(study.ask(), (1, 28, 28), 10) for i in range(count)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--space", help="benchmark random candidates of this search space instead")
    parser.add_argument("--candidates", type=int, default=5, help="how many, with --space")
    args = parser.parse_args()
    device = torch.device(args.device)
    dataset = load_dataset("mnist-sample")
    models = sample_candidates(args.space, args.candidates) if args.space else MODELS
    print(f"{len(dataset.y_train)} train images; device {device}; {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as folder:
        write_idx(Path(folder), dataset)
        loader_rate, resident_rate = data_only(Path(folder), dataset, device)
    print("\ndata path alone (batches of 64, no model):")
    print(f"  textbook DataLoader, ToTensor, Normalize : {loader_rate:12.0f} images/s")
    ratio = resident_rate / loader_rate
    print(f"  dsdnas device-resident index + normalize : {resident_rate:12.0f} images/s  ({ratio:.0f}x)")
    for label, arch in models.items():
        print(f"\n{label}: {arch.notation}")
        with tempfile.TemporaryDirectory() as folder:
            write_idx(Path(folder), dataset)
            textbook(arch, Path(folder), device, 1)  # warm-up: allocator and kernels
            slow = textbook(arch, Path(folder), device, args.epochs)
        ours(arch, dataset, device, 1, 64)
        fast = ours(arch, dataset, device, args.epochs, 64)
        ceiling = (1 / slow) / (1 / slow - 1 / loader_rate)
        print(f"  textbook DataLoader loop, batch 64  : {slow:10.0f} images/s  (ceiling {ceiling:.2f}x)")
        print(f"  dsdnas device-resident, batch 64    : {fast:10.0f} images/s  ({fast / slow:.2f}x)")
        rate = ours(arch, dataset, device, args.epochs, 256)
        print(f"  dsdnas device-resident, batch 256   : {rate:10.0f} images/s  ({rate / slow:.2f}x)")


if __name__ == "__main__":
    main()
