"""`dsdnas lut`: time every layer of a space once on this device, for searches that run elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dsdnas.cli._common import console, handle_errors
from dsdnas.cli._options import DeviceOption


@handle_errors
def lut_command(
    *,  # Typer passes every option by name
    space: Annotated[
        list[str] | None,
        typer.Option(help="A space name or .toml file; repeat for several. Default: the default space, dsd-range."),
    ] = None,
    input_shape: Annotated[str, typer.Option("--input", help="Input shape CxHxW the model will see.")] = "1x28x28",
    classes: Annotated[int, typer.Option(help="Classes of the classifier.")] = 10,
    runtime: Annotated[
        str, typer.Option(help="Where the model will run: torch, torchscript or onnxruntime.")
    ] = "torch",
    threads: Annotated[int | None, typer.Option(help="CPU threads the model will have. Default: all.")] = None,
    device: DeviceOption = "auto",
    out: Annotated[Path, typer.Option(help="The table; one that exists is extended with what it lacks.")] = Path(
        "lut.json"
    ),
    calibrate: Annotated[int, typer.Option(help="Candidates timed whole to fit the table's constants.")] = 40,
    check: Annotated[
        int, typer.Option(help="Then time N other candidates whole and print the table's error against them.")
    ] = 0,
) -> None:
    """Measure a latency table (lut.json) of every layer the spaces can contain, on this device."""
    from dsdnas.api import LutConfig, lut

    config = LutConfig(
        spaces=tuple(space or LutConfig().spaces),
        input_shape=input_shape,
        classes=classes,
        runtime=runtime,
        threads=threads,
        device=device,
        out=out,
        calibrate=calibrate,
        check=check,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    # Started once the plan is known: a refusal before it (a bad --out) leaves no blank line of the bar behind.
    bar = Progress(*columns, console=console, transient=True)
    task = bar.add_task("layers", total=None)

    def planned(plan) -> None:
        table = plan.table
        console.print(
            f"{out}: {plan.todo} layer(s) to time, {plan.known} already there; {table.runtime} on "
            f"{table.device}, {table.threads} threads; about {_duration(plan.seconds)} on a quiet machine"
        )
        bar.start()

    def progress(done: int, total: int, key: str) -> None:
        bar.update(task, completed=done, total=total, description=key[:40])

    try:
        table = lut(config, planned=planned, progress=progress)
    finally:
        if bar.live.is_started:  # stopping prints a line on a console that is no terminal, started or not
            bar.stop()
    calibration = table.calibration
    console.print(
        f"wrote {out}: {len(table.layers)} layers, {table.noisy} of them timed noisy; constants: "
        f"{table.call_ms:.4f} ms a layer boundary, "
        f"{table.element_ns or 0.0:.2f} ns an element handed between layers, {table.model_ms:+.4f} ms a model; "
        f"error on {calibration['candidates']} candidates timed whole: "
        f"{_percent(calibration['mape_sum'])} for the plain sum, {_percent(calibration['mape'])} corrected "
        "(on the candidates the constants were fitted to: --check N times others)"
    )
    if table.too_noisy:
        console.print(
            f"{table.noisy} of {len(table.layers)} layers stayed noisy: the machine was busy, or its cores are shared "
            "(a cloud VM's); make it again into a new --out when the machine is quiet (a table keeps what it has "
            "timed), or at --threads 1 if the model will run on one thread (docs/latency.md, Threads)"
        )
    if check and table.check:
        _print_check(table.check)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"  # None: no candidate the runtime can run was timed


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _print_check(check: dict) -> None:
    from rich.table import Table

    rows = Table(title=f"check: {check['candidates']} candidates timed whole", title_justify="left")
    for column in ("candidate", "predicted ms", "measured ms", "error"):
        rows.add_column(column, justify="left" if column == "candidate" else "right")
    for row in check["rows"]:
        error = (row["predicted_ms"] - row["measured_ms"]) / row["measured_ms"]
        rows.add_row(row["notation"], f"{row['predicted_ms']:.3f}", f"{row['measured_ms']:.3f}", f"{error:+.1%}")
    console.print(rows)
    spearman = "n/a" if check["spearman"] is None else f"{check['spearman']:.3f}"
    console.print(f"mean absolute error {_percent(check['mape'])}, Spearman {spearman}")
