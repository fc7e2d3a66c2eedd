from importlib import resources

import pytest
import torch

from dsdnas.errors import SearchSpaceError
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.costs import count_params
from dsdnas.search_spaces import (
    BUILTIN_NAMES,
    DEFAULT_SPACE,
    _registry,
    get_space,
    list_spaces,
    parse_space,
    read_space_file,
    register_space,
    space_argument,
)
from tests.support import ScriptedTrial, analytic_macs

INPUT = (1, 28, 28)


def enumerate_archs(space, input_shape=INPUT) -> dict:
    """Every architecture reachable through the choice tree, by hash: a brute-force oracle."""
    found, seen, stack = {}, set(), [{}]
    while stack:
        picks = stack.pop()
        key = tuple(sorted(picks.items()))
        if key in seen:
            continue
        seen.add(key)
        trial = ScriptedTrial(picks)
        arch = space.sample(trial, input_shape, 10)
        found[arch.hash] = arch
        for name, choices in trial.params.items():
            if name not in picks:
                stack.extend({**picks, name: index} for index in range(1, len(choices)))
    return found


def enumerate_space(space, input_shape=INPUT) -> set:
    return set(enumerate_archs(space, input_shape))


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_fifty_sampled_architectures_build_and_match_their_geometry(name):
    space = get_space(name)
    rng = torch.Generator().manual_seed(0)
    for _ in range(50):
        arch = space.sample(ScriptedTrial(rng=rng), INPUT, 10)
        assert arch.infeasible_blocks() == []
        model = build_model(arch).eval()
        sizes: list[tuple[int, ...]] = []

        def record(_module, _inputs, output, sizes=sizes):
            sizes.append(tuple(output.shape[1:]))

        hooks = [m.register_forward_hook(record) for m in [model.stem, *model.blocks]]
        with torch.no_grad():
            out = model(torch.rand(2, *INPUT))
        for hook in hooks:
            hook.remove()
        assert out.shape == (2, 10)
        assert sizes == [shape.out_shape for shape in arch.layer_shapes()]


def test_size_equals_brute_force_enumeration():
    space = get_space("dsd-tiny")
    assert len(enumerate_space(space)) == space.size(INPUT) == 272


def test_size_counts_residual_only_where_shapes_match(tmp_path):
    path = tmp_path / "res.toml"
    text = TINY.replace("residual = [false]", "residual = [true, false]").replace("blocks = [1]", "blocks = [1, 2]")
    path.write_text(text.replace('kind = ["standard", "separable"]', 'kind = ["separable"]'))
    space = read_space_file(path)
    assert len(enumerate_space(space)) == space.size(INPUT)


TINY = """
name = "tiny-test"
[stem]
channels = [8]
[stages]
count = [1, 2]
blocks = [1]
widths = [[8, 16], [16]]
strides = [2, 2]
[block]
kind = ["standard", "separable"]
kernel = [3, 5]
dilation = [1, 2]
residual = [false]
[head]
dropout = [0.0]
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("[head]", "[head\n"), "TOML syntax error.*line"),
        (("[head]", "colour = 1\n[head]"), "colour: unknown key"),
        (("kernel = [3, 5]", "kernel = []"), "block.kernel: empty choice list"),
        (("kernel = [3, 5]", "kernel = [3, 4]"), "block.kernel: even kernel 4"),
        (('kind = ["standard", "separable"]', 'kind = ["dense"]'), "block.kind: bad value 'dense'"),
        (("[block]", "[block]\nwidth = 3"), "block.width: unknown key"),
        (("count = [1, 2]", "count = [1, 3]"), "stages.count: up to 3 stages"),
    ],
)
def test_validation_errors_name_file_key_and_value(tmp_path, edit, message):
    path = tmp_path / "space.toml"
    path.write_text(TINY.replace(*edit))
    with pytest.raises(SearchSpaceError, match=message) as info:
        read_space_file(path)
    assert str(path) in str(info.value)


def test_infeasible_space_says_so(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(TINY.replace("kernel = [3, 5]", "kernel = [9]").replace("dilation = [1, 2]", "dilation = [4]"))
    space = read_space_file(path)
    with pytest.raises(SearchSpaceError, match="admits no feasible candidate"):
        space.check_feasible((1, 28, 28))
    # On a larger input the same kernels fit.
    space.check_feasible((1, 96, 96))


def test_kernels_too_big_for_deep_stages_are_never_sampled():
    space = get_space("dsd-mnist")
    assert space.conv_choices(4) == [(3, 1)]  # the 4x4 maps of stage 3 take only a plain 3x3
    assert (7, 4) not in space.conv_choices(14)  # span 25 > 14


def test_a_space_is_named_as_space_takes_it(tmp_path, monkeypatch):
    assert space_argument(get_space("dsd-tiny")) == "dsd-tiny"  # not its source, "built-in space dsd-tiny"
    path = tmp_path / "mine.toml"
    path.write_text((resources.files("dsdnas.search_spaces") / "builtin" / "dsd-tiny.toml").read_text())
    mine = get_space(str(path))
    assert mine.name == "dsd-tiny" and space_argument(mine) == str(path)  # a file of the same name: its path
    # Registered from Python, a space is not registered in the next process: its file names it there.
    path.write_text(path.read_text().replace('name = "dsd-tiny"', 'name = "mine-registered"'))
    get_space("dsd-tiny")  # the built-ins loaded, then a registry of this test's own: others never see it
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    registered = register_space(read_space_file(path))
    assert space_argument(registered) == str(path) and get_space("mine-registered") is registered


def test_a_space_registered_before_any_lookup_leaves_the_built_ins_there(monkeypatch):
    monkeypatch.setattr(_registry, "_REGISTRY", {})  # a fresh process: nothing looked up yet
    mine = register_space(
        parse_space({"name": "first-mine", **__import__("tomllib").loads(TINY.split("\n", 2)[2])}, "x")
    )
    assert [s.name for s in list_spaces()] == [*BUILTIN_NAMES, "first-mine"] and get_space("first-mine") is mine
    assert get_space(DEFAULT_SPACE).name == DEFAULT_SPACE


def test_registry_rejects_duplicates_and_unknown_names():
    assert [s.name for s in list_spaces()][: len(BUILTIN_NAMES)] == list(BUILTIN_NAMES)
    with pytest.raises(SearchSpaceError, match="already registered"):
        register_space(get_space("dsd-tiny"))
    with pytest.raises(SearchSpaceError, match="unknown search space"):
        get_space("no-such-space")
    assert parse_space({"name": "x", **__import__("tomllib").loads(TINY.split("\n", 2)[2])}, "inline").name == "x"


MICRO = """
name = "micro-test"
[stem]
channels = [4, 8]
stride = 2
[stages]
count = [1, 2]
blocks = [1, 2]
widths = [[4], [8]]
strides = [2, 2]
[block]
kind = ["standard", "separable"]
kernel = [3, 7]
dilation = [1, 2]
"""


HEADS = """
name = "heads-test"
[stem]
channels = [4]
stride = 2
[stages]
count = [0, 1]
blocks = [1]
widths = [[4, 8]]
strides = [2]
[block]
kind = ["standard", "separable"]
kernel = [3]
dilation = [1]
[head]
kind = ["gap", "flatten", "pool"]
pool = [2, 4]
hidden = [0, 16]
dropout = [0.0, 0.1]
"""


@pytest.mark.parametrize(
    ("source", "shape"),
    [("dsd-tiny", INPUT), ("micro", INPUT), ("heads", INPUT), ("heads", (1, 20, 28))],
)
def test_cost_bounds_equal_brute_force_over_every_candidate(source, shape, tmp_path):
    if source in ("micro", "heads"):
        (tmp_path / "space.toml").write_text(MICRO if source == "micro" else HEADS)
        space = read_space_file(tmp_path / "space.toml")
    else:
        space = get_space(source)
    archs = list(enumerate_archs(space, shape).values())
    assert len(archs) == space.size(shape)
    macs = [analytic_macs(arch) for arch in archs]
    params = [count_params(build_model(arch)) for arch in archs]
    bounds = space.cost_bounds(shape, 10)
    assert (bounds.min_macs, bounds.max_macs) == (min(macs), max(macs))
    assert (bounds.min_params, bounds.max_params) == (min(params), max(params))


def test_the_default_space_spans_the_useful_range_and_searches_the_head():
    assert get_space("dsd-micro").cost_bounds(INPUT, 10).min_macs <= 20_000
    space = get_space(DEFAULT_SPACE)
    default = space.cost_bounds(INPUT, 10)
    assert default.min_macs <= 10_000 and default.max_macs >= 10_000_000  # 3 decades or more
    assert len(space.head_kinds) > 1 and 0 in space.stage_counts


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_cheapest_params_sample_the_cheapest_candidate(name):
    space = get_space(name)
    params = space.cheapest_params(INPUT, 10)

    class Replay:
        def suggest_categorical(self, key, choices):
            assert params[key] in choices
            return params[key]

    assert analytic_macs(space.sample(Replay(), INPUT, 10)) == space.cost_bounds(INPUT, 10).min_macs


class Replay:
    """A trial that answers with the recorded parameters, and fails on a choice they lack."""

    def __init__(self, params: dict) -> None:
        self.params = params

    def suggest_categorical(self, key, choices):
        assert self.params[key] in choices
        return self.params[key]


def test_first_params_start_at_the_cheapest_and_climb_the_cost_range():
    space = get_space(DEFAULT_SPACE)
    first = space.first_params(INPUT, 10, spread=3, seed=0)
    assert first[0] == space.cheapest_params(INPUT, 10) and space.first_params(INPUT, 10) == first[:1]
    macs = [analytic_macs(space.sample(Replay(params), INPUT, 10)) for params in first]
    bounds = space.cost_bounds(INPUT, 10)
    assert macs == sorted(macs) and macs[0] == bounds.min_macs and len(set(macs)) == 4
    span = bounds.max_macs / bounds.min_macs
    assert macs[2] > bounds.min_macs * span**0.3 and macs[3] < bounds.min_macs * span**0.9  # spread, not clustered
    assert space.first_params(INPUT, 10, spread=3, seed=0) == first  # seeded
