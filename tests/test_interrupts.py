"""Ctrl-C is never lost, even when its KeyboardInterrupt lands in a finalizer that swallows it."""

import gc
import os
import signal
import sys
import threading

import pytest
import torch

from dsdnas.interrupts import catching_interrupts, raise_if_interrupted
from dsdnas.nas.datasets.device_data import to_device
from dsdnas.nas.datasets.sources import limit_train
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.training.trainer import TrainConfig, Trainer

# The swallowed KeyboardInterrupt is reported as unraisable: that is the loss these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def ctrl_c_as_in_a_terminal():
    """Python's own SIGINT handler, as a command typed in a terminal has: a shell starts a background job
    (`pytest &`) with SIGINT ignored, which blocks leave alone."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class CtrlCInItsFinalizer:
    """Ctrl-C arrives while the garbage collector runs this object's finalizer, as it did in SQLAlchemy's."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Python runs the handler here, inside __del__, and ignores its raise


def lose_a_ctrl_c() -> None:
    CtrlCInItsFinalizer()
    gc.collect()


def test_python_alone_loses_a_ctrl_c_raised_inside_a_finalizer():
    lose_a_ctrl_c()  # the premise of this module: no KeyboardInterrupt comes out of it
    raise_if_interrupted()  # and outside a block nothing was recorded


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_check():
    with pytest.raises(KeyboardInterrupt), catching_interrupts():
        lose_a_ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()
        raise_if_interrupted()  # every check after it raises: the user asked to stop
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    raise_if_interrupted()  # cleared with the block: a later command is not interrupted by it


def test_a_block_whose_ctrl_c_was_swallowed_and_never_checked_still_ends_with_it():
    with pytest.raises(KeyboardInterrupt), catching_interrupts():
        lose_a_ctrl_c()


def test_a_ctrl_c_that_is_not_swallowed_stops_the_block_where_it_lands():
    reached = []
    with pytest.raises(KeyboardInterrupt), catching_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        reached.append("after")
    assert reached == []


def test_a_block_without_a_ctrl_c_ends_as_it_would_and_gives_python_its_hooks_back():
    def hook(unraisable) -> None:  # a hook of the program's own, which the block must hand back
        sys.__unraisablehook__(unraisable)

    previous, sys.unraisablehook = sys.unraisablehook, hook
    try:
        with catching_interrupts():
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # ours records it
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert sys.unraisablehook is hook
    finally:
        sys.unraisablehook = previous
    raise_if_interrupted()  # nothing recorded


def test_a_block_leaves_an_ignored_ctrl_c_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a job a shell started in the background
    try:
        with catching_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_a_block_changes_nothing():
    seen = []

    def worker() -> None:
        with catching_interrupts():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]


def test_training_stops_at_its_next_chunk_after_a_swallowed_ctrl_c(small_arch, mnist_sample):
    data = to_device(limit_train(mnist_sample, 500, 0), torch.device("cpu"), val_fraction=0.2, seed=0)
    trainer = Trainer(build_model(small_arch), data, TrainConfig(epochs=3, batch_size=64))
    with pytest.raises(KeyboardInterrupt), catching_interrupts():
        trainer.run(on_epoch=lambda stats: lose_a_ctrl_c())
    assert trainer.epoch == 1 and trainer.steps_done == trainer.steps  # not one step of epoch 2


def test_python_says_nothing_of_the_swallowed_ctrl_c_inside_a_block_and_still_reports_other_errors():
    reported = []
    previous, sys.unraisablehook = sys.unraisablehook, reported.append
    try:
        with pytest.raises(KeyboardInterrupt), catching_interrupts():
            lose_a_ctrl_c()
            BrokenFinalizer()
            gc.collect()
    finally:
        sys.unraisablehook = previous
    assert [type(u.exc_value) for u in reported] == [ValueError]


class BrokenFinalizer:
    def __del__(self) -> None:
        raise ValueError("a finalizer's own bug is still reported")
