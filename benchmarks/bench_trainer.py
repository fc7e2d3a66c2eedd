"""Trainer speed: dsdnas's device-resident loop against the textbook DataLoader loop.

Same model, same data (the bundled mnist-sample written as torchvision MNIST files), same
batch size (64), one epoch each, on this machine's CPU (or --device). Three loops, so that
each gain is credited to what made it: the textbook loop (plain AdamW, no schedule); the
textbook loop with the trainer's own optimizer and schedule (fused AdamW, one-cycle); and
the trainer, whose only other difference is its device-resident data path. The loops take
turns within each of --rounds rounds, their order reversed every other round (a drift in the
machine's speed then falls on no one loop); the median and the spread are printed.

It also prints each model's ceiling: the ratio a data path costing nothing would give
if the model's forward, backward and step ran at the textbook loop's speed. It is the
textbook loop's time per image over that time less its data path's time per image
(Amdahl's law). A ratio above the ceiling comes from faster compute, not faster data.

    python benchmarks/bench_trainer.py [--device cpu] [--epochs 1] [--rounds 3]
    python benchmarks/bench_trainer.py --device cuda --images 60000     # one epoch of MNIST's size
    python benchmarks/bench_trainer.py --space dsd-mnist --candidates 5   # random candidates
    python benchmarks/bench_trainer.py --layouts --space dsd-mnist --candidates 20  # NCHW against NHWC
    python benchmarks/bench_trainer.py --quick                              # the tiny model, one round
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import statistics
import sys
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _equal_work import in_turns  # noqa: E402

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


def textbook(arch: Arch, root: Path, dataset, device: torch.device, epochs: int, trainer_step: bool) -> float:
    """Images/s of the DataLoader loop; with `trainer_step`, stepping the trainer's own optimizer and schedule."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
    model = build_model(arch).to(device)
    scheduler, schedule_steps = None, 0
    if trainer_step:
        data = to_device(dataset, device, val_fraction=0.0)
        trainer = Trainer(model, data, TrainConfig(epochs=epochs, batch_size=64))
        optimizer, scheduler = trainer.optimizer, trainer.scheduler
        schedule_steps = trainer.steps * epochs  # the loader's last partial batch steps no schedule
    else:
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
            if scheduler is not None and scheduler.last_epoch < schedule_steps:
                scheduler.step()
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


def ours(
    arch: Arch, dataset, device: torch.device, epochs: int, batch_size: int, layout: torch.memory_format | None = None
) -> float:
    """Images/s of the trainer; `layout` overrides the memory format it picks for the device."""
    data = to_device(dataset, device, val_fraction=0.0)
    trainer = Trainer(build_model(arch), data, TrainConfig(epochs=epochs, batch_size=batch_size))
    if layout is not None:
        trainer.model.to(memory_format=layout)  # in place: the optimizer keeps the same parameters
    start = time.perf_counter()
    trainer.run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return trainer.steps * batch_size * epochs / (time.perf_counter() - start)


def spread(rates: list[float]) -> str:
    return f"{statistics.median(rates):10.0f} images/s  ({min(rates):.0f}-{max(rates):.0f})"


def compare_loops(label: str, arch: Arch, dataset, root: Path, device: torch.device, args, loader_rate: float) -> None:
    print(f"\n{label}: {arch.notation}")
    loops = {
        "textbook DataLoader loop, AdamW      ": lambda: textbook(arch, root, dataset, device, args.epochs, False),
        "textbook loop, the trainer's step    ": lambda: textbook(arch, root, dataset, device, args.epochs, True),
        "dsdnas device-resident, batch 64     ": lambda: ours(arch, dataset, device, args.epochs, 64),
        "dsdnas device-resident, batch 256    ": lambda: ours(arch, dataset, device, args.epochs, 256),
    }
    for loop in loops.values():
        loop()  # warm-up: allocator and kernels
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for round_number in range(args.rounds):
        for name in in_turns(list(loops), round_number):
            rates[name].append(loops[name]())
    slow, stepped, fast = (statistics.median(rates[name]) for name in list(loops)[:3])
    ceiling = (1 / stepped) / (1 / stepped - 1 / loader_rate)
    credits = [
        f"(ceiling {(1 / slow) / (1 / slow - 1 / loader_rate):.2f}x)",
        f"({stepped / slow:.2f}x: optimizer and schedule; data-path ceiling {ceiling:.2f}x)",
        f"({fast / stepped:.2f}x the loop with the same step: the data path)",
        f"({statistics.median(rates[list(loops)[3]]) / slow:.2f}x the textbook loop)",
    ]
    for (name, found), credit in zip(rates.items(), credits, strict=True):
        print(f"  {name}: {spread(found)}  {credit}")


def compare_layouts(models: dict[str, Arch], dataset, device: torch.device, args) -> None:
    """Each candidate trained in NCHW and in NHWC (channels_last), in turns; which was faster, by the median."""
    faster = 0
    for label, arch in models.items():
        rates = {torch.contiguous_format: [], torch.channels_last: []}
        for layout in rates:
            ours(arch, dataset, device, 1, 64, layout)  # warm-up
        for round_number in range(args.rounds):
            for layout in in_turns(list(rates), round_number):
                rates[layout].append(ours(arch, dataset, device, args.epochs, 64, layout))
        nchw, nhwc = (statistics.median(found) for found in rates.values())
        faster += nchw > nhwc
        print(f"  {label}: NCHW {spread(rates[torch.contiguous_format])}, NHWC {spread(rates[torch.channels_last])}"
              f"  NCHW/NHWC {nchw / nhwc:.2f}  {arch.notation}")  # fmt: skip
    print(f"NCHW trained {faster} of {len(models)} candidates faster than channels_last (NHWC) on {device}")


def repeated(dataset, images: int):
    """The dataset with its training images repeated (and cut) to `images`: 60000 is MNIST's size."""
    times = -(-images // len(dataset.y_train))
    return dataclasses.replace(
        dataset, x_train=dataset.x_train.repeat(times, 1, 1, 1)[:images], y_train=dataset.y_train.repeat(times)[:images]
    )


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, help="train images: the sample's repeated to this many (60000: MNIST)")
    parser.add_argument("--space", help="benchmark random candidates of this search space instead")
    parser.add_argument("--candidates", type=int, default=5, help="how many, with --space")
    parser.add_argument("--layouts", action="store_true", help="NCHW against channels_last, in the trainer")
    parser.add_argument("--quick", action="store_true", help="the tiny model, one round (CI)")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    device = torch.device(args.device)
    dataset = load_dataset("mnist-sample")
    if args.images:
        dataset = repeated(dataset, args.images)
    models = sample_candidates(args.space, args.candidates) if args.space else MODELS
    if args.quick:
        models = {"tiny": MODELS["tiny"]}
    print(f"{len(dataset.y_train)} train images; device {device}; {torch.get_num_threads()} threads")
    print(f"{args.rounds} rounds, loops in turns; median images/s (min-max)")
    if args.layouts:
        compare_layouts(models, dataset, device, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        write_idx(Path(folder), dataset)
        loader_rate, resident_rate = data_only(Path(folder), dataset, device)
        print("\ndata path alone (batches of 64, no model):")
        print(f"  textbook DataLoader, ToTensor, Normalize : {loader_rate:12.0f} images/s")
        ratio = resident_rate / loader_rate
        print(f"  dsdnas device-resident index + normalize : {resident_rate:12.0f} images/s  ({ratio:.0f}x)")
        for label, arch in models.items():
            compare_loops(label, arch, dataset, Path(folder), device, args, loader_rate)


if __name__ == "__main__":
    main()
