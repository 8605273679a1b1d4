"""Helpers of the CLI tests: invoke the app, build a small generated history and fitted world."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from campaign_sim.cli.app import app

runner = CliRunner()
SMALL_WORLD = ("--set", "world.ensemble=2", "--set", "world.max_epochs=2", "--set", "world.hidden=[16]")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def small_fitted_run(root: Path, *, periods: int = 4) -> Path:
    """1,500 generated shoppers x ``periods`` and a 2-member fitted world; returns the run dir."""
    assert (
        invoke("data", "generate", "--out", root / "data", "-n", "1500", "-t", periods, "-q").exit_code == 0
    )
    data = root / "data"
    result = invoke(
        "fit",
        "--logs",
        data / "log.parquet",
        "-c",
        data / "config.toml",
        "--out",
        root / "run",
        *SMALL_WORLD,
        "-q",
    )
    assert result.exit_code == 0, result.output
    return root / "run"


def train_briefly(run: Path, *extra: str) -> Path:
    """A PPO agent trained 2,048 steps in ``run``'s world (``agents/ppo-seed0``)."""
    args = ("--timesteps", "2048", "--n-envs", "64", "--eval-shoppers", "300", *extra, "-q")
    trained = invoke("train", "--world", run / "world", "--out", run, *args)
    assert trained.exit_code == 0, trained.output
    return run


def copied_run(template: Path, into: Path) -> Path:
    """A copy of the run ``template`` with the data beside it (``run.parent / "data"``); the
    world's recorded source is still the template's log."""
    shutil.copytree(template.parent, into / "copy")
    return into / "copy" / template.name
