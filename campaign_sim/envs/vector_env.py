"""``VectorCampaignEnv``: ``num_envs`` shoppers stepped as one numpy batch (gymnasium 1.x VectorEnv).

Semantics match ``gymnasium.vector.SyncVectorEnv`` over ``CampaignEnv`` (autoreset on the next
step), and for the same seeds and actions the trajectories are identical: slot ``i`` reset with
``seed + i`` draws what a single env reset with ``seed + i`` draws. The budget is shared across
the population (each shopper brings its own budget into one pool).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Unpack

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from campaign_sim.core.seeding import key_from
from campaign_sim.envs.records import INFO_KEYS
from campaign_sim.envs.worlds import EnvOverrides, build_core
from campaign_sim.simulators.interface import World


class VectorCampaignEnv(VectorEnv):
    """A natively batched campaign: no per-shopper Python loop when stepping."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        world: World | str | Path | None = None,
        *,
        world_seed: int = 0,
        shared_budget: bool = True,
        **overrides: Unpack[EnvOverrides],
    ) -> None:
        self.core, self.single_observation_space, self.single_action_space = build_core(
            world, num_envs, world_seed=world_seed, shared_budget=shared_budget, **overrides
        )
        self.num_envs = num_envs
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.observation_names = self.core.observation_names
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._np_random, _ = seeding.np_random()

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        rows = np.arange(self.num_envs)
        if seed is None:
            keys = key_from(self._np_random, self.num_envs)
        else:
            seeds = seed if isinstance(seed, list) else [seed + i for i in rows]
            # the one per-slot loop, at a seeded reset only: key i = what CampaignEnv(seed_i) draws
            keys = np.concatenate([key_from(seeding.np_random(int(s))[0]) for s in seeds])
            self._np_random, _ = seeding.np_random(int(seeds[0]))
        self.core.clear()
        self.core.start(rows, keys)
        self._autoreset[:] = False
        return self.core.observe(), {}

    def step(self, actions):
        resetting = self._autoreset.copy()
        reward, terminated, truncated, info, obs = self.core.step_and_observe(
            np.asarray(actions).reshape(self.num_envs, 3)
        )
        if resetting.any():  # NEXT_STEP autoreset: these slots start anew; their action is ignored
            rows = np.flatnonzero(resetting)
            obs = self.core.restart_observed(obs, rows)
            reward[rows], terminated[rows], truncated[rows] = 0.0, False, False
        self._autoreset = terminated | truncated
        infos: dict[str, Any] = {}
        for key in INFO_KEYS:
            infos[key], infos[f"_{key}"] = info[key], ~resetting
        return obs, reward.astype(np.float64), terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        """(num_envs, D + C + K) masks in sb3-contrib's MultiDiscrete format."""
        return self.core.action_masks()
