"""The documentation holds: a README a newcomer reads in minutes, links that resolve, commands the
CLI accepts, and a tour that runs as written."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image

from dsdnas.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 300


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every ``` block."""
    return [(match[1], match[2]) for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]


def shell_lines(body: str) -> list[list[str]]:
    """The commands of a shell block, continuation lines joined, comments dropped."""
    joined = body.replace("\\\n", " ")
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    body = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return {slug(match[1]) for match in re.finditer(r"^#+ (.+)$", body, re.M)}


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_readme_is_read_in_minutes():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move the rest to docs/"


def test_every_page_in_docs_is_linked_from_the_readme():
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)", README.read_text()))
    assert {page_id(page) for page in PAGES[1:]} <= linked


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_link_resolves(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: not ours to check offline
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page_id(page)} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(resolved), f"{page_id(page)} links to {target}: no such heading"


def _parse_dsdnas(words: list[str]) -> None:
    """Parse a command line as the CLI would, without running it; a bad command or option raises."""
    group = typer.main.get_command(app)
    with group.make_context("dsdnas", words, resilient_parsing=False) as context:
        protected = getattr(context, "_protected_args", None) or getattr(context, "protected_args", [])  # click < 8.2
        name, command, rest = group.resolve_command(context, [*protected, *context.args])
        command.make_context(name, rest, parent=context).close()


def _check_benchmark(words: list[str]) -> None:
    script = ROOT / words[1]
    assert script.is_file(), f"{words[1]} does not exist"
    source = script.read_text()
    for option in (word.split("=")[0] for word in words[2:] if word.startswith("--")):
        assert f'"{option}"' in source, f"{words[1]} has no option {option}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_command_shown_is_one_the_tools_accept(page):
    for language, body in fenced_blocks(page.read_text()):
        if language not in ("bash", "sh"):
            continue
        for words in shell_lines(body):
            words = [w for w in words if w not in ("&&",)]
            if words[0].endswith("dsdnas") and len(words) > 1 and not words[1].startswith("-"):
                _parse_dsdnas(words[1:])
            elif words[0] == "python" and words[1].startswith("benchmarks/"):
                _check_benchmark(words)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_python_example_is_python(page):
    for language, body in fenced_blocks(page.read_text()):
        if language == "python":
            ast.parse(body)


def tour() -> tuple[list[list[str]], str]:
    """The README tour's commands and its Python example."""
    section = README.read_text().split("## A tour", 1)[1].split("\n## ", 1)[0]
    blocks = fenced_blocks(section)
    commands = [words for language, body in blocks if language == "bash" for words in shell_lines(body)]
    python = [body for language, body in blocks if language == "python"]
    return commands, python[0]


# Appended to the tour's commands: the same steps, in seconds. Click keeps an option's last value.
FASTER = {
    "search": ["--space", "dsd-tiny", "--epochs", "1", "--train-limit", "600", "--budget", "3", "--device", "cpu"],
    "finetune": ["--epochs", "1", "--device", "cpu"],
}


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path, mnist_sample):
    commands, python = tour()
    assert [words[1] for words in commands] == ["search", "report", "finetune", "export"]
    env = {**os.environ, "BROWSER": "true"}  # report --open: a browser that opens nothing
    for words in commands:
        assert words[0] == "dsdnas"
        args = [sys.executable, "-m", "dsdnas", *words[1:], *FASTER.get(words[1], [])]
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{shlex.join(words)}: {done.stderr}"
    shipped = tmp_path / "shipped"
    assert {"model.py", "weights.safetensors"} <= {path.name for path in shipped.iterdir()}
    digit = mnist_sample.x_test[0, 0].numpy().astype(np.uint8)
    Image.fromarray(digit, "L").save(shipped / "digit.png")
    done = subprocess.run([sys.executable, "-c", python], cwd=shipped, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in mnist_sample.class_names


def test_a_command_the_cli_would_refuse_is_caught():
    # The oracle for the check above: an unknown option and a bad value must not pass it.
    for words in (["search", "--budjet", "5"], ["trials", "RUN", "--pareto", "--nope"], ["spaces", "--classes", "x"]):
        with pytest.raises(Exception):  # noqa: B017 - click raises its own usage and parameter errors
            _parse_dsdnas(words)
    _parse_dsdnas(["search", "--budget", "5"])
    _check_benchmark(["python", "benchmarks/bench_search.py", "--quick"])
    with pytest.raises(AssertionError):
        _check_benchmark(["python", "benchmarks/bench_search.py", "--no-such-option"])
