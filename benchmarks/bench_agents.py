"""Agent acceptance figures (issue 5), written to BENCHMARKS.md.

1. TRUE world: PPO and MaskablePPO trained for at most 120 s of wall time each, evaluated
   beside the oracles on the same shoppers: the myopic oracle (greedy on true expected profit)
   and two far-sighted rollout oracles (one step of policy improvement under the true model, of
   the myopic oracle and of the best agent, on futures drawn independently of the evaluation's:
   agents/oracle.py). "Oracle value" = the best of them.
2. FITTED world: history of 200k decisions from the true world under business-as-usual ->
   fitted world (5-member ensemble, pessimism on) -> PPO trained there for at most 120 s ->
   evaluated in the TRUE world against the oracle and business-as-usual (paired interval).
3. Dynamics: the RL agent against the myopic oracle in the true world, paired interval.

Values are mean campaign profit per shopper with revenue at its expectation given the true
response (unbiased, far less noisy than sampled revenue), 95% normal intervals over shoppers.

Run: .venv/bin/python benchmarks/bench_agents.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import fitted_from_history, record  # noqa: E402
from campaign_sim.agents.baselines import BusinessAsUsual, MyopicPolicy, oracle  # noqa: E402
from campaign_sim.agents.evaluate import interval, make_core, run_policy  # noqa: E402
from campaign_sim.agents.oracle import RolloutOracle  # noqa: E402
from campaign_sim.agents.sb3_agents import SB3Policy, TrainSettings  # noqa: E402
from campaign_sim.agents.training import train_agent  # noqa: E402
from campaign_sim.envs.worlds import ObservedThrough  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402

EVAL_SEED = 20_261_122


def train(world, algo: str, folder: Path, seconds: float, seed: int = 0):
    settings = TrainSettings(algo=algo, timesteps=20_000_000, n_envs=1024, seed=seed)
    start = time.perf_counter()
    trained = train_agent(
        world, settings, folder / f"{algo}-{seed}", max_seconds=seconds, checkpoint_every=10**9
    )
    return trained.model, time.perf_counter() - start


def values(policies, world, shoppers: int) -> dict[str, np.ndarray]:
    core = make_core(world, shoppers, pessimism=0.0)
    return {p.name: run_policy(p, core, seed=EVAL_SEED).expected_profit for p in policies}


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    mean, low, high = interval(a - b)
    return {"mean": mean, "low": low, "high": high, "relative": mean / b.mean()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20 s budgets, fewer shoppers (smoke run)")
    args = parser.parse_args()
    budget = 20.0 if args.quick else 120.0
    shoppers, rollout_shoppers = (2_000, 500) if args.quick else (20_000, 3_000)
    truth = SyntheticWorld.create(seed=0)
    shape = truth.shape
    out: dict = {"budget_seconds": budget, "eval_shoppers": shoppers, "rollout_shoppers": rollout_shoppers}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # 1. true world
        agents, trained_steps = [], {}
        for algo in ("ppo", "maskable-ppo"):
            model, seconds = train(truth, algo, folder, budget)
            trained_steps[algo] = {"steps": int(model.num_timesteps), "seconds": seconds}
            agents.append(SB3Policy(model, name=algo, shape=shape))
        v = values([*agents, oracle(truth), BusinessAsUsual(truth)], truth, shoppers)
        best_agent = max(agents, key=lambda p: v[p.name].mean())
        # rollout oracles are costly: they and the best agent are compared on a subset of shoppers
        # (4 scenarios per decision for the agent's; 2 for the myopic one, whose base is slower)
        rollouts = [
            RolloutOracle(best_agent, name="rollout-oracle(agent)", rollouts=4),
            RolloutOracle(oracle(truth), name="rollout-oracle(myopic)", rollouts=2),
        ]
        r = values([best_agent, *rollouts, oracle(truth)], truth, rollout_shoppers)
        # a rollout oracle's value on the full set: its ratio to the best agent on the subset
        scaled = {
            p.name: r[p.name].mean() / r[best_agent.name].mean() * v[best_agent.name].mean() for p in rollouts
        }
        oracle_value = max(v["oracle-myopic"].mean(), *scaled.values())
        out["true_world"] = {
            "training": trained_steps,
            "values": {k: interval(x) for k, x in v.items()},
            "rollout_subset": {k: interval(x) for k, x in r.items()},
            "rollout_oracles_on_full_set": scaled,
            "rollout_gain_over_agent": paired(r["rollout-oracle(agent)"], r[best_agent.name]),
            "rollout_myopic_vs_agent": paired(r["rollout-oracle(myopic)"], r[best_agent.name]),
            "best_agent": best_agent.name,
            "oracle_value": oracle_value,
            "share_of_oracle": float(v[best_agent.name].mean() / oracle_value),
            "agent_vs_myopic_oracle": paired(v[best_agent.name], v["oracle-myopic"]),
        }
        # 2. fitted world from a 200k-decision history
        generated, config, fit_seconds, fitted = fitted_from_history(folder, 2_000 if args.quick else 16_667)
        model, seconds = train(fitted, "ppo", folder / "fitted", budget)
        agent = SB3Policy(model, name="ppo-fitted", shape=shape)
        seen = ObservedThrough(truth, fitted)
        f = values(
            [agent, oracle(truth), BusinessAsUsual(truth), MyopicPolicy(fitted, name="myopic-fitted")],
            seen,
            shoppers,
        )
        out["fitted_world"] = {
            "log_rows": generated.rows,
            "fit_seconds": fit_seconds,
            "training": {
                "steps": int(model.num_timesteps),
                "seconds": seconds,
                "pessimism": config.world.pessimism,
            },
            "values_in_true_world": {k: interval(x) for k, x in f.items()},
            "share_of_oracle": float(f["ppo-fitted"].mean() / oracle_value),
            "vs_business_as_usual": paired(f["ppo-fitted"], f["business-as-usual"]),
            "vs_myopic_fitted": paired(f["ppo-fitted"], f["myopic-fitted"]),
        }
    write(out)


def write(out: dict) -> None:
    t, f = out["true_world"], out["fitted_world"]
    fmt = lambda x: f"{x[0]:.3f} [{x[1]:.3f}, {x[2]:.3f}]"  # noqa: E731
    rows = "\n".join(f"| {k} | {fmt(x)} |" for k, x in sorted(t["values"].items(), key=lambda kv: -kv[1][0]))
    frows = "\n".join(
        f"| {k} | {fmt(x)} |" for k, x in sorted(f["values_in_true_world"].items(), key=lambda kv: -kv[1][0])
    )
    g, m, b = t["rollout_gain_over_agent"], t["agent_vs_myopic_oracle"], f["vs_business_as_usual"]
    gm = t["rollout_myopic_vs_agent"]
    verdict = (
        "one step of policy improvement with the true model finds a better policy"
        if g["low"] > 0
        else "one step of policy improvement with the true model finds nothing significantly better"
    )
    sub = ", ".join(f"{k} {fmt(x)}" for k, x in t["rollout_subset"].items())
    ok = lambda c: "met" if c else "NOT met"  # noqa: E731
    md = f"""## Agents (issue 5): `benchmarks/bench_agents.py`

Mean campaign profit per shopper (12 periods), expected revenue given the true response, 95%
intervals over {out["eval_shoppers"]:,} shoppers shared by every policy. Training budget: {out["budget_seconds"]:.0f} s wall time per agent, 1 torch thread.

**True world.** Steps trained in the budget: {", ".join(f"{k} {v['steps']:,} ({v['seconds']:.0f} s)" for k, v in t["training"].items())}.

| policy | value |
|---|---|
{rows}

- Far-sighted oracles, on a subset of {out["rollout_shoppers"]:,} shoppers ({sub}); their rollouts draw futures independent of the ones the evaluation plays:
  - rollout improvement of {t["best_agent"]} under the true model: {g["mean"]:+.3f} [{g["low"]:+.3f}, {g["high"]:+.3f}] ({g["relative"]:+.1%}) over {t["best_agent"]}: {verdict};
  - rollout improvement of the myopic oracle: {gm["mean"]:+.3f} [{gm["low"]:+.3f}, {gm["high"]:+.3f}] ({gm["relative"]:+.1%}) against {t["best_agent"]}.
- Oracle value = the best of the myopic oracle and the rollout oracles (scaled to the full set by their ratio to {t["best_agent"]} on the subset): {t["oracle_value"]:.3f}.
- Best agent ({t["best_agent"]}) reaches **{t["share_of_oracle"]:.1%}** of the oracle value within the budget (floor 97%: {ok(t["share_of_oracle"] >= 0.97)}).
- Dynamics: {t["best_agent"]} minus the myopic oracle = {m["mean"]:+.3f} [{m["low"]:+.3f}, {m["high"]:+.3f}] per shopper ({m["relative"]:+.1%}): planning for fatigue, habituation and unsubscribes pays.

**Fitted world → true world.** {f["log_rows"]:,}-decision history, world fitted in {f["fit_seconds"]:.0f} s, PPO trained in the fitted world with pessimism λ = {f["training"]["pessimism"]} for {f["training"]["steps"]:,} steps ({f["training"]["seconds"]:.0f} s), then evaluated in the true world:

| policy | value in the true world |
|---|---|
{frows}

- Share of the oracle value: **{f["share_of_oracle"]:.1%}** (floor 95%: {ok(f["share_of_oracle"] >= 0.95)}).
- Against business-as-usual: {b["mean"]:+.3f} [{b["low"]:+.3f}, {b["high"]:+.3f}] per shopper = **{b["relative"]:+.1%}** (floor +15% with the interval above zero: {ok(b["relative"] >= 0.15 and b["low"] > 0)}).

Command: `.venv/bin/python benchmarks/bench_agents.py`
"""
    record("agents", md, out)
    print(md)


if __name__ == "__main__":
    main()
