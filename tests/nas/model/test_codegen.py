"""The code generator: golden source, and the model class name it accepts."""

import subprocess
import sys
from pathlib import Path

import pytest

from dsdnas.errors import ExportError
from dsdnas.nas.model.arch import Arch, Block, Head, Stem
from dsdnas.nas.model.codegen import check_class_name, generate_source, reserved_names, sanitize_identifier

GOLDEN = Path(__file__).parent / "golden" / "model_golden.py"
GOLDEN_ARCH = Arch(
    (1, 28, 28),
    10,
    Stem(16),
    (Block("separable", 5, 2, 32, 2), Block("standard", 3, 1, 32, 1, residual=True, activation="hardswish")),
    Head(0.1),
)


def golden_source() -> str:
    header = ["Architecture: " + GOLDEN_ARCH.notation, "Search: trial 7 of study golden", "Dataset: mnist-sample"]
    return generate_source(
        GOLDEN_ARCH,
        "DigitNet",
        mean=(0.1307,),
        std=(0.3081,),
        class_names=[str(d) for d in range(10)],
        header=header,
        version="0.1.0",
    )


def test_generator_output_matches_the_golden_file():
    # A change to the generator shows up here as a readable diff. To accept it:
    # python -c "from tests.nas.model.test_codegen import *; GOLDEN.write_text(golden_source())"
    assert golden_source() == GOLDEN.read_text()


def test_golden_file_is_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(GOLDEN)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_reserved_names_come_from_the_generated_file():
    reserved = reserved_names()
    for name in ("Path", "torch", "nn", "load", "ConvBNAct", "StandardBlock", "SeparableBlock", "MEAN", "STD"):
        assert name in reserved
    assert "DigitNet" not in reserved


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Path", "already used inside model.py"),
        ("torch", "already used inside model.py"),
        ("load", "already used inside model.py"),
        ("ConvBNAct", "already used inside model.py"),
        ("INPUT_SHAPE", "already used inside model.py"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("print", "Python builtin"),
        ("1net", "not an ASCII Python identifier"),
        ("a-b", "not an ASCII Python identifier"),
        ("My Net", "not an ASCII Python identifier"),
        ("Ünïcödé", "not an ASCII Python identifier"),
        ("", "not an ASCII Python identifier"),
        ('x"; import os #', "not an ASCII Python identifier"),
    ],
)
def test_a_name_that_cannot_name_the_class_is_refused_in_one_line(name, why):
    with pytest.raises(ExportError, match=why) as info:
        check_class_name(name)
    message = str(info.value)
    assert "\n" not in message and f"--name {name!r}" in message and "e.g. " in message
    suggestion = message.rsplit("e.g. ", 1)[1]
    assert check_class_name(suggestion) == suggestion  # the suggestion itself is accepted


def test_sanitize_identifier_is_unique_ascii():
    assert sanitize_identifier("class") == "class_"
    assert sanitize_identifier("1net") == "Net_1net"
    assert sanitize_identifier("a-b") == "a_b"
    assert sanitize_identifier("Net", {"Net"}) == "Net_2"
