"""Configs: built from keywords, every range checked before anything is created."""

import pytest

import dsdnas
from dsdnas.api.config import ExportConfig, FinetuneConfig, SearchConfig, make_config
from dsdnas.errors import DsdnasError


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
    ],
)
def test_finetune_and_export_options_are_checked_before_the_run_is_opened(config, message):
    with pytest.raises(DsdnasError, match=message):
        config.validate()


def test_export_formats_always_include_the_source():
    assert ExportConfig(formats="onnx").format_names == ("py", "onnx")
    assert ExportConfig(formats=("torchscript", "py")).format_names == ("py", "torchscript")
