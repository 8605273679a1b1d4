"""Shopper-decisions per second through the SB3 VecEnv API vs a raw numpy kernel (issue 4).

The raw kernel is the floor's yardstick: the same response (logistic visit, conversion and
unsubscribe heads and a lognormal order value over the same feature count, every outcome
sampled) for N shoppers, with nothing else. The env
step does all of it for real: counter-based random numbers, masks, the true response (visit,
conversion, order value, unsubscribe), outcomes, budget, dynamics, observation, autoreset.

Run: .venv/bin/python benchmarks/bench_env.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv  # noqa: E402


def env_rate(n: int, seconds: float) -> tuple[float, int]:
    env = CampaignVecEnv(n, seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.action_space.nvec, size=(64, n, 3))
    env.step(actions[0])  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(actions[steps % 64])
        steps += 1
    return n * steps / (time.perf_counter() - start), len(env.observation_names)


def kernel_rate(n: int, features: int, seconds: float) -> float:
    """The same response with nothing around it: three logistic heads (visit, conversion,
    unsubscribe) and a lognormal order value over ``features`` features, every outcome sampled."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, features))
    w = rng.standard_normal((features, 3)) / np.sqrt(features)
    value_w = rng.standard_normal(features) * 0.1
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        u = rng.random((n, 3))
        visit = u[:, 0] < p[:, 0]
        conversion = visit & (u[:, 1] < p[:, 1])
        value = np.exp(4.4 + x @ value_w + 0.84 * rng.standard_normal(n))
        _ = np.where(conversion, value, 0.0), u[:, 2] < p[:, 2]
        steps += 1
    return n * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows = {}
    for n in (1_024, 16_384):
        env, features = env_rate(n, args.seconds)
        kernel = kernel_rate(n, features, args.seconds)
        rows[n] = {
            "env_decisions_per_s": env,
            "kernel_decisions_per_s": kernel,
            "ratio": env / kernel,
            "features": features,
        }
    lines = [
        "## Environment throughput (`benchmarks/bench_env.py`)",
        "",
        "Shopper-decisions per second through the SB3 `VecEnv` API (`CampaignVecEnv`, synthetic world, "
        "random actions) beside a raw numpy kernel of the same response (logistic visit, conversion and unsubscribe "
        "heads plus a lognormal order value over the same feature count, all sampled), "
        f"measured in the same run ({args.seconds:.0f} s each). Floor: ratio ≥ 0.5 at N = 16,384.",
        "",
        "| N | env decisions/s | raw kernel decisions/s | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for n, r in rows.items():
        lines.append(
            f"| {n:,} | {r['env_decisions_per_s']:,.0f} | {r['kernel_decisions_per_s']:,.0f} | "
            f"{r['ratio']:.2f} |"
        )
    ratio = rows[16_384]["ratio"]
    lines += [
        "",
        f"Floor (ratio ≥ 0.5 at N = 16,384): **{'met' if ratio >= 0.5 else 'NOT met'}** ({ratio:.2f}).",
        "",
        "Command: `.venv/bin/python benchmarks/bench_env.py`",
    ]
    record("bench_env", "\n".join(lines), {str(k): v for k, v in rows.items()})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
