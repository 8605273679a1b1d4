"""Safe policy improvement from histories of the benchmark world (issue 22), written to BENCHMARKS.md.

Per history (the benchmark world, seed 0; 16,667 customers x 12 periods = 200k decisions under
business-as-usual, log seed 100 + h): the whole pipeline of ``workflows.safety`` (fit on half
the customers, Π≤b-SPIBB candidates, select on a quarter, gate on the last quarter), then every
candidate and the recommendation evaluated in the TRUE world against business-as-usual on the
same 20,000 shoppers (paired, expected profit). Reported: safety (true gain of the
recommendation ≥ 0, no false GO), mean true gain, coverage of the gate interval, and what the
best SPIBB candidate would have earned in truth (the family's reach, whatever the evidence).

Run: .venv/bin/python benchmarks/bench_safety.py --histories 20   (about 100 s a history)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import RESULTS, record  # noqa: E402
from campaign_sim.agents.baselines import BusinessAsUsual  # noqa: E402
from campaign_sim.agents.evaluate import interval, make_core, run_policy  # noqa: E402
from campaign_sim.data.datasets import resolve_config  # noqa: E402
from campaign_sim.data.log import load_log  # noqa: E402
from campaign_sim.envs.worlds import ObservedThrough  # noqa: E402
from campaign_sim.simulators.synthetic.generate import generate_log, write_generated  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402
from campaign_sim.workflows.safety import BASELINE, run_safety  # noqa: E402

EVAL_SHOPPERS = 20_000


def one_history(truth: SyntheticWorld, h: int, *, customers: int, periods: int) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate_log(truth, customers=customers, periods=periods, seed=100 + h)
        paths = write_generated(tmp, truth, generated, seed=100 + h, customers=customers, periods=periods)
        library = f'actions.copy_library="{paths["copies"]}"'
        log = load_log(paths["log"], resolve_config(dataset="synthetic", overrides=[library]))
        result = run_safety(log, seed=h)
    seconds = time.perf_counter() - start
    core = make_core(ObservedThrough(truth, result.fit_world), EVAL_SHOPPERS)
    base = run_policy(BusinessAsUsual(truth), core, seed=7).expected_profit
    true_gain = {}
    for name, policy in result.policies.items():
        mean, low, high = interval(run_policy(policy, core, seed=7).expected_profit - base)
        true_gain[name] = {"mean": mean, "low": low, "high": high}
    # Business-as-usual as recommended is the logging policy itself: gain 0 by definition.
    gain = 0.0 if result.recommended == BASELINE else true_gain[result.recommended]["mean"]
    candidate_truth = 0.0 if result.candidate == BASELINE else true_gain[result.candidate]["mean"]
    gate = result.gate
    return {
        "history": h,
        "seconds": seconds,
        "baseline_value": float(base.mean()),
        "candidate": result.candidate,
        "recommended": result.recommended,
        "verdict": "GO" if result.go else "NO-GO",
        "gain": gain,
        "gain_pct": 100 * gain / float(base.mean()),
        "interval": [gate.low, gate.high],
        "candidate_true_gain": candidate_truth,
        "covered": bool(gate.low <= candidate_truth <= gate.high),
        "best_candidate": max(
            (n for n in true_gain if n != BASELINE), key=lambda n: true_gain[n]["mean"]
        ),
        "best_candidate_gain": max(v["mean"] for n, v in true_gain.items() if n != BASELINE),
        "selection": [{"policy": d.policy, "mean": d.mean, "low": d.low, "high": d.high} for d in result.selection],
        "true_gain": true_gain,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=20)
    parser.add_argument("--customers", type=int, default=16_667)
    parser.add_argument("--periods", type=int, default=12)
    args = parser.parse_args()
    truth = SyntheticWorld.create(seed=0)
    rows = []
    for h in range(args.histories):
        rows.append(one_history(truth, h, customers=args.customers, periods=args.periods))
        r = rows[-1]
        print(f"history {h}: {r['verdict']} {r['recommended']} gain {r['gain']:+.3f} ({r['gain_pct']:+.1f}%) "
              f"interval [{r['interval'][0]:+.3f}, {r['interval'][1]:+.3f}] best SPIBB in truth {r['best_candidate_gain']:+.3f} "
              f"({r['seconds']:.0f} s)", flush=True)
    agents = json.loads((RESULTS / "agents.json").read_text())["true_world"]["values"]
    agent_gain = agents["maskable-ppo"][0] - agents["business-as-usual"][0]
    big = [r for r in rows if r["gain_pct"] >= 3]
    summary = {
        "histories": len(rows),
        "decisions_per_history": args.customers * args.periods,
        "safe": sum(r["gain"] >= 0 for r in rows),
        "false_go": sum(r["verdict"] == "GO" and r["gain"] <= 0 for r in rows),
        "mean_gain_pct": float(np.mean([r["gain_pct"] for r in rows])),
        "covered": sum(r["covered"] for r in rows),
        "histories_gain_ge_3pct": len(big),
        "go_when_gain_ge_3pct": sum(r["verdict"] == "GO" for r in big),
        "go": sum(r["verdict"] == "GO" for r in rows),
        "mean_best_candidate_gain_pct": float(
            np.mean([100 * r["best_candidate_gain"] / r["baseline_value"] for r in rows])
        ),
        "true_world_agent_gain": agent_gain,
        "per_history": rows,
    }
    table = "\n".join(
        f"| {r['history']} | {r['candidate']} | {r['verdict']} | {r['gain']:+.3f} ({r['gain_pct']:+.1f}%) | "
        f"{r['gain'] / agent_gain:.0%} | [{r['interval'][0]:+.2f}, {r['interval'][1]:+.2f}] | "
        f"{r['candidate_true_gain']:+.3f} | {'yes' if r['covered'] else 'NO'} | "
        f"{r['best_candidate']}: {r['best_candidate_gain']:+.3f} |"
        for r in rows
    )
    s = summary
    md = f"""## Safe policy improvement (issue 22): `benchmarks/bench_safety.py`

{s['histories']} histories of the benchmark world ({s['decisions_per_history']:,} business-as-usual decisions each, log seeds 100 + h); per history the pipeline of `workflows/safety.py` (fit + Π≤b-SPIBB candidates on half the customers, selection on a quarter, gate on the last quarter, by the first-order off-policy gain), then the true world on 20,000 paired shoppers. Gain = true expected profit per shopper over the 12-period campaign minus business-as-usual's (business-as-usual recommended = 0). Share = of the true-world agent's gain (+{agent_gain:.3f}, `bench_agents.py`).

| history | selected candidate | verdict | true gain of the recommendation | share | gate 95% interval | candidate's true gain | covered | best SPIBB candidate in truth |
|---|---|---|---|---:|---|---:|---|---|
{table}

| criterion | measured | floor |
|---|---|---|
| safe (true gain ≥ 0) | {s['safe']} of {s['histories']} | all |
| false GO | {s['false_go']} | 0 |
| mean true gain | {s['mean_gain_pct']:+.2f}% | ≥ +5% |
| truth inside the reported interval | {s['covered']} of {s['histories']} | ≥ 90% |
| GO when true gain ≥ 3% | {s['go_when_gain_ge_3pct']} of {s['histories_gain_ge_3pct']} | ≥ 10 |
| mean true gain of the best SPIBB candidate (not selectable without evidence) | {s['mean_best_candidate_gain_pct']:+.2f}% | - |

Command: `.venv/bin/python benchmarks/bench_safety.py --histories {s['histories']}`
"""
    record("safety", md, summary)
    print(md)


if __name__ == "__main__":
    main()
