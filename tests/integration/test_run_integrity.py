"""Run directories a team can trust (issue 27): a re-fit replaces the world whole or not at all,
a mixed world is refused, one writer at a time, killed writers' leftovers are cleaned, JSON
is standard JSON, and the verdict does not depend on the working directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.core.manifest import MANIFEST_FILE
from campaign_sim.simulators.fitted.world import FittedWorld
from tests.integration.cli_runs import SMALL_WORLD, copied_run, invoke

CLI = str(Path(sys.executable).parent / "campaign-sim")


def _strict(text: str):
    """json.loads that refuses NaN / Infinity, as other JSON readers do."""
    return json.loads(text, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))


@pytest.fixture(scope="module")
def fitted(fitted_run_template, tmp_path_factory) -> Path:
    return copied_run(fitted_run_template, tmp_path_factory.mktemp("integrity"))


def _fit_args(run: Path, data: Path | None = None) -> list[str]:
    data = data or run.parent / "data"
    return ["fit", "--logs", str(data / "log.parquet"), "-c", str(data / "config.toml"), "--out", str(run)]


def test_a_refit_needs_force_and_writes_a_manifest(fitted):
    again = invoke(*_fit_args(fitted), *SMALL_WORLD, "-q")
    assert again.exit_code == 2 and "pass --force" in again.output
    assert len(again.output.strip().splitlines()) == 1
    assert (fitted / "world" / MANIFEST_FILE).exists()
    FittedWorld.load(fitted / "world")


def test_a_world_whose_files_come_from_two_fits_is_refused(fitted, tmp_path):
    other = tmp_path / "other"  # the same log fitted with another seed: other weights
    assert invoke(*_fit_args(other, fitted.parent / "data"), *SMALL_WORLD, "--seed", "1", "-q").exit_code == 0
    mixed = tmp_path / "mixed"
    shutil.copytree(fitted, mixed)
    shutil.copy(other / "world" / "weights.safetensors", mixed / "world" / "weights.safetensors")
    result = invoke("train", "--world", mixed / "world", "--out", mixed, "--timesteps", "64")
    assert result.exit_code == 2, result.output
    assert "weights.safetensors: does not match its manifest" in result.output
    assert len(result.output.strip().splitlines()) == 1
    with pytest.raises(InputError, match="does not match its manifest"):
        FittedWorld.load(mixed / "world")


def test_json_written_and_printed_is_standard(fitted):
    _strict((fitted / "world" / "fidelity.json").read_text())
    printed = invoke(*_fit_args(fitted), *SMALL_WORLD, "--force", "--json", "-q")
    assert printed.exit_code == 0, printed.output
    _strict(printed.output)


def test_a_refit_killed_anywhere_leaves_the_old_world_or_the_new_one(fitted, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    command = [CLI, *_fit_args(run, fitted.parent / "data"), *SMALL_WORLD, "--force", "-q"]
    start = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    whole = time.monotonic() - start
    for share in (0.6, 0.8, 0.9, 0.95, 0.98):  # the late shares land in the save
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(share * whole)
        process.send_signal(signal.SIGKILL)
        process.wait()
        world = FittedWorld.load(run / "world")  # whole: the old or the new, never refused
        assert world.population is not None
    # the next writer cleans what the killed ones left: no temp files or staging directories
    assert invoke("report", run, "-q").exit_code in (0, 2)
    assert not [p for p in run.rglob(".*") if p.name.endswith(".tmp") or ".new-" in p.name]


def test_two_fits_into_one_run_exactly_one_succeeds(fitted, tmp_path):
    data = fitted.parent / "data"
    out = tmp_path / "both"
    command = [CLI, "fit", "--logs", str(data / "log.parquet"), "-c", str(data / "config.toml")]
    command += ["--out", str(out), *SMALL_WORLD, "-q"]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    outcomes = sorted((p.wait(timeout=300), p.stderr.read()) for p in (first, second))
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    assert "in use by campaign-sim pid" in outcomes[1][1] or "pass --force" in outcomes[1][1]
    FittedWorld.load(out / "world")


def test_the_verdict_does_not_depend_on_where_you_stand(tmp_path):
    os.chdir(tmp_path)  # relative paths, as a user types them
    try:
        assert invoke("data", "generate", "--out", "gen", "-n", "1500", "-t", "4", "-q").exit_code == 0
        fit = invoke(
            "fit", "--logs", "gen/log.parquet", "-c", "gen/config.toml", "--out", "run", *SMALL_WORLD, "-q"
        )
        assert fit.exit_code == 0, fit.output
        train = ("train", "--world", "run/world", "--out", "run", "--timesteps", "2048", "--n-envs", "64")
        assert invoke(*train, "--eval-shoppers", "300", "-q").exit_code == 0
        assert invoke("report", "run", "-q").exit_code == 0
        here = json.loads(Path("run/report/summary.json").read_text())["verdict"]
        (tmp_path / "elsewhere").mkdir()
        os.chdir(tmp_path / "elsewhere")
        assert invoke("report", "../run", "-q").exit_code == 0
        there = json.loads(Path("../run/report/summary.json").read_text())["verdict"]
    finally:
        os.chdir(Path(__file__).resolve().parents[2])
    assert here["verdict"] == there["verdict"] and here["reasons"] == there["reasons"]
