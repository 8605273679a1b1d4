"""A far-sighted oracle: one-step rollout improvement of a base policy under the true model.

At every decision, each allowed action is tried for all shoppers at once, then the base policy
plays the rest of the campaign; the action with the best expected profit-to-go is taken, and
rollouts sum expected (not sampled) profit.

The rollouts draw their futures from keys of their own (seeded by the oracle, ``rollouts``
scenarios per shopper, shared by every action so actions are compared on the same futures). They
must not reuse the shoppers' real keys: the real keys' draws ARE the futures the evaluation then
plays (counter-based random numbers), and an oracle rolled out on them sees, for instance, which
contact would make a shopper unsubscribe this period. That is a clairvoyant bound, not a policy
anyone could run. With independent futures the policy improvement theorem applies: the result is
at least as good as the base policy, up to the rollouts' sampling noise.
"""

from __future__ import annotations

import numpy as np

from campaign_sim.agents.policy import Policy, attach, flat_masks, greedy, unflatten
from campaign_sim.core.seeding import key_from
from campaign_sim.envs.engine import CampaignEngine


class RolloutOracle:
    """Rollout improvement of ``base`` (acting greedily on its probabilities) in the core it acts in,
    which must run the TRUE world for this to be an oracle."""

    def __init__(self, base: Policy, *, name: str | None = None, rollouts: int = 4, seed: int = 0) -> None:
        self.base, self.name = base, name or f"rollout({base.name})"
        self.rollouts, self.seed = rollouts, seed
        self.core: CampaignEngine | None = None
        self._scenario_keys = np.zeros((0, 0), dtype=np.uint64)

    def attach(self, core: CampaignEngine) -> None:
        self.core = core
        attach(self.base, core)
        generator = np.random.default_rng([self.seed, core.n])
        self._scenario_keys = np.stack([key_from(generator, core.n) for _ in range(self.rollouts)])

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self.core
        if core is None:
            raise RuntimeError("RolloutOracle needs attach(core) before it can act")
        allowed = flat_masks(masks, core.shape, core.valid)
        values = np.zeros(allowed.shape)
        saved, real_keys = core.snapshot(), core.keys.copy()
        try:
            for scenario in self._scenario_keys:
                core.keys[:] = scenario  # in place: compiled passes hold the array
                for flat in np.flatnonzero(allowed.any(axis=0)):
                    first = np.where(allowed[:, flat], flat, 0)
                    values[:, flat] += self._to_go(core, first)
                    core.restore(saved)
        finally:
            core.keys[:] = real_keys
            core.restore(saved)
        return greedy(np.where(allowed, values, -np.inf), allowed)

    def _to_go(self, core: CampaignEngine, first: np.ndarray) -> np.ndarray:
        total, alive, flat = np.zeros(core.n), np.ones(core.n, dtype=bool), first
        while True:
            _, terminated, truncated, info = core.step(unflatten(flat, core.shape))
            total += np.where(alive, info["expected_profit"], 0.0)
            alive &= ~(terminated | truncated)
            if not alive.any():
                return total
            probs = core.allowed_probs(self.base.action_probs(core.observe(), core.action_masks()))
            flat = np.where(alive, probs.argmax(axis=1), 0)
