"""Shopper-decisions per second through the SB3 VecEnv API vs a raw numpy kernel (issue 4).

The raw kernel is the floor's yardstick: the same response (logistic visit, conversion and
unsubscribe heads and a lognormal order value over the same feature count, every outcome
sampled) for N shoppers, with nothing else. The env step does all of it for real:
counter-based random numbers, masks, the true response (visit, conversion, order value,
unsubscribe), outcomes, budget, dynamics, observation, autoreset, and SB3's info dict with the
terminal observation for every slot whose episode ended (~N/12 a step). In the synthetic world
without a budget the simulation is one compiled pass (envs/fused.py).

Each round runs the kernel, pauses 0.3 s, then runs the env. The kernel's matrix products use
OpenBLAS's worker threads, which spin for ~0.1 s after each product and took a core from
whatever ran next: two identical envs measured right after the kernel and right after each
other differed 1.7x (env/kernel ratio 0.35 vs 0.59); with the pause, 1.02.

Run: .venv/bin/python benchmarks/bench_env.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv  # noqa: E402


def rate(step: Callable[[int], object], n: int, seconds: float) -> float:
    """Decisions per second of ``step(i)`` (one step of ``n`` decisions) over ``seconds``."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(steps)
        steps += 1
    return n * steps / (time.perf_counter() - start)


def env_stepper(n: int) -> tuple[Callable[[int], object], int]:
    env = CampaignVecEnv(n, seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.action_space.nvec, size=(64, n, 3))
    env.step(actions[0])  # warm-up
    return (lambda i: env.step(actions[i % 64])), len(env.observation_names)


def kernel_stepper(n: int, features: int) -> Callable[[int], object]:
    """The same response with nothing around it: three logistic heads (visit, conversion,
    unsubscribe) and a lognormal order value over ``features`` features, every outcome sampled."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, features))
    w = rng.standard_normal((features, 3)) / np.sqrt(features)
    value_w = rng.standard_normal(features) * 0.1

    def step(_: int) -> object:
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        u = rng.random((n, 3))
        visit = u[:, 0] < p[:, 0]
        conversion = visit & (u[:, 1] < p[:, 1])
        value = np.exp(4.4 + x @ value_w + 0.84 * rng.standard_normal(n))
        return np.where(conversion, value, 0.0), u[:, 2] < p[:, 2]

    return step


def measure(n: int, seconds: float, rounds: int) -> dict[str, float]:
    """Kernel and env measured in alternating rounds (this machine's speed drifts by tens of
    percent within a minute): medians of each and of the per-round ratios."""
    env, features = env_stepper(n)
    kernel = kernel_stepper(n, features)
    pairs = []
    for _ in range(rounds):
        kernel_rate = rate(kernel, n, seconds / rounds)
        time.sleep(0.3)  # the kernel's BLAS workers stop spinning (module docstring)
        pairs.append((rate(env, n, seconds / rounds), kernel_rate))
        time.sleep(0.3)  # and the env's compiled loops' workers
    return {
        "env_decisions_per_s": float(np.median([e for e, _ in pairs])),
        "kernel_decisions_per_s": float(np.median([k for _, k in pairs])),
        "ratio": float(np.median([e / k for e, k in pairs])),
        "ratio_per_round": [e / k for e, k in pairs],
        "features": features,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per side and N, over all rounds")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rows = {n: measure(n, args.seconds, args.rounds) for n in (1_024, 16_384)}
    lines = [
        "## Environment throughput (`benchmarks/bench_env.py`)",
        "",
        "Shopper-decisions per second through the SB3 `VecEnv` API (`CampaignVecEnv`, synthetic world, "
        "random actions) beside a raw numpy kernel of the same response (logistic visit, conversion and unsubscribe "
        "heads plus a lognormal order value over the same feature count, all sampled), "
        f"measured in the same run: {args.rounds} alternating rounds, {args.seconds:.0f} s a side in all; "
        "medians of the rates and of the per-round ratios (range in brackets). Floor: ratio ≥ 0.5 at N = 16,384. "
        "Each kernel round is followed by a 0.3 s pause: OpenBLAS's idle workers spin ~0.1 s after a product "
        "and slowed the env round after them 1.7x.",
        "",
        "| N | env decisions/s | raw kernel decisions/s | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for n, r in rows.items():
        lines.append(
            f"| {n:,} | {r['env_decisions_per_s']:,.0f} | {r['kernel_decisions_per_s']:,.0f} | "
            f"{r['ratio']:.2f} [{min(r['ratio_per_round']):.2f}, {max(r['ratio_per_round']):.2f}] |"
        )
    ratio = rows[16_384]["ratio"]
    lines += [
        "",
        f"Floor (ratio ≥ 0.5 at N = 16,384): **{'met' if ratio >= 0.5 else 'NOT met'}** ({ratio:.2f}).",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_env.py --seconds {args.seconds:g} --rounds {args.rounds}`",
    ]
    record("bench_env", "\n".join(lines), {str(k): v for k, v in rows.items()})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
