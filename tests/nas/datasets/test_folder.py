import pytest

from dsdnas.errors import DataError
from dsdnas.nas.datasets.sources import load_dataset
from tests.support import noise_images, write_image_folder


def test_folder_dataset_splits_and_resizes(tmp_path):
    write_image_folder(tmp_path, {"dark": noise_images(40, 10), "light": noise_images(200, 10)})
    data = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert data.class_names == ["dark", "light"]
    assert data.x_train.shape[1:] == (1, 8, 8)
    assert len(data.y_train) == 16 and len(data.y_test) == 4
    assert data.x_train[data.y_train == 0].float().mean() < data.x_train[data.y_train == 1].float().mean()


def test_folder_dataset_with_train_and_test_folders_in_rgb(tmp_path):
    write_image_folder(tmp_path / "train", {"a": noise_images(50, 4, rgb=True), "b": noise_images(150, 4, rgb=True)})
    write_image_folder(tmp_path / "test", {"a": noise_images(50, 2, rgb=True), "b": noise_images(150, 2, rgb=True)})
    data = load_dataset(f"folder:{tmp_path}")
    assert data.x_train.shape == (8, 3, 10, 10) and data.x_test.shape == (4, 3, 10, 10)


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="no such directory"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    write_image_folder(tmp_path / "mixed", {"a": noise_images(50, 2, size=8), "b": noise_images(50, 2, size=12)})
    with pytest.raises(DataError, match="--image-size"):
        load_dataset(f"folder:{tmp_path / 'mixed'}")
