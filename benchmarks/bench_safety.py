"""Safe policy improvement from histories of the benchmark world (issue 22), written to BENCHMARKS.md.

Per history (the benchmark world, seed 0; 16,667 customers x 12 periods = 200k decisions under
business-as-usual, log seed 100 + h): the whole pipeline of ``workflows.safety`` (fit on half
the customers, Π≤b-SPIBB candidates, select on a quarter, gate on the last quarter), then every
candidate and the recommendation evaluated in the TRUE world against the logging policy on the
same 20,000 shoppers (paired, expected profit). Reported: safety (true gain of the
recommendation ≥ 0, no false GO), mean true gain, coverage of the gate interval (for the
selected candidate and for every candidate scored on the gate customers), what the best SPIBB
candidate would have earned in truth, and how many gate customers its interval would need to
resolve that gain.

``--curve``: what more data buys. One history each of 50k, 200k and 1M decisions whose logging
policy explores 50% uniformly over the allowed actions (section ``safety_curve``).

Run: .venv/bin/python benchmarks/bench_safety.py --histories 20 --workers 2   (about 4 min a history)
     .venv/bin/python benchmarks/bench_safety.py --curve          (about 15 min)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
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
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402
from campaign_sim.workflows.safety import (  # noqa: E402
    BASELINE,
    fit_baseline,
    held_out,
    run_safety,
    score,
    split_customers,
)

EVAL_SHOPPERS = 20_000
CURVE_SIZES = (4_167, 16_667, 83_334)  # customers x 12 periods: 50k, 200k, 1M decisions
CURVE_EXPLORE = 0.5


def history(truth: SyntheticWorld, *, customers: int, seed: int, explore: float, uniform: bool):
    """A logged history of ``customers`` x 12 periods, loaded as a user's log is."""
    logging = business_as_usual(truth, explore=explore, uniform=uniform)
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate_log(truth, customers=customers, periods=12, seed=seed, policy=logging)
        paths = write_generated(tmp, truth, generated, seed=seed, customers=customers, periods=12)
        library = f'actions.copy_library="{paths["copies"]}"'
        return load_log(paths["log"], resolve_config(dataset="synthetic", overrides=[library]))


def one_history(truth: SyntheticWorld, h: int, *, customers: int, explore: float, uniform: bool) -> dict:
    start = time.perf_counter()
    log = history(truth, customers=customers, seed=100 + h, explore=explore, uniform=uniform)
    result = run_safety(log, seed=h)
    seconds = time.perf_counter() - start
    core = make_core(ObservedThrough(truth, result.fit_world), EVAL_SHOPPERS)
    logging = BusinessAsUsual(truth, explore=explore, uniform=uniform)
    base = run_policy(logging, core, seed=7).expected_profit
    standard = run_policy(BusinessAsUsual(truth), core, seed=7).expected_profit
    true_gain = {}
    for name, policy in result.policies.items():
        mean, low, high = interval(run_policy(policy, core, seed=7).expected_profit - base)
        true_gain[name] = {"mean": mean, "low": low, "high": high}
    # Business-as-usual as recommended is the logging policy itself: gain 0 by definition.
    gain = 0.0 if result.recommended == BASELINE else true_gain[result.recommended]["mean"]
    candidate_truth = 0.0 if result.candidate == BASELINE else true_gain[result.candidate]["mean"]
    gate = result.gate
    # Every candidate scored on the gate customers: the interval's coverage over many claims.
    parts = split_customers(log, seed=h)
    weights = fit_baseline(held_out(parts["fit"], result.fit_world))  # as run_safety scores
    gate_log = held_out(parts["gate"], result.fit_world).with_baseline(weights)
    gate_scores = {name: score(name, p, gate_log) for name, p in result.policies.items() if name != BASELINE}
    best = max(gate_scores, key=lambda n: true_gain[n]["mean"])
    best_gain, best_half = true_gain[best]["mean"], (gate_scores[best].high - gate_scores[best].low) / 2
    return {
        "history": h,
        "decisions": log.frame.height,
        "seconds": seconds,
        "baseline_value": float(base.mean()),
        "standard_bau_value": float(standard.mean()),
        "candidate": result.candidate,
        "recommended": result.recommended,
        "verdict": "GO" if result.go else "NO-GO",
        "estimable": bool(gate.estimable),
        "gain": gain,
        "gain_pct": 100 * gain / float(base.mean()),
        "interval": [gate.low, gate.high],
        "candidate_true_gain": candidate_truth,
        "covered": bool(gate.low <= candidate_truth <= gate.high),
        "candidates_covered": int(
            sum(d.low <= true_gain[n]["mean"] <= d.high for n, d in gate_scores.items())
        ),
        "candidates": len(gate_scores),
        # the claims a user can be shown: candidates close enough to the log (moved <= MAX_MOVED)
        "near_covered": int(
            sum(d.low <= true_gain[n]["mean"] <= d.high for n, d in gate_scores.items() if d.near_log)
        ),
        "near": int(sum(d.near_log for d in gate_scores.values())),
        "gate_scores": {
            n: {"mean": d.mean, "low": d.low, "high": d.high, "moved": d.moved, "truth": true_gain[n]["mean"]}
            for n, d in gate_scores.items()
        },
        "best_candidate": best,
        "best_candidate_gain": best_gain,
        "best_candidate_gate_interval": [gate_scores[best].low, gate_scores[best].high],
        # customers a gate would need for the interval's half-width to equal the best true gain
        "gate_customers_needed": result.customers["gate"] * (best_half / max(best_gain, 1e-9)) ** 2,
        "selection": [
            {"policy": d.policy, "mean": d.mean, "low": d.low, "high": d.high} for d in result.selection
        ],
        "true_gain": true_gain,
    }


def line(r: dict) -> str:
    return (
        f"{r['decisions']:,} decisions, history {r['history']}: {r['verdict']} {r['recommended']} gain "
        f"{r['gain']:+.3f} ({r['gain_pct']:+.1f}%) interval [{r['interval'][0]:+.3f}, {r['interval'][1]:+.3f}] "
        f"best SPIBB in truth {r['best_candidate']} {r['best_candidate_gain']:+.3f}, gate interval "
        f"[{r['best_candidate_gate_interval'][0]:+.2f}, {r['best_candidate_gate_interval'][1]:+.2f}], "
        f"gate customers needed {r['gate_customers_needed']:,.0f}; candidates covered "
        f"{r['candidates_covered']}/{r['candidates']}, near the log {r['near_covered']}/{r['near']} "
        f"({r['seconds']:.0f} s)"
    )


def table(rows: list[dict]) -> str:
    head = (
        "| decisions | history | selected candidate | verdict | true gain of the recommendation | gate 95% interval "
        "| candidate's true gain | covered | candidates covered (near the log) | best SPIBB in truth "
        "| its gate interval | gate customers to resolve it |\n|---:|---|---|---|---|---|---:|---|---|---|---|---:|\n"
    )
    return head + "\n".join(
        f"| {r['decisions']:,} | {r['history']} | {r['candidate']} | {r['verdict']} | {r['gain']:+.3f} "
        f"({r['gain_pct']:+.1f}%) | [{r['interval'][0]:+.2f}, {r['interval'][1]:+.2f}] | "
        f"{r['candidate_true_gain']:+.3f} | {'yes' if r['covered'] else 'NO'} | "
        f"{r['candidates_covered']}/{r['candidates']} ({r['near_covered']}/{r['near']}) | "
        f"{r['best_candidate']}: {r['best_candidate_gain']:+.3f} | "
        f"[{r['best_candidate_gate_interval'][0]:+.2f}, {r['best_candidate_gate_interval'][1]:+.2f}] | "
        f"{r['gate_customers_needed']:,.0f} |"
        for r in rows
    )


def summary(rows: list[dict], planned: int) -> dict:
    big = [r for r in rows if r["gain_pct"] >= 3]
    return {
        "histories": len(rows),
        "planned": planned,
        "decisions_per_history": rows[0]["decisions"],
        "safe": sum(r["gain"] >= 0 for r in rows),
        "false_go": sum(r["verdict"] == "GO" and r["gain"] <= 0 for r in rows),
        "mean_gain_pct": float(np.mean([r["gain_pct"] for r in rows])),
        "covered": sum(r["covered"] for r in rows),
        "candidates_covered": sum(r["candidates_covered"] for r in rows),
        "candidates_scored": sum(r["candidates"] for r in rows),
        "near_covered": sum(r["near_covered"] for r in rows),
        "near_scored": sum(r["near"] for r in rows),
        "histories_gain_ge_3pct": len(big),
        "go_when_gain_ge_3pct": sum(r["verdict"] == "GO" for r in big),
        "go": sum(r["verdict"] == "GO" for r in rows),
        "mean_best_candidate_gain_pct": float(
            np.mean([100 * r["best_candidate_gain"] / r["baseline_value"] for r in rows])
        ),
        "median_gate_customers_needed": float(np.median([r["gate_customers_needed"] for r in rows])),
        "per_history": rows,
    }


def record_histories(rows: list[dict], planned: int) -> None:
    s = summary(rows, planned)
    partial = "" if len(rows) == planned else f"**Partial: {len(rows)} of {planned} histories.** "
    md = f"""## Safe policy improvement (issue 22): `benchmarks/bench_safety.py`

{partial}{s["histories"]} histories of the benchmark world ({s["decisions_per_history"]:,} business-as-usual decisions each, 20% exploration, log seeds 100 + h). Per history the pipeline of `workflows/safety.py`: a world fitted on half the customers; candidates = Π≤b-SPIBB policies (support: ≥ N∧ logged decisions in the (group, action) cell and behaviour probability ≥ 1%) over N∧ ∈ {{25, 100, 400, 1600}} × pessimism {{0, 1}}, each deployed on 100%, 50% or 25% of decisions (the rest business-as-usual); the first-order off-policy gain (one ratio per decision × return-to-go, studentized bootstrap interval over customers), with a state baseline as control variate) on a quarter of the customers chooses the highest lower bound among candidates it can estimate (mean abs(π/π_b − 1) ≤ 0.5, Pareto tail k̂ ≤ 0.7, half-width ≤ 20% of the logged value); the last quarter gates that one. Then the true world on 20,000 paired shoppers. Gain = true expected profit per shopper over the 12-period campaign minus the logging policy's (business-as-usual recommended = 0). "Candidates covered": every candidate's gate interval against its true gain. "Gate customers to resolve it": gate customers × (half-width / true gain)² for the best candidate in truth.

{table(rows)}

| criterion | measured | floor |
|---|---|---|
| safe (true gain ≥ 0) | {s["safe"]} of {s["histories"]} | all |
| false GO | {s["false_go"]} | 0 |
| mean true gain | {s["mean_gain_pct"]:+.2f}% | ≥ +5% |
| truth inside the reported interval (recommendation) | {s["covered"]} of {s["histories"]} | ≥ 90% |
| truth inside the gate interval, every candidate | {s["candidates_covered"]} of {s["candidates_scored"]} | - |
| the same, candidates a user can be shown (mean abs(π/π_b − 1) ≤ 0.5 and tail k̂ ≤ 0.7) | {s["near_covered"]} of {s["near_scored"]} | ≥ 90% |
| GO when true gain ≥ 3% | {s["go_when_gain_ge_3pct"]} of {s["histories_gain_ge_3pct"]} | ≥ 10 |
| mean true gain of the best SPIBB candidate (not selectable without evidence) | {s["mean_best_candidate_gain_pct"]:+.2f}% | - |
| median gate customers needed to resolve the best candidate's gain | {s["median_gate_customers_needed"]:,.0f} | - |

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_safety.py --histories {planned} --workers 2`
"""
    record("safety", md, s)


def record_curve(rows: list[dict]) -> None:
    md = f"""## Safe policy improvement: what more data buys (`bench_safety.py --curve`)

One history per size whose logging policy explores {CURVE_EXPLORE:.0%} uniformly over the allowed actions (else business-as-usual), log seed 100; gains are against that logging policy in the true world (its value in the table's baseline column is lower than the standard business-as-usual's because of the exploration).

{table(rows)}

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_safety.py --curve`
"""
    record("safety_curve", md, {"explore": CURVE_EXPLORE, "per_size": rows})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=20)
    parser.add_argument("--curve", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="histories run in parallel processes")
    parser.add_argument("--from-results", action="store_true", help="rewrite BENCHMARKS.md from the JSON")
    args = parser.parse_args()
    if args.from_results:  # the tables again from recorded figures, nothing recomputed
        saved = json.loads((RESULTS / "safety.json").read_text())
        record_histories(saved["per_history"], saved["planned"])
        record_curve(json.loads((RESULTS / "safety_curve.json").read_text())["per_size"])
        return
    truth = SyntheticWorld.create(seed=0)
    rows: list[dict] = []
    if args.curve:
        for customers in CURVE_SIZES:
            rows.append(one_history(truth, 0, customers=customers, explore=CURVE_EXPLORE, uniform=True))
            print(line(rows[-1]), flush=True)
            record_curve(rows)
        return
    run = partial(one_history, truth, customers=16_667, explore=0.2, uniform=False)
    with ProcessPoolExecutor(args.workers) as pool:  # each history seeds itself: order-free
        for row in pool.map(run, range(args.histories)):
            rows.append(row)
            print(line(row), flush=True)
            record_histories(rows, args.histories)


if __name__ == "__main__":
    main()
