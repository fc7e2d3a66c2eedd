import numpy as np
import pytest
import torch

from dsdnas.errors import DataError
from dsdnas.nas.datasets.sources import limit_train, load_dataset


def test_mnist_sample_shape_labels_and_split(mnist_sample):
    assert mnist_sample.x_train.shape == (4000, 1, 28, 28) and mnist_sample.x_train.dtype == torch.uint8
    assert mnist_sample.x_test.shape == (1000, 1, 28, 28)
    assert torch.equal(torch.bincount(mnist_sample.y_train), torch.full((10,), 400))
    assert torch.equal(torch.bincount(mnist_sample.y_test), torch.full((10,), 100))
    assert mnist_sample.class_names == [str(d) for d in range(10)]


def test_train_limit_is_a_stratified_subset(mnist_sample):
    limited = limit_train(mnist_sample, 500, seed=0)
    assert len(limited.y_train) == 500
    assert torch.equal(torch.bincount(limited.y_train), torch.full((10,), 50))
    assert len(limited.y_test) == 1000


def test_npz_dataset_accepts_channels_last_floats(tmp_path):
    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.random((6, 5, 5, 3)),
        y_train=np.array([0, 1, 2] * 2),
        x_test=rng.random((3, 5, 5, 3)),
        y_test=np.array([0, 1, 2]),
        class_names=np.array(["a", "b", "c"]),
    )
    data = load_dataset(f"npz:{path}")
    assert data.x_train.shape == (6, 3, 5, 5) and data.x_train.dtype == torch.uint8
    assert data.class_names == ["a", "b", "c"]


def test_npz_errors_name_the_missing_array(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((2, 4, 4)), y_train=np.array([0, 1]))
    with pytest.raises(DataError, match="x_test, y_test"):
        load_dataset(f"npz:{path}")


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("cifar-100")
