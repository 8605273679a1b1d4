"""Real-data and synthetic validations of the off-policy estimators (`campaign-sim evaluate --benchmark`).

- ``obd``: the Open Bandit Dataset sample. Estimate Bernoulli Thompson sampling from the
  uniform-random log and the random policy from the BTS log, campaigns ``all`` and ``men``;
  the truth is the other log's on-policy click rate. BTS action probabilities come from
  ``prior_bts.yaml`` by Monte-Carlo, as OBP does (an item's probability of each slot when
  Beta draws are ranked). Reward model: item x position click rates, cross-fitted.
- ``synthetic``: coverage of the 95% intervals (studentized bootstrap, percentile bootstrap,
  normal) of IPS, SNIPS and DR over replications of 10,000 logged decisions under
  business-as-usual, with the exact truth from the world.
- ``hillstrom``: held-out half of the RCT (propensity 1/3); each blanket arm's IPS / SNIPS value
  against its observed mean; the gate for "always Womens" against "always Mens" on visits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from campaign_sim.core.errors import InputError
from campaign_sim.core.stats import Z95
from campaign_sim.core.tasks import TaskMap, run_here
from campaign_sim.data.bandit import BanditLog, bandit_log
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import load_log
from campaign_sim.ope.diagnostics import diagnose
from campaign_sim.ope.estimators import DM, DR, IPS, SNDR, SNIPS, DRos, LoggedBandit
from campaign_sim.ope.gate import launch_gate
from campaign_sim.ope.intervals import METHODS, interval, paired_difference
from campaign_sim.ope.reward_models import crossfit_cell_means
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.world import SyntheticWorld

# OBP paper (Saito et al. 2021, Table 2): relative error of estimating BTS from the random
# log on the full OBD, campaign "all" - the published reference our sample is set beside.
OBP_PUBLISHED = {"DM": 0.157, "IPS": 0.311, "DR": 0.292, "DRos": 0.160}
OBD_ESTIMATORS = (DM(), IPS(), SNIPS(), DR(), SNDR(), DRos())
SLOTS = 3
MIN_ESS, MIN_ESS_SHARE = 100.0, 0.01  # below: "not estimable" (see estimable_ess)
BTS_DRAWS = 200_000


def bts_slot_probabilities(
    prior: dict[str, list[float]], *, draws: int = BTS_DRAWS, seed: int = 0
) -> np.ndarray:
    """(n_items, SLOTS): P(item shown in slot k) under BTS with Beta(alpha, beta) scores."""
    alpha, beta = np.asarray(prior["alpha"], dtype=float), np.asarray(prior["beta"], dtype=float)
    rng = np.random.default_rng(seed)
    counts = np.zeros((alpha.size, SLOTS))
    for start in range(0, draws, 20_000):
        theta = rng.beta(alpha, beta, size=(min(20_000, draws - start), alpha.size))
        top = np.argsort(-theta, axis=1)[:, :SLOTS]
        for slot in range(SLOTS):
            counts[:, slot] += np.bincount(top[:, slot], minlength=alpha.size)
    return counts / draws


def _obd_log(obd_dir: Path, policy: str, campaign: str) -> BanditLog:
    path = obd_dir / policy / campaign / f"{campaign}.csv"
    return bandit_log(load_log(path, resolve_config(dataset="obd")), reward="click")


def obd_cell(obd_dir: str | Path, *, campaign: str, target: str, seed: int = 0) -> dict[str, Any]:
    """Estimate ``target`` ("bts" or "random") from the other policy's log; truth beside it."""
    import yaml

    obd_dir = Path(obd_dir)
    logged = "random" if target == "bts" else "bts"
    log, truth_log = _obd_log(obd_dir, logged, campaign), _obd_log(obd_dir, target, campaign)
    n_items = log.n_actions
    if target == "bts":
        prior = yaml.safe_load((obd_dir / "prior_bts.yaml").read_text(encoding="utf-8")).get(campaign)
        if prior is None or len(prior.get("alpha", ())) != n_items:
            found = "no entry" if prior is None else f"{len(prior.get('alpha', ()))} items"
            raise InputError(
                f"{obd_dir / 'prior_bts.yaml'}: campaign {campaign!r} has {found}; "
                f"its logs have {n_items} items"
            )
        slot_probs = bts_slot_probabilities(prior, seed=seed)
    else:
        slot_probs = np.full((n_items, SLOTS), 1.0 / n_items)
    target_probs = slot_probs[
        :, log.position
    ].T  # (n, items): the policy's item distribution in the row's slot
    cell = log.action * SLOTS + log.position
    slot_rate = np.array([log.reward[log.position == k].mean() for k in range(SLOTS)])
    q_cells, _ = crossfit_cell_means(
        cell, log.reward, n_items * SLOTS, prior=np.tile(slot_rate, n_items), seed=seed
    )
    q_hat = q_cells.reshape(log.n, n_items, SLOTS)[np.arange(log.n), :, log.position]
    data = LoggedBandit(log.reward, log.action, log.propensity, target_probs, q_hat)
    truth = float(truth_log.reward.mean())
    se = float(truth_log.reward.std(ddof=1) / np.sqrt(truth_log.n))
    estimates = {}
    for estimator in OBD_ESTIMATORS:
        ci = interval(estimator.parts(data), seed=seed)
        estimates[estimator.name] = {
            "value": ci.value,
            "low": ci.low,
            "high": ci.high,
            "truth_inside": bool(ci.low <= truth <= ci.high),
            # the truth is itself a 10,000-row click rate (about +-30%): both errors together
            "consistent": bool(abs(ci.value - truth) <= Z95 * np.hypot((ci.high - ci.low) / (2 * Z95), se)),
            "relative_error": abs(ci.value - truth) / truth,
        }
    diag = diagnose(data)
    estimable = estimable_ess(diag.ess, log.n)
    for entry in estimates.values():  # too few effective rows: no value is a claim
        entry["estimable"] = estimable
    return {
        "campaign": campaign,
        "target": target,
        "logged": logged,
        "rows": log.n,
        "truth": truth,
        "truth_ci95": [truth - Z95 * se, truth + Z95 * se],
        "estimates": estimates,
        "ess": diag.ess,
        "max_weight": diag.max_weight,
        "estimable": estimable,
    }


def _obd_cell(cell: tuple[str, str], obd_dir: Path, seed: int) -> dict[str, Any]:
    campaign, target = cell
    return obd_cell(obd_dir, campaign=campaign, target=target, seed=seed)


def estimable_ess(ess: float, rows: int) -> bool:
    """Whether importance weights leave enough effective rows for an estimate to mean anything:
    at least MIN_ESS and MIN_ESS_SHARE of the log (a BTS log scoring the random policy had ESS
    2.1 of 10,000, max weight 21,739, and a negative click rate as its DR estimate)."""
    return bool(ess >= max(MIN_ESS, MIN_ESS_SHARE * rows))


def obd_campaigns(obd_dir: Path) -> tuple[str, ...]:
    """The campaigns with both a random and a BTS log in ``obd_dir``."""
    present = [{p.name for p in (obd_dir / policy).iterdir() if p.is_dir()} for policy in ("random", "bts")]
    return tuple(sorted(present[0] & present[1]))


def obd_benchmark(
    obd_dir: str | Path, *, campaigns: list[str] | None = None, seed: int = 0, tasks: TaskMap = run_here
) -> dict[str, Any]:
    """Every cell (campaign x target) of ``campaigns`` (default: all present in ``obd_dir``),
    each a piece of work ``tasks`` maps."""
    obd_dir = Path(obd_dir)
    if not all((obd_dir / p).exists() for p in ("prior_bts.yaml", "random", "bts")):
        raise InputError(
            f"{obd_dir.resolve()}: not the Open Bandit Dataset folder "
            "(expected prior_bts.yaml, random/, bts/)"
        )
    present = obd_campaigns(obd_dir)
    for campaign in campaigns or ():
        if campaign not in present:
            raise InputError(
                f"{obd_dir.resolve() / 'random' / campaign}: no such campaign (--campaign {campaign}); "
                f"this folder has both logs for: {', '.join(present) or 'none'}"
            )
    cells = tasks(_obd_cell, [(c, t) for c in campaigns or present for t in ("bts", "random")], obd_dir, seed)
    return {
        "min_ess": MIN_ESS,
        "cells": cells,
        "obp_published_relative_error": OBP_PUBLISHED,
        "bts_probabilities": "prior_bts.yaml Monte-Carlo",
    }


def hillstrom_benchmark(path: str | Path, *, seed: int = 0) -> dict[str, Any]:
    log = bandit_log(load_log(path, resolve_config(dataset="hillstrom")), reward="visit")
    half = np.random.default_rng(seed).permutation(log.n)[log.n // 2 :]
    reward, action, propensity = log.reward[half], log.action[half], log.propensity[half]
    arms = {label: index for index, label in enumerate(log.action_labels) if (log.action == index).any()}
    rows, parts = {}, {}
    for label, index in arms.items():
        target = np.zeros((half.size, log.n_actions))
        target[:, index] = 1.0
        data = LoggedBandit(reward, action, propensity, target)
        observed = reward[action == index]
        se = observed.std(ddof=1) / np.sqrt(observed.size)
        entry = {
            "observed": [
                float(observed.mean()),
                float(observed.mean() - Z95 * se),
                float(observed.mean() + Z95 * se),
            ]
        }
        for estimator in (IPS(), SNIPS()):
            ci = interval(estimator.parts(data), seed=seed)
            entry[estimator.name] = [ci.value, ci.low, ci.high]
            entry[f"{estimator.name}_matches"] = bool(ci.low <= observed.mean() <= ci.high)
        rows[label], parts[label] = entry, (data, SNIPS().parts(data))
    womens = next(label for label in arms if label.startswith("email") and label.endswith("|womens"))
    mens = next(label for label in arms if label.startswith("email") and label.endswith("|mens"))
    diff = paired_difference(parts[womens][1], parts[mens][1], seed=seed)
    verdict = launch_gate("SNIPS", diff, diagnose(parts[womens][0]))
    return {"arms": rows, "gate_womens_vs_mens": verdict.to_dict()}


@dataclass(frozen=True)
class CoverageDraw:
    """One replication of ``synthetic_coverage``: per (estimator, method), whether the interval
    covered the truth, whether the truth lay above it, and its width."""

    max_weight: float
    covered: dict[tuple[str, str], bool]
    above: dict[tuple[str, str], bool]
    width: dict[tuple[str, str], float]


ESTIMATORS = (IPS(), SNIPS(), DR())


def synthetic_coverage(
    replications: int, n: int, *, mix: float, seed: int = 0, tasks: TaskMap = run_here
) -> dict[str, Any]:
    """Candidate = (1 - mix) business-as-usual + mix myopic oracle; DR's reward model is a
    DIFFERENT synthetic world's truth (a biased model, as in life); truth is exact. Coverage of
    each estimator's 95% interval by every method, misses split by side (truth above / below).
    Each replication is seeded by its number alone, a piece of work ``tasks`` maps."""
    draws = tasks(coverage_draw, range(replications), n, mix, seed)
    return {
        "median_max_weight": float(np.median([d.max_weight for d in draws])),
        "replications": replications,
        "estimators": {e.name: {m: _coverage_of(draws, (e.name, m)) for m in METHODS} for e in ESTIMATORS},
    }


def _coverage_of(draws: list[CoverageDraw], key: tuple[str, str]) -> dict[str, Any]:
    covered = [d.covered[key] for d in draws]
    above = sum(d.above[key] for d in draws)
    return {
        "coverage": float(np.mean(covered)),
        "coverage_first_200": float(np.mean(covered[:200])),
        "misses_truth_above": above,
        "misses_truth_below": len(draws) - int(np.sum(covered)) - above,
        "mean_width": float(np.mean([d.width[key] for d in draws])),
    }


def coverage_draw(rep: int, n: int, mix: float, seed: int) -> CoverageDraw:
    """Replication ``rep`` of ``synthetic_coverage``."""
    world, wrong = SyntheticWorld.create(seed=seed), SyntheticWorld.create(seed=seed + 1)
    rng = np.random.default_rng([seed, 1_000 + rep])
    pop = world.sample_population(n, rng)
    state = world.initial_state(pop)
    allowed = world.allowed_actions(pop, state)
    pi0 = business_as_usual(world)(pop, state, allowed)
    truth_q = np.where(allowed, world.expected_rewards(pop, state), -np.inf)
    greedy = np.zeros_like(pi0)
    greedy[np.arange(n), truth_q.argmax(axis=1)] = 1.0
    target = (1 - mix) * pi0 + mix * greedy
    action, propensity = world.sample_actions(pi0, rng)
    outcome, _ = world.step(pop, state, world.unflatten(action), rng)
    truth = float((target * np.where(allowed, truth_q, 0.0)).sum(axis=1).mean())
    q_hat = np.where(allowed, wrong.expected_rewards(pop, state), 0.0)
    data = LoggedBandit(outcome.profit, action, propensity, target, q_hat)
    covered, above, width = {}, {}, {}
    for estimator in ESTIMATORS:
        parts = estimator.parts(data)
        for method in METHODS:
            ci = interval(parts, method=method, seed=rep)
            key = (estimator.name, method)
            covered[key], above[key], width[key] = (
                ci.low <= truth <= ci.high,
                truth > ci.high,
                ci.high - ci.low,
            )
    return CoverageDraw(float(data.weight.max()), covered, above, width)
