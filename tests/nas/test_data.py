import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dsdnas.errors import DataError
from dsdnas.nas.data import limit_train, load_dataset
from dsdnas.nas.splits import stratified_split
from dsdnas.nas.tensors import random_shift, to_device
from tests.conftest import skip_or_fail

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def test_mnist_sample_shape_labels_and_split(mnist_sample):
    assert mnist_sample.x_train.shape == (4000, 1, 28, 28) and mnist_sample.x_train.dtype == torch.uint8
    assert mnist_sample.x_test.shape == (1000, 1, 28, 28)
    assert torch.equal(torch.bincount(mnist_sample.y_train), torch.full((10,), 400))
    assert torch.equal(torch.bincount(mnist_sample.y_test), torch.full((10,), 100))
    assert mnist_sample.class_names == [str(d) for d in range(10)]


def test_validation_split_is_stratified_seeded_and_disjoint(mnist_sample):
    rest, val = stratified_split(mnist_sample.y_train, 0.1, seed=0)
    assert len(val) == 400 and len(rest) == 3600
    assert torch.equal(torch.bincount(mnist_sample.y_train[val]), torch.full((10,), 40))
    assert not set(rest.tolist()) & set(val.tolist())
    assert torch.equal(stratified_split(mnist_sample.y_train, 0.1, seed=0)[1], val)
    assert not torch.equal(stratified_split(mnist_sample.y_train, 0.1, seed=1)[1], val)


def test_device_data_normalizes_with_train_statistics(mnist_sample):
    data = to_device(mnist_sample, torch.device("cpu"), val_fraction=0.1, seed=0)
    assert len(data.train) == 3600 and len(data.val) == 400
    x = data.normalize(data.train.x)
    assert x.dtype == torch.float32
    assert abs(x.mean().item()) < 1e-3 and abs(x.std().item() - 1) < 1e-3
    # The search never sees the test split.
    test_pixels = {hash(img.numpy().tobytes()) for img in mnist_sample.x_test[:50]}
    seen = {hash(img.numpy().tobytes()) for img in torch.cat([data.train.x, data.val.x])}
    assert not test_pixels & seen


def test_train_limit_is_a_stratified_subset(mnist_sample):
    limited = limit_train(mnist_sample, 500, seed=0)
    assert len(limited.y_train) == 500
    assert torch.equal(torch.bincount(limited.y_train), torch.full((10,), 50))
    assert len(limited.y_test) == 1000


def test_random_shift_moves_pixels_within_bounds():
    x = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
    x[:, :, 4, 4] = 255
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape and shifted.dtype == torch.uint8
    for image in shifted:
        row, col = (image[0] == 255).nonzero()[0].tolist()
        assert abs(row - 4) <= 2 and abs(col - 4) <= 2


def _write_pngs(root: Path, classes: dict[str, int], count: int, size: int = 10, mode: str = "L"):
    rng = np.random.default_rng(0)
    for name, value in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = (size, size) if mode == "L" else (size, size, 3)
            pixels = np.clip(rng.normal(value, 10, shape), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode).save(root / name / f"{i}.png")


def test_folder_dataset_splits_and_resizes(tmp_path):
    _write_pngs(tmp_path, {"dark": 40, "light": 200}, 10)
    data = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert data.class_names == ["dark", "light"]
    assert data.x_train.shape[1:] == (1, 8, 8)
    assert len(data.y_train) == 16 and len(data.y_test) == 4
    assert data.x_train[data.y_train == 0].float().mean() < data.x_train[data.y_train == 1].float().mean()


def test_folder_dataset_with_train_and_test_folders_in_rgb(tmp_path):
    _write_pngs(tmp_path / "train", {"a": 50, "b": 150}, 4, mode="RGB")
    _write_pngs(tmp_path / "test", {"a": 50, "b": 150}, 2, mode="RGB")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.x_train.shape == (8, 3, 10, 10) and data.x_test.shape == (4, 3, 10, 10)


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="no such directory"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    _write_pngs(tmp_path / "mixed", {"a": 50}, 2, size=8)
    _write_pngs(tmp_path / "mixed", {"b": 50}, 2, size=12)
    with pytest.raises(DataError, match="--image-size"):
        load_dataset(f"folder:{tmp_path / 'mixed'}")


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


def test_missing_mnist_says_where_to_put_files_and_suggests_the_sample(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset("mnist", data_dir=str(tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message and "train-images-idx3-ubyte" in message and "mnist-sample" in message


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("cifar-100")


def test_mnist_style_idx_files_from_a_data_dir(tmp_path, mnist_sample):
    # Write the bundled sample as gzipped IDX files, the format torchvision reads.
    def idx(path, array, magic):
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        with gzip.open(path, "wb") as handle:
            handle.write(header + array.astype(np.uint8).tobytes())

    images = mnist_sample.x_train[:, 0].numpy()
    idx(tmp_path / "train-images-idx3-ubyte.gz", images, 2051)
    idx(tmp_path / "train-labels-idx1-ubyte.gz", mnist_sample.y_train.numpy(), 2049)
    idx(tmp_path / "t10k-images-idx3-ubyte.gz", mnist_sample.x_test[:, 0].numpy(), 2051)
    idx(tmp_path / "t10k-labels-idx1-ubyte.gz", mnist_sample.y_test.numpy(), 2049)
    data = load_dataset("mnist", data_dir=str(tmp_path))
    assert torch.equal(data.x_train, mnist_sample.x_train) and torch.equal(data.y_test, mnist_sample.y_test)


def test_fashion_mnist_from_debian_package():
    if not FASHION_DIR.exists():
        skip_or_fail("Debian's dataset-fashion-mnist is not installed")
    data = load_dataset("fashion-mnist")
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert data.class_names[9] == "Ankle boot"
