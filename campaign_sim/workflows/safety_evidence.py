"""What a safe-improvement run tells a stakeholder, saved beside the run for the report.

``safety_evidence`` turns a ``SafetyResult`` into a typed record: the verdict, the gate's gain per
customer and in total (or "not estimable from this history"), every candidate's selection
interval, which context groups the candidate would treat differently and how, and how much of
the log's (group, action) space is too thin to vouch for. ``write``/``read`` keep it as
``RUN/safety/safety.json`` so ``report`` shows exactly what ``recommend`` computed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.jsonio import dumps_json
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir
from campaign_sim.data.bandit import flat_action_index, flat_action_labels
from campaign_sim.data.log import load_log
from campaign_sim.simulators.fitted.behaviour import logged_allowed
from campaign_sim.workflows.safety import (
    BASELINE,
    NOT_ESTIMABLE_SHARE,
    Difference,
    SafetyResult,
    Workers,
    run_safety,
)

FILE = "safety.json"
ROWS_PER_GROUP = 2_000  # logged states per group the treatment summary averages over
MIN_SHARE_CHANGE = 0.10  # a group "changes treatment" when its top action or its share moves this much


@dataclass(frozen=True)
class Treatment:
    """One context group: what business-as-usual does there and what the candidate does."""

    group: str
    decisions: int  # logged decisions of the group (fit customers)
    usual: str  # business-as-usual's most likely action
    usual_share: float
    proposed: str  # the candidate's most likely action
    proposed_share: float
    proposed_support: int  # logged decisions behind the proposed (group, action) cell


@dataclass(frozen=True)
class SafetyEvidence:
    """The recommendation and its evidence, as the report shows it."""

    verdict: str  # GO / NO-GO
    recommended: str
    candidate: str
    gate: dict[str, Any]  # Difference fields plus estimable and text
    selection: list[dict[str, Any]]
    customers: dict[str, int]
    population: int  # customers in the log: the total gain's multiplier
    horizon: int
    periods: int  # periods the log holds: the gain is over these
    proposal: str  # the policy the treatments describe: the candidate, else the best selection mean
    n_min: int | None  # the proposal's support threshold N∧
    thin_cells: int  # (group, action) cells below N∧ among those business-as-usual ever uses
    used_cells: int
    treatments: list[Treatment]
    not_estimable_share: float = NOT_ESTIMABLE_SHARE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _difference(d: Difference) -> dict[str, Any]:
    return {**asdict(d), "estimable": d.estimable, "text": d.describe()}


def safety_evidence(result: SafetyResult, *, population: int, seed: int) -> SafetyEvidence:
    """The record of ``result``; ``population`` is the log's number of customers. Groups and
    treatments are read on the fit customers (the candidates' own data, no held-out number)."""
    world = result.fit_world
    table = world.support_table
    proposal = result.candidate
    if proposal == BASELINE and result.selection:  # NO-GO at selection: the most promising, for a pilot
        proposal = max(result.selection, key=lambda d: d.mean).policy
    n_min = getattr(result.policies[proposal], "n_min", None)
    used = table.decisions > 0
    thin = used & (table.decisions < (n_min or 0))
    return SafetyEvidence(
        verdict="GO" if result.go else "NO-GO",
        recommended=result.recommended,
        candidate=result.candidate,
        gate=_difference(result.gate),
        selection=[_difference(d) for d in result.selection],
        customers=dict(result.customers),
        population=population,
        horizon=world.config.constraints.horizon,
        periods=result.fit_log.frame.get_column("period").n_unique(),
        proposal=proposal,
        n_min=n_min,
        thin_cells=int(thin.sum()),
        used_cells=int(used.sum()),
        treatments=treatments(result, proposal, seed=seed) if proposal != BASELINE else [],
    )


def treatments(result: SafetyResult, proposal: str, *, seed: int) -> list[Treatment]:
    """Per context group, business-as-usual's and ``proposal``'s most likely action (mean
    probabilities over up to ROWS_PER_GROUP logged states of the fit customers); only groups
    whose treatment changes."""
    world, frame = result.fit_world, result.fit_log.frame
    config = world.config
    labels = ["no contact", *flat_action_labels(config)[1:]]  # flat 0 is "none", whatever its copy
    x = world.encoding.shopper_matrix(frame)
    raw = {c: frame.get_column(c).cast(pl.Float64).to_numpy() for c in world.encoding.state}
    allowed = logged_allowed(frame, config, flat_action_index(frame, config))
    group = world.group_of(x, raw)
    rng = np.random.default_rng([seed, 0x7EA7])
    names = world.support_table.group_names()
    out = []
    for g in np.unique(group):
        rows = rng.permutation(np.flatnonzero(group == g))[:ROWS_PER_GROUP]
        at = {c: v[rows] for c, v in raw.items()}
        usual = result.policies[BASELINE].probs_at(x[rows], at, allowed[rows]).mean(axis=0)
        proposed = result.policies[proposal].probs_at(x[rows], at, allowed[rows]).mean(axis=0)
        top_usual, top_proposed = int(usual.argmax()), int(proposed.argmax())
        moved = abs(proposed[top_proposed] - usual[top_proposed])
        if top_usual == top_proposed and moved < MIN_SHARE_CHANGE:
            continue
        out.append(
            Treatment(
                group=names[g],
                decisions=int((group == g).sum()),
                usual=labels[top_usual],
                usual_share=float(usual[top_usual]),
                proposed=labels[top_proposed],
                proposed_share=float(proposed[top_proposed]),
                proposed_support=int(world.support_table.decisions[g, top_proposed]),
            )
        )
    return sorted(out, key=lambda t: -t.decisions)


def write(evidence: SafetyEvidence, folder: str | Path) -> Path:
    path = Path(folder) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, dumps_json(evidence.to_dict()))
    return path


def run_recommend(
    log_path: str | Path,
    config: CampaignConfig,
    *,
    seed: int,
    out: str | Path | None = None,
    ray: str | None = None,
) -> tuple[SafetyResult, Path | None]:
    """``recommend``: the safe-improvement pipeline on a log; with ``out``, its evidence saved
    as RUN/safety/safety.json for the report; with ``ray`` ("auto" or an address), its fit,
    value tables and candidate scores run as Ray tasks, with the same result."""
    log = load_log(log_path, config)
    if ray is None:
        result = run_safety(log, seed=seed)
    else:
        from campaign_sim.workflows.ray_runner import check_ray, ray_tasks

        check_ray(ray)
        with ray_tasks(ray) as tasks:
            result = run_safety(log, seed=seed, workers=Workers(tasks.map, tasks.fit_members))
    if out is None:
        return result, None
    population = log.frame.get_column("customer_id").n_unique()
    with run_lock(Path(out)):
        return result, write(
            safety_evidence(result, population=population, seed=seed), RunDir(Path(out)).safety
        )
