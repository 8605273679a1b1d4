"""A pilot designed from a history, run in the TRUE world, and analysed (issue 24), to BENCHMARKS.md.

Per replication r: a business-as-usual history of the synthetic world (seed 100 + r; 16,667
customers x 12 periods = 200k decisions), a world fitted from it, ``pilot plan`` on at most 10%
of the customers, then the pilot itself simulated in the true world at the customers' first
state (each customer's purchase and revenue sampled under its assigned arm; control customers
under business-as-usual), and ``pilot analyze``'s per-arm intervals. Measured: the realised cost
(true expected profit given up against business-as-usual) inside the plan's predicted range,
each arm's interval against its true effect (the mean true gain over its group's pilot
customers), false winners, and the effect each group's pilot could detect.
Not measured here: the refit after the pilot and the gain it buys (the loop is not built).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pilot.py --replications 20 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import fitted_from_history, record  # noqa: E402
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402
from campaign_sim.workflows.pilot import ASSIGNMENT_FILE, PilotSettings, plan_pilot  # noqa: E402
from campaign_sim.workflows.pilot_analysis import _arm_result  # noqa: E402

CUSTOMERS, PERIODS = 16_667, 12


def one_replication(r: int) -> dict:
    start = time.perf_counter()
    seed = 100 + r
    with tempfile.TemporaryDirectory() as tmp:
        _, _, _, fitted = fitted_from_history(Path(tmp), CUSTOMERS, periods=PERIODS, seed=seed)
        plan = plan_pilot(Path(tmp) / "run", PilotSettings(share=0.10), seed=r)
        assignment = pl.read_csv(Path(tmp) / "run" / "pilot" / ASSIGNMENT_FILE)
    truth = SyntheticWorld.create(seed=seed)  # the world and customers run_generate drew
    pop = truth.sample_population(CUSTOMERS, np.random.default_rng(seed))
    state = truth.initial_state(pop)
    ids = assignment.get_column("customer_id").to_numpy().astype(np.int64)
    pilot, pilot_state = pop.subset(ids), state.subset(ids)
    expected = truth.expected_rewards(pilot, pilot_state)  # (n, actions) true expected profit
    bau = business_as_usual(truth)(pilot, pilot_state, truth.allowed_actions(pilot, pilot_state))
    bau_value = (bau * expected).sum(axis=1)
    rng = np.random.default_rng([seed, 0x9173])
    arm_action = {a.label: a.action for a in plan.arms}
    arms = assignment.get_column("arm").to_list()
    chosen = np.array([arm_action.get(a, -1) for a in arms])
    drawn = (rng.random((len(ids), 1)) > np.cumsum(bau, axis=1)).sum(axis=1)  # control: BAU samples
    flat = np.where(chosen >= 0, chosen, np.minimum(drawn, bau.shape[1] - 1))
    outcome, _ = truth.step(pilot, pilot_state, truth.unflatten(flat), rng)
    results = assignment.with_columns(pl.Series("profit", outcome.profit))
    true_gain = expected[np.arange(len(ids)), np.maximum(chosen, 0)] - bau_value
    realised_cost = float(-(true_gain * (chosen >= 0)).sum())
    rows = []
    groups = assignment.get_column("group").to_numpy()
    k = max(len(plan.arms), 1)
    for a in plan.arms:
        in_group = groups == a.group
        # the estimand: the arm's mean true gain over its group's pilot customers
        truth_effect = float((expected[in_group, a.action] - bau_value[in_group]).mean())
        planned = next(g.pilot for g in plan.groups if g.group == a.group)
        result = _arm_result(results, a.group, a.label, plan.settings.alpha / k, planned)
        rows.append(
            {
                "group": a.group,
                "arm": a.label,
                "customers": a.customers,
                "predicted": a.gain,
                "predicted_range": [a.gain_low, a.gain_high],
                "truth_in_predicted_range": bool(a.gain_low <= truth_effect <= a.gain_high),
                "truth": truth_effect,
                "low": result.low,
                "high": result.high,
                "shown": bool(np.isfinite(result.low)),
                "covered": bool(result.low <= truth_effect <= result.high),
                "winner": result.verdict.startswith("better"),
            }
        )
    detectable = [g.detectable for g in plan.groups]
    return {
        "replication": r,
        "pilot_customers": int(len(ids)),
        "arms": rows,
        "cost_predicted": [plan.cost_low, plan.cost, plan.cost_high],
        "cost_realised": realised_cost,
        "cost_inside": bool(plan.cost_low <= realised_cost <= plan.cost_high),
        "mde": plan.mde,
        "median_detectable": float(np.median(detectable)) if detectable else None,
        "median_needed": float(np.median([g.needed for g in plan.groups])) if plan.groups else None,
        "seconds": time.perf_counter() - start,
    }


def summary(rows: list[dict], planned: int) -> dict:
    arms = [a for r in rows for a in r["arms"]]
    shown = [a for a in arms if a["shown"]]
    winners = [a for a in arms if a["winner"]]
    return {
        "replications": len(rows),
        "planned": planned,
        "cost_inside": sum(r["cost_inside"] for r in rows),
        "arms": len(arms),
        "arms_shown": len(shown),
        "arm_coverage": float(np.mean([a["covered"] for a in arms])) if arms else None,
        "arm_coverage_shown": float(np.mean([a["covered"] for a in shown])) if shown else None,
        "winners": len(winners),
        "false_winner_share": float(np.mean([a["truth"] <= 0 for a in winners])) if winners else 0.0,
        "predicted_gain_mean": float(np.mean([a["predicted"] for a in arms])) if arms else None,
        "true_gain_mean": float(np.mean([a["truth"] for a in arms])) if arms else None,
        "truth_in_predicted_range": float(np.mean([a["truth_in_predicted_range"] for a in arms]))
        if arms
        else None,
        "median_detectable": float(
            np.median([r["median_detectable"] for r in rows if r["median_detectable"]])
        ),
        "mde": float(np.mean([r["mde"] for r in rows])),
        "gain_before_pct": None,  # the refit after the pilot is not built: nothing to compare
        "gain_after_pct": None,
        "per_replication": rows,
    }


def write(rows: list[dict], planned: int) -> None:
    s = summary(rows, planned)
    partial = "" if len(rows) == planned else f"**Partial: {len(rows)} of {planned} replications.** "
    table = "\n".join(
        f"| {r['replication']} | {r['pilot_customers']:,} | {len(r['arms'])} | "
        f"{r['cost_realised']:,.0f} in [{r['cost_predicted'][0]:,.0f}, {r['cost_predicted'][2]:,.0f}] "
        f"({'yes' if r['cost_inside'] else 'NO'}) | {r['mde']:.3f} | {r['median_detectable']:.2f} | "
        f"{r['median_needed']:,.0f} | {sum(a['covered'] for a in r['arms'])}/{len(r['arms'])} | "
        f"{sum(a['winner'] for a in r['arms'])} |"
        for r in rows
    )
    md = f"""## Pilot design and analysis in the true world (issue 24): `benchmarks/bench_pilot.py`

{partial}Per replication: a 200k-decision business-as-usual history (seed 100 + r), a fitted world, `pilot plan --share 0.1`, the pilot simulated in the TRUE world at each customer's first state, and the always-valid per-arm intervals of `pilot analyze` (Bonferroni over the arms). "Cost": true expected profit given up against business-as-usual by the pilot's arm customers, against the plan's predicted range (ensemble mean ± 2 sd). "Detectable": the effect per customer each group's pilot detects with 80% power (median over groups), against the minimum effect asked for (20% of BAU's value per customer and period); "needed": the customers a group would need for that effect.

| replication | pilot customers | arms | realised cost in predicted range | MDE asked | detectable | needed per group | arms covered | winners |
|---:|---:|---:|---|---:|---:|---:|---|---:|
{table}

| criterion | measured | floor |
|---|---|---|
| realised cost inside its predicted range | {s["cost_inside"]} of {s["replications"]} | ≥ 18 of 20 |
| per-arm interval coverage (all arms; intervals not yet shown count as covering) | {s["arm_coverage"]} | 93-97% |
| arms with an interval shown (≥ 20 purchases) | {s["arms_shown"]} of {s["arms"]} | - |
| false winners among declarations | {s["false_winner_share"]:.0%} of {s["winners"]} | ≤ 5% |
| arms' predicted gain per customer (mean) against their true gain | {s["predicted_gain_mean"]:+.3f} against {s["true_gain_mean"]:+.3f}; truth inside the arm's predicted range in {s["truth_in_predicted_range"]:.0%} | - |
| gain after the pilot vs before | not measured: the refit loop is not built | margin with interval |

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pilot.py --replications {planned} --workers 2`
"""
    record("pilot", md, s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(one_replication, range(args.replications)):
            rows.append(row)
            print(row["replication"], row["cost_inside"], row["median_detectable"], flush=True)
            write(sorted(rows, key=lambda r: r["replication"]), args.replications)


if __name__ == "__main__":
    main()
