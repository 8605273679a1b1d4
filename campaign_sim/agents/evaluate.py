"""Run a policy through whole campaigns and summarise what it earned.

Every policy (SB3 agent or baseline) is measured the same way: ``shoppers`` slots of the
batched core, one campaign each over the horizon, actions drawn from ``action_probs`` with a
seeded generator. Shoppers and outcome random numbers depend only on the seed (counter-based
streams), so two policies evaluated with the same seed face the same shoppers: differences
between them are paired.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from scipy import stats

from campaign_sim.agents.policy import Policy, attach, sample_actions, unflatten
from campaign_sim.core.seeding import key_from
from campaign_sim.core.stats import Z95
from campaign_sim.envs.engine import CampaignEngine
from campaign_sim.envs.worlds import build_core
from campaign_sim.simulators.interface import World

# learn(obs, flat actions, rewards, active rows): online learners (bandits) update from each period
Learner = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


@dataclass(frozen=True)
class Episodes:
    """Per-shopper campaign totals of one policy run (arrays of length ``shoppers``)."""

    profit: np.ndarray  # revenue x margin - discount cost - contact cost
    # the same with each period's revenue replaced by its expectation given the response: an
    # unbiased, far less noisy measure of the same value (purchases are rare and large)
    expected_profit: np.ndarray
    reward: np.ndarray  # profit - pessimism penalty (what a learner in a fitted world maximises)
    revenue: np.ndarray
    discount_cost: np.ndarray
    contact_cost: np.ndarray
    contacts: np.ndarray
    unsubscribes: np.ndarray
    conversions: np.ndarray

    def totals(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name).mean()) for f in fields(self)}


def make_core(world: World | str | Path | None, shoppers: int, **settings: object) -> CampaignEngine:
    """The evaluation engine: a shared campaign budget, sampled rewards."""
    core, _, _ = build_core(world, shoppers, shared_budget=True, reward="sampled", **settings)
    return core


def run_policy(
    policy: Policy,
    core: CampaignEngine,
    *,
    seed: int,
    periods: int | None = None,
    learn: Learner | None = None,
    on_step: Callable[[int, np.ndarray, np.ndarray, dict[str, np.ndarray]], None] | None = None,
) -> Episodes:
    """Play one campaign per slot of ``core`` under ``policy``; the same seed, the same shoppers.

    ``on_step`` sees every period's actions (the report's strategy pages are drawn from it)."""
    n, shape = core.n, core.shape
    core.clear()
    core.start(np.arange(n), key_from(np.random.default_rng([seed, 0]), n))
    choices = np.random.default_rng([seed, 1])
    attach(policy, core)
    totals = {f.name: np.zeros(n) for f in fields(Episodes)}
    active = np.ones(n, dtype=bool)
    for period in range(periods or core.settings.horizon):
        obs, masks = core.observe(), core.action_masks()
        flat = np.where(
            active, sample_actions(core.allowed_probs(policy.action_probs(obs, masks)), choices.random(n)), 0
        )
        reward, terminated, truncated, info = core.step(unflatten(flat, shape))
        if learn is not None:
            learn(obs, flat, reward, active)
        if on_step is not None:  # (period, flat actions, rows still in the campaign, step info)
            on_step(period, flat, active.copy(), info)
        for name, values in (
            ("profit", info["profit"]),
            ("expected_profit", info["expected_profit"]),
            ("reward", reward),
            ("revenue", info["revenue"]),
            ("discount_cost", info["discount_cost"]),
            ("contact_cost", info["contact_cost"]),
            ("contacts", info["contacted"]),
            ("unsubscribes", info["unsubscribe"] & info["contacted"]),
            ("conversions", info["conversion"]),
        ):
            totals[name] += np.where(active, values, 0.0)
        active &= ~(terminated | truncated)
        if not active.any():
            break
    return Episodes(**totals)


def interval(samples: np.ndarray) -> tuple[float, float, float]:
    """Mean and normal 95% interval of independent samples."""
    mean = float(samples.mean())
    half = Z95 * float(samples.std(ddof=1)) / np.sqrt(samples.shape[0]) if samples.shape[0] > 1 else 0.0
    return mean, mean - half, mean + half


def across_seeds(per_seed: Sequence[np.ndarray]) -> tuple[float, float, float]:
    """Mean and 95% interval over training seeds x shoppers (the same shoppers for every seed).

    The standard error adds the spread between seeds (training randomness, t with K-1 degrees
    of freedom) to the shopper sampling error of the pooled mean; with one seed it is the normal
    interval over shoppers."""
    if len(per_seed) == 1:
        return interval(per_seed[0])
    means = np.array([s.mean() for s in per_seed])
    within = np.mean([s.var(ddof=1) for s in per_seed]) / per_seed[0].shape[0]
    se = np.sqrt(means.var(ddof=1) / len(means) + within)
    half = float(stats.t.ppf(0.975, len(means) - 1) * se)
    return float(means.mean()), float(means.mean() - half), float(means.mean() + half)
