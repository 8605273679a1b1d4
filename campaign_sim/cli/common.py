"""Options, output and error handling shared by every command."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import CampaignSimError
from campaign_sim.core.jsonio import finite
from campaign_sim.data.datasets import PRESETS, resolve_config

NOT_A_TERMINAL_WIDTH = 200  # a pipe or log file keeps whole lines (rich would cut at 80)


def _console(*, stderr: bool) -> Console:
    terminal = (sys.stderr if stderr else sys.stdout).isatty()
    width = None if terminal else NOT_A_TERMINAL_WIDTH
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=not terminal)


err_console = _console(stderr=True)
out_console = _console(stderr=False)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Campaign config (TOML).")]
DatasetOption = Annotated[
    str | None,
    typer.Option(
        "--dataset", "-d", help=f"Built-in dataset preset: {', '.join(PRESETS)} (when no --config)."
    ),
]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="Override a config key: section.key=value (repeatable).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def config_from_options(
    config: Path | None, dataset: str | None, overrides: list[str] | None
) -> CampaignConfig:
    """The config a command runs with (file, else preset, else defaults; overrides applied)."""
    return resolve_config(config, dataset=dataset, overrides=overrides or [])


@contextlib.contextmanager
def progress(message: str, *, quiet: bool) -> Iterator[None]:
    """A spinner on stderr while long work runs (hidden with --quiet or when not a terminal)."""
    if quiet:
        yield
        return
    with err_console.status(message):
        yield


@contextlib.contextmanager
def training_progress(
    description: str, *, total: int, quiet: bool
) -> Iterator[Callable[[int, int, float], None]]:
    """A progress bar over ensemble members; yields ``tick(member, epoch, valid_loss)``."""
    if quiet:
        yield lambda *_: None
        return
    columns = _bar_columns()
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total, note="")

        def tick(member: int, check: int, loss: float) -> None:
            bar.update(
                task, completed=member, note=f"member {member + 1}: check {check + 1}, valid loss {loss:.4f}"
            )

        yield tick
        bar.update(task, completed=total)


@contextlib.contextmanager
def agent_progress(
    *, quiet: bool
) -> Iterator[Callable[[str], Callable[[int, int, float, float], None]] | None]:
    """Progress bars for agent training: yields ``bar(name)`` -> ``tick(steps, total, rate, reward)``."""
    if quiet:
        yield None
        return
    columns = _bar_columns()
    with Progress(*columns, console=err_console) as bars:

        def bar(name: str) -> Callable[[int, int, float, float], None]:
            task = bars.add_task(f"training {name}", total=None, note="")

            def tick(steps: int, total: int, rate: float, reward: float) -> None:
                note = f"{rate:,.0f} steps/s, mean campaign reward {reward:.3f}"
                bars.update(task, completed=min(steps, total), total=total, note=note)

            return tick

        yield bar


def _bar_columns() -> tuple:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )


def print_json(payload: Any) -> None:
    """Write ``payload`` as JSON on stdout (no colour, no wrapping)."""
    typer.echo(json.dumps(finite(payload), indent=2, default=str, allow_nan=False))


def fail(exc: BaseException, code: int) -> None:
    """Print one red line for ``exc`` and exit with ``code`` (traceback only when debugging)."""
    if os.environ.get("CAMPAIGN_SIM_DEBUG"):
        raise exc
    label = "error" if isinstance(exc, CampaignSimError) else "internal error"
    err_console.print(f"{label}: {exc}", style="red", soft_wrap=True, markup=False, emoji=False)
    raise typer.Exit(code)
