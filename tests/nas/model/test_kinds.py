"""The kinds tables: each block and head entry's cost formulas against fvcore and a hand-written oracle,
its generated source against its module, and a new block kind that works everywhere once it has an entry
and a class."""

import itertools

import pytest
import torch
from torch import nn

from dsdnas.errors import SpecError
from dsdnas.nas.model import blocks
from dsdnas.nas.model.arch import Arch, Block, Head, Stem, conv_output_size
from dsdnas.nas.model.builder import build_model
from dsdnas.nas.model.codegen import generate_source
from dsdnas.nas.model.costs import count_macs, count_params
from dsdnas.nas.model.kinds import BLOCK_KINDS, BlockKind, Registry
from dsdnas.nas.runs.export import import_module_from
from dsdnas.search_spaces import parse_space

SIZE = 12  # input height and width


def _costs_hold(kind: str) -> None:
    """The entry's formulas equal fvcore's multiply-adds and the module's parameter count."""
    entry = BLOCK_KINDS.get(kind)
    for kernel, dilation, stride, (c_in, c_out) in itertools.product((1, 3, 5), (1, 2), (1, 2), ((1, 8), (6, 6))):
        block = blocks.block_class(kind)(c_in, c_out, kernel, dilation=dilation, stride=stride)
        out_size = conv_output_size(SIZE, stride)
        assert count_macs(block, (c_in, SIZE, SIZE)).macs == entry.macs(c_in, c_out, kernel=kernel, pixels=out_size**2)
        assert count_params(block) == entry.params(c_in, c_out, kernel=kernel)


def _generated_equals_built(arch: Arch, tmp_path) -> None:
    """The exported source of `arch` computes what the built model computes, from the same state dict."""
    source = generate_source(arch, "Net", mean=(0.5,), std=(0.25,), class_names=["a", "b"], header=[], version="t")
    path = tmp_path / "model.py"
    path.write_text(source)
    built = build_model(arch, seed=1).eval()
    exported = import_module_from(path).Net().eval()
    exported.load_state_dict(built.state_dict())
    images = torch.rand(3, *arch.input_shape)
    with torch.inference_mode():
        assert torch.allclose(exported(images), built((images - 0.5) / 0.25), atol=1e-5)


@pytest.mark.parametrize("kind", BLOCK_KINDS.names)
def test_each_kinds_formulas_equal_fvcore(kind):
    _costs_hold(kind)


@pytest.mark.parametrize("kind", BLOCK_KINDS.names)
def test_each_kinds_generated_class_computes_what_its_module_does(kind, tmp_path):
    arch = Arch((1, SIZE, SIZE), 2, Stem(4), (Block(kind, 3, 2, 6, 2), Block(kind, 3, 1, 6, 1, residual=True)))
    _generated_equals_built(arch, tmp_path)


def test_an_unknown_kind_is_an_error_everywhere():
    with pytest.raises(SpecError, match=r"block kind 'grouped' is not one of \('standard', 'separable'\)"):
        Block("grouped", 3, 1, 8)
    with pytest.raises(SpecError, match="does not match"):
        Block.from_notation("grp_k3_d1_c8_s1")
    with pytest.raises(SpecError, match="grouped"):
        blocks.block_class("grouped")
    space = parse_space(_space_toml(["standard"]), "test")
    object.__setattr__(space, "kinds", ("grouped",))  # as if a space had been built around the parser
    with pytest.raises(SpecError, match="grouped"):  # bounds never cost an unknown kind as another one
        space.cost_bounds((1, 28, 28), 10)


def test_a_registry_refuses_a_second_entry_with_a_taken_name_or_code():
    registry = Registry("thing", (BLOCK_KINDS.get("standard"),))
    for clash in ({"name": "standard", "code": "new"}, {"name": "new", "code": "std"}):
        entry = BlockKind(**{**vars(BLOCK_KINDS.get("standard")), **clash})
        with pytest.raises(SpecError, match="already registered"):
            registry.add(entry)


class DoubleBlock(nn.Module):
    """Two standard convs, the first carrying the stride: a kind that exists only in this test."""

    def __init__(self, in_channels, out_channels, kernel, *, dilation=1, stride=1, residual=False, activation="relu"):
        super().__init__()
        self.first = blocks.ConvBNAct(in_channels, out_channels, kernel, stride=stride, dilation=dilation)
        self.second = blocks.ConvBNAct(out_channels, out_channels, kernel, dilation=dilation)
        self.residual = residual

    def forward(self, x):
        out = self.second(self.first(x))
        return out + x if self.residual else out


DOUBLE_SOURCE = '''
class DoubleBlock(nn.Module):
    """Two k x k convs."""

    def __init__(self, c_in, c_out, kernel, dilation, stride, residual, act):
        super().__init__()
        self.first = ConvBNAct(c_in, c_out, kernel, stride, dilation, act=act)
        self.second = ConvBNAct(c_out, c_out, kernel, 1, dilation, act=act)
        self.residual = residual

    def forward(self, x):
        out = self.second(self.first(x))
        return out + x if self.residual else out
'''

DOUBLE = BlockKind(
    name="double",
    code="dbl",
    module="DoubleBlock",
    summary="two k x k convs",
    macs=lambda c_in, c_out, *, kernel, pixels: pixels * c_out * kernel**2 * (c_in + c_out),
    params=lambda c_in, c_out, *, kernel: c_out * kernel**2 * (c_in + c_out) + 4 * c_out,
    source=DOUBLE_SOURCE,
)


def _space_toml(kinds: list[str]) -> dict:
    return {
        "name": "kinds-test",
        "stem": {"channels": [4]},
        "stages": {"count": [1, 2], "blocks": [1], "widths": [[4, 8], [8]], "strides": [2, 2]},
        "block": {"kind": kinds, "kernel": [3], "dilation": [1, 2]},
    }


@pytest.fixture
def double_kind(monkeypatch):
    """The kinds table with one more entry, and its class where the entry says: nothing else."""
    monkeypatch.setattr(BLOCK_KINDS, "_by_name", dict(BLOCK_KINDS._by_name))
    monkeypatch.setattr(blocks, "DoubleBlock", DoubleBlock, raising=False)
    BLOCK_KINDS.add(DOUBLE)


def test_a_new_kind_is_one_entry_and_its_class(double_kind, tmp_path):
    block = Block("double", 3, 2, 8, 2)
    assert block.notation == "dbl_k3_d2_c8_s2" and Block.from_notation(block.notation) == block
    _costs_hold("double")
    arch = Arch((1, SIZE, SIZE), 2, Stem(4), (Block("standard", 3, 1, 8, 2), block))
    assert Arch.from_json(arch.to_json()) == arch
    _generated_equals_built(arch, tmp_path)
    space = parse_space(_space_toml(["standard", "double"]), "test")  # the TOML accepts it
    dearest = max(
        count_macs(build_model(space.sample(_Picks(picks), (1, 28, 28), 10)), (1, 28, 28)).macs
        for picks in _every_choice(space)
    )
    assert space.cost_bounds((1, 28, 28), 10).max_macs == dearest  # the bounds cost it by its entry


class _Picks:
    """A trial that takes choice `picks[name]` (else the first), noting how many choices each name had."""

    def __init__(self, picks):
        self.picks, self.asked = picks, {}

    def suggest_categorical(self, name, choices):
        self.asked[name] = len(choices)
        return choices[self.picks.get(name, 0)]


def _every_choice(space) -> list[dict[str, int]]:
    """Every candidate of a small space, as the index of each choice, by brute force."""
    found, frontier = [], [{}]
    while frontier:
        picks = frontier.pop()
        trial = _Picks(picks)
        space.sample(trial, (1, 28, 28), 10)
        undecided = [name for name in trial.asked if name not in picks]
        if not undecided:
            found.append(picks)
            continue
        name = undecided[0]
        frontier += [{**picks, name: index} for index in range(trial.asked[name])]
    return found


HEADS = [
    Head(0.0),
    Head(0.1, "gap", 0, 16),
    Head(0.0, "flatten"),
    Head(0.2, "flatten", 0, 8),
    Head(0.0, "pool", 2),
    Head(0.1, "pool", 4, 12),
]


def _head_oracle(kind: str, channels: int, side: int, pool: int, hidden: int, classes: int) -> tuple[int, int]:
    """Multiply-adds and parameters of a head, written out by hand for each kind: (macs, params)."""
    features = {"gap": channels, "flatten": channels * side * side, "pool": channels * pool * pool}[kind]
    if hidden:
        return features * hidden + hidden * classes, features * hidden + hidden + hidden * classes + classes
    return features * classes, features * classes + classes


@pytest.mark.parametrize("head", HEADS, ids=lambda head: head.notation)
@pytest.mark.parametrize("stages", [0, 1])
def test_each_head_costs_what_its_formula_says_and_exports_the_same(head, stages, tmp_path):
    body = (Block("separable", 3, 1, 6, 2),) if stages else ()
    arch = Arch((1, SIZE, SIZE), 3, Stem(4, stride=2), body, head)
    channels, side = (6, 3) if stages else (4, 6)  # 12 -> 6 (stem) -> 3 (the block)
    head_macs, head_params = _head_oracle(head.kind, channels, side, head.pool, head.hidden, 3)
    model = build_model(arch)
    body_only = Arch((1, SIZE, SIZE), 3, Stem(4, stride=2), body, Head(0.0))  # the same, with gap straight in
    body_macs = count_macs(build_model(body_only), arch.input_shape).macs - channels * 3
    assert count_macs(model, arch.input_shape).macs == body_macs + head_macs
    assert count_params(model) == count_params(build_model(body_only)) - (channels * 3 + 3) + head_params
    assert Head.from_notation(head.notation) == head and Arch.from_json(arch.to_json()) == arch
    _generated_equals_built(arch, tmp_path)


def test_a_default_head_keeps_the_json_and_the_state_dict_of_older_runs():
    arch = Arch((1, SIZE, SIZE), 2, Stem(4), (Block("standard", 3, 1, 4, 2),), Head(0.1))
    assert arch.to_dict()["head"] == {"dropout": 0.1}  # as arch.json was before head kinds
    assert arch.notation == "stem_k3_c4_s1 std_k3_d1_c4_s2"
    assert [k for k in build_model(arch).state_dict() if not k.startswith(("stem", "blocks"))] == [
        "classifier.weight",
        "classifier.bias",
    ]


def test_a_bad_head_is_refused_with_the_field_named():
    for fields, message in (
        ({"kind": "attention"}, "head kind 'attention' is not one of"),
        ({"kind": "pool"}, "head.pool must be >= 1"),
        ({"kind": "flatten", "pool": 2}, "head.pool applies to a pool head only"),
        ({"hidden": -1}, "head.hidden must be >= 0"),
    ):
        with pytest.raises(SpecError, match=message):
            Head(**fields)
    with pytest.raises(SpecError, match="head notation"):
        Head.from_notation("mean_h3")
