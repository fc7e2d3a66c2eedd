import torch

from dsdnas.nas.datasets.splits import stratified_split


def test_validation_split_is_stratified_seeded_and_disjoint(mnist_sample):
    rest, val = stratified_split(mnist_sample.y_train, 0.1, seed=0)
    assert len(val) == 400 and len(rest) == 3600
    assert torch.equal(torch.bincount(mnist_sample.y_train[val]), torch.full((10,), 40))
    assert not set(rest.tolist()) & set(val.tolist())
    assert torch.equal(stratified_split(mnist_sample.y_train, 0.1, seed=0)[1], val)
    assert not torch.equal(stratified_split(mnist_sample.y_train, 0.1, seed=1)[1], val)
