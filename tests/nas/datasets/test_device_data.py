import pytest
import torch

from dsdnas.nas.datasets.device_data import Normalizer, channel_stats, random_shift, to_device


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


def test_random_shift_moves_pixels_within_bounds():
    x = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
    x[:, :, 4, 4] = 255
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape and shifted.dtype == torch.uint8
    for image in shifted:
        row, col = (image[0] == 255).nonzero()[0].tolist()
        assert abs(row - 4) <= 2 and abs(col - 4) <= 2


def test_channel_stats_do_not_depend_on_the_thread_count(mnist_sample):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = channel_stats(mnist_sample.x_train)
        torch.set_num_threads(2)
        double = channel_stats(mnist_sample.x_train)
    finally:
        torch.set_num_threads(threads)
    assert single == double
    pixels = mnist_sample.x_train.double() / 255
    assert single[0][0] == pytest.approx(pixels.mean().item(), rel=1e-9)
    assert single[1][0] == pytest.approx(pixels.std().item(), rel=1e-9)


def test_the_one_normalization_matches_the_formula():
    images = torch.randint(0, 256, (4, 3, 5, 5), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    expected = (images.double() / 255 - torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)) / torch.tensor(
        std, dtype=torch.float64
    ).view(1, 3, 1, 1)
    got = Normalizer(mean, std)(images)
    assert got.dtype == torch.float32
    assert torch.allclose(got.double(), expected, atol=1e-5)
