"""Shared CLI plumbing: one-line errors, the console, configs from options, number formatting."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from dsdnas.errors import DsdnasError

console = Console(highlight=False)
EXIT_USER_ERROR = 2
Config = TypeVar("Config")


def config_from(cls: type[Config], options: dict[str, Any]) -> Config:
    """The command's config from its options: each field taken from the option of the same name."""
    return cls(**{field.name: options[field.name] for field in dataclasses.fields(cls)})


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DsdnasError into one line on stderr and exit code 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DsdnasError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: finished trials are kept; rerun the same command to go on", err=True)
            raise typer.Exit(130) from None

    return wrapper


def human(value: float | None, unit: str = "") -> str:
    """1234567 -> '1.23M'; None -> '-'."""
    if value is None or value != value:  # None or nan
        return "-"
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def percent(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.2f}%"


def interactive() -> bool:
    return sys.stdout.isatty()
