import pytest
import torch

from dsdnas.errors import DsdnasError
from dsdnas.nas.hardware import resolve_device


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(DsdnasError, match="not one of"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(DsdnasError, match="CUDA is not available"):
            resolve_device("cuda:0")
