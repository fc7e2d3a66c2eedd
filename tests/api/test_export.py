"""dsdnas.export on real runs: the exported module alone reproduces the search's accuracy; models by pick."""

import json
import subprocess
import sys

import numpy as np
import pytest

import dsdnas
from dsdnas.nas.datasets.splits import stratified_split

STANDALONE = r"""
import sys
sys.modules["dsdnas"] = None  # importing dsdnas now raises ImportError
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from model import load
model = load()
images = torch.from_numpy(np.load(sys.argv[2])).float() / 255.0
labels = torch.from_numpy(np.load(sys.argv[3]))
with torch.no_grad():
    accuracy = (model(images).argmax(1) == labels).float().mean().item()
try:
    import dsdnas  # noqa: F401
    print("dsdnas importable")
except ImportError:
    pass
print(accuracy)
"""


@pytest.mark.slow
def test_exported_module_runs_without_dsdnas_and_gives_the_recorded_accuracy(tmp_path, mnist_sample):
    run = tmp_path / "run"
    dsdnas.search(budget=1, dataset="mnist-sample", space="dsd-tiny", epochs=1, device="cpu", out=run)
    dsdnas.export(run, trial=0, out=tmp_path / "exported")
    # The validation split the search scored on, carved exactly as the search carved it.
    _, val = stratified_split(mnist_sample.y_train, 0.1, seed=0)
    np.save(tmp_path / "x.npy", mnist_sample.x_train[val].numpy())
    np.save(tmp_path / "y.npy", mnist_sample.y_train[val].numpy())
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "exported"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "dsdnas importable" not in out.stdout
    recorded = json.loads((run / "trials" / "0" / "metrics.json").read_text())["val_accuracy"]
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(recorded, abs=1e-6)
