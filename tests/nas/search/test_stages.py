"""Training in stages: a candidate that passes every rung is trained exactly as a full run."""

import pytest
import torch

from dsdnas.nas.datasets.device_data import to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.search.stages import train_in_stages
from dsdnas.nas.training.trainer import TrainConfig, Trainer

CONFIG = TrainConfig(epochs=3, batch_size=64, schedule="onecycle", seed=2)


def _data(mnist_sample):
    return to_device(limit_train(mnist_sample, 400, 0), torch.device("cpu"), val_fraction=0.25, seed=0)


def test_passing_every_rung_gives_the_weights_of_one_uninterrupted_run(small_arch, mnist_sample):
    data = _data(mnist_sample)  # 300 training images: 4 steps an epoch, 12 in all
    straight = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    whole = straight.run()
    staged = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    asked = []
    result, stopped_at = train_in_stages(
        staged, (2, 4, 6), on_epoch=lambda stats: None, goes_on=lambda step, s: asked.append((step, s)) or True
    )
    assert stopped_at is None and [step for step, _ in asked] == [2, 4, 6]  # inside epoch 1, at its end, in 2
    at_epoch_end = asked[1][1]
    assert at_epoch_end["val_accuracy"] == result.history[0].val_accuracy  # judged on epoch 1's scores
    assert at_epoch_end["val_loss"] == result.history[0].val_loss
    assert at_epoch_end["train_loss"] == pytest.approx(result.history[0].train_loss)  # all 4 steps' mean
    assert [s.val_accuracy for s in result.history] == [s.val_accuracy for s in whole.history]
    assert [s.train_loss for s in result.history] == pytest.approx([s.train_loss for s in whole.history])
    for a, b in zip(straight.model.state_dict().values(), staged.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the same images in the same order, the same schedule: not restarted


def test_a_stopped_candidate_ends_at_its_rung_inside_an_epoch(small_arch, mnist_sample):
    trainer = Trainer(build_model(small_arch, seed=4), _data(mnist_sample), CONFIG)
    epochs_seen, asked = [], []
    result, stopped_at = train_in_stages(
        trainer,
        (2, 6),
        on_epoch=lambda stats: epochs_seen.append(stats.epoch),
        goes_on=lambda step, signals: asked.append(signals) or step < 6,
    )
    assert stopped_at == 6 and trainer.steps_done == 6 and trainer.epoch == 1 and epochs_seen == [1]
    assert len(result.history) == 1  # the epoch that ended; the half epoch after it is in the signals
    first, last = asked
    assert set(first) == {"val_accuracy", "val_loss", "train_loss"}
    assert 0 <= last["val_accuracy"] <= 1 and last["val_loss"] > 0
    assert last["train_loss"] < first["train_loss"]  # the mean over 6 steps, later ones lower


def test_a_run_split_inside_an_epoch_resumes_from_a_checkpoint_bit_for_bit(small_arch, mnist_sample):
    data = _data(mnist_sample)
    straight = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    straight.run()
    first = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    first.run(until_step=5)
    state = first.state_dict()
    resumed = Trainer(build_model(small_arch, seed=9), data, CONFIG)
    resumed.load_state_dict(state)
    assert resumed.steps_done == 5
    resumed.run()
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
