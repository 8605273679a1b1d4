"""``campaign-sim``: the typer application and its error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from campaign_sim import __version__
from campaign_sim.cli.common import (
    ConfigOption,
    DatasetOption,
    JsonOption,
    QuietOption,
    SetOption,
    agent_progress,
    config_from_options,
    err_console,
    fail,
    out_console,
    print_json,
    training_progress,
)
from campaign_sim.cli.copy_commands import copy_app, segment
from campaign_sim.cli.data_commands import data_app
from campaign_sim.cli.evaluate_command import evaluate
from campaign_sim.cli.pilot_commands import pilot_app
from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.config import MAX_SEED
from campaign_sim.core.errors import CampaignSimError, InputError
from campaign_sim.data.datasets import PRESETS, preset_text

try:  # typer vendors click from 0.2x on; its usage errors are that copy's classes
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - an older typer on the real click
    from click import exceptions as click_errors


class ErrorHandlingGroup(TyperGroup):
    """Every command's errors become one line: exit 2 for bad input, 1 for internal failure."""

    def main(self, *args, **kwargs):  # noqa: ANN002, ANN003 - click's signature
        """Usage errors (a bad option value, a missing argument) as one red line, like every other
        error, instead of click's usage box; help and --version print as usual."""
        if not kwargs.pop("standalone_mode", True):
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            raise SystemExit(2) from None
        except click_errors.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "campaign-sim"
            message = f"error: {exc.format_message()} (see `{command} --help`)"
            err_console.print(message, style="red", soft_wrap=True, markup=False)
            raise SystemExit(2) from None
        except typer.Abort:
            err_console.print("aborted", style="red")
            raise SystemExit(1) from None
        raise SystemExit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):  # noqa: ANN001 - typer's vendored click context
        try:
            return super().invoke(ctx)
        except CampaignSimError as exc:
            fail(exc, exc.exit_code)
        except Exception as exc:
            # typer's own signals (usage errors exit 2, Exit, Abort) keep their meaning.
            if type(exc).__module__.startswith(("typer", "click")):
                raise
            fail(exc, 1)  # the last line of defence: one line, exit 1


app = typer.Typer(
    cls=ErrorHandlingGroup,
    name="campaign-sim",
    help="Learn a shopper simulator from campaign logs, train agents in it, vet them off-policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")
app.add_typer(copy_app, name="copy")
app.add_typer(pilot_app, name="pilot")
app.command("segment")(segment)
app.command("evaluate")(evaluate)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"campaign-sim {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """campaign-sim: who gets which discount, through which channel, with which copy."""
    import warnings

    # a warning a command raises reads as one "warning: ..." line, without Python's source echo
    warnings.formatwarning = lambda message, *_args, **_kw: f"warning: {message}\n"


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("campaign.toml"),
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help=f"Preset: {', '.join(PRESETS)}.")
    ] = "example",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Write an annotated example campaign config."""
    if path.is_dir():
        raise InputError(
            f"{path}: is a directory; give the config file's path, e.g. {path / 'campaign.toml'}"
        )
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; pass --force to replace it")
    write_text_atomic(path, preset_text(dataset))
    if not quiet:
        out_console.print(
            f"wrote {path} (preset '{dataset}'); edit it, then "
            f"`campaign-sim data validate LOG --config {path}`"
        )


@app.command()
def fit(
    logs: Annotated[Path, typer.Option("--logs", "-l", help="Campaign log (.parquet or .csv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory, e.g. runs/spring.")],
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    set_: SetOption = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=MAX_SEED, help="Overrides campaign.seed.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the run's existing fitted world.")] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray", help="Train the ensemble members as Ray tasks: 'auto' or a cluster address (HOST:PORT)."
        ),
    ] = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fit a shopper response model (ensemble) from a log; print its fidelity."""
    from campaign_sim.workflows.fit import run_fit

    resolved = config_from_options(config, dataset, set_)
    members = resolved.world.ensemble
    silent = quiet or json or ray is not None  # members on Ray report no epochs
    with training_progress(f"fitting {members} ensemble members", total=members, quiet=silent) as tick:
        summary = run_fit(logs, resolved, out=out, seed=seed, on_progress=tick, force=force, ray=ray)
    for message in summary.warnings:
        err_console.print(f"warning: {message}", style="yellow")
    if json:
        print_json({"world": str(summary.world_dir), "seconds": summary.seconds, **summary.fidelity})
    elif not quiet:
        for line in summary.lines():
            out_console.print(line, markup=False, soft_wrap=True)


@app.command()
def recommend(
    logs: Annotated[Path, typer.Option("--logs", "-l", help="Campaign log (.parquet or .csv).")],
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    set_: SetOption = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=MAX_SEED, help="Overrides campaign.seed.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run directory to save the evidence in (RUN/safety).")
    ] = None,
    json: JsonOption = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Fit, value tables and candidate scores as Ray tasks: 'auto' or HOST:PORT of a cluster.",
        ),
    ] = None,
) -> None:
    """Safe improvement: fit and propose on some customers, select and gate on others."""
    import warnings

    from campaign_sim.core.runs import check_run_root
    from campaign_sim.workflows.safety_evidence import run_recommend

    resolved = config_from_options(config, dataset, set_)
    root = check_run_root(out) if out is not None else None
    with warnings.catch_warnings(record=True) as caught:  # one "warning:" line each, no source echo
        warnings.simplefilter("always")
        result, saved = run_recommend(
            logs, resolved, seed=resolved.seed if seed is None else seed, out=root, ray=ray
        )
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console.print(f"warning: {message}", style="yellow")
    if saved is not None:
        err_console.print(f"evidence saved: {saved}")
    if json:
        print_json(
            {
                "recommended": result.recommended,
                "candidate": result.candidate,
                "go": result.go,
                "gate": [result.gate.mean, result.gate.low, result.gate.high],
                "customers": result.customers,
                "selection": {d.policy: [d.mean, d.low, d.high] for d in result.selection},
            }
        )
    else:
        for line in result.lines():
            out_console.print(line, markup=False, soft_wrap=True)


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory, e.g. runs/spring.")],
    world: Annotated[
        str, typer.Option("--world", "-w", help="A fitted world directory (runs/X/world) or 'synthetic'.")
    ] = "synthetic",
    algo: Annotated[
        list[str] | None, typer.Option("--algo", "-a", help="ppo, a2c, dqn or maskable-ppo (repeatable).")
    ] = None,
    timesteps: Annotated[int, typer.Option("--timesteps", "-t", min=1, help="Steps per agent.")] = 1_000_000,
    seeds: Annotated[int, typer.Option("--seeds", "-k", min=1, help="Agents per algorithm.")] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="First training seed.")] = 0,
    n_envs: Annotated[int, typer.Option("--n-envs", min=1, help="Shoppers stepped together.")] = 1024,
    eval_shoppers: Annotated[
        int, typer.Option("--eval-shoppers", min=2, help="Shoppers per evaluation.")
    ] = 10_000,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the agents' checkpoints.")] = False,
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", min=1, help="Steps between atomic checkpoints.")
    ] = 200_000,
    no_baselines: Annotated[bool, typer.Option("--no-baselines", help="Evaluate the agents only.")] = False,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Train the agents as Ray tasks: 'auto' or a cluster address (HOST:PORT)."),
    ] = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Train SB3 agents in a world, then evaluate them beside the baselines (JSON + Parquet)."""
    from campaign_sim.workflows.train import TrainRequest, run_train

    request = TrainRequest(
        world=world,
        out=out,
        algos=tuple(algo or ["ppo"]),
        timesteps=timesteps,
        seeds=seeds,
        seed=seed,
        n_envs=n_envs,
        eval_shoppers=eval_shoppers,
        resume=resume,
        baselines=not no_baselines,
        checkpoint_every=checkpoint_every,
        ray=ray,
    )
    with agent_progress(quiet=quiet or json or ray is not None) as bar:
        result = run_train(request, progress=bar)
    if json:
        print_json({"run": str(result.run_dir), **result.evaluation.to_json()})
    elif not quiet:
        for line in result.lines:
            out_console.print(line, markup=False, soft_wrap=True)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path("runs/demo"),
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", help="synthetic (generated history) or hillstrom (the real RCT at --path)."
        ),
    ] = "synthetic",
    path: Annotated[
        Path,
        typer.Option(
            "--path", help="The Hillstrom CSV: the whole run with --dataset hillstrom, else a check."
        ),
    ] = Path("../shared/data/hillstrom/hillstrom.csv"),
    fast: Annotated[bool, typer.Option("--fast", help="Smaller history, ensemble and training.")] = False,
    generator: Annotated[
        str,
        typer.Option("--generator", help="Copy generator: auto (SmolLM2 when installed), smollm2, template."),
    ] = "auto",
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the whole run.")] = 0,
    quiet: QuietOption = False,
) -> None:
    """The whole pipeline: history -> fitted world -> copy -> PPO + baselines -> report."""
    from campaign_sim.core.config import WorldConfig
    from campaign_sim.workflows.demo import DATASETS

    if dataset not in DATASETS:  # before any progress output
        raise InputError(f"--dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    from campaign_sim.workflows.copywriting import check_generator

    check_generator(generator)
    from campaign_sim.workflows.demo import FAST_ENSEMBLE, run_demo

    def stage(message: str) -> None:
        if not quiet:
            err_console.print(f"[bold]>[/bold] {message}")

    members = FAST_ENSEMBLE if fast else WorldConfig().ensemble
    with (
        training_progress("fitting", total=members, quiet=quiet) as tick,
        agent_progress(quiet=quiet) as bar,
    ):
        result = run_demo(
            out=out,
            hillstrom=path,
            fast=fast,
            seed=seed,
            on_stage=stage,
            on_progress=tick,
            agent_progress=bar,
            generator=generator,
            dataset=dataset,
        )
    for line in result.lines:
        out_console.print(line, markup=False, soft_wrap=True)


@app.command()
def report(
    run: Annotated[Path, typer.Argument(help="Run directory (after `campaign-sim train --out RUN`).")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the replays and resampling.")
    ] = 0,
    quiet: QuietOption = False,
) -> None:
    """Write RUN/report/{report.pdf, one PNG per page, summary.json}."""
    from campaign_sim.cli.common import progress
    from campaign_sim.workflows.report import run_report

    if not run.is_dir():
        raise InputError(f"{run}: no such run directory")
    with progress(f"writing the strategy report of {run}", quiet=quiet):
        paths = run_report(run, seed=seed)
    out_console.print(f"report: {paths['pdf']} (+ {len(paths) - 2} PNGs, {paths['summary']})", markup=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted", style="red")
        raise SystemExit(130) from None
