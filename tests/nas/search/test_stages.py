"""Training in stages: a candidate that passes every rung is trained exactly as a full run."""

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
    data = _data(mnist_sample)
    straight = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    whole = straight.run()
    staged = Trainer(build_model(small_arch, seed=4), data, CONFIG)
    asked = []
    result, stopped_at = train_in_stages(
        staged, (1,), on_epoch=lambda stats: None, goes_on=lambda e, a: asked.append((e, a)) or True
    )
    assert stopped_at is None and [e for e, _ in asked] == [1]
    assert asked[0][1] == result.history[0].val_accuracy  # judged on the accuracy after epoch 1
    assert [s.val_accuracy for s in result.history] == [s.val_accuracy for s in whole.history]
    for a, b in zip(straight.model.state_dict().values(), staged.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # same one-cycle schedule over all 3 epochs, not restarted at the rung


def test_a_stopped_candidate_ends_at_its_rung(small_arch, mnist_sample):
    trainer = Trainer(build_model(small_arch, seed=4), _data(mnist_sample), CONFIG)
    epochs_seen = []
    result, stopped_at = train_in_stages(
        trainer, (1,), on_epoch=lambda stats: epochs_seen.append(stats.epoch), goes_on=lambda e, a: False
    )
    assert stopped_at == 1 and trainer.epoch == 1 and len(result.history) == 1 and epochs_seen == [1]
