"""The trainer: batches indexed straight from device-resident tensors.

One `Trainer` holds the model, optimizer, schedule, RNG and optional weight average
(EMA). Its whole state round-trips through `state_dict`, so an interrupted run resumes
bit-exactly on the CPU. It can stop after any optimizer step (`run(until_step=...)`,
what early stopping's rungs use) and go on from there as if it never stopped: an
epoch's order is drawn when the epoch begins. On CUDA the model runs in channels_last
under bf16 autocast.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel

from dsdnas.interrupts import raise_if_interrupted
from dsdnas.nas.datasets.device_data import DeviceData, DeviceSplit, random_shift
from dsdnas.nas.quiet import CHUNK_S, QuietWindows
from dsdnas.nas.training.config import DEFAULT_LR, TrainConfig
from dsdnas.nas.training.ema import warmed_up_ema
from dsdnas.nas.training.stats import EpochStats

EVAL_BATCH = 1024  # images per evaluation step


@dataclass
class TrainResult:
    history: list[EpochStats] = field(default_factory=list)
    failure: str | None = None  # e.g. "loss became nan at epoch 2"
    seconds: float = 0.0
    images_per_second: float = 0.0

    @property
    def val_accuracy(self) -> float | None:
        return self.history[-1].val_accuracy if self.history else None


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    """Full batches only (BatchNorm needs more than one sample); at least one step."""
    return max(1, train_size // batch_size)


@torch.inference_mode()
def evaluate(model: nn.Module, data: DeviceData, split: DeviceSplit) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy (fraction) and predicted labels over a whole split."""
    was_training = model.training
    model.eval()
    losses, predictions = [], []
    for start in range(0, len(split), EVAL_BATCH):
        x = data.normalize(split.x[start : start + EVAL_BATCH])
        with _autocast(data.device):
            logits = model(x).float()
        losses.append(F.cross_entropy(logits, split.y[start : start + EVAL_BATCH], reduction="sum"))
        predictions.append(logits.argmax(dim=1))
    model.train(was_training)
    predicted = torch.cat(predictions)
    accuracy = (predicted == split.y).float().mean().item()
    return (torch.stack(losses).sum() / len(split)).item(), accuracy, predicted


def training_memory_format(device: torch.device) -> torch.memory_format:
    """NHWC on CUDA, where cuDNN's bf16 kernels want it; NCHW elsewhere.

    On a 2-core AVX2 CPU, oneDNN trained 15 of 20 random dsd-mnist candidates slower in
    NHWC, up to 1.7x slower (`benchmarks/bench_trainer.py --layouts`, docs/benchmarks.md).
    """
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device):
    return (
        torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    )


class Trainer:
    """Trains `model` on `data.train`, scoring `data.val` after every epoch."""

    def __init__(
        self, model: nn.Module, data: DeviceData, config: TrainConfig, *, frozen: tuple[nn.Module, ...] = ()
    ) -> None:
        """`frozen` modules keep their weights and BatchNorm statistics: eval mode, no gradients."""
        self.frozen = frozen
        self.windows = QuietWindows(data.device)  # no dsdnas process measures latency while this trains
        for module in frozen:
            module.requires_grad_(False)
        self.model = model.to(data.device, memory_format=training_memory_format(data.device))
        self.data = data
        self.config = config
        self.epoch = 0  # whole epochs trained
        self.steps = steps_per_epoch(len(data.train), config.batch_size)
        self._in_epoch = 0  # steps taken of the epoch under way
        self._order = torch.empty(0, dtype=torch.long)  # its shuffled image indices
        self._epoch_loss = torch.zeros((), device=data.device)  # the sum of its step losses (train_epoch resets it)
        self._losses_before = 0.0  # the sum of the step losses of the whole epochs before it
        self._epoch_s = 0.0  # seconds spent on the epoch under way in earlier calls of run
        lr = config.lr or DEFAULT_LR[config.optimizer] * math.sqrt(config.batch_size / 64)
        self.optimizer = self._make_optimizer(lr)
        self.scheduler = self._make_scheduler(lr)
        self.generator = torch.Generator().manual_seed(config.seed)  # shuffles and shifts
        torch.manual_seed(config.seed)  # dropout
        self.ema = (
            AveragedModel(self.model, multi_avg_fn=warmed_up_ema(config.ema_decay), use_buffers=True)
            if config.ema_decay
            else None
        )

    def _make_optimizer(self, lr: float) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        # One fused kernel per step instead of a dozen per parameter: up to 17% more
        # images/s for the smallest candidates on a CPU. CPU and CUDA only.
        fused = self.data.device.type in ("cpu", "cuda") or None
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(
                params, lr=lr, momentum=0.9, nesterov=True, weight_decay=self.config.weight_decay, fused=fused
            )
        return torch.optim.AdamW(params, lr=lr, weight_decay=self.config.weight_decay, fused=fused)

    def _make_scheduler(self, lr: float) -> torch.optim.lr_scheduler.LRScheduler:
        total = self.config.epochs * self.steps
        if self.config.schedule == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=lr, total_steps=total, pct_start=0.25)
        if self.config.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total)
        return torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)

    @property
    def final_model(self) -> nn.Module:
        """The weight average when EMA is on, else the trained model."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def steps_done(self) -> int:
        """Optimizer steps taken so far, all epochs together."""
        return self.epoch * self.steps + self._in_epoch

    @property
    def mean_train_loss(self) -> float:
        """The mean loss of every step so far: the sum of training losses (TSE) per step."""
        done = self.steps_done
        return (self._losses_before + self._epoch_loss.item()) / done if done else math.nan

    def _train_to(self, end: int) -> None:
        """Steps of the epoch under way up to its step `end` (at most self.steps)."""
        config, data = self.config, self.data
        self.model.train()
        for module in self.frozen:
            module.eval()
        if self._in_epoch == 0:
            self._order = torch.randperm(len(data.train), generator=self.generator).to(data.device)
        step = self._in_epoch
        while step < end:
            raise_if_interrupted()  # a Ctrl-C swallowed by a finalizer stops training here (dsdnas.interrupts)
            # Train in chunks of about CHUNK_S seconds, so a latency measurement waits at most one.
            with self.windows.training():
                deadline = time.monotonic() + CHUNK_S
                while step < end and (step == self._in_epoch or time.monotonic() < deadline):
                    self._epoch_loss += self._step(
                        self._order[step * config.batch_size : (step + 1) * config.batch_size]
                    )
                    step += 1
                _synchronize(data.device)  # the GPU's queued kernels belong to this chunk
            self._in_epoch = step

    def train_epoch(self) -> float:
        """The rest of the epoch under way (all of a new one); returns its mean loss (nan/inf if it diverged)."""
        self._train_to(self.steps)
        loss_sum = self._epoch_loss.item()
        self._losses_before += loss_sum
        self._epoch_loss = torch.zeros((), device=self.data.device)
        self._in_epoch = 0
        self.epoch += 1
        return loss_sum / self.steps

    def validate(self) -> tuple[float, float]:
        """Mean loss and accuracy of the weights used for scoring on the validation split."""
        with self.windows.training():
            loss, accuracy, _ = evaluate(self.final_model, self.data, self.data.val)
        return loss, accuracy

    def _step(self, index: torch.Tensor) -> torch.Tensor:
        """One optimizer step on the images at `index`; returns the loss, on the device."""
        config, data = self.config, self.data
        x = data.train.x[index]
        if config.augment:
            x = random_shift(x, config.max_shift, self.generator)
        with _autocast(data.device):
            logits = self.model(data.normalize(x))
        loss = F.cross_entropy(logits.float(), data.train.y[index], label_smoothing=config.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return loss.detach()

    def run(
        self,
        epochs: int | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
        *,
        until_step: int | None = None,
    ) -> TrainResult:
        """Train up to `epochs` more epochs (default: to config.epochs), or up to step `until_step` of the whole
        run, which may end inside an epoch; stop on nan/inf loss. Epochs that end are scored and reported."""
        result = TrainResult()
        last = self.config.epochs if epochs is None else min(self.config.epochs, self.epoch + epochs)
        target = last * self.steps if until_step is None else min(until_step, self.config.epochs * self.steps)
        started = time.perf_counter()
        trained_images = 0
        while self.steps_done < target:
            epoch_start, before = time.perf_counter(), self.steps_done
            end = min(self.steps, target - self.epoch * self.steps)
            if end < self.steps:  # the run stops inside this epoch
                self._train_to(end)
                trained_images += (self.steps_done - before) * self.config.batch_size
                self._epoch_s += time.perf_counter() - epoch_start
                break
            train_loss = self.train_epoch()
            trained_images += (self.steps_done - before) * self.config.batch_size
            if not math.isfinite(train_loss):
                result.failure = f"training loss became {train_loss} in epoch {self.epoch}"
                break
            val_loss = val_accuracy = None
            if self.data.val is not None:
                val_loss, val_accuracy = self.validate()
            seconds, self._epoch_s = self._epoch_s + time.perf_counter() - epoch_start, 0.0
            stats = EpochStats(self.epoch, train_loss, val_loss, val_accuracy, seconds)
            result.history.append(stats)
            if on_epoch is not None:
                on_epoch(stats)
        result.seconds = time.perf_counter() - started
        result.images_per_second = trained_images / result.seconds if result.seconds else 0.0
        return result

    # Checkpointing -------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            # The epoch under way, when the run stopped inside one.
            "in_epoch": self._in_epoch,
            "order": self._order.cpu(),
            "epoch_loss": self._epoch_loss.item(),
            "losses_before": self._losses_before,
        }
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self._in_epoch = int(state.get("in_epoch", 0))  # checkpoints before steps: whole epochs only
        self._order = state.get("order", torch.empty(0, dtype=torch.long)).to(self.data.device)
        self._epoch_loss = torch.tensor(float(state.get("epoch_loss", 0.0)), device=self.data.device)
        self._losses_before = float(state.get("losses_before", 0.0))
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])


def train_model(
    model: nn.Module, data: DeviceData, config: TrainConfig, *, on_epoch: Callable[[EpochStats], None] | None = None
) -> TrainResult:
    """Train from scratch for config.epochs; the convenience form of `Trainer(...).run()`."""
    return Trainer(model, data, config).run(on_epoch=on_epoch)
