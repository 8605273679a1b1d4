"""``campaign-sim pilot plan | analyze | learn``: design a randomised pilot of what the history
cannot vouch for, read its results with intervals valid at every look, and learn from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaign_sim.cli.common import JsonOption, QuietOption, out_console, print_json, progress
from campaign_sim.core.config import MAX_SEED

pilot_app = typer.Typer(help="Design a pilot (A/B test) and analyse its results.", no_args_is_help=True)

RunArgument = Annotated[Path, typer.Argument(help="Run directory with a fitted world (runs/NAME).")]


@pilot_app.command("plan")
def plan(
    run: RunArgument,
    share: Annotated[
        float, typer.Option("--share", min=0.001, max=1.0, help="Most of the population in the pilot.")
    ] = 0.10,
    mde: Annotated[
        float | None,
        typer.Option("--mde", min=0.0, help="Effect per customer to detect (default: 20% of BAU's value)."),
    ] = None,
    power: Annotated[float, typer.Option("--power", min=0.5, max=0.99, help="Power at that effect.")] = 0.8,
    arms: Annotated[int, typer.Option("--arms", min=1, max=10, help="Arms per context group.")] = 2,
    new_copy_arms: Annotated[
        int,
        typer.Option(
            "--new-copy-arms", min=0, max=10, help="Of a group's arms, kept for copies the log never showed."
        ),
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Who is drawn and assigned.")] = 0,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Arms, sizes, cost and value of a pilot; writes RUN/pilot/{plan.json, assignment.csv}."""
    from campaign_sim.workflows.pilot import PilotSettings, plan_pilot

    settings = PilotSettings(
        share=share, mde=mde, power=power, arms_per_group=arms, new_copy_arms=new_copy_arms
    )
    with progress("designing the pilot", quiet=quiet or json):
        result = plan_pilot(run, settings, seed=seed)
    if json:
        print_json(result.to_dict())
        return
    for line in result.lines():
        out_console.print(line, markup=False, soft_wrap=True)
    out_console.print(f"assignment -> {run / 'pilot' / 'assignment.csv'}", markup=False)


@pilot_app.command("analyze")
def analyze(
    run: RunArgument,
    results: Annotated[
        Path, typer.Option("--results", help="customer_id, profit of pilot customers so far.")
    ],
    json: JsonOption = False,
) -> None:
    """Per-arm effects against control with always-valid intervals (look as often as you like)."""
    from campaign_sim.workflows.pilot_analysis import analyze_pilot

    result = analyze_pilot(run, results)
    if json:
        print_json(result.to_dict())
        return
    for line in result.lines():
        out_console.print(line, markup=False, soft_wrap=True)


@pilot_app.command("learn")
def learn(
    run: RunArgument,
    history: Annotated[Path, typer.Option("--history", help="The log the run was fitted on.")],
    pilot_log: Annotated[
        Path, typer.Option("--pilot-log", help="The pilot period, exported in the history's format.")
    ],
    out: Annotated[Path, typer.Option("--out", help="New run directory for the refitted world.")],
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Fit and split seed.")] = 0,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Join the pilot's randomised decisions to the history, refit, and recommend again."""
    from campaign_sim.workflows.pilot_learning import learn_from_pilot

    with progress("refitting with the pilot and recommending again", quiet=quiet or json):
        result = learn_from_pilot(run, history=history, pilot_log=pilot_log, out=out, seed=seed)
    if json:
        print_json(result.to_dict())
        return
    for line in result.lines():
        out_console.print(line, markup=False, soft_wrap=True)
