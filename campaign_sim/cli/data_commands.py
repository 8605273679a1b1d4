"""``campaign-sim data ...``: validate, describe and convert campaign logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from campaign_sim.cli.common import (
    ConfigOption,
    DatasetOption,
    JsonOption,
    QuietOption,
    SetOption,
    config_from_options,
    out_console,
    print_json,
    progress,
)
from campaign_sim.core.config import MAX_SEED
from campaign_sim.data.convert import convert_log
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import CampaignLog, load_log, validate_log

data_app = typer.Typer(help="Validate, describe and convert campaign logs.", no_args_is_help=True)

PathArgument = Annotated[Path, typer.Argument(help="Log file (.parquet or .csv).")]


def _load(
    path: Path, config: Path | None, dataset: str | None, overrides: list[str] | None, *, quiet: bool
) -> CampaignLog:
    resolved = config_from_options(config, dataset, overrides)
    with progress(f"reading and validating {path}", quiet=quiet):
        return load_log(path, resolved)


@data_app.command("validate")
def validate(
    path: PathArgument,
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    set_: SetOption = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Check a log against the schema and the config; exit 2 naming the first bad row. A log
    longer than world.max_rows is read one bucket of customers at a time (bounded memory)."""
    resolved = config_from_options(config, dataset, set_)
    with progress(f"reading and validating {path}", quiet=quiet or json):
        log = validate_log(path, resolved)
    result = {"file": str(path), "valid": True, "kind": log.kind, "rows": log.rows, "columns": log.columns}
    if json:
        print_json(result)
    elif not quiet:
        read = f", read in {log.buckets} buckets of customers" if log.buckets > 1 else ""
        out_console.print(
            f"[green]valid[/green]: {path} — {log.rows:,} rows, {log.kind} log, {log.features} features{read}"
        )


@data_app.command("describe")
def describe(
    path: PathArgument,
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    set_: SetOption = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Rows, periods, customers, action counts, outcome means by arm, propensity range."""
    summary = describe_log(_load(path, config, dataset, set_, quiet=quiet or json))
    if json:
        print_json(summary)
        return
    _print_summary(summary)


@data_app.command("convert")
def convert(
    source: PathArgument,
    target: Annotated[Path, typer.Argument(help="Output file (.parquet or .csv).")],
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    set_: SetOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output.")] = False,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Convert CSV <-> Parquet, and any adapted log to canonical columns (+ its config)."""
    log = _load(source, config, dataset, set_, quiet=quiet or json)
    with progress(f"writing {target}", quiet=quiet or json):
        written, config_path = convert_log(log, target, force=force)
    if json:
        print_json({"file": str(written), "config": str(config_path), "rows": log.frame.height})
    elif not quiet:
        out_console.print(
            f"wrote {written} ({log.frame.height:,} rows) and {config_path}; "
            f"read it with --config {config_path}"
        )


@data_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    customers: Annotated[int, typer.Option("--customers", "-n", min=1, help="Shoppers.")] = 20_000,
    periods: Annotated[int, typer.Option("--periods", "-t", min=1, help="Periods per shopper.")] = 12,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of world and log.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a log from the synthetic world: log, truth, copy library, world parameters."""
    from campaign_sim.workflows.generate import run_generate

    with progress(f"simulating {customers:,} shoppers x {periods} periods", quiet=quiet or json):
        result = run_generate(out, customers=customers, periods=periods, seed=seed, force=force)
    if json:
        print_json(result.summary())
    elif not quiet:
        out_console.print(
            f"wrote {result.rows:,} decisions to {out} ({result.seconds:.1f} s): "
            + ", ".join(p.name for p in result.paths.values())
        )
        out_console.print(f"read it with: campaign-sim data describe {result.paths['log']} -d synthetic")


def _print_summary(summary: dict[str, Any]) -> None:
    periods, propensity = summary["periods"], summary["propensity"]
    out_console.print(f"[bold]{summary['file']}[/bold] ({summary['kind']} log)")
    out_console.print(
        f"rows {summary['rows']:,} · customers {summary['customers']:,} · periods "
        f"{periods['count']} ({periods['min']}–{periods['max']}) · features "
        f"{len(summary['features'])}"
    )
    out_console.print(
        "propensity: "
        + (f"{propensity['min']:.4g} – {propensity['max']:.4g}" if propensity else "not logged")
    )
    arms = summary["arms"]
    if not arms:
        return
    keys = [k for k in arms[0] if not isinstance(arms[0][k], dict) and k not in ("rows", "share")]
    outcomes = [k for k in arms[0] if isinstance(arms[0][k], dict)]
    table = Table(title="outcome means by arm (± half-width of the 95% interval)")
    for name in [*keys, "rows", "share", *outcomes]:
        table.add_column(name, justify="left" if name in keys else "right")
    for arm in arms:
        cells = [_fmt_key(arm[k]) for k in keys] + [f"{arm['rows']:,}", f"{arm['share']:.1%}"]
        cells += [
            f"{arm[o]['mean']:.4f} [{arm[o]['ci95'][0]:.4f}, {arm[o]['ci95'][1]:.4f}]" for o in outcomes
        ]
        table.add_row(*cells)
    out_console.print(table)


def _fmt_key(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.0%}" if isinstance(value, float) else str(value)
