import pytest

import dsdnas
from dsdnas.errors import DsdnasError
from dsdnas.nas.training.finetune import frozen_modules, parse_freeze


def test_freeze_options(small_arch):
    model = dsdnas.build_model(small_arch)
    assert frozen_modules(model, "none") == ()
    assert len(frozen_modules(model, "head")) == 1 + 3
    assert len(frozen_modules(model, "partial:2")) == 1 + 1
    with pytest.raises(DsdnasError, match="--freeze"):
        parse_freeze("partial:0")
    with pytest.raises(DsdnasError, match="only 3 blocks"):
        frozen_modules(model, "partial:4")
