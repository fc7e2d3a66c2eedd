"""`dsdnas profile`, `dsdnas spaces` and `dsdnas blocks`: look before you search."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dsdnas.cli._common import console, handle_errors, human
from dsdnas.cli._options import DeviceOption, JsonOption, LatencyRuntimeOption, LatencyThreadsOption


@handle_errors
def profile_command(
    *,  # Typer passes every option by name
    arch_file: Annotated[
        Path, typer.Argument(help="An arch.json file (e.g. RUN/trials/7/arch.json).", metavar="ARCH.json")
    ],
    device: DeviceOption = "auto",
    batch_size: Annotated[int, typer.Option(help="Throughput batch size for the second latency figure.")] = 64,
    repeats: Annotated[int, typer.Option(help="Timed forward passes per latency figure.")] = 30,
    latency_runtime: LatencyRuntimeOption = "torch",
    latency_threads: LatencyThreadsOption = None,
    as_json: JsonOption = False,
) -> None:
    """MACs, params, receptive field and measured latency of one architecture."""
    from dsdnas.api import profile

    timing = {"latency_runtime": latency_runtime, "latency_threads": latency_threads}
    arch, report = profile(arch_file, device=device, batch_size=batch_size, repeats=repeats, **timing)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    single, batched = report["latency_batch1"], report["latency_batch"]
    table = Table(title=arch.notation, title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("input", "x".join(map(str, arch.input_shape))),
        ("MACs (multiply-adds)", f"{report['macs']:,} ({human(report['macs'])})"),
        ("params", f"{report['params']:,}"),
        ("receptive field", f"{report['receptive_field']} px"),
        ("latency, batch 1", f"p50 {single['p50_ms']:.3f} ms, p90 {single['p90_ms']:.3f} ms"),
        (f"latency, batch {batch_size}", f"p50 {batched['p50_ms']:.3f} ms, p90 {batched['p90_ms']:.3f} ms"),
        ("throughput", f"{report['images_per_s']:,.0f} images/s"),
        ("device", f"{single['device']} ({single['threads']} CPU threads), {single['runtime']}"),
    ]
    if batched["peak_memory_mb"] is not None:
        rows.append(("peak memory", f"{batched['peak_memory_mb']:.1f} MiB"))
    if report["unsupported_ops"]:
        rows.append(("ops fvcore skipped", ", ".join(f"{k} x{v}" for k, v in report["unsupported_ops"].items())))
    for row in rows:
        table.add_row(*row)
    console.print(table)


@handle_errors
def spaces_command(
    *,  # Typer passes every option by name
    spaces: Annotated[
        list[str] | None, typer.Argument(help="Space names or .toml files. Default: the built-ins.", metavar="SPACE")
    ] = None,
    input_shape: Annotated[
        str, typer.Option("--input", help="Input shape CxHxW the sizes and costs are computed for.")
    ] = "1x28x28",
    classes: Annotated[int, typer.Option(help="Classes of the classifier the costs include.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """List search spaces: their sizes, exact cost ranges (MACs, params) and choices."""
    from dsdnas.api import spaces as find_spaces

    shape, chosen = find_spaces(spaces, input_shape, classes)
    if as_json:
        typer.echo(json.dumps([row for row, _ in chosen], indent=2))
        return
    for row, choices in chosen:
        bound = "" if row["exact"] else "at most "
        table = Table(
            title=f"{row['name']}: {bound}{row['size']:,} architectures on {input_shape} ({row['description']})",
            title_justify="left",
            show_header=False,
        )
        table.add_column("choice")
        table.add_column("values")
        table.add_row(
            "MACs", f"{row['min_macs']:,} to {row['max_macs']:,} ({human(row['min_macs'])}-{human(row['max_macs'])})"
        )
        table.add_row("params", f"{row['min_params']:,} to {row['max_params']:,}")
        for key, values in choices.items():
            table.add_row(key, escape(json.dumps(values)))
        console.print(table)


@handle_errors
def blocks_command(
    *,  # Typer passes every option by name
    in_channels: Annotated[int, typer.Option("--in", help="Input channels C_in.")] = 32,
    out_channels: Annotated[int, typer.Option("--out", help="Output channels C_out.")] = 64,
    kernel: Annotated[int, typer.Option("--kernel", "-k", help="Kernel size k (odd).")] = 3,
    dilation: Annotated[int, typer.Option("--dilation", "-d", help="Dilation d of the dilated variants.")] = 2,
    size: Annotated[int, typer.Option(help="Input height and width H = W.")] = 56,
    device: DeviceOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Compare standard, separable and dilated blocks: params, MACs, receptive field, latency."""
    from dsdnas.api import compare_blocks

    rows = compare_blocks(
        in_channels=in_channels, out_channels=out_channels, kernel=kernel, dilation=dilation, size=size, device=device
    )
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    base = rows[0]
    table = Table(
        title=f"{in_channels}->{out_channels} channels, k={kernel}, {size}x{size} input", title_justify="left"
    )
    # Short headers and units in them, so that the table fits 80 columns without cutting a word.
    for column in ("block", "params", "x std", "MACs", "x std", "RF", "p50 ms", "p90 ms"):
        table.add_column(column, justify="left" if column == "block" else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.name,
            f"{row.conv_params:,}",
            f"{row.conv_params / base.conv_params:.3f}",
            human(row.macs),
            f"{row.macs / base.macs:.3f}",
            str(row.receptive_field),
            f"{row.latency_ms:.3f}",
            f"{row.latency_p90_ms:.3f}",
        )
    console.print(table)
    console.print(
        "params: conv weights (BatchNorm adds 2 per channel and folds into the conv at inference). "
        "x std: the ratio to the standard block. RF: receptive field in px. p50, p90: batch-1 latency percentiles."
    )
