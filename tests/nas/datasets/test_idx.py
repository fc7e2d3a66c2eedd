import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from dsdnas.errors import DataError
from dsdnas.nas.datasets.sources import load_dataset
from tests.conftest import skip_or_fail

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def test_missing_mnist_says_where_to_put_files_and_suggests_the_sample(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset("mnist", data_dir=str(tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message and "train-images-idx3-ubyte" in message and "mnist-sample" in message


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
