"""Scale-out on Ray (issue 25), to BENCHMARKS.md: 4 training seeds, local sequential against
`train --ray` on a local 2-CPU Ray head, in the same run (the ratio, not the absolute times,
is what this noisy machine can tell). The two evaluations must be equal.

Not measured yet (not built): the ensemble fit on Ray, and 10M-row logs in bounded memory.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402

BIN = Path(sys.executable).parent
TRAIN = ["train", "--timesteps", "1000000", "--n-envs", "256", "--seeds", "4", "--no-baselines"]
TRAIN += ["--eval-shoppers", "2000", "--json", "-q"]


def _timed(args: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "campaign-sim"), *args], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    result.pop("run")
    return time.perf_counter() - start, result


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    head = [str(BIN / "ray"), "start", "--head", "--num-cpus", "2", "--port", str(port)]
    head += ["--node-ip-address", "127.0.0.1", "--include-dashboard", "false", "--disable-usage-stats"]
    subprocess.run(head, check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local_s, local = _timed([*TRAIN, "--out", f"{tmp}/local"])
            ray_s, remote = _timed([*TRAIN, "--out", f"{tmp}/ray", "--ray", f"127.0.0.1:{port}"])
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True)
    payload = {
        "train_seconds_local": local_s,
        "train_seconds_ray": ray_s,
        "train_speedup_ray": local_s / ray_s,
        "identical_evaluation": local == remote,
        "fit_speedup_ray": None,  # not built: the ensemble fit runs in one process
        "fit_peak_rss_gb_10m": None,  # not measured: logs larger than memory are not streamed yet
        "evaluate_peak_rss_gb_10m": None,
        "fit_seconds_per_million": None,
    }
    md = f"""## Scale-out on Ray (issue 25): `benchmarks/bench_scale.py`

4 PPO seeds x 1,000,000 steps (256 shoppers per step), trained one after the other in one process, then as 4 Ray tasks on a local head with 2 CPUs, in the same run: {local_s:.0f} s against {ray_s:.0f} s, a speed-up of **{local_s / ray_s:.2f}x** (floor 1.7x); evaluations identical: {local == remote}. The ensemble fit on Ray and 10M-row logs in bounded memory are not built yet (no figures).

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py`
"""
    record("scale", md, payload)
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
