"""The house rules of the package, checked on its source: imports flow one way, no cycles, small
modules, and calls with more than three arguments name them.

    cli -> api -> (reports, search_spaces) -> nas (the engine)

Inside the engine: model and datasets know nothing of the rest, runs reads models and
datasets, training writes runs, search uses them all; `files`, `hardware` and `quiet` serve every
part. Imports inside functions count like any other.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dsdnas"
MAX_LINES = 300
MAX_POSITIONAL = 3  # parameters a caller may pass by position (self and cls aside); the rest are keyword-only
# Signatures others set: the public SearchObserver hooks, which users' subclasses override
# positionally, and Optuna's sampler and storage interfaces.
OUTSIDE_SIGNATURES = {"search_started", "trial_finished", "sample_independent", "after_trial", "set_trial_param"}

# Who may import whom, by layer. The package root (`dsdnas/__init__`) re-exports lazily by name.
ALLOWED = {
    "cli": {"cli", "api", "base"},
    "api": {"api", "reports", "search_spaces", "nas", "base"},
    "reports": {"reports", "nas", "base"},
    "search_spaces": {"search_spaces", "nas", "base"},
    "nas": {"nas", "base"},
    "base": {"base"},
}
ENGINE_ORDER = [
    "files",
    "stats",
    "hardware",
    "quiet",
    "model",
    "lut",
    "datasets",
    "runs",
    "training",
    "baselines",
    "search",
]
ENGINE_SHARED = {"files", "stats", "hardware", "quiet"}  # below the rest of the engine, in this order


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The dsdnas modules `name` imports, anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports that module; `from module import name`, the module.
            targets = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in MODULES:
                found.add(target)
    return found - {name}


def layer(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1 or parts[1] in ("errors", "interrupts", "version", "__main__"):
        return "base"
    return parts[1]


def engine_part(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "nas" else None


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n not in ("dsdnas", "dsdnas.__main__")))
def test_imports_flow_one_way(name):
    for target in imports_of(name):
        assert layer(target) in ALLOWED[layer(name)], f"{name} imports {target}"
        part, target_part = engine_part(name), engine_part(target)
        if part is not None and target_part is not None and target_part != part:
            if part in ENGINE_SHARED:
                assert target_part in ENGINE_SHARED and ENGINE_ORDER.index(target_part) < ENGINE_ORDER.index(part), (
                    f"{name} is shared by the engine and may import only the shared modules below it, not {target}"
                )
                continue
            assert target_part in ENGINE_SHARED or ENGINE_ORDER.index(target_part) < ENGINE_ORDER.index(part), (
                f"{name} ({part}) imports {target} ({target_part}), against the engine's order {ENGINE_ORDER}"
            )


def test_no_import_cycle():
    graph = {name: imports_of(name) for name in MODULES}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in graph[name]:
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"


def signatures(node: ast.AST, in_class: bool = False):
    """(def, the parameters a caller may pass by position) for every function and lambda; a method's self
    or cls aside."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Lambda):
            child.name = "<lambda>"
            yield child, [a.arg for a in child.args.posonlyargs + child.args.args]
            yield from signatures(child)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = [a.arg for a in child.args.posonlyargs + child.args.args]
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in child.decorator_list)
            yield child, params[1:] if in_class and not static else params
            yield from signatures(child)
        else:
            yield from signatures(child, isinstance(child, ast.ClassDef) or in_class)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_calls_with_more_than_three_arguments_are_keyword_only(name):
    for function, positional in signatures(ast.parse(MODULES[name].read_text())):
        if function.name not in OUTSIDE_SIGNATURES:
            assert len(positional) <= MAX_POSITIONAL, (
                f"{MODULES[name]}:{function.lineno} {function.name}({', '.join(positional)}): "
                f"make the parameters after the first {MAX_POSITIONAL} keyword-only"
            )
