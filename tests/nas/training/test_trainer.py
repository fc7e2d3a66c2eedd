import pytest
import torch

from dsdnas.nas.datasets.device_data import to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.training.trainer import TrainConfig, Trainer, evaluate, train_model, training_memory_format


@pytest.fixture(scope="module")
def data(mnist_sample):
    return to_device(mnist_sample, torch.device("cpu"), val_fraction=0.1, seed=0)


def test_one_epoch_on_mnist_sample_scores_over_80_percent(small_arch, data):
    result = train_model(build_model(small_arch), data, TrainConfig(epochs=1, batch_size=64))
    assert result.failure is None
    assert len(result.history) == 1
    assert result.val_accuracy > 0.80
    assert result.images_per_second > 0


def test_diverging_loss_ends_the_candidate_with_the_reason(small_arch, data):
    config = TrainConfig(epochs=2, batch_size=64, optimizer="sgd", lr=1e12, schedule="constant")
    result = train_model(build_model(small_arch), data, config)
    assert result.failure is not None and "loss became" in result.failure
    assert len(result.history) == 0


def test_same_seed_same_weights(small_arch, data):
    config = TrainConfig(epochs=1, batch_size=128, augment=True, seed=5)
    first, second = build_model(small_arch), build_model(small_arch)
    train_model(first, data, config)
    train_model(second, data, config)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_resume_from_state_equals_uninterrupted(small_arch, mnist_sample):
    data = to_device(limit_train(mnist_sample, 500, 0), torch.device("cpu"), val_fraction=0.2, seed=0)
    config = TrainConfig(epochs=4, batch_size=64, augment=True, ema_decay=0.9, schedule="cosine", seed=1)
    straight = Trainer(build_model(small_arch), data, config)
    straight.run()
    first = Trainer(build_model(small_arch), data, config)
    first.run(epochs=2)
    state = first.state_dict()
    resumed = Trainer(build_model(small_arch, seed=99), data, config)
    resumed.load_state_dict(state)
    resumed.run()
    assert resumed.epoch == 4
    for a, b in zip(straight.final_model.state_dict().values(), resumed.final_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_evaluate_returns_loss_accuracy_and_predictions(small_arch, data):
    loss, accuracy, predicted = evaluate(build_model(small_arch), data, data.val)
    assert predicted.shape == (400,) and 0 <= accuracy <= 1 and loss > 0


def test_cpu_trains_nchw_with_a_fused_optimizer_and_cuda_would_use_nhwc(small_arch, data):
    trainer = Trainer(build_model(small_arch), data, TrainConfig(epochs=1, optimizer="sgd"))
    # Only a k x k conv over several input channels lays out differently in NHWC.
    weights = [m.weight for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d)]
    telling = [w for w in weights if w.shape[1] > 1 and w.shape[2] > 1]
    assert telling and not any(w.is_contiguous(memory_format=torch.channels_last) for w in telling)
    assert trainer.optimizer.param_groups[0]["fused"] is True
    assert training_memory_format(torch.device("cuda", 0)) is torch.channels_last
