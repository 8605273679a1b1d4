"""Scale-out on Ray (issue 25), to BENCHMARKS.md, each pair in the same run (the ratio, not the
absolute times, is what this noisy machine can tell):
1. 4 training seeds, local sequential against `train --ray` on a local 2-CPU Ray head; the two
   evaluations must be equal.
2. A 4-member ensemble `fit`, local against `fit --ray` on the same head; the two worlds'
   weights must be byte-equal.
3. `recommend` on the same log, local against `recommend --ray` (fit, value-table chunks and
   candidate scores as tasks); the two recommendations must be equal.
4. `evaluate --policy` of 4 agents (trained briefly in that fitted world), local against
   `evaluate --ray` (each agent a task); the estimates must be equal.
5. Peak RSS of `fit` and `evaluate --policy` (`/usr/bin/time -v`) on generated logs of growing
   size, to show how memory grows with the log (one member, two epochs: memory is the data's,
   not the epochs'). A log
   longer than `world.max_rows` (1M by default) is fitted on a customer sample and read one
   bucket of customers at a time (data/buckets.py).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py [--skip-train | --skip-ray]
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
    if isinstance(result, dict):
        result.pop("run", None)
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


def recommend_pair(tmp: Path, address: str) -> dict:
    """``recommend`` on the fit pair's log, here and with ``--ray``."""
    data = tmp / "fitdata"
    args = ["recommend", "--logs", str(data / "log.parquet"), "-c", str(data / "config.toml"), "--json"]
    return _pair("recommend", args, address, same="identical_recommendation")


def evaluate_pair(tmp: Path, address: str) -> dict:
    """``evaluate --policy`` of 4 agents of the fit pair's world, here and with ``--ray``."""
    run = tmp / "fit-local"
    _run(["train", "--out", str(run), "--world", str(run / "world"), "--timesteps", "20000", "--seeds", "4"])
    agents = [a for k in range(4) for a in ("--policy", str(run / "agents" / f"ppo-seed{k}"))]
    return _pair("evaluate", ["evaluate", "--json", *agents], address, same="identical_estimates")


def _pair(name: str, args: list[str], address: str, *, same: str) -> dict:
    """``args`` timed here, then with ``--ray address``; whether the two outputs are equal."""
    local_s, local = _timed(args)
    ray_s, remote = _timed([*args, "--ray", address])
    return {
        f"{name}_seconds_local": local_s,
        f"{name}_seconds_ray": ray_s,
        f"{name}_speedup_ray": local_s / ray_s,
        same: local == remote,
    }


def peak_rss(tmp: Path, customers: int, cap_gb: float) -> dict:
    """Peak RSS (GB) and seconds of a one-member, two-epoch ``fit`` on customers x 10 periods,
    then of ``evaluate --policy`` of a briefly trained agent on the same log."""
    data = _generated(tmp / f"rss{customers}", customers, 10)
    run = tmp / f"rss-run{customers}"
    fit = ["--set", "world.ensemble=1", "--set", "world.max_epochs=2", "-q"]
    rows = customers * 10
    out = {"rows": rows, "fit": _measured([*_fit_args(data, run), *fit], rows, cap_gb)}
    if out["fit"]["peak_rss_gb"] is not None:
        _run(
            ["train", "--world", str(run / "world"), "--out", str(run), "--timesteps", "2048"]
            + ["--n-envs", "64", "--eval-shoppers", "300", "--no-baselines", "-q"]
        )
        policy = ["evaluate", "--policy", str(run / "agents" / "ppo-seed0"), "-q"]
        out["evaluate"] = _measured(policy, rows, cap_gb)
    return out


def _measured(args: list[str], rows: int, cap_gb: float) -> dict:
    """Peak RSS (GB, from ``/usr/bin/time -v``) and seconds of ``campaign-sim args``; the process
    tree is also polled, and one past ``cap_gb`` is stopped there (this machine has 24 GB) and
    recorded as exceeding it."""
    import psutil  # comes with ray

    start = time.perf_counter()
    timed = subprocess.Popen(
        ["/usr/bin/time", "-v", str(BIN / "campaign-sim"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    tree, polled = psutil.Process(timed.pid), 0.0
    while timed.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [tree, *tree.children(recursive=True)])
        except psutil.Error:
            rss = 0
        polled = max(polled, rss / 1024**3)
        if polled > cap_gb:
            for p in tree.children(recursive=True):
                p.kill()
            timed.wait()
            return {
                "peak_rss_gb": None,
                "exceeded_gb": cap_gb,
                "seconds_when_stopped": time.perf_counter() - start,
            }
        time.sleep(0.5)
    seconds = time.perf_counter() - start
    stderr = timed.stderr.read()
    if timed.returncode != 0:
        raise RuntimeError(f"campaign-sim {' '.join(args)} failed: {stderr[-2000:]}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return {"peak_rss_gb": kb / 1024**2, "seconds": seconds, "seconds_per_million": seconds / rows * 1e6}


def _cells(r: dict | None) -> str:
    if r is None:
        return "- | -"
    if r["peak_rss_gb"] is None:
        return f"**over {r['exceeded_gb']:.0f}** (stopped after {r['seconds_when_stopped']:.0f} s) | -"
    return f"{r['peak_rss_gb']:.2f} | {r['seconds']:.0f} ({r['seconds_per_million']:.0f} per million)"


def _rss_row(r: dict) -> str:
    return f"| {r['rows']:,} | {_cells(r['fit'])} | {_cells(r.get('evaluate'))} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-train", action="store_true", help="keep the recorded training figures")
    parser.add_argument("--skip-ray", action="store_true", help="keep the recorded train and fit pairs")
    parser.add_argument("--train-json", help="training figures measured earlier (a line this script printed)")
    parser.add_argument(
        "--rss-sizes", type=int, nargs="*", default=list(RSS_SIZES), help="customers (x 10 periods)"
    )
    parser.add_argument("--rss-cap-gb", type=float, default=8.0, help="stop a fit past this RSS")
    args = parser.parse_args()
    previous = Path(__file__).parent / "results" / "scale.json"
    if args.skip_ray:
        recorded = json.loads(previous.read_text())
        train = {k: recorded[k] for k in TRAIN_KEYS}
        fit = {k: recorded.get(k) for k in FIT_KEYS}
    else:
        train, fit = ray_pairs(args, previous)
    if args.rss_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            rss = [peak_rss(Path(tmp), n, args.rss_cap_gb) for n in args.rss_sizes]
    else:  # `--rss-sizes` with no sizes: keep the recorded ones
        rss = json.loads(previous.read_text())["fit_peak_rss"]
    write(train, fit, rss)


TRAIN_KEYS = ("train_seconds_local", "train_seconds_ray", "train_speedup_ray", "identical_evaluation")
FIT_KEYS = ("fit_seconds_local", "fit_seconds_ray", "fit_speedup_ray", "identical_world")
FIT_KEYS += (
    "recommend_seconds_local",
    "recommend_seconds_ray",
    "recommend_speedup_ray",
    "identical_recommendation",
)
FIT_KEYS += ("evaluate_seconds_local", "evaluate_seconds_ray", "evaluate_speedup_ray", "identical_estimates")


def ray_pairs(args: argparse.Namespace, previous: Path) -> tuple[dict, dict]:
    """The train and fit pairs, local against a local 2-CPU Ray head, in this run."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    head = [str(BIN / "ray"), "start", "--head", "--num-cpus", "2", "--port", str(port)]
    head += ["--node-ip-address", "127.0.0.1", "--include-dashboard", "false", "--disable-usage-stats"]
    subprocess.run(head, check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.train_json:
                train = json.loads(args.train_json)
            elif args.skip_train:
                train = {k: json.loads(previous.read_text())[k] for k in TRAIN_KEYS}
            else:
                local_s, local = _timed([*TRAIN, "--out", f"{tmp}/local"])
                ray_s, remote = _timed([*TRAIN, "--out", f"{tmp}/ray", "--ray", f"127.0.0.1:{port}"])
                train = {
                    "train_seconds_local": local_s,
                    "train_seconds_ray": ray_s,
                    "train_speedup_ray": local_s / ray_s,
                    "identical_evaluation": local == remote,
                }
            print(json.dumps(train), flush=True)
            fit = fit_pair(Path(tmp), f"127.0.0.1:{port}")
            print(json.dumps(fit), flush=True)
            fit |= recommend_pair(Path(tmp), f"127.0.0.1:{port}")
            fit |= evaluate_pair(Path(tmp), f"127.0.0.1:{port}")
            print(json.dumps(fit), flush=True)
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True)
    return train, fit


def _at(by_rows: dict, rows: int, command: str) -> float | None:
    """Peak RSS of ``command`` at ``rows`` (None: not measured, or stopped past the cap)."""
    return (by_rows.get(rows, {}).get(command) or {}).get("peak_rss_gb")


def write(train: dict, fit: dict, rss: list[dict]) -> None:
    by_rows = {r["rows"]: r for r in rss}
    payload = {
        **train,
        **fit,
        "fit_peak_rss": rss,
        # None with "exceeded_gb" in fit_peak_rss: the fit passed the cap and was stopped
        "fit_peak_rss_gb_10m": _at(by_rows, 10_000_000, "fit"),
        "evaluate_peak_rss_gb_10m": _at(by_rows, 10_000_000, "evaluate"),
        "fit_seconds_per_million": next(
            (r["fit"]["seconds_per_million"] for r in reversed(rss) if r["fit"]["peak_rss_gb"]), None
        ),
    }
    rss_rows = "\n".join(map(_rss_row, rss))
    md = f"""## Scale-out on Ray (issue 25): `benchmarks/bench_scale.py`

4 PPO seeds x 1,000,000 steps (256 shoppers per step), trained one after the other in one process, then as 4 Ray tasks on a local head with 2 CPUs, in the same run: {train["train_seconds_local"]:.0f} s against {train["train_seconds_ray"]:.0f} s, a speed-up of **{train["train_speedup_ray"]:.2f}x** (floor 1.7x); evaluations identical: {train["identical_evaluation"]}.

A 4-member ensemble `fit` of a {FIT_CUSTOMERS * FIT_PERIODS:,}-row generated log, in one process, then with `--ray` (each member a task) on the same head: {fit["fit_seconds_local"]:.0f} s against {fit["fit_seconds_ray"]:.0f} s, a speed-up of **{fit["fit_speedup_ray"]:.2f}x** (the whole command: the members and the behaviour model are Ray tasks, the behaviour model submitted first as the longest; loading, encoding, the support table and fidelity stay in the driver); worlds byte-equal: {fit["identical_world"]}. The floor of 1.7x is out of reach on 2 CPUs: profiled (cProfile, local fit), the behaviour model takes ~22 s, each member ~8 s and the driver's part ~4 s of ~57 s, and the tasks do not split, so two workers cannot finish before the behaviour model plus one member (~30 s) plus the driver: ~1.5x at best. A third CPU (the members beside the behaviour model) or a behaviour model trained in parts would reach it.

`recommend` on the same log (it fits a 5-member world on half of the customers, then values 64 actions at up to 24,000 logged states for 24 candidates and scores them on the selection customers), then with `--ray` (the members and the behaviour model, 8 chunks of the value table and the 24 scores are tasks): {fit["recommend_seconds_local"]:.0f} s against {fit["recommend_seconds_ray"]:.0f} s, **{fit["recommend_speedup_ray"]:.2f}x**; recommendations identical: {fit["identical_recommendation"]}.

`evaluate --policy` of 4 PPO agents (20,000 steps each) in the locally fitted world, on its log, then with `--ray` (each agent a task; the log and world are read once, in the driver, and written once per agent): {fit["evaluate_seconds_local"]:.0f} s against {fit["evaluate_seconds_ray"]:.0f} s, **{fit["evaluate_speedup_ray"]:.2f}x**; estimates identical: {fit["identical_estimates"]}. One agent's evaluation is one sequential replay of the log: nothing in it is split.

Peak RSS of `fit` (one member, two epochs) and of `evaluate --policy` (an agent trained for 2,048 steps in that world, on the same log) as the log grows (floor at 10M rows: 4 GB each; a command past the cap is stopped there). Up to `world.max_rows` (1M) rows the log is read whole. A longer one is read one bucket of customers at a time (data/buckets.py): `fit` fits on a sample of its customers holding about 1M rows and validates every other bucket and counts it into the support table; `evaluate` estimates on a bucket the world was not fitted on and validates the rest:

| rows | `fit` peak RSS (GB) | `fit` seconds | `evaluate --policy` peak RSS (GB) | `evaluate` seconds |
|---:|---:|---:|---:|---:|
{rss_rows}

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py` (`--skip-train` keeps the recorded training pair, `--skip-ray` both Ray pairs)
"""
    record("scale", md, payload)
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
