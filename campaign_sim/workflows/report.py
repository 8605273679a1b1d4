"""Assemble a run's strategy report: every number shown is gathered here into ``summary.json``.

Sources inside the run: the training evaluation (policies with paired intervals), the
per-shopper episodes (risk), the fitted world (fidelity, copy scores, population), the
tensorboard logs (learning curves), the resolved config. The strategy pages replay the
recommended policy and business-as-usual on the same simulated shoppers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.agents.baselines import MyopicPolicy
from campaign_sim.agents.sb3_agents import ALGORITHMS, check_agent_file
from campaign_sim.core.atomic import swap_dir
from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import read_json
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir
from campaign_sim.data.bandit import flat_action_labels
from campaign_sim.data.log import CampaignLog
from campaign_sim.envs.worlds import settings_from
from campaign_sim.ope.gate import MIN_GAIN
from campaign_sim.reports.render import render_report
from campaign_sim.reports.summary import Headline, PolicyRow, ReportSummary, Verdict
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.workflows.evaluation import EVALUATION_FILE, ZERO, Evaluation, PolicyResult
from campaign_sim.workflows.log_buckets import estimation_sample, sample_note
from campaign_sim.workflows.offpolicy import OffPolicyResult, offpolicy_evaluate
from campaign_sim.workflows.pilot import PilotSettings
from campaign_sim.workflows.strategy import rebuild_policy, strategy_mix
from campaign_sim.workflows.train import BASELINE_BAU

WHERE_LABELS = {
    "world": "simulated: fitted world",
    "true_world": "simulated: true world",
    "logged": "off-policy: logged history",
}
_REPLAYED = ("random", "contact-nobody")  # replayed off-policy beside the recommended policy and the rules
NOT_DEPLOYABLE = ("oracle", "random")  # know the truth / are a floor, never recommended
RISK_CAMPAIGNS, RISK_SHOPPERS = 2_000, 1_000


def run_report(run_dir: str | Path, *, seed: int = 0) -> dict[str, Path]:
    """Write ``run_dir/report/{report.pdf, *.png, summary.json}``."""
    run = RunDir(Path(run_dir))
    with run_lock(run.root):
        summary = build_summary(run, seed=seed)
        with swap_dir(run.report) as staging:  # the pages, PNGs and summary replace the old ones whole
            written = render_report(summary, staging)
        return {name: run.report / path.name for name, path in written.items()}


def check_agents(run: RunDir) -> None:
    """Every agent of the run, refused whole if any was tampered with (the report shows them all)."""
    for meta_path in sorted(run.agents.glob("*/agent.json")) if run.agents.is_dir() else []:
        algo = read_json(meta_path).get("algo")
        if algo not in ALGORITHMS:
            raise InputError(f"{meta_path}: field 'algo' is {algo!r}; expected one of {list(ALGORITHMS)}")
        check_agent_file(algo, meta_path.parent / "model.zip")


def build_summary(run: RunDir, *, seed: int) -> ReportSummary:
    path = run.evaluations / EVALUATION_FILE
    if not path.exists():
        raise InputError(f"{run.root}: no {path.name} (run `campaign-sim train --out {run.root}` first)")
    evaluation = Evaluation.load(path)
    check_agents(run)
    where, table = evaluation.shown
    reference = table.reference
    if reference is None:
        raise InputError(f"{path}: no business-as-usual or rule baseline was evaluated to compare against")
    # chosen by what a user can know (the world it was trained in); the true world, when there is
    # one, only validates the choice
    trained = evaluation.evaluated_in["world"]
    recommended = _recommend(trained.policies, trained.reference or reference)
    rec, base = table.policies[recommended], table.policies[reference]
    world = FittedWorld.load(run.world) if (run.world / "world.json").exists() else None
    population = (
        world.population.height if world is not None and world.population is not None else evaluation.shoppers
    )
    config = run.load_config()
    strategy = strategy_mix(run, evaluation, recommended, reference, world, seed=seed)
    held_out = _held_out_source(run, world)
    log, sample = _log_for_estimates(held_out, world)
    offpolicy = _offpolicy(run, world, log, recommended, config, seed=seed) if log is not None else None
    if offpolicy is not None:
        offpolicy["held_out"] = held_out is not None
        if sample is not None:
            offpolicy["warnings"].append(sample_note(sample))
    safety = _read_json(run.safety / "safety.json")
    verdict = _verdict(evaluation, recommended, offpolicy)
    if world is not None and log is None:  # a GO never stands on evidence that could not be read
        verdict = {
            **verdict,
            "verdict": "NO-GO",
            "reasons": [
                f"the log this world was fitted from ({world.metadata.get('source')}) cannot be read: "
                "without the off-policy check on it the verdict cannot be GO",
                *verdict["reasons"],
            ],
        }
    return {
        "title": config.name or run.root.name,
        "domain": _domain(config, world),
        "seed": seed,
        "recommended": recommended,
        "baseline": reference,
        "evaluated_where": "in the true synthetic world"
        if where == "true_world"
        else f"in {evaluation.trained_in}",
        "horizon": config.constraints.horizon,
        "shoppers": evaluation.shoppers,
        "seeds": evaluation.seeds,
        "verdict": _safety_verdict(safety, verdict) if safety else verdict,
        "safety": safety,
        "headline": _headline(rec, base, population),
        "policies": _policy_rows(evaluation, offpolicy),
        "strategy": strategy,
        "copy": _copy(run),
        "pilot": _pilot(run),
        "risk": _risk(run, where, recommended, reference, seed=seed),
        "evidence": {
            "fidelity": _read_json(run.world / "fidelity.json"),
            "learning_curves": _learning_curves(run.root / "tensorboard"),
            "ope": _ope_evidence(offpolicy, recommended),
        },
        "data": _data(world, log),
        "support": _support(world),
        "assumptions": [
            "profit = revenue x (margin - discount) - contact cost; values use revenue at its expectation "
            "given the response (the same value, far less noise)",
            *(world.metadata.get("assumptions", []) if world is not None else []),
            "policies in a fitted world train against a pessimism penalty (lambda x ensemble disagreement)",
        ],
        "config_toml": run.config_path.read_text(encoding="utf-8") if run.config_path.exists() else "",
    }


def _recommend(policies: dict[str, PolicyResult], reference: str) -> str:
    """The best deployable policy by expected profit (agents, bandits, rules; never an oracle)."""
    candidates = {
        n: r
        for n, r in policies.items()
        if not n.startswith(NOT_DEPLOYABLE) and n not in (reference, BASELINE_BAU)
    }
    if not candidates:
        raise InputError("no candidate policy besides the baseline was evaluated: nothing to recommend")
    return max(candidates, key=lambda n: candidates[n]["expected_profit"].mean)


def _verdict(evaluation: Evaluation, recommended: str, offpolicy: OffPolicyResult | None) -> Verdict:
    """GO when the paired 95% interval of (recommended - baseline) is above zero in every
    world it was evaluated in (the fitted world under its pessimism penalty, and the true
    world when the history was generated from one) AND the off-policy launch gate on the
    logged history passes (difference above zero, enough effective campaigns)."""
    reasons, go = [], True
    compared = False
    for place, table in evaluation.evaluated_in.items():
        label = "the true world" if place == "true_world" else "the world it was trained in"
        row = table.policies.get(recommended)
        diff = row.vs_reference if row is not None else None
        if diff is None:
            reasons.append(f"in {label}: {recommended} was not compared with a baseline there")
            continue
        above = diff.low > MIN_GAIN
        go &= above
        compared = True
        reasons.append(
            f"in {label}: recommended - {table.reference} = {_signed(diff.mean)} "
            f"[{_signed(diff.low)}, {_signed(diff.high)}] per customer, lower bound "
            f"{'above' if above else 'not above'} zero"
        )
    go &= compared
    gate = (offpolicy or {}).get("policies", {}).get(recommended, {}).get("verdict")
    if gate is None:
        reasons.append("off-policy check on the logged history: no log beside the world; simulation only")
        basis = "paired simulated difference"
    else:
        go &= gate["verdict"] == "GO"
        d = gate["difference"]
        on = (
            f"the held-out log {offpolicy['source']}"
            if offpolicy.get("held_out")
            else "the log the world was fitted from (not held out: `evaluate --policy --logs` takes one)"
        )
        reasons.append(
            f"off-policy launch gate on {on}: recommended - logged policy by "
            f"{gate['estimator']} = {_signed(d['value'])} [{_signed(d['low'])}, {_signed(d['high'])}] "
            f"per customer -> {gate['verdict']}"
        )
        reasons += [f"  {r}" for r in gate["reasons"]]
        basis = "paired simulated difference and the off-policy launch gate"
    return {"verdict": "GO" if go else "NO-GO", "reasons": reasons, "basis": basis}


def _safety_verdict(safety: dict[str, Any], simulated: Verdict) -> Verdict:
    """The held-out gate decides (``campaign-sim recommend``); the simulation is context."""
    gate = safety["gate"]
    decided = (
        f"held-out launch gate ({gate['policy']} - business-as-usual, on {safety['customers']['gate']:,} "
        f"customers that neither fitted nor chose it): {gate['text']} -> {safety['verdict']}"
        if safety["candidate"] != "business-as-usual"
        else f"no candidate's gain cleared zero on the {safety['customers']['select']:,} selection "
        "customers: business-as-usual stays (NO-GO)"
    )
    reasons = [
        decided,
        "simulation (not the launch basis):",
        *[f"  {r}" for r in simulated["reasons"]],
    ]
    return {
        "verdict": safety["verdict"],
        "reasons": reasons,
        "basis": "held-out off-policy gate",
        "launch": safety["recommended"],
    }


def _held_out_source(run: RunDir, world: FittedWorld | None) -> str | None:
    """A log other than the world's own that `evaluate --policy --logs` was given: the report's
    off-policy numbers come from it (data that neither fitted the world nor trained the agents)."""
    if world is None:
        return None
    fitted_from = world.metadata.get("source")
    for path in sorted(run.evaluations.glob("ope_*.json")):
        source = _read_json(path).get("source")
        if source and source != fitted_from and Path(source).is_file():
            return source
    return None


def _log_for_estimates(
    held_out: str | None, world: FittedWorld | None
) -> tuple[CampaignLog | None, dict | None]:
    """The held-out log, else the one the world was fitted from, read through its config (a
    customer sample of a long one: ``log_buckets.estimation_sample``); None without either."""
    source = held_out or (world.metadata.get("source") if world is not None else None)
    if world is None or not source or (held_out is None and not Path(source).exists()):
        return None, None  # a fitted-from log that moved: the verdict says so
    return estimation_sample(source, world)


def _signed(value: float) -> str:
    """+0.123, or +1.23e-05 where three decimals would read as zero."""
    return f"{value:+.3f}" if abs(value) >= 0.001 or value == 0 else f"{value:+.2e}"


def _offpolicy(
    run: RunDir, world, log: CampaignLog, recommended: str, config, *, seed: int
) -> OffPolicyResult:
    """The recommended policy and the cheap baselines on the logged history the world was fitted
    from. Myopic greedy joins only when recommended, and without sequential DR (it queries the
    model per action, so simulating from every logged state costs minutes); online bandits are
    not saved, so they are not replayed."""
    names = [recommended, *(n for n in _REPLAYED if n != recommended)]
    names += [r for r in (f"rule:{rule.name}" for rule in config.rules) if r not in names]
    policies = {}
    for name in names:
        try:
            policies[name] = rebuild_policy(run, name, world, config, world)
        except (InputError, StopIteration):
            continue
    settings = settings_from(world.config, fitted=True, pessimism=0.0)
    costly = tuple(name for name, p in policies.items() if isinstance(p, MyopicPolicy))
    return offpolicy_evaluate(policies, log, world, settings, seed=seed, model_free=costly)


def _policy_rows(evaluation: Evaluation, offpolicy: OffPolicyResult | None) -> list[PolicyRow]:
    """Simulated values per world, then the off-policy estimates (the gate's estimator)."""
    rows = [
        {"policy": name, "where": WHERE_LABELS[place], **row["expected_profit"].to_json()}
        for place, t in evaluation.evaluated_in.items()
        for name, row in sorted(t.policies.items(), key=lambda kv: -kv[1]["expected_profit"].mean)
    ]
    if offpolicy is None:
        return rows
    logged = offpolicy["logged_policy_value"]
    for row in rows:
        found = offpolicy["policies"].get(row["policy"])
        if found is not None:
            estimator = found["verdict"]["estimator"]
            e, d = found["estimates"][estimator], found["diagnostics"]
            row["off_policy"] = (
                f"{estimator} {e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}] ESS {d['ess']:,.0f}"
            )
    rows.append(
        {
            "policy": BASELINE_BAU,
            "where": WHERE_LABELS["logged"],
            "mean": logged["value"],
            "low": logged["low"],
            "high": logged["high"],
        }
    )
    rows += [
        {
            "policy": name,
            "where": WHERE_LABELS["logged"],
            "mean": e["value"],
            "low": e["low"],
            "high": e["high"],
        }
        for name, found in offpolicy["policies"].items()
        for e in [found["estimates"][found["verdict"]["estimator"]]]
    ]
    return rows


def _ope_evidence(offpolicy: OffPolicyResult | None, recommended: str) -> dict[str, str] | None:
    if offpolicy is None or recommended not in offpolicy["policies"]:
        return None
    row = offpolicy["policies"][recommended]
    d = row["diagnostics"]
    return {
        "log": f"{offpolicy['campaigns']:,} campaigns x {offpolicy['periods']} periods, propensities "
        f"{offpolicy['propensities']}",
        "estimates": "; ".join(
            f"{k} {e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}]" for k, e in row["estimates"].items()
        ),
        "effective campaigns (ESS)": f"{d['ess']:,.1f} of {d['rows']:,}",
        "weights": f"max {d['max_weight']:.3g}, mean {d['mean_weight']:.3f} (near 1 when the log covers it)",
        "logged decisions the policy never takes": f"{d['zero_probability_share']:.1%}",
        "launch gate": row["verdict"]["verdict"],
        **({"warning": " ".join(offpolicy["warnings"])} if offpolicy["warnings"] else {}),
    }


def _domain(config, world: FittedWorld | None) -> dict[str, Any]:
    """What the log can speak about: lines on discounts or unsubscribes are shown only where the
    campaign has discounts / the log observed unsubscribes (else they would be priors alone)."""
    return {
        "discounts": any(d > 0 for d in config.actions.discounts),
        "unsubscribes": world is None or world.has_unsubscribe,  # the synthetic world simulates them
        "copies": len(config.actions.copies) > 1,
        # the log's own names for the outcomes (a "visit" may be a vote)
        "outcome_names": {c: config.data.columns.get(c, c) for c in ("visit", "conversion")},
    }


def _headline(rec: PolicyResult, base: PolicyResult, population: int) -> Headline:
    spend = rec["discount_cost"].mean + rec["contact_cost"].mean
    diff = rec.vs_reference or ZERO
    return {
        "profit": rec["expected_profit"].to_json(),
        "baseline_profit": base["expected_profit"].to_json(),
        "difference": diff.to_json(),
        "population": population,
        "total_profit": rec["expected_profit"].mean * population,
        "baseline_total": base["expected_profit"].mean * population,
        "total_difference": diff.mean * population,
        "discount_cost": rec["discount_cost"].mean,
        "baseline_discount_cost": base["discount_cost"].mean,
        "contact_cost": rec["contact_cost"].mean,
        "baseline_contact_cost": base["contact_cost"].mean,
        "roi": rec["expected_profit"].mean / spend if spend > 0 else 0.0,
        "unsubscribes": rec["unsubscribes"].mean,
        "baseline_unsubscribes": base["unsubscribes"].mean,
    }


def _risk(run: RunDir, where: str, recommended: str, reference: str, *, seed: int) -> dict[str, Any]:
    """Campaign profit for RISK_SHOPPERS shoppers, resampled (paired) from the simulated shoppers."""
    episodes = pl.read_parquet(run.evaluations / "train_episodes.parquet").filter(
        pl.col("evaluated_in") == where
    )
    rng = np.random.default_rng(seed)
    samples, cvar, mean = {}, {}, {}
    per = {
        n: episodes.filter((pl.col("policy") == n) & (pl.col("seed") == 0)).get_column("profit").to_numpy()
        for n in (recommended, reference)
    }
    index = rng.integers(0, len(per[reference]), size=(RISK_CAMPAIGNS, RISK_SHOPPERS))
    for name, values in per.items():
        totals = values[index].sum(axis=1)
        samples[name] = np.round(totals, 2).tolist()
        worst = np.sort(totals)[: max(1, RISK_CAMPAIGNS // 20)]
        cvar[name], mean[name] = float(worst.mean()), float(totals.mean())
    worse = float((per[recommended][index].sum(axis=1) < per[reference][index].sum(axis=1)).mean())
    return {
        "campaigns": RISK_CAMPAIGNS,
        "campaign_shoppers": RISK_SHOPPERS,
        "seed": seed,
        "samples": samples,
        "cvar5": cvar,
        "mean": mean,
        "p_worse_than_baseline": {recommended: worse},
    }


def _copy(run: RunDir) -> dict[str, Any]:
    path = run.world / "copy_scores.parquet"
    if not path.exists():
        return {"top": [], "library": None, "copies": 0, "generator": None}
    scores = pl.read_parquet(path)
    top = scores.filter(pl.col("rank") <= 2).sort("group", "rank")
    meta = _read_json(run.root / "copy" / "copy_generation.json") or {}
    return {
        "top": top.select(
            "group", "rank", "copy_id", "text", "profit_lift", "profit_low", "profit_high", "visit_lift"
        ).to_dicts(),
        "library": meta.get("library", "copy library"),
        "copies": scores.get_column("copy_id").n_unique(),
        "generator": meta.get("generator", "unknown"),
    }


def _pilot(run: RunDir) -> dict[str, Any] | None:
    """`pilot plan` (and `pilot analyze`, when run) for the pilot page; None without a plan."""
    folder = run.root / "pilot"
    if not (folder / "plan.json").exists():
        return None
    analysis = folder / "analysis.json"
    return {
        "plan": read_json(folder / "plan.json"),
        "analysis": read_json(analysis) if analysis.exists() else None,
    }


def _learning_curves(folder: Path) -> dict[str, dict[str, list[float]]]:
    """rollout/ep_rew_mean per training run, from the tensorboard event files."""
    if not folder.exists():
        return {}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    curves = {}
    for run in sorted(p for p in folder.iterdir() if p.is_dir()):
        events = EventAccumulator(str(run), size_guidance={"scalars": 0}).Reload()
        if "rollout/ep_rew_mean" in events.Tags().get("scalars", []):
            points = events.Scalars("rollout/ep_rew_mean")
            curves[run.name] = {
                "steps": [p.step for p in points],
                "reward": [round(p.value, 4) for p in points],
            }
    return curves


def _support(world: FittedWorld | None) -> dict[str, Any] | None:
    """The support table for the data page: groups x the actions the log ever took."""
    table = world.support_table if world is not None else None
    if table is None:
        return None
    used = np.flatnonzero(table.decisions.sum(axis=0) > 0)
    labels = flat_action_labels(world.config)
    return {
        "groups": table.group_names(),
        "actions": [labels[a] for a in used],
        "decisions": table.decisions[:, used].tolist(),
        "n_min": PilotSettings().n_min,  # below it a cell is unproven: a pilot arm, not a launch
    }


def _data(world: FittedWorld | None, log: CampaignLog | None) -> dict[str, Any]:
    source = world.metadata.get("source") if world is not None else None
    if log is None:
        return {
            "source": source or "unknown",
            "rows": 0,
            "customers": 0,
            "periods": 0,
            "contact_share": 0.0,
            "visit_rate": 0.0,
            "conversion_rate": 0.0,
        }
    row = log.frame.select(
        pl.len().alias("rows"),
        pl.col("customer_id").n_unique().alias("customers"),
        pl.col("period").n_unique().alias("periods"),
        (pl.col("channel") != "none").mean().alias("contact_share"),
        pl.col("visit").mean().alias("visit_rate"),
        pl.col("conversion").mean().alias("conversion_rate"),
    ).row(0, named=True)
    return {"source": str(source), **row}


def _read_json(path: Path) -> Any:
    return read_json(path) if path.exists() else None
