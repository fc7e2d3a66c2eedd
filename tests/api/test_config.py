"""Configs: built from keywords, every range checked before anything is created."""

import pytest

import dsdnas
from dsdnas.api.config import ExportConfig, FinetuneConfig, SearchConfig, make_config
from dsdnas.errors import DsdnasError
from dsdnas.nas.search.records import records


def test_keywords_override_a_base_config_and_unknown_names_are_refused():
    base = SearchConfig(epochs=2)
    assert make_config(SearchConfig, base, {"budget": 5}) == SearchConfig(epochs=2, budget=5)
    with pytest.raises(DsdnasError, match="unknown option.*epoch_count"):
        make_config(SearchConfig, None, {"epoch_count": 1})


def test_search_validation_orders_objectives_and_keeps_the_rest():
    config = SearchConfig(objectives="latency, accuracy").validate()
    assert config.objectives == ("accuracy", "latency") and config.epochs == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"val_fraction": 0.0}, r"--val-fraction 0.0 must be in \(0, 1\)"),
        ({"val_fraction": 1.0}, r"--val-fraction 1.0 must be in \(0, 1\)"),
        ({"epochs": 0}, "--epochs 0 must be at least 1"),
        ({"batch_size": 1}, "--batch-size 1 must be at least 2"),
        ({"label_smoothing": 1.0}, r"--label-smoothing 1.0 must be in \[0, 1\)"),
        ({"budget": "soon"}, "--budget 'soon'"),
        ({"sampler": "grid"}, "--sampler 'grid'"),
        ({"optimizer": "lion"}, "--optimizer 'lion'"),
        ({"schedule": "step"}, "--schedule 'step'"),
        ({"color": "sepia"}, "--color 'sepia'"),
        ({"image_size": 0}, "--image-size 0"),
        ({"train_limit": 1}, "--train-limit 1"),
        ({"max_macs": -5.0}, "--max-macs -5 must be a positive number"),
        ({"device": "tpu"}, "--device 'tpu'"),
        ({"jobs": 0}, "--jobs 0 must be from 1 to 64"),
        ({"early_stop": "yes"}, "--early-stop 'yes' must be one of on, once, epochs, off"),
    ],
)
def test_search_options_out_of_range_are_refused_before_anything_is_created(tmp_path, options, message):
    out = tmp_path / "run"
    with pytest.raises(DsdnasError, match=message):
        dsdnas.search(out=out, dataset="mnist-sample", **options)
    assert not out.exists()


def test_a_limit_below_the_spaces_cheapest_candidate_is_refused_before_anything_is_created(tmp_path):
    # dsd-tiny's cheapest candidate on MNIST's 1x28x28: 95,808 MACs (fvcore, and the analytic count).
    common = {"dataset": "mnist-sample", "space": "dsd-tiny", "epochs": 1, "train_limit": 600, "device": "cpu"}
    with pytest.raises(DsdnasError, match=r"--max-macs 95,807 is below the cheapest candidate of dsd-tiny on 1x28x28 "
                                          r"input \(95,808\): raise it"):  # fmt: skip
        dsdnas.search(out=tmp_path / "run", max_macs=95_807, **common)
    with pytest.raises(DsdnasError, match="--max-params 1 is below the cheapest candidate of dsd-tiny"):
        dsdnas.search(out=tmp_path / "run", max_params=1, **common)
    assert not (tmp_path / "run").exists()
    result = dsdnas.search(out=tmp_path / "run", max_macs=95_808, budget=1, **common)  # the cheapest fits
    assert [record.macs for record in records(result.study) if record.trained] == [95_808]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (FinetuneConfig(init="imagenet"), "--init 'imagenet'"),
        (FinetuneConfig(freeze="partial:0"), "--freeze 'partial:0'"),
        (FinetuneConfig(patience=0), "--patience 0"),
        (FinetuneConfig(lr=-1.0), "--lr -1.0"),
        (FinetuneConfig(trial=-1), "--trial -1"),
        (FinetuneConfig(pick="fastest"), "--pick 'fastest'"),
        (ExportConfig(name="Path"), "--name 'Path'"),
        (ExportConfig(formats="py,tflite"), "--format tflite"),
        (ExportConfig(max_latency_ms=0.0), "--max-latency-ms 0.0 must be positive"),
        # Two ways to choose the model: neither may be dropped without a word.
        (FinetuneConfig(trial=2, pick="knee"), "--trial and --pick each choose the model: pass one of them"),
        (ExportConfig(trial=0, pick="knee"), "--trial and --pick each choose"),
        (ExportConfig(trial=0, max_macs=1e6), "--trial and --max-latency-ms/--max-macs each choose"),
        (ExportConfig(pick="knee", max_latency_ms=1.0), "--pick and --max-latency-ms/--max-macs each choose"),
    ],
)
def test_finetune_and_export_options_are_checked_before_the_run_is_opened(config, message):
    with pytest.raises(DsdnasError, match=message):
        config.validate()


def test_one_way_to_choose_the_model_is_accepted_with_the_other_options():
    assert ExportConfig(trial=0, finetuned=True).validate().trial == 0
    assert ExportConfig(max_latency_ms=1.0, max_macs=1e6).validate().max_macs == 1e6  # one budget, two limits
    assert FinetuneConfig(pick="knee", epochs=1).validate().pick == "knee"


def test_export_formats_always_include_the_source():
    assert ExportConfig(formats="onnx").format_names == ("py", "onnx")
    assert ExportConfig(formats=("torchscript", "py")).format_names == ("py", "torchscript")
