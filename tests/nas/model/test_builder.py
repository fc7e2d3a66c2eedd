import torch

import dsdnas
from dsdnas.nas.model.arch import ACTIVATIONS
from dsdnas.nas.model.blocks import ACTIVATION_CLASSES


def test_build_model_is_deterministic_and_accepts_json_dicts(small_arch):
    first = dsdnas.build_model(small_arch, seed=3)
    second = dsdnas.build_model(small_arch.to_dict(), seed=3)
    other = dsdnas.build_model(small_arch, seed=4)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(first.stem[0].weight, other.stem[0].weight)


def test_build_model_leaves_global_rng_alone(small_arch):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    dsdnas.build_model(small_arch)
    assert torch.equal(torch.rand(3), expected)


def test_every_activation_builds_and_the_generated_source_names_the_same_class():
    assert set(ACTIVATION_CLASSES) == set(ACTIVATIONS)
    for name, cls in ACTIVATION_CLASSES.items():
        assert cls.__name__ == ACTIVATIONS[name]  # codegen writes nn.<ACTIVATIONS[name]>
