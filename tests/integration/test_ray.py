"""`train --ray ADDRESS`, `fit --ray ADDRESS` and `recommend --ray ADDRESS` on a real local Ray
cluster give the local run's evaluation, world and recommendation exactly; a task's bad input
stays the one-line error it is locally."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_runs import SMALL_WORLD, copied_run, invoke, train_briefly

RAY = str(Path(sys.executable).parent / "ray")
TRAIN = ("train", "--timesteps", "2048", "--n-envs", "64", "--seeds", "2", "--eval-shoppers", "300")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Ray head on 127.0.0.1 with 2 CPUs, stopped in teardown even when the test fails."""
    port = _free_port()
    start = [RAY, "start", "--head", "--num-cpus", "2", "--port", str(port), "--node-ip-address", "127.0.0.1"]
    start += ["--include-dashboard", "false", "--disable-usage-stats"]
    started = subprocess.run(start, capture_output=True, text=True, timeout=180)
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)


def test_train_on_ray_equals_the_local_run(cluster, tmp_path):
    local = invoke(*TRAIN, "--out", tmp_path / "local", "--json", "-q")
    assert local.exit_code == 0, local.output
    remote = invoke(*TRAIN, "--out", tmp_path / "ray", "--ray", cluster, "--json", "-q")
    assert remote.exit_code == 0, remote.output
    here, there = json.loads(local.output), json.loads(remote.output)
    assert here.pop("run") != there.pop("run")
    assert here == there  # every policy's evaluation, to the last digit
    for seed in (0, 1):
        assert (tmp_path / "ray" / "agents" / f"ppo-seed{seed}" / "model.zip").exists()


def _on_tiny_log(command: str, tmp_path: Path) -> tuple:
    """``command`` on a freshly generated 600 x 3 log with the small world's settings."""
    data = tmp_path / "data"
    assert invoke("data", "generate", "--out", data, "-n", "600", "-t", "3", "-q").exit_code == 0
    return (command, "--logs", data / "log.parquet", "-c", data / "config.toml", *SMALL_WORLD)


def test_fit_on_ray_is_the_local_world_bit_for_bit(cluster, tmp_path):
    """Three members, each a Ray task seeded from the run's seed: the same weights file."""
    fit = (*_on_tiny_log("fit", tmp_path), "--set", "world.ensemble=3")
    for name, extra in (("local", ()), ("ray", ("--ray", cluster))):
        result = invoke(*fit, "--out", tmp_path / name, *extra, "-q")
        assert result.exit_code == 0, result.output
    weights = [(tmp_path / name / "world" / "weights.safetensors").read_bytes() for name in ("local", "ray")]
    assert weights[0] == weights[1]
    meta = [json.loads((tmp_path / n / "world" / "world.json").read_text()) for n in ("local", "ray")]
    assert meta[0]["validation_history"] == meta[1]["validation_history"]


def test_recommend_on_ray_is_the_local_recommendation(cluster, tmp_path):
    """Fit, value-table chunks and candidate scores as Ray tasks: every candidate's selection
    interval and the verdict to the last digit."""
    recommend = (*_on_tiny_log("recommend", tmp_path), "--json")
    local, remote = invoke(*recommend), invoke(*recommend, "--ray", cluster)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    here, there = (json.loads(r.stdout) for r in (local, remote))
    assert len(here["selection"]) == 24 and here == there


def test_evaluate_on_ray_is_the_local_evaluation(cluster, fitted_run_template, tmp_path):
    """Two agents' off-policy evaluations, each a Ray task, and the synthetic benchmark's
    replications as tasks: the local results to the last digit."""
    run = train_briefly(copied_run(fitted_run_template, tmp_path), "--seeds", "2")
    agents = [a for k in (0, 1) for a in ("--policy", run / "agents" / f"ppo-seed{k}")]
    local, remote = (
        invoke("evaluate", *agents, "--json"),
        invoke("evaluate", *agents, "--json", "--ray", cluster),
    )
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    here, there = json.loads(local.stdout), json.loads(remote.stdout)
    assert [r["written"]["json"].endswith(f"ope_ppo-seed{k}.json") for k, r in enumerate(here)] == [
        True,
        True,
    ]
    assert here == there
    alone = invoke("evaluate", "--policy", run / "agents" / "ppo-seed1", "--json")
    assert json.loads(alone.stdout) == here[1]  # an agent's estimates do not depend on its company
    synthetic = ("evaluate", "--benchmark", "synthetic", "--replications", "3", "--json")
    assert json.loads(invoke(*synthetic).stdout) == json.loads(invoke(*synthetic, "--ray", cluster).stdout)


def test_a_tasks_bad_input_is_raised_as_itself(cluster, tmp_path):
    """A log read inside a Ray worker: its DataError reaches the driver as that one line (the
    CLI prints it with exit 2), not as a Ray traceback."""
    import polars as pl

    from campaign_sim.core.config import load_config
    from campaign_sim.core.errors import DataError
    from campaign_sim.data.log import load_log
    from campaign_sim.workflows.ray_runner import ray_tasks

    data = tmp_path / "data"
    assert invoke("data", "generate", "--out", data, "-n", "50", "-t", "2", "-q").exit_code == 0
    frame = pl.read_parquet(data / "log.parquet").with_columns(pl.col("period").cast(pl.String))
    bad = tmp_path / "bad.csv"
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("x")).otherwise("period").alias("period")
    ).write_csv(bad)
    with ray_tasks(cluster) as tasks, pytest.raises(DataError) as raised:
        tasks.map(load_log, [bad], load_config(data / "config.toml"))
    message = str(raised.value)
    assert type(raised.value) is DataError and str(bad) in message and "row 7" in message, message
    assert "\n" not in message and "Traceback" not in message


def test_a_cluster_that_is_not_there_is_one_line_exit_2(tmp_path):
    result = invoke(*TRAIN, "--out", tmp_path / "run", "--ray", f"127.0.0.1:{_free_port()}", "-q")
    assert result.exit_code == 2 and result.output.startswith("error: --ray"), result.output
    assert len(result.output.strip().splitlines()) == 1
    fit = invoke(
        "fit",
        "--dataset",
        "synthetic",
        "--logs",
        tmp_path / "x.parquet",
        "--out",
        tmp_path / "f",
        "--ray",
        "nowhere",
    )
    assert fit.exit_code == 2 and fit.output.startswith("error: --ray") and not (tmp_path / "f").exists(), (
        fit.output
    )


def test_without_the_flag_nothing_imports_ray(tmp_path):
    code = "import sys; from campaign_sim.cli.app import app; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False" and shutil.which(RAY) is not None
