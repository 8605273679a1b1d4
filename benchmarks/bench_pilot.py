"""The pilot loop of issue 24 in the TRUE world, to BENCHMARKS.md.

Per replication r: a business-as-usual history of the synthetic world (seed 100 + r; 16,667
customers x 12 periods = 200k decisions), a world fitted from it, ``pilot plan`` on at most 10%
of the customers; then the pilot is run in the true world as the history's next period (the
true generator run for 13 periods with the same seed: periods 0-11 are the history, checked
equal; in period 12 the pilot customers get their assigned action, where the true world allows
it, everyone else business-as-usual). Measured on the pilot: the realised cost (true expected
profit given up against business-as-usual by the arm customers) against the plan's predicted
range; each arm's always-valid interval (``pilot analyze``) against its true effect (the mean
true gain over its group's pilot customers against the control's drawn business-as-usual);
false winners. Then the loop: ``pilot learn``'s join (the pilot rows with their design
probabilities appended to the history), and the product's recommendation (``run_safety``,
seed r) before (history alone) and after (history and pilot), each evaluated in the true world
on 20,000 paired shoppers over 12 periods against business-as-usual.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pilot.py --replications 20 --workers 2
``--copies``: generated copies adopted as actions before the plan (their own section).
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
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import fitted_from_history, record  # noqa: E402
from campaign_sim.agents.baselines import BusinessAsUsual  # noqa: E402
from campaign_sim.agents.evaluate import make_core, run_policy  # noqa: E402
from campaign_sim.core.runs import RunDir  # noqa: E402
from campaign_sim.data.bandit import _reward, flat_action_labels  # noqa: E402
from campaign_sim.data.log import load_log  # noqa: E402
from campaign_sim.data.text import HashingEncoder  # noqa: E402
from campaign_sim.envs.worlds import ObservedThrough  # noqa: E402
from campaign_sim.simulators.fitted.copy_actions import ADDED_COPIES  # noqa: E402
from campaign_sim.simulators.fitted.world import FittedWorld  # noqa: E402
from campaign_sim.simulators.synthetic.generate import generate_log, write_generated  # noqa: E402
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402
from campaign_sim.workflows.copy_adopt import run_copy_adopt  # noqa: E402
from campaign_sim.workflows.copywriting import (  # noqa: E402
    DEFAULT_PROFILES,
    copy_requests,
    run_copy_generate,
    run_copy_score,
)
from campaign_sim.workflows.pilot import (  # noqa: E402
    ASSIGNMENT_FILE,
    PilotSettings,
    _behaviour,
    _new_copy_actions,
    plan_pilot,
)
from campaign_sim.workflows.pilot_analysis import _arm_result  # noqa: E402
from campaign_sim.workflows.pilot_learning import join_pilot  # noqa: E402
from campaign_sim.workflows.safety import BASELINE, run_safety  # noqa: E402

CUSTOMERS, PERIODS, EVAL_SHOPPERS = 16_667, 12, 20_000
KEY = ["customer_id", "period", "channel", "discount", "copy_id", "conversion", "revenue"]


class PilotPeriod:
    """Business-as-usual for PERIODS periods, then the assignment for its customers; keeps the
    true expected profit of every action and business-as-usual's probabilities at the pilot."""

    def __init__(
        self, truth: SyntheticWorld, ids: np.ndarray, actions: np.ndarray, usual: np.ndarray | None = None
    ) -> None:
        self.truth, self.ids, self.actions, self.calls = truth, ids, actions, 0
        self.bau = business_as_usual(truth)
        self.usual = usual  # (n_actions,) what business-as-usual may send: never an adopted copy
        self.expected = self.bau_probs = self.sent = None

    def __call__(self, pop, state, allowed):
        usual = allowed if self.usual is None else allowed & self.usual[None, :]
        probs = self.bau(pop, state, usual)
        self.calls += 1
        if self.calls <= PERIODS:
            return probs
        ids, actions = self.ids, self.actions
        self.expected = self.truth.expected_rewards(pop.subset(ids), state.subset(ids))
        self.bau_probs = probs[ids].copy()
        self.sent = allowed[ids, actions]  # the true world refuses some (an unsubscribed channel)
        probs[ids[self.sent]] = 0.0
        probs[ids[self.sent], actions[self.sent]] = 1.0
        return probs


def true_gain(truth: SyntheticWorld, result, base_cache: dict) -> float:
    """The recommendation's true expected profit per shopper over business-as-usual (12 periods)."""
    if result.recommended == BASELINE:
        return 0.0
    core = make_core(ObservedThrough(truth, result.fit_world), EVAL_SHOPPERS)
    base = run_policy(BusinessAsUsual(truth), core, seed=7).expected_profit
    base_cache["value"] = float(base.mean())
    return float(
        (run_policy(result.policies[result.recommended], core, seed=7).expected_profit - base).mean()
    )


def one_replication(r: int, copies: bool = False) -> dict:
    start = time.perf_counter()
    seed = 100 + r
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generated, config, _, fitted = fitted_from_history(tmp, CUSTOMERS, periods=PERIODS, seed=seed)
        history_config = config
        truth = before_truth = SyntheticWorld.create(seed=seed)
        if copies:  # generated copies adopted as actions: the truth values the same texts
            fitted, config, truth = adopt_generated_copies(tmp, generated, truth, seed=seed)
        plan = plan_pilot(tmp / "run", PilotSettings(share=0.10), seed=r)
        assignment = pl.read_csv(tmp / "run" / "pilot" / ASSIGNMENT_FILE)
        ids = assignment.get_column("customer_id").to_numpy().astype(np.int64)
        labels = list(flat_action_labels(config))
        flat = np.array([labels.index(a) for a in assignment.get_column("action").to_list()])
        period = PilotPeriod(truth, ids, flat, ~_new_copy_actions(fitted) if copies else None)
        full = generate_log(truth, customers=CUSTOMERS, periods=PERIODS + 1, seed=seed, policy=period)
        paths = write_generated(
            tmp / "with_pilot", truth, full, seed=seed, customers=CUSTOMERS, periods=PERIODS + 1
        )
        rows = pl.read_parquet(paths["log"])
        history = pl.read_parquet(generated.paths["log"])
        if not rows.filter(pl.col("period") < PERIODS).select(KEY).equals(history.select(KEY)):
            raise RuntimeError(
                "the 13-period run does not repeat the history: the pilot is not its next period"
            )
        pilot_rows = rows.filter((pl.col("period") == PERIODS) & pl.col("customer_id").is_in(list(ids)))
        pilot_rows.write_parquet(tmp / "pilot.parquet")
        joined = join_pilot(tmp / "run", history=generated.paths["log"], pilot_log=tmp / "pilot.parquet")
        before = run_safety(load_log(generated.paths["log"], history_config), seed=r)
        after = run_safety(load_log(joined.path, joined.config), seed=r)
        base = {}
        gain_before, gain_after = true_gain(before_truth, before, base), true_gain(truth, after, base)
        if "value" not in base:
            core = make_core(ObservedThrough(before_truth, before.fit_world), EVAL_SHOPPERS)
            base["value"] = float(
                run_policy(BusinessAsUsual(before_truth), core, seed=7).expected_profit.mean()
            )
        sent = load_log(tmp / "pilot.parquet", config).frame
        profit = pl.DataFrame(
            {
                "customer_id": sent.get_column("customer_id").cast(pl.Int64),
                "profit": _reward(sent, config, "profit"),
            }
        )
        pilot = _pilot_result(plan, assignment, period, profit, fitted)
    return {
        "replication": r,
        **pilot,
        "left_out": joined.left_out,
        "before": {
            "recommended": before.recommended,
            "go": bool(before.go),
            "gate": [before.gate.low, before.gate.high],
        },
        "after": {
            "recommended": after.recommended,
            "go": bool(after.go),
            "gate": [after.gate.low, after.gate.high],
        },
        "baseline_value": base["value"],
        "gain_before": gain_before,
        "gain_after": gain_after,
        "gain_before_pct": 100 * gain_before / base["value"],
        "gain_after_pct": 100 * gain_after / base["value"],
        "seconds": time.perf_counter() - start,
    }


def adopt_generated_copies(tmp: Path, generated, truth: SyntheticWorld, *, seed: int):
    """Template copies per (profile, offer, channel), scored in the fitted world, each profile's
    best adopted (`copy adopt`); the truth extended with the same texts. Returns (fitted world,
    run config, truth)."""
    history = pl.read_parquet(generated.paths["log"])
    requests = copy_requests(DEFAULT_PROFILES, discounts=(0.0, 0.1), channels=("email", "push"), per_offer=2)
    library = run_copy_generate(tmp / "copy", requests=requests, generator="template", seed=seed).path
    run_copy_score(tmp / "run" / "world", library, history=history)
    run_copy_adopt(tmp / "run" / "world", library, encoder=HashingEncoder(), per_group=1)
    fitted = FittedWorld.load(tmp / "run" / "world")
    texts = {c["copy_id"]: c["text"] for c in fitted.metadata[ADDED_COPIES]}
    embeddings = HashingEncoder().encode(list(texts.values())).astype(np.float64)
    return fitted, RunDir(tmp / "run").load_config(), truth.with_copies(texts, embeddings)


def _pilot_result(plan, assignment: pl.DataFrame, period: PilotPeriod, profit: pl.DataFrame, fitted) -> dict:
    """Cost, per-arm intervals and truths of the pilot as run (customers sent as assigned)."""
    sent = period.sent
    expected, bau_value = period.expected, (period.bau_probs * period.expected).sum(axis=1)
    population_rows = _population_rows(fitted, assignment.get_column("customer_id").to_numpy())
    control_value = (_behaviour(fitted, population_rows) * expected).sum(axis=1)
    arm_action, new_copy = {a.label: a.action for a in plan.arms}, _new_copy_actions(fitted)
    chosen = np.array([arm_action.get(a, -1) for a in assignment.get_column("arm").to_list()])
    on_arm = (chosen >= 0) & sent
    true_gain_rows = expected[np.arange(len(chosen)), np.maximum(chosen, 0)] - bau_value
    results = assignment.filter(pl.Series(sent)).join(profit, on="customer_id")  # sent as assigned
    groups = assignment.get_column("group").to_numpy()
    k, arms = max(len(plan.arms), 1), []
    for a in plan.arms:
        in_group = (groups == a.group) & sent
        truth = float((expected[in_group, a.action] - control_value[in_group]).mean())
        planned = next(g.pilot for g in plan.groups if g.group == a.group)
        result = _arm_result(results, a.group, a.label, plan.settings.alpha / k, planned)
        arms.append(
            {
                "group": a.group,
                "arm": a.label,
                "customers": a.customers,
                "predicted": a.gain,
                "predicted_range": [a.gain_low, a.gain_high],
                "truth_in_predicted_range": bool(a.gain_low <= truth <= a.gain_high),
                "truth": truth,
                "low": result.low,
                "high": result.high,
                "shown": bool(np.isfinite(result.low)),
                "covered": bool(result.low <= truth <= result.high),
                "winner": result.verdict.startswith("better"),
                "new_copy": bool(new_copy[a.action]),
            }
        )
    realised_cost = float(-(true_gain_rows * on_arm).sum())
    detectable = [g.detectable for g in plan.groups]
    return {
        "pilot_customers": int(len(chosen)),
        "sent_as_assigned": int(sent.sum()),
        "arms": arms,
        "cost_predicted": [plan.cost_low, plan.cost, plan.cost_high],
        "cost_realised": realised_cost,
        "cost_inside": bool(plan.cost_low <= realised_cost <= plan.cost_high),
        "mde": plan.mde,
        "median_detectable": float(np.median(detectable)) if detectable else None,
        "median_needed": float(np.median([g.needed for g in plan.groups])) if plan.groups else None,
    }


def _population_rows(fitted, customer_ids: np.ndarray) -> np.ndarray:
    ids = fitted.population.get_column("customer_id").cast(pl.Int64).to_numpy()
    where = {int(c): i for i, c in enumerate(ids)}
    return np.array([where[int(c)] for c in customer_ids])


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
        "gain_before_pct": float(np.mean([r["gain_before_pct"] for r in rows])),
        "gain_after_pct": float(np.mean([r["gain_after_pct"] for r in rows])),
        "gain_margin_pct": _paired([r["gain_after_pct"] - r["gain_before_pct"] for r in rows]),
        "go_before": sum(r["before"]["go"] for r in rows),
        "go_after": sum(r["after"]["go"] for r in rows),
        "left_out": sum(r["left_out"] for r in rows),
        **copy_figures(),
        "per_replication": rows,
    }


def copy_figures() -> dict:
    """The issue's copy criteria, as bench_llm.py measured them (its results file)."""
    path = Path(__file__).parent / "results" / "llm.json"
    measured = json.loads(path.read_text())["text_aware"] if path.exists() else {}
    return {
        "copy_spearman": measured.get("spearman_unseen_visit"),
        "copy_coverage": measured.get("copy_coverage_visit"),
        "copy_coverage_profit": measured.get("copy_coverage_profit"),
        "profile_winner_cosine": measured.get("profile_winner_cosine"),
        "copy_source": "benchmarks/results/llm.json (bench_llm.py)",
    }


def _paired(differences: list[float]) -> list[float]:
    """Mean and normal 95% interval of the per-replication differences."""
    d = np.asarray(differences, dtype=np.float64)
    half = 1.96 * d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("inf")
    return [float(d.mean()), float(d.mean() - half), float(d.mean() + half)]


def write(rows: list[dict], planned: int) -> None:
    s = summary(rows, planned)
    partial = "" if len(rows) == planned else f"**Partial: {len(rows)} of {planned} replications.** "
    table = "\n".join(
        f"| {r['replication']} | {r['pilot_customers']:,} | {len(r['arms'])} | "
        f"{r['cost_realised']:,.0f} in [{r['cost_predicted'][0]:,.0f}, {r['cost_predicted'][2]:,.0f}] "
        f"({'yes' if r['cost_inside'] else 'NO'}) | {r['mde']:.3f} | {r['median_detectable']:.2f} | "
        f"{r['median_needed']:,.0f} | {sum(a['covered'] for a in r['arms'])}/{len(r['arms'])} | "
        f"{sum(a['winner'] for a in r['arms'])} | {r['before']['recommended']} "
        f"({'GO' if r['before']['go'] else 'NO-GO'}) {r['gain_before_pct']:+.2f}% | {r['after']['recommended']} "
        f"({'GO' if r['after']['go'] else 'NO-GO'}) {r['gain_after_pct']:+.2f}% |"
        for r in rows
    )
    md = f"""## Pilot design and analysis in the true world (issue 24): `benchmarks/bench_pilot.py`

{partial}Per replication: a 200k-decision business-as-usual history (seed 100 + r), a fitted world, `pilot plan --share 0.1`, the pilot run in the TRUE world as the history's next period (period 12; customers the true world will not send their assigned action are left out), the always-valid per-arm intervals of `pilot analyze` (Bonferroni over the arms), then `pilot learn`'s join and the product's recommendation (`run_safety`, seed r) before and after the pilot, each evaluated in the true world on 20,000 paired shoppers over 12 periods ("gain": true expected profit per shopper over business-as-usual, % of its value; business-as-usual recommended = 0). "Cost": true expected profit given up against business-as-usual by the pilot's arm customers, against the plan's predicted range (per arm: the ensemble's 2 sd and 2σ/√(n+1) for the cell's n logged decisions, in quadrature). "Detectable": the effect per customer each group's pilot detects with 80% power (median over groups), against the minimum effect asked for (20% of BAU's value per customer and period); "needed": the customers a group would need for that effect.

| replication | pilot customers | arms | realised cost in predicted range | MDE asked | detectable | needed per group | arms covered | winners | before the pilot | after the pilot |
|---:|---:|---:|---|---:|---:|---:|---|---:|---|---|
{table}

| criterion | measured | floor |
|---|---|---|
| realised cost inside its predicted range | {s["cost_inside"]} of {s["replications"]} | ≥ 18 of 20 |
| per-arm interval coverage (all arms; intervals not yet shown count as covering) | {s["arm_coverage"]} | 93-97% |
| arms with an interval shown (≥ 20 purchases) | {s["arms_shown"]} of {s["arms"]} | - |
| false winners among declarations | {s["false_winner_share"]:.0%} of {s["winners"]} | ≤ 5% |
| arms' predicted gain per customer (mean) against their true gain | {s["predicted_gain_mean"]:+.3f} against {s["true_gain_mean"]:+.3f}; truth inside the arm's predicted range in {s["truth_in_predicted_range"]:.0%} | - |
| true gain of the recommendation, before → after the pilot (means) | {s["gain_before_pct"]:+.2f}% → {s["gain_after_pct"]:+.2f}%; GO {s["go_before"]} → {s["go_after"]} of {s["replications"]} | - |
| margin after − before (paired over replications, normal 95%) | {s["gain_margin_pct"][0]:+.2f} points [{s["gain_margin_pct"][1]:+.2f}, {s["gain_margin_pct"][2]:+.2f}] | large, with its interval |
| pilot rows the true world would not send as assigned (left out) | {s["left_out"]} | - |
| copy: Spearman of predicted vs true visit lift, 20 unseen copies (bench_llm) | {s["copy_spearman"]} | ≥ 0.8 |
| copy: their 95% intervals cover the true lift (visit; profit) | {s["copy_coverage"]:.0%}; {s["copy_coverage_profit"]:.0%} | ≥ 90% |
| copy: mean pairwise MiniLM cosine of the per-profile winners | {s["profile_winner_cosine"]} | lower = more distinct |

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pilot.py --replications {planned} --workers 2`
"""
    record("pilot", md, s)


def write_copies(rows: list[dict], planned: int) -> None:
    """The loop with generated copies adopted as actions (``--copies``): its own section."""
    s = summary(rows, planned)
    new = [a for r in rows for a in r["arms"] if a["new_copy"]]
    s["new_copy_arms"] = {
        "arms": len(new),
        "coverage": float(np.mean([a["covered"] for a in new])) if new else None,
        "truth_in_predicted_range": float(np.mean([a["truth_in_predicted_range"] for a in new]))
        if new
        else None,
        "predicted_mean": float(np.mean([a["predicted"] for a in new])) if new else None,
        "truth_mean": float(np.mean([a["truth"] for a in new])) if new else None,
        "winners": sum(a["winner"] for a in new),
        "false_winners": sum(a["winner"] and a["truth"] <= 0 for a in new),
    }
    c, partial = (
        s["new_copy_arms"],
        "" if len(rows) == planned else f"**Partial: {len(rows)} of {planned}.** ",
    )
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    md = f"""## The pilot loop with generated copies as actions (issue 24): `benchmarks/bench_pilot.py --copies`

{partial}As the section above, with one step more before the plan: template copies per (profile, offer, channel) (5 profiles x full price and 10% x e-mail and push x 2 angles), scored in the fitted world, each profile's best adopted as an action (`copy adopt`: only the offers and channels its guardrails pass, only to its profile); the true world values the same texts through their embeddings, business-as-usual never sends them, and `pilot plan` keeps one arm per group for such a copy. Replications: {s["replications"]} (seeds 100 + r).

| criterion | all arms | arms sending an adopted copy |
|---|---|---|
| arms | {s["arms"]} | {c["arms"]} |
| per-arm always-valid interval covers the true effect | {fmt(s["arm_coverage"], ".0%")} | {fmt(c["coverage"], ".0%")} |
| truth inside the plan's predicted range | {fmt(s["truth_in_predicted_range"], ".0%")} | {fmt(c["truth_in_predicted_range"], ".0%")} |
| predicted gain per customer (mean) against the true gain | {fmt(s["predicted_gain_mean"], "+.3f")} against {fmt(s["true_gain_mean"], "+.3f")} | {fmt(c["predicted_mean"], "+.3f")} against {fmt(c["truth_mean"], "+.3f")} |
| winners declared (false: not truly better) | {s["winners"]} ({s["false_winner_share"]:.0%} false) | {c["winners"]} ({c["false_winners"]} false) |
| realised cost inside its predicted range | {s["cost_inside"]} of {s["replications"]} | - |
| true gain of the recommendation, before → after the pilot (means) | {s["gain_before_pct"]:+.2f}% → {s["gain_after_pct"]:+.2f}%; GO {s["go_before"]} → {s["go_after"]} | - |

Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pilot.py --copies --replications {planned} --workers 2`
"""
    record("pilot_copies", md, s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rewrite", action="store_true", help="rewrite the section from results/pilot.json")
    parser.add_argument("--copies", action="store_true", help="adopt generated copies before the plan")
    args = parser.parse_args()
    if args.rewrite:  # e.g. after bench_llm.py recorded new copy figures
        recorded = json.loads((Path(__file__).parent / "results" / "pilot.json").read_text())
        write(recorded["per_replication"], recorded["planned"])
        return
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(partial(one_replication, copies=args.copies), range(args.replications)):
            rows.append(row)
            print(
                row["replication"],
                row["cost_inside"],
                f"{row['gain_before_pct']:+.2f}% -> {row['gain_after_pct']:+.2f}%",
                f"{row['seconds']:.0f} s",
                flush=True,
            )
            (write_copies if args.copies else write)(
                sorted(rows, key=lambda r: r["replication"]), args.replications
            )


if __name__ == "__main__":
    main()
