"""`train --ray ADDRESS` on a real local Ray cluster gives the local run's evaluation exactly."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_runs import invoke

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


def test_a_cluster_that_is_not_there_is_one_line_exit_2(tmp_path):
    result = invoke(*TRAIN, "--out", tmp_path / "run", "--ray", f"127.0.0.1:{_free_port()}", "-q")
    assert result.exit_code == 2 and result.output.startswith("error: --ray"), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_without_the_flag_nothing_imports_ray(tmp_path):
    code = "import sys; from campaign_sim.cli.app import app; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False" and shutil.which(RAY) is not None
