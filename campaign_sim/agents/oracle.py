"""A far-sighted oracle: one-step rollout improvement of a base policy under the true model.

At every decision, each allowed action is tried for all shoppers at once, then the base policy
plays the rest of the campaign; the action with the best expected profit-to-go is taken.
Rollouts reuse the shoppers' own random-number streams (common random numbers), so actions are
compared on the same futures, and sum expected (not sampled) profit. By the policy improvement
theorem the result is at least as good as the base policy, up to the rollouts' sampling noise.
"""

from __future__ import annotations

import numpy as np

from campaign_sim.agents.policy import Policy, attach, flat_masks, greedy, unflatten
from campaign_sim.envs.core import CampaignCore


class RolloutOracle:
    """Rollout improvement of ``base`` (acting greedily on its probabilities) in the core it acts in,
    which must run the TRUE world for this to be an oracle."""

    def __init__(self, base: Policy, *, name: str | None = None) -> None:
        self.base, self.name = base, name or f"rollout({base.name})"
        self.core: CampaignCore | None = None

    def attach(self, core: CampaignCore) -> None:
        self.core = core
        attach(self.base, core)

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self.core
        if core is None:
            raise RuntimeError("RolloutOracle needs attach(core) before it can act")
        allowed = flat_masks(masks, core.shape)
        values = np.full(allowed.shape, -np.inf)
        saved = core.snapshot()
        for flat in np.flatnonzero(allowed.any(axis=0)):
            first = np.where(allowed[:, flat], flat, 0)
            values[:, flat] = np.where(allowed[:, flat], self._to_go(core, first), -np.inf)
            core.restore(saved)
        return greedy(values, allowed)

    def _to_go(self, core: CampaignCore, first: np.ndarray) -> np.ndarray:
        total, alive, flat = np.zeros(core.n), np.ones(core.n, dtype=bool), first
        while True:
            _, terminated, truncated, info = core.step(unflatten(flat, core.shape))
            total += np.where(alive, info["expected_profit"], 0.0)
            alive &= ~(terminated | truncated)
            if not alive.any():
                return total
            probs = self.base.action_probs(core.observe(), core.action_masks())
            flat = np.where(alive, probs.argmax(axis=1), 0)
