"""Scale-out on Ray (issue 25), to BENCHMARKS.md, each pair in the same run (the ratio, not the
absolute times, is what this noisy machine can tell):
1. 4 training seeds, local sequential against `train --ray` on a local 2-CPU Ray head; the two
   evaluations must be equal.
2. A 4-member ensemble `fit`, local against `fit --ray` on the same head; the two worlds'
   weights must be byte-equal.
3. Peak RSS of `fit` (`/usr/bin/time -v`) on generated logs of growing size, to show how memory
   grows with the log (one member, two epochs: memory is the data's, not the epochs').

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py [--skip-train]
"""

from __future__ import annotations

import argparse
import json
import re
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


FIT_CUSTOMERS, FIT_PERIODS = 20_000, 10  # 200k rows
FIT = ["--set", "world.ensemble=4", "-q"]
RSS_SIZES = (100_000, 1_000_000)  # customers x 10 periods: 1M and 10M rows


def _generated(folder: Path, customers: int, periods: int) -> Path:
    _run(["data", "generate", "--out", str(folder), "-n", str(customers), "-t", str(periods), "-q"])
    return folder


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "campaign-sim"), *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def _fit_args(data: Path, out: Path) -> list[str]:
    return ["fit", "--logs", str(data / "log.parquet"), "-c", str(data / "config.toml"), "--out", str(out)]


def fit_pair(tmp: Path, address: str) -> dict:
    data = _generated(tmp / "fitdata", FIT_CUSTOMERS, FIT_PERIODS)
    local_s = _run([*_fit_args(data, tmp / "fit-local"), *FIT])
    ray_s = _run([*_fit_args(data, tmp / "fit-ray"), *FIT, "--ray", address])
    same = (tmp / "fit-local" / "world" / "weights.safetensors").read_bytes() == (
        tmp / "fit-ray" / "world" / "weights.safetensors"
    ).read_bytes()
    return {
        "fit_seconds_local": local_s,
        "fit_seconds_ray": ray_s,
        "fit_speedup_ray": local_s / ray_s,
        "identical_world": same,
    }


def peak_rss(tmp: Path, customers: int) -> dict:
    """Peak RSS (GB) and seconds of a one-member, two-epoch fit on customers x 10 periods."""
    data = _generated(tmp / f"rss{customers}", customers, 10)
    args = [
        *_fit_args(data, tmp / f"rss-run{customers}"),
        "--set",
        "world.ensemble=1",
        "--set",
        "world.max_epochs=2",
        "-q",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", str(BIN / "campaign-sim"), *args], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    rows = customers * 10
    return {
        "rows": rows,
        "peak_rss_gb": kb / 1024**2,
        "seconds": seconds,
        "seconds_per_million": seconds / rows * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-train", action="store_true", help="keep the recorded training figures")
    parser.add_argument(
        "--rss-sizes", type=int, nargs="*", default=list(RSS_SIZES), help="customers (x 10 periods)"
    )
    args = parser.parse_args()
    previous = Path(__file__).parent / "results" / "scale.json"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    head = [str(BIN / "ray"), "start", "--head", "--num-cpus", "2", "--port", str(port)]
    head += ["--node-ip-address", "127.0.0.1", "--include-dashboard", "false", "--disable-usage-stats"]
    subprocess.run(head, check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.skip_train:
                train = {
                    k: json.loads(previous.read_text())[k]
                    for k in (
                        "train_seconds_local",
                        "train_seconds_ray",
                        "train_speedup_ray",
                        "identical_evaluation",
                    )
                }
            else:
                local_s, local = _timed([*TRAIN, "--out", f"{tmp}/local"])
                ray_s, remote = _timed([*TRAIN, "--out", f"{tmp}/ray", "--ray", f"127.0.0.1:{port}"])
                train = {
                    "train_seconds_local": local_s,
                    "train_seconds_ray": ray_s,
                    "train_speedup_ray": local_s / ray_s,
                    "identical_evaluation": local == remote,
                }
            fit = fit_pair(Path(tmp), f"127.0.0.1:{port}")
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        rss = [peak_rss(Path(tmp), n) for n in args.rss_sizes]
    by_rows = {r["rows"]: r for r in rss}
    payload = {
        **train,
        **fit,
        "fit_peak_rss": rss,
        "fit_peak_rss_gb_10m": by_rows[10_000_000]["peak_rss_gb"] if 10_000_000 in by_rows else None,
        "evaluate_peak_rss_gb_10m": None,  # not measured
        "fit_seconds_per_million": rss[-1]["seconds_per_million"] if rss else None,
    }
    rss_rows = "\n".join(
        f"| {r['rows']:,} | {r['peak_rss_gb']:.2f} | {r['seconds']:.0f} | {r['seconds_per_million']:.0f} |"
        for r in rss
    )
    md = f"""## Scale-out on Ray (issue 25): `benchmarks/bench_scale.py`

4 PPO seeds x 1,000,000 steps (256 shoppers per step), trained one after the other in one process, then as 4 Ray tasks on a local head with 2 CPUs, in the same run: {train["train_seconds_local"]:.0f} s against {train["train_seconds_ray"]:.0f} s, a speed-up of **{train["train_speedup_ray"]:.2f}x** (floor 1.7x); evaluations identical: {train["identical_evaluation"]}.

A 4-member ensemble `fit` of a {FIT_CUSTOMERS * FIT_PERIODS:,}-row generated log, in one process, then with `--ray` (each member a task) on the same head: {fit["fit_seconds_local"]:.0f} s against {fit["fit_seconds_ray"]:.0f} s, a speed-up of **{fit["fit_speedup_ray"]:.2f}x** (the whole command, with loading, support and behaviour models, which stay in one process); worlds byte-equal: {fit["identical_world"]}.

Peak RSS of `fit` (one member, two epochs) as the log grows; the log is read whole (not streamed yet), so memory grows with it:

| rows | peak RSS (GB) | seconds | seconds per million rows |
|---:|---:|---:|---:|
{rss_rows}

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py` (`--skip-train` keeps the recorded training pair)
"""
    record("scale", md, payload)
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
