"""The report: its data (no HTML), escaping, and the page in a real browser."""

from pathlib import Path

import optuna
import pytest

import dsdnas
from dsdnas.api import load_run
from dsdnas.reports import build_report_data, render_report
from dsdnas.search_spaces import get_space
from tests.conftest import require_browser
from tests.support import add_synthetic_trials

EVIL = "</script><img src=x onerror=alert(1)>"
# Screenshots land here (kept for a look after the run; ignored by git).
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    dsdnas.search(
        budget=4, dataset="mnist-sample", space="dsd-tiny", epochs=1, device="cpu", out=out, train_limit=600, study=EVIL
    )
    return out


@pytest.mark.slow
def test_report_data_matches_the_study(run):
    _, study, meta = load_run(run)
    data = build_report_data(study, meta, run)
    finished = [t for t in study.trials if t.user_attrs.get("status") in ("trained", "reused")]
    assert len(data.points) == len(finished) == 4
    assert set(data.front["trial"]) == {t.number for t in study.best_trials if t.user_attrs["status"] == "trained"}
    assert data.points["pareto"].sum() == len(data.front)
    values = data.hypervolume["values"]
    assert len(values) == 4 and values == sorted(values) and 0 < values[-1] <= 1
    assert set(data.block_stats["kind"]["kind"]) <= {"standard", "separable"}
    assert data.importances == {} and "at least 10" in data.importance_note
    assert set(data.layer_tables) == set(data.front["trial"])
    assert all(cmd.startswith("dsdnas finetune ") for cmd in data.front["finetune"])
    assert data.summary["trials by outcome"] == "trained 4" and "trials by state" not in data.summary


@pytest.mark.slow
def test_user_strings_appear_only_escaped(run):
    html = (run / "report.html").read_text()  # written by the search itself
    assert EVIL not in html
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "onerror=alert(1)>" not in html


def test_importances_appear_with_enough_trials():
    study = optuna.create_study(directions=["maximize", "minimize"])
    add_synthetic_trials(study, 20)
    data = build_report_data(study, {"budget": "20"})
    assert set(data.importances) == {"accuracy", "latency"}
    assert "s0.b0.kind" in data.importances["accuracy"]
    assert render_report(data).count('class="figure"') >= 8


def _importances_by_optuna(trials: list[optuna.trial.FrozenTrial], direction: str, field: str) -> dict[str, float]:
    """Optuna's PED-ANOVA on a one-objective study of `field`, which it ranks by the study's own direction."""
    study = optuna.create_study(direction=direction)
    for trial in trials:
        study.add_trial(
            optuna.trial.create_trial(
                params=trial.params, distributions=trial.distributions, value=trial.user_attrs[field]
            )
        )
    return optuna.importance.get_param_importances(study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())


def test_importances_weigh_only_trained_trials_the_most_accurate_and_the_fastest():
    """Skipped trials (accuracy 0, no latency) and noisy latencies change no importance (a search of 73
    trials, 6 of them skipped, stopped its report on a skipped trial's missing latency), and accuracy's
    importance is of the most accurate trials, not of the least (PED-ANOVA ranks low targets first)."""
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    add_synthetic_trials(study, 40)
    trained = list(study.trials)
    expected = {
        "accuracy": _importances_by_optuna(trained, "maximize", "val_accuracy"),
        "latency": _importances_by_optuna(trained, "minimize", "latency_ms"),
    }
    for _ in range(6):
        trial = study.ask()
        arch = get_space("dsd-mnist").sample(trial, (1, 28, 28), 10)
        for key, value in {"arch": arch.to_dict(), "status": "skipped", "val_accuracy": 0.0, "macs": 9e9}.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [0.0, 9e9])
    noisy = study.trials[0]
    study.add_trial(
        optuna.trial.create_trial(
            params=noisy.params,
            distributions=noisy.distributions,
            values=[0.0, noisy.values[1]],
            user_attrs={**noisy.user_attrs, "status": "reused", "latency_ms": 1e6, "latency_noisy": True},
        )
    )
    data = build_report_data(study, {"budget": "20"})
    assert data.importances["accuracy"] == pytest.approx(expected["accuracy"])
    assert data.importances["latency"] == pytest.approx(expected["latency"])
    assert "PED-ANOVA" in data.importance_note


def test_a_noisy_latency_changes_no_latency_importance():
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=1))
    add_synthetic_trials(study, 40)
    expected = build_report_data(study, {"budget": "20"}).importances["latency"]
    first = study.trials[0]
    study.add_trial(
        optuna.trial.create_trial(
            params=first.params,
            distributions=first.distributions,
            values=first.values,
            user_attrs={**first.user_attrs, "latency_ms": 1e-6, "latency_noisy": True},
        )
    )
    assert build_report_data(study, {"budget": "20"}).importances["latency"] == pytest.approx(expected)


@pytest.mark.slow
@pytest.mark.browser
def test_report_in_a_real_browser(run, tmp_path):
    chromium = require_browser()
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    from playwright.sync_api import sync_playwright

    _, study, _ = load_run(run)
    front_size = sum(1 for t in study.best_trials if t.user_attrs["status"] == "trained")
    url = (run / "report.html").resolve().as_uri()
    errors, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)
        page.wait_for_function("document.querySelectorAll('#pareto-macs .point').length > 0")
        markers = page.locator("#pareto-macs .scatterlayer .trace .points path.point").count()
        rows = page.locator("#front-table tbody tr").count()
        page.screenshot(path=str(SCREENSHOT_DIR / "report.png"), full_page=False)
        headers = page.eval_on_selector_all("#front-table th", "cells => cells.map(c => c.textContent)")
        column = headers.index("MACs")
        page.locator("#front-table th").nth(column).click()  # sort by MACs
        macs = [
            int(v)
            for v in page.eval_on_selector_all(
                f"#front-table tbody tr td:nth-child({column + 1})", "cells => cells.map(c => c.dataset.sort)"
            )
        ]
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert markers == 4  # one marker per finished trial
    assert rows == front_size
    assert macs == sorted(macs)
    assert (SCREENSHOT_DIR / "report.png").stat().st_size > 10_000


def _front_study(accuracies: list[float], val_size: int) -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_user_attr("settings", {"objectives": ["accuracy", "macs"]})
    arch = {"input_shape": [1, 8, 8], "num_classes": 2, "stem": {"channels": 4}, "blocks": []}
    for index, accuracy in enumerate(accuracies):
        trial = study.ask()
        attrs = {
            "status": "trained",
            "arch": arch,
            "notation": f"n{index}",
            "val_accuracy": accuracy,
            "val_size": val_size,
            "macs": 1000 * (index + 1),
            "params": 10,
            "latency_ms": 0.5,
            "latency_p10_ms": 0.45,
            "latency_p90_ms": 0.7,
            "latency_noisy": index == 0,
        }
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, [accuracy, 1000 * (index + 1)])
    return study


def test_intervals_error_bars_and_noisy_markers_reach_the_page():
    data = build_report_data(_front_study([0.90, 0.955, 0.96], 400), {})
    front = data.front.set_index("trial")
    assert front.loc[2, "accuracy_low"] < 0.96 < front.loc[2, "accuracy_high"]
    assert "trial(s) 1" in data.accuracy_note and "400 validation images" in data.accuracy_note
    page = render_report(data)
    assert 'id="accuracy-note"' in page and "96.00 [93.6, 97.5]" in page  # 0.96 on 400 images
    assert '"arrayminus"' in page and '"symbol": ["x"' in page  # error bars; the noisy latency marked


def test_no_accuracy_note_when_the_split_tells_the_front_apart():
    assert build_report_data(_front_study([0.90, 0.955, 0.96], 40_000), {}).accuracy_note == ""
