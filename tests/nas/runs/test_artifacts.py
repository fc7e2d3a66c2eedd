"""Stored models: weights are checked against the recorded hash, and a bad file is one clear error."""

import pickle

import pytest
import torch

from dsdnas.errors import RunError
from dsdnas.nas.files import save_weights
from dsdnas.nas.model.arch import Arch, Block, Stem
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.runs.artifacts import StoredModel

ARCH = Arch((1, 8, 8), 2, Stem(4), (Block("separable", 3, 1, 8, 2),))
OTHER = Arch((1, 8, 8), 2, Stem(6), (Block("standard", 3, 1, 8, 2),))


def stored(folder, arch=ARCH, sha256=None) -> StoredModel:
    return StoredModel(folder, arch, {}, "mnist-sample", ["a", "b"], (0.5,), (0.5,), 4, "s", weights_sha256=sha256)


def test_intact_weights_load_and_match_their_hash(tmp_path):
    sha = save_weights(tmp_path / "weights.safetensors", build_model(ARCH, seed=1).state_dict())
    model = stored(tmp_path, sha256=sha).build()
    assert torch.equal(model.stem[0].weight, build_model(ARCH, seed=1).stem[0].weight)


@pytest.mark.parametrize("recorded", [True, False])
def test_a_truncated_file_is_one_error_naming_it(tmp_path, recorded):
    path = tmp_path / "weights.safetensors"
    sha = save_weights(path, build_model(ARCH).state_dict())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RunError, match="weights.safetensors") as info:
        stored(tmp_path, sha256=sha if recorded else None).build()
    message = str(info.value)
    assert ("does not match the SHA-256" if recorded else "not a readable safetensors file") in message
    assert "dsdnas finetune RUN --trial 4" in message and "\n" not in message


def test_a_pickle_renamed_to_weights_is_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle executed')",))

    (tmp_path / "weights.safetensors").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(RunError, match="not a readable safetensors file"):
        stored(tmp_path).build()


def test_weights_of_another_architecture_are_named_as_such(tmp_path):
    save_weights(tmp_path / "weights.safetensors", build_model(OTHER).state_dict())
    with pytest.raises(RunError, match="does not hold the weights of stem_k3_c4_s1 sep_k3_d1_c8_s2"):
        stored(tmp_path).build()


def test_missing_weights_of_another_workers_trial_say_where_they_are(tmp_path):
    from dsdnas.nas.runs.artifacts import load_trial_model
    from dsdnas.nas.runs.rundir import RunDir

    meta = {
        "study": "s",
        "settings": {"dataset": "mnist-sample", "class_names": ["a", "b"], "mean": [0.5], "std": [0.5]},
    }
    with pytest.raises(RunError) as info:
        load_trial_model(RunDir(tmp_path), 3, meta, worker="m2:4242", origin="/data/w2/trials/3")
    message = str(info.value)
    assert "trained by worker m2:4242" in message and "m2:/data/w2/trials/3" in message
    assert "not trained" not in message
