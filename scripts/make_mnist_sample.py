"""Build the bundled `mnist-sample` dataset from ../shared/data/mnist_5k.csv.gz.

Writes src/dsdnas/data/mnist_sample.npz: a fixed stratified split of the 5,000 digits
into 4,000 train (400 per class) and 1,000 test (100 per class), as uint8 arrays.
Run once: `python scripts/make_mnist_sample.py [CSV]`.
"""

import sys
from pathlib import Path

import numpy as np

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist_5k.csv.gz")
TARGET = Path(__file__).resolve().parents[1] / "src" / "dsdnas" / "data" / "mnist_sample.npz"
TEST_PER_CLASS = 100
SEED = 20261128

rows = np.loadtxt(SOURCE, delimiter=",", dtype=np.int64)
pixels, labels = rows[:, :784].astype(np.uint8).reshape(-1, 28, 28), rows[:, 784]
rng = np.random.default_rng(SEED)
train_idx, test_idx = [], []
for digit in range(10):
    members = rng.permutation(np.flatnonzero(labels == digit))
    test_idx.extend(members[:TEST_PER_CLASS])
    train_idx.extend(members[TEST_PER_CLASS:])
train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
np.savez_compressed(
    TARGET,
    x_train=pixels[train_idx],
    y_train=labels[train_idx].astype(np.uint8),
    x_test=pixels[test_idx],
    y_test=labels[test_idx].astype(np.uint8),
)
print(f"wrote {TARGET}: {len(train_idx)} train, {len(test_idx)} test, {TARGET.stat().st_size} bytes")
