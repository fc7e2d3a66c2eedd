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


def _npz(path, x_train, x_test=None):
    x_test = x_train[:2] if x_test is None else x_test
    np.savez(path, x_train=x_train, y_train=np.arange(len(x_train)) % 2, x_test=x_test, y_test=np.array([0, 1]))
    return f"npz:{path}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda x: np.where(np.arange(x.size).reshape(x.shape) == 7, np.nan, x),
            r"1 NaN or infinite values .*\(0, 1, 3\)",
        ),
        (lambda x: np.full_like(x, np.nan), "64 NaN or infinite values"),
        (lambda x: np.where(np.arange(x.size).reshape(x.shape) == 9, np.inf, x), "1 NaN or infinite"),
        (lambda x: x * 3.0, r"values outside \[0, 1\].*divide by the maximum"),
        (lambda x: np.round(x * 255.0), r"values outside \[0, 1\].*0-255 pixels stored as floats"),
        (lambda x: (x * 300).astype(np.int64), "values outside 0-255"),
        (lambda x: x > 0.5, "dtype bool"),
    ],
)
def test_npz_pixels_are_never_guessed(tmp_path, make, message):
    rng = np.random.default_rng(0)
    x = rng.random((4, 4, 4))
    with pytest.raises(DataError, match=message) as info:
        load_dataset(_npz(tmp_path / "d.npz", make(x)))
    assert "x_train" in str(info.value)


def test_npz_floats_in_unit_range_and_integers_in_byte_range_are_kept_exactly(tmp_path):
    x = np.arange(64, dtype=np.int64).reshape(4, 4, 4) * 4
    data = load_dataset(_npz(tmp_path / "i.npz", x))
    assert torch.equal(data.x_train, torch.from_numpy(x.astype(np.uint8))[:, None])
    floats = load_dataset(_npz(tmp_path / "f.npz", x / 255.0))
    assert torch.equal(floats.x_train, data.x_train)
